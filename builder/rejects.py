"""The workspace's ``rejects.jsonl``: one row per input and reason, however often a command runs.

Every stage lists what it could not use through ``append_rejects``, which skips rows already
listed (same stage, source, position and reason), so re-running a command adds nothing twice.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

REJECTS_FILE = "rejects.jsonl"


def reject_key(row: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    """What makes a reject row the same as another: stage, source, position, reason."""
    return row.get("stage"), row.get("source"), row.get("position"), row.get("reason")


def listed_keys(workspace: Any) -> set[tuple[Any, Any, Any, Any]]:
    """The keys of every row already in the workspace's ``rejects.jsonl`` (unreadable lines skipped)."""
    keys = set()
    for line in (workspace.read_text(REJECTS_FILE) or "").splitlines():
        try:
            keys.add(reject_key(json.loads(line)))
        except (ValueError, AttributeError):
            continue
    return keys


def append_rejects(workspace: Any, rows: Iterable[dict[str, Any]]) -> int:
    """Append the rows not listed yet (nor twice in ``rows``); how many were appended."""
    rows = list(rows)
    if not rows:
        return 0
    known = listed_keys(workspace)
    new = []
    for row in rows:
        key = reject_key(row)
        if key not in known:
            known.add(key)
            new.append(row)
    workspace.append_text(REJECTS_FILE, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in new))
    return len(new)
