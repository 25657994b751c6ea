from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from builder.options import Config


def evaluate(
    gold: Annotated[list[Path], typer.Option("--gold", help="Gold: Label Studio JSON files/folders or brat folders")],
    pred: Annotated[Optional[Path], typer.Option("--pred", help="Predicted tasks JSON; default: propose now")] = None,
    config: Config = None,
) -> None:
    """Score proposals against gold as ../shared/gold/SCHEME.md defines."""
    raise typer.Exit("eval: not implemented yet")
