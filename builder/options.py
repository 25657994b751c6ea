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
    from builder.config import Workspace, load_config

    cfg = load_config(config)
    return cfg, Workspace(workspace or cfg["workspace"]["path"])
