from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from builder.options import Config, WorkspaceOpt


def propose(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Input files; none: the workspace's ingested documents")] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Write Label Studio tasks JSON here")] = None,
    workspace: WorkspaceOpt = None,
    config: Config = None,
) -> None:
    """Propose quotes, speakers, cues and outlets with spaCy."""
    raise typer.Exit("propose: not implemented yet")

