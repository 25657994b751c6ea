"""The one writer of the workspace's ``rejects.jsonl``.

Stages never build reject rows: a step returns a typed ``Reject`` record (schemas/reject.json,
``builder.schema.Reject``: stage, source, position, reason, hint, detail) and hands its rejects
to ``write_rejects``, as datatrove's filters hand what they drop to one exclusion writer. The
writer lists each reject once, however often a command runs or is killed and run again: under
one lock it reads the keys already listed (stage, source, position, reason), appends only the
new rows as whole fsynced lines, and only then returns, so a kill before or after the append
never leaves a row twice (fault point ``rejects:listed``).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from datatrove.pipeline.base import PipelineStep

from builder.schema import Reject, as_row, fields

COLUMNS = [f["name"] for f in fields("Reject")]

REJECTS_FILE = "rejects.jsonl"
FAULT_POINT = "rejects:listed"  # QUOTES_FAULT: stop right after new rejects were appended

Key = tuple[Any, Any, Any, Any]


def reject_key(row: dict[str, Any]) -> Key:
    """What makes a reject row the same as another: stage, source, position, reason."""
    return row.get("stage"), row.get("source"), row.get("position"), row.get("reason")


def listed_rows(workspace: Any) -> Iterator[dict[str, Any]]:
    """The rows of the workspace's ``rejects.jsonl`` (a line a killed writer cut short is skipped)."""
    df = workspace.folder()
    if not df.exists(REJECTS_FILE):
        return
    with df.open(REJECTS_FILE, "rt", encoding="utf-8") as fh:
        for line in fh:
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict):
                yield row


def listed_keys(workspace: Any) -> set[Key]:
    """The keys of every row already in the workspace's ``rejects.jsonl``."""
    return {reject_key(row) for row in listed_rows(workspace)}


def _line(reject: Reject) -> tuple[Key, str]:
    if not isinstance(reject, Reject):
        raise TypeError(f"write_rejects takes builder.schema.Reject records, not {type(reject).__name__}")
    fields = as_row(reject)
    row = {name: fields[name] for name in COLUMNS}  # the schema's order
    return reject_key(row), json.dumps(row, ensure_ascii=False) + "\n"


def write_rejects(workspace: Any, rejects: Iterable[Reject]) -> int:
    """List ``rejects`` in the workspace's ``rejects.jsonl``, each once: rows already listed (same key) and
    repeats within ``rejects`` are skipped. Returns how many rows were appended."""
    from builder.workspace.faults import fault

    lines = [_line(r) for r in rejects]
    if not lines:
        return 0
    with _appending(workspace):
        known = listed_keys(workspace)
        new = []
        for key, line in lines:
            if key not in known:
                known.add(key)
                new.append(line)
        _append(workspace, "".join(new))
    if new:
        fault(FAULT_POINT)
    return len(new)


def _appending(workspace: Any):
    """The lock under which the listed keys are read and the new rows appended (one writer at a time)."""
    from builder.workspace.lock import workspace_lock

    return workspace_lock(workspace, "rejects", on_wait=None)


def _append(workspace: Any, text: str) -> None:
    """Append whole lines durably (local: fsynced; object stores: read and rewritten whole)."""
    if not text:
        return
    if workspace.is_local():
        from builder.workspace.atomic import append_durable

        append_durable(workspace.local() / REJECTS_FILE, text)
        return
    workspace.write_text(REJECTS_FILE, (workspace.read_text(REJECTS_FILE) or "") + text)


REJECT_KEY = "reject"  # a datatrove document's metadata key holding the Reject a step made of it


class ListRejects(PipelineStep):
    """Passes documents through and lists the ``Reject`` an earlier step attached to one
    (``doc.metadata["reject"]``, removed here) once the rank's input is exhausted (``write_rejects``),
    as datatrove's filters hand their exclusions to one writer."""

    name = "list rejects"
    type = "🗑️ - REJECTS"

    def __init__(self, workspace: Any):
        super().__init__()
        self.path = str(getattr(workspace, "path", workspace))

    def run(self, data, rank: int = 0, world_size: int = 1):
        from builder.workspace.folder import Workspace

        rejects = []
        for doc in data or []:
            reject = doc.metadata.pop(REJECT_KEY, None)
            if reject is not None:
                rejects.append(reject)
                self.stat_update("rejects")
            yield doc
        write_rejects(Workspace(self.path), rejects)
