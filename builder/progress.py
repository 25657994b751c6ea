"""Progress bars: rich's, on the real stderr (they stay visible while datatrove's logs are
silenced), so that every command draws them with the one library its tables use."""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


def _progress():
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=Console(file=sys.__stderr__))


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """``items``, advancing a bar labelled ``description`` with the count done (of ``total``, or
    of ``len(items)`` when it has one) and the time taken."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with _progress() as bar:
        yield from bar.track(items, total=total, description=description)


@contextmanager
def counter(description: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A bar labelled ``description``; call what it yields with the count done so far."""
    with _progress() as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.update(task, completed=done)
