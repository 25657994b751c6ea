"""``quotes demo``: the whole pipeline on sample articles."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def demo(
    samples: Annotated[Path, typer.Argument(help="Folder of sample articles")] = Path("examples"),
) -> None:
    """The whole pipeline on sample articles, in ./workspace; prints where the dataset is."""
    raise typer.Exit("demo: not implemented yet")
