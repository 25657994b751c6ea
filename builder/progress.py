"""Progress bars: rich's, on the real stderr (they stay visible while datatrove's logs are
silenced), so that every command draws them with the one library its tables use."""
from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """``items``, advancing a bar labelled ``description`` with the count done (of ``total``, or
    of ``len(items)`` when it has one) and the time taken."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(file=sys.__stderr__)) as bar:
        yield from bar.track(items, total=total, description=description)
