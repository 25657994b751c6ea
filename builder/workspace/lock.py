"""Workspace locks: one command at a time writes a given part of the workspace.

``workspace_lock(ws, "ingest")`` holds ``state/locks/ingest.lock`` (``filelock``: an OS
file lock, released by the kernel when its holder dies, however it dies). A second command
that wants the same part prints who holds it and waits; with ``QUOTES_LOCK_TIMEOUT``
(seconds) it gives up after that long with ``WorkspaceBusy``. Parts:

    ingest       documents/ and the dedupe index (state/ingest/)
    propose      proposals/
    annotations  annotations/ and the pull marks
    export       the exports folder
    rejects      rejects.jsonl (held only while its writer reads the listed keys and appends)
    studio       the local Label Studio server (a start or stop of it: never two servers on one database)

Readers take no lock: every shard appears whole (rename on close) or not at all. Object-store
workspaces (s3://, hf://) have no file locks: there, run one writing command at a time.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

from builder.workspace.errors import WorkspaceError

TIMEOUT_ENV = "QUOTES_LOCK_TIMEOUT"


class WorkspaceBusy(WorkspaceError):
    """Another command holds the lock of the part of the workspace this one writes."""


def _holder(owner: Path) -> str:
    try:
        info = json.loads(owner.read_text())
        return f"pid {info.get('pid')} (`{info.get('command')}`, since {info.get('since')})"
    except (OSError, ValueError):
        return "another quotes command"


def _say(message: str) -> None:
    print(message, file=sys.__stderr__, flush=True)


@contextlib.contextmanager
def workspace_lock(ws: Any, part: str, *, timeout: float | None = None,
                   on_wait: Callable[[str], None] | None = _say) -> Iterator[None]:
    """Hold the lock of ``part`` of workspace ``ws`` for the block (waiting for it if needed)."""
    from filelock import FileLock, Timeout

    if not ws.is_local():
        yield
        return
    folder = ws.local() / "state" / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / f"{part}.lock"))
    owner = folder / f"{part}.owner.json"
    if timeout is None and os.environ.get(TIMEOUT_ENV):
        timeout = float(os.environ[TIMEOUT_ENV])
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if on_wait:
            on_wait(f"waiting for the workspace's {part} lock ({folder / (part + '.lock')}), held by "
                    f"{_holder(owner)}")
        try:
            lock.acquire(timeout=-1 if timeout is None else timeout)
        except Timeout:
            raise WorkspaceBusy(f"the workspace's {part} part is in use by {_holder(owner)}: wait for that "
                                f"command to finish and run this one again") from None
    try:
        from builder.workspace.atomic import write_atomic

        write_atomic(owner, json.dumps({"pid": os.getpid(), "command": " ".join(sys.argv[:3]),
                                        "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}).encode())
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def workspace_locks(ws: Any, *parts: str, **kwargs: Any) -> Iterator[None]:
    """Hold several parts' locks (always taken in sorted order, so two commands never deadlock)."""
    with contextlib.ExitStack() as stack:
        for part in sorted(set(parts)):
            stack.enter_context(workspace_lock(ws, part, **kwargs))
        yield
