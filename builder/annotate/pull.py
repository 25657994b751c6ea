"""``pull``: annotations changed since the last pull, as Annotation rows.

Tasks whose ``updated_at`` (bumped by Label Studio on every annotation save, delete and skip)
is after the stored mark are fetched with their annotations; an annotation whose
(id, updated_at) is already stored is skipped, one that disappeared from its task gets a
tombstone row (``deleted=True``). Rows go to ``workspace/annotations/<seq>.parquet``
(temp file + fsync + rename); only then does the mark move. A pull killed at any point
loses nothing and stores nothing twice. Readers take the latest row per annotation_id.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from builder.annotate.client import Studio, connect, read_json, write_json
from builder.annotate.project import ensure_project, state_file
from builder.records.choice import latest_per_annotation
from builder.records.scheme import SchemeError
from builder.records.studio import annotation_row, iso
from builder.schema import Reject
from builder.workspace.rejects import write_rejects

OVERLAP = timedelta(seconds=2)  # re-list tasks updated just before the mark (late commits)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass
class PullSummary:
    project_id: int
    tasks_fetched: int = 0
    rows_written: int = 0
    tombstones: int = 0
    rejects: int = 0
    untyped: int = 0  # Quote regions without a quote_type (their annotations are in rejects, not stored)
    file: str | None = None
    mark: str | None = None


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def latest_rows(workspace: Any, columns: list[str] | None = None) -> dict[int, dict]:
    """The latest stored row per annotation_id."""
    from builder.store import read_rows

    return latest_per_annotation(read_rows(workspace.annotations, columns=columns))


def untyped_quotes(row: dict, task: dict) -> list[Reject]:
    """One Reject per Quote region of ``row`` without a quote_type (the scheme requires one; Label Studio
    cannot require a per-region choice for Quote regions only, so the check is here)."""
    return [Reject(stage="pull", source=f"task {task['id']}", position=row["annotation_id"],
                   reason="missing_quote_type",
                   hint=f"open task {task['id']} in Label Studio, select the Quote, pick direct/indirect/mixed "
                        "(keys d/i/m), Update, and pull again",
                   detail=f"region {g['id']} {g['start']}:{g['end']} {g['text'][:80]!r}")
            for g in row["regions"] if g["label"] == "Quote" and not g.get("quote_type")]


def tombstone(last: dict, when: str | None) -> dict:
    return {**last, "deleted": True, "updated_at": when or last.get("updated_at"), "regions": [], "relations": []}


def changes(tasks: list[dict], known: dict[int, dict], users: dict[int, str]) -> tuple[list[dict], list[Reject], int]:
    """(new rows, rejects, tombstone count) for fetched tasks against the stored latest rows. Pure."""
    rows, rejects, tombs = [], [], 0
    by_task: dict[int, set[int]] = {}
    for aid, r in known.items():
        if not r["deleted"]:
            by_task.setdefault(r["task_id"], set()).add(aid)
    for task in tasks:
        preds = {p["id"]: p.get("model_version") for p in task.get("predictions") or [] if isinstance(p, dict)}
        present = set()
        for ann in task.get("annotations") or []:
            present.add(int(ann["id"]))
            last = known.get(int(ann["id"]))
            if last and not last["deleted"] and last["updated_at"] == iso(ann.get("updated_at")):
                continue
            try:
                row = annotation_row(task, ann, users, preds)
            except (SchemeError, KeyError, ValueError, TypeError) as e:
                rejects.append(Reject(stage="pull", source=f"task {task['id']}", position=int(ann["id"]),
                                      reason="off_scheme", hint="fix this annotation in Label Studio (labels, "
                                      "offsets, relations) and pull again", detail=str(e)[:500]))
                continue
            untyped = untyped_quotes(row, task)
            if untyped:
                rejects += untyped
            else:
                rows.append(row)
        for aid in sorted(by_task.get(int(task["id"]), set()) - present):
            rows.append(tombstone(known[aid], iso(task.get("updated_at"))))
            tombs += 1
    return rows, rejects, tombs


def write_rows(folder: Path, seq: int, rows: list[dict]) -> Path:
    """Write Annotation rows to ``<folder>/<seq>.parquet`` atomically (temp + fsync + rename), with page checksums."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from builder.schema import arrow_schema
    from builder.workspace.atomic import publish, temp_name
    from builder.workspace.shards import WRITE_OPTIONS

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{seq:06d}.parquet"
    tmp = temp_name(path)
    pq.write_table(pa.Table.from_pylist(rows, schema=arrow_schema("Annotation")), tmp, **WRITE_OPTIONS)
    publish(tmp, path)
    return path


def _window(since: str) -> str:
    after = (_parse(since) - OVERLAP).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return json.dumps({"filters": {"conjunction": "and", "items": [
        {"filter": "filter:tasks:updated_at", "operator": "greater", "type": "Datetime", "value": after}]}})


def _full(t: Any) -> dict:
    d = t.model_dump(mode="json") if hasattr(t, "model_dump") else dict(t)
    return {k: d.get(k) for k in ("id", "data", "annotations", "predictions", "updated_at")}


def changed_task_stamps(studio: Studio, project_id: int, since: str | None) -> dict[int, str]:
    """task id -> updated_at of the tasks updated after ``since`` minus the overlap (cheap listing)."""
    c = studio.client
    query = _window(since) if since else None

    def fetch():
        return {t.id: iso(t.updated_at) for t in c.tasks.list(project=project_id, include="id,updated_at",
                                                               query=query, page_size=1000)}

    return studio.call(fetch, what="changed-task listing")


def fetch_tasks(studio: Studio, project_id: int, ids: list[int], chunk: int = 200) -> list[dict]:
    """Tasks ``ids`` with their annotations and predictions."""
    c = studio.client
    out: list[dict] = []
    for i in range(0, len(ids), chunk):
        part = ids[i:i + chunk]
        query = json.dumps({"selectedItems": {"all": False, "included": part}})
        out += studio.call(lambda: [_full(t) for t in c.tasks.list(project=project_id, fields="all", query=query,
                                                                   page_size=chunk)], what="task fetch")
    return out


def users_by_id(studio: Studio) -> dict[int, str]:
    return {u.id: u.email or u.username or str(u.id)
            for u in studio.call(lambda: list(studio.client.users.list()), what="user list")}


def pull(workspace: Any, cfg: dict[str, Any], client: Studio | None = None) -> PullSummary:
    """Fetch annotations changed since the last pull and store them; then move the mark. One pull at a
    time per workspace (the ``annotations`` lock): a second one waits, then fetches only what is new."""
    from builder.workspace.lock import workspace_lock

    with workspace_lock(workspace, "annotations"):
        return _pull(workspace, cfg, client)


def _pull(workspace: Any, cfg: dict[str, Any], client: Studio | None = None) -> PullSummary:
    from builder.workspace.faults import fault

    studio = client or connect(workspace, cfg)
    project_id, _ = ensure_project(studio, workspace, cfg)
    mark_file = state_file(workspace, "pull", studio.url, project_id)
    mark = read_json(mark_file, {}) or {}
    stamps = changed_task_stamps(studio, project_id, mark.get("mark"))
    seen = mark.get("seen") or {}  # tasks of the last overlap window, already stored at these stamps
    todo = sorted(t for t, ts in stamps.items() if seen.get(str(t)) != ts)
    tasks = fetch_tasks(studio, project_id, todo)
    known = latest_rows(workspace)
    rows, rejects, tombs = changes(tasks, known, users_by_id(studio))
    summary = PullSummary(project_id=project_id, tasks_fetched=len(tasks), rows_written=len(rows),
                          tombstones=tombs, rejects=len(rejects),
                          untyped=sum(r.reason == "missing_quote_type" for r in rejects))
    folder = Path(workspace.local()) / "annotations"
    if rows:
        existing = sorted(folder.glob("*.parquet")) if folder.exists() else []
        seq = int(existing[-1].stem) + 1 if existing else 1
        summary.file = str(write_rows(folder, seq, rows))
    fault("pull:rows-written")
    write_rejects(workspace, rejects)
    new_mark = max([mark.get("mark"), *stamps.values()], key=lambda x: _parse(x) if x else _EPOCH)
    window = _parse(new_mark) - OVERLAP if new_mark else _EPOCH
    recent = {str(t): ts for t, ts in stamps.items() if _parse(ts) > window}
    write_json(mark_file, {"mark": new_mark, "seen": recent, "pulls": int(mark.get("pulls", 0)) + 1})
    fault("pull:mark-moved")
    summary.mark = new_mark
    return summary
