"""``quotes run`` (every stage in order) and ``quotes demo``."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from builder.options import Config, WorkspaceOpt


def run(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Inputs to ingest first")] = None,
    workspace: WorkspaceOpt = None,
    config: Config = None,
) -> None:
    """Run every stage in order: ingest, propose (and push, pull, export when configured)."""
    raise typer.Exit("run: not implemented yet")

