"""Options shared by every command, and the one place that turns them into settings."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

if TYPE_CHECKING:
    from builder.config import Workspace

WorkspaceOpt = Annotated[
    Optional[str],
    typer.Option("--workspace", "-w", help="Workspace folder or fsspec URL", show_default="quotes.toml's, else ./workspace"),
]
Config = Annotated[
    Optional[Path],
    typer.Option("--config", help="Settings file", show_default="./quotes.toml if present"),
]


def settings(config: Path | None = None, workspace: str | None = None, *,
             existing: bool = False) -> tuple[dict[str, Any], Workspace]:
    """The merged settings and the workspace a command works on. ``existing``: the command only reads
    or adds to a workspace (export, push, pull, studio ...), so a folder that does not exist (a
    misspelled ``-w``) or is not a workspace (``Workspace.missing``) stops it (exit 2), and nothing is
    written there. The workspace remembers ``config`` for its hints (``quotes_command``)."""
    from builder.config import ConfigError, Workspace, load_config

    try:
        cfg = load_config(config)
    except ConfigError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    ws = Workspace(workspace or cfg["workspace"]["path"], settings_file=config)
    problem = ws.missing() if existing else None
    if problem:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2)
    return cfg, ws


def program(name: str) -> str:
    """How to run this environment's ``name`` (``python``, ``quotes``) from the current folder: the
    bare name when the PATH finds this environment's own, else its path (``.venv/bin/quotes``:
    ``make demo`` does not activate ``.venv``)."""
    exe = Path(sys.executable).absolute().parent / name
    found = shutil.which(name)
    if found and Path(found).absolute() == exe:
        return name
    return str(exe.relative_to(Path.cwd())) if exe.is_relative_to(Path.cwd()) else str(exe)
