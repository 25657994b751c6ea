"""Options shared by every command, and the one place that turns them into settings."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

if TYPE_CHECKING:
    from builder.config import Workspace

WorkspaceOpt = Annotated[
    Optional[str],
    typer.Option("--workspace", "-w", help="Workspace folder or fsspec URL [default: quotes.toml's, else ./workspace]"),
]
Config = Annotated[
    Optional[Path],
    typer.Option("--config", help="Settings file [default: ./quotes.toml if present]"),
]


def settings(config: Path | None = None, workspace: str | None = None) -> tuple[dict[str, Any], Workspace]:
    """The merged settings and the workspace a command works on."""
    from builder.config import ConfigError, Workspace, load_config

    try:
        cfg = load_config(config)
    except ConfigError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    return cfg, Workspace(workspace or cfg["workspace"]["path"])
