from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from builder.options import Config, WorkspaceOpt


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files, folders (recursive) or globs: .txt .jsonl .html .warc(.gz)")],
    workspace: WorkspaceOpt = None,
    config: Config = None,
) -> None:
    """Ingest articles into the workspace: clean text, stable ids, duplicates and rejects reported."""
    raise typer.Exit("ingest: not implemented yet")
