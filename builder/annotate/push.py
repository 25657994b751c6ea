"""``push``: the Label Studio project (labeling config + guidelines) and one task per proposed
document, with each proposer version's output as a prediction.

Idempotent and resumable: ``workspace/state/studio/tasks-<server>-<project>.json`` (``<server>``:
``local`` for the workspace's own server, whatever its port) maps doc_id -> task id and the
prediction versions already sent; it is saved after every batch.
When the server holds a different number of tasks than the map (a push died between the
import and saving the map), the map is rebuilt from the server's tasks by ``data.doc_id``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from builder.annotate.client import Studio, StudioError, connect, read_json, write_json
from builder.annotate.project import ensure_project, state_file
from builder.records.studio import TASK_FIELDS, prediction, task
from builder.schema import Reject
from builder.workspace.folder import quotes_command

ORDER_VIEW = "Lowest confidence first"
ORDERING = ["tasks:predictions_score"]  # ascending: builder.records.scores.task_score, lowest first


@dataclass
class PushSummary:
    project_id: int
    url: str
    tasks_created: int = 0
    predictions_created: int = 0
    tasks_known: int = 0
    reconciled: bool = False
    rejects: int = 0
    project_created: bool = False


def map_path(workspace: Any, url: str, project_id: int) -> Path:
    return state_file(workspace, "tasks", url, project_id)


def annotator_settings(studio: Studio, project_id: int, model_version: str | None) -> None:
    """Label Studio's own conventions for this project: the newest proposal's version's predictions are
    every annotator's starting annotation (``show_collab_predictions`` + ``model_version``), the
    labeling stream serves the lowest task score first (uncertainty sampling) and the Data Manager
    opens on a tab ordered the same way."""
    c = studio.client
    settings: dict[str, Any] = {"show_collab_predictions": True, "sampling": "Uncertainty sampling",
                                "reveal_preannotations_interactively": False, "show_skip_button": True}
    if model_version:
        settings["model_version"] = model_version
    studio.call(c.projects.update, project_id, **settings, what="project settings")
    views = studio.call(lambda: list(c.views.list(project=project_id)), what="view list")
    if not any((v.data or {}).get("title") == ORDER_VIEW for v in views):
        studio.call(c.views.create, project=project_id, data={"title": ORDER_VIEW, "ordering": ORDERING},
                    what="view creation")


def proposed_documents(workspace: Any) -> tuple[dict[str, dict], dict[str, dict[str, dict]], list[Reject], str | None]:
    """(documents by doc_id, proposals by doc_id then model_version with each document's newest
    version last, rejects for orphan proposals, the model_version of the newest proposal that did
    not fail). Newest: read last (``builder.propose.pipeline.newest_versions``)."""
    from builder.store import read_rows

    proposals: dict[str, dict[str, dict]] = {}
    newest = None
    for row in read_rows(workspace.proposals):
        versions = proposals.setdefault(row["doc_id"], {})
        versions.pop(row["model_version"], None)   # proposed again: now its newest
        versions[row["model_version"]] = row
        if not row.get("error"):
            newest = row["model_version"]
    docs = {r["doc_id"]: r for r in read_rows(workspace.documents, columns=list(TASK_FIELDS))
            if r["doc_id"] in proposals}
    rejects = [Reject(stage="push", source=d, reason="no_document",
                      hint=f"the proposal's document is missing from {workspace.documents}; re-run "
                           f"`{quotes_command(workspace, 'ingest PATH...')}`")
               for d in proposals if d not in docs]
    return docs, proposals, rejects, newest


def task_payload(doc: dict, props: dict[str, dict]) -> dict[str, Any]:
    """The task of one document with its proposer versions' predictions (in version order; failed ones left out)."""
    return task(doc, [p for _, p in sorted(props.items()) if not p.get("error")])


def reconcile(studio: Studio, project_id: int) -> dict[str, dict]:
    """doc_id -> {task, versions} rebuilt from the server's tasks."""
    c = studio.client
    out: dict[str, dict] = {}

    def fetch():
        return list(c.tasks.list(project=project_id, include="id,data,predictions_model_versions", page_size=1000))

    for t in studio.call(fetch, what="task listing"):
        doc_id = (t.data or {}).get("doc_id")
        if doc_id is None or doc_id in out:
            continue
        versions = [v.strip() for v in (getattr(t, "predictions_model_versions", "") or "").split(",") if v.strip()]
        out[doc_id] = {"task": t.id, "versions": sorted(set(versions))}
    return out


def _batches(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def push(workspace: Any, cfg: dict[str, Any], client: Studio | None = None, batch_size: int | None = None,
         progress: bool = True, order: str = "workspace") -> PushSummary:
    """Create/update the project, import new documents as tasks and new proposer versions as predictions.

    ``order="uncertainty"`` imports the new documents most uncertain first (``builder.annotate.order``)."""
    from builder.annotate.order import order_documents

    from builder.workspace.rejects import write_rejects

    studio = client or connect(workspace, cfg)
    size = int(batch_size or (cfg.get("studio") or {}).get("batch_size", 500))
    c = studio.client
    project_id, created = ensure_project(studio, workspace, cfg)
    summary = PushSummary(project_id=project_id, url=studio.url, project_created=created)
    docs, proposals, rejects, newest = proposed_documents(workspace)
    if rejects:
        write_rejects(workspace, rejects)
        summary.rejects = len(rejects)
    mfile = map_path(workspace, studio.url, project_id)
    tmap: dict[str, dict] = read_json(mfile, {}) or {}
    project = studio.call(c.projects.get, project_id, what="project lookup")
    if (project.task_number or 0) != len(tmap):
        tmap = reconcile(studio, project_id)
        write_json(mfile, tmap)
        summary.reconciled = True
    new_docs = order_documents([d for d in docs if d not in tmap], proposals, order)
    new_preds = [(d, v) for d in docs if d in tmap for v in proposals[d]
                 if v not in tmap[d]["versions"] and not proposals[d][v].get("error")]
    from rich.progress import Progress

    with Progress(disable=not progress, transient=True) as bar:
        job = bar.add_task("push tasks", total=len(new_docs))
        for batch in _batches(new_docs, size):
            payload = [task_payload(docs[d], proposals[d]) for d in batch]
            r = studio.call(c.projects.import_tasks, project_id, request=payload, return_task_ids=True,
                            what="task import")
            ids = list(r.task_ids or [])
            if len(ids) != len(batch):
                raise StudioError(f"import returned {len(ids)} task ids for {len(batch)} tasks",
                                  f"run `{quotes_command(workspace, 'push')}` again: it reconciles with the server's "
                                  "tasks")
            for d, tid, p in zip(batch, ids, payload):
                tmap[d] = {"task": tid, "versions": sorted(x["model_version"] for x in p["predictions"])}
            write_json(mfile, tmap)
            summary.tasks_created += len(batch)
            summary.predictions_created += sum(len(p["predictions"]) for p in payload)
            bar.advance(job, len(batch))
        job = bar.add_task("push predictions", total=len(new_preds))
        for batch in _batches(new_preds, size):
            payload = [{"task": tmap[d]["task"], **prediction(proposals[d][v])} for d, v in batch]
            studio.call(c.projects.import_predictions, project_id, request=payload, what="prediction import")
            for d, v in batch:
                tmap[d]["versions"] = sorted({*tmap[d]["versions"], v})
            write_json(mfile, tmap)
            summary.predictions_created += len(batch)
            bar.advance(job, len(batch))
    summary.tasks_known = len(tmap)
    annotator_settings(studio, project_id, newest)
    return summary
