"""The workspace run as a datatrove pipeline: documents -> ``ProposeStep`` -> Proposal shards.

``propose_pipeline(workspace, cfg, run_id)`` is a plain list of steps (reader sharded by
rank, ``ProposeStep``, writer of ``proposals/<run_id>/<rank>.parquet``) that any datatrove
executor runs (local, Slurm, Ray). The spaCy pipeline is loaded inside ``run()`` once per
task, never pickled. Documents whose newest proposal is of the same model_version are skipped,
so a re-run changes nothing (``proposed_ids``).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from typing import Any

from datatrove.data import Document as DTDocument
from datatrove.pipeline.base import PipelineStep

from builder.workspace import Workspace
from builder.runner.executors import quiet_logs
from builder.workspace.folder import quotes_command
from builder.workspace.rejects import ListRejects
from builder.workspace.shards import parquet_files, read_rows, record_writer


def _ws(workspace: Workspace | str) -> Workspace:
    return workspace if isinstance(workspace, Workspace) else Workspace(str(workspace))


def newest_versions(workspace: Workspace | str) -> dict[str, str | None]:
    """doc_id -> the model_version of its newest proposal. Shards are read in their fixed order
    (``proposals/<run id>/``, run ids sort by time) and a later row wins, as the export and push
    read them: the newest proposal is the one they use."""
    return {r["doc_id"]: r.get("model_version")
            for r in read_rows(_ws(workspace).proposals, columns=["doc_id", "model_version"])}


def proposed_ids(workspace: Workspace | str, version: str) -> set[str]:
    """doc_ids whose newest proposal is of ``version``: proposing them again would change nothing. A
    document whose newest proposal came from another proposer is proposed again, so that going back
    (from a trained model to the rules, say) makes this proposer's proposal the one used again."""
    return {doc_id for doc_id, newest in newest_versions(workspace).items() if newest == version}


_PIPELINES: dict[str, Any] = {}  # this process's loaded spaCy pipelines, by model and [propose] settings


def worker_pipeline(model: str | None, cfg: dict[str, Any] | None) -> Any:
    """The spaCy pipeline for ``model`` and ``cfg``, loaded once per worker process (not once per task:
    a worker running many ranks reuses it)."""
    from builder.propose.core import load_pipeline

    key = json.dumps([model, (cfg or {}).get("propose") or {}], sort_keys=True, default=str)
    if key not in _PIPELINES:
        _PIPELINES[key] = load_pipeline(model, cfg)
    return _PIPELINES[key]


class ProposeStep(PipelineStep):
    """datatrove documents -> documents carrying one Proposal row each (metadata), in input order."""

    name = "💬 propose"
    type = "🧠 - MODEL"

    def __init__(self, workspace: Workspace | str, cfg: dict[str, Any] | None = None, model: str | None = None,
                 progress: bool = False):
        super().__init__()
        self.progress = progress
        self.workspace = str(_ws(workspace).path)
        self.cfg = cfg or {}
        self.model = model
        self.batch_size = int((self.cfg.get("propose") or {}).get("batch_size", 32))  # kept for callers

    def run(self, data: Iterable[DTDocument], rank: int = 0, world_size: int = 1) -> Iterator[DTDocument]:
        from builder.propose.core import propose_docs
        from builder.propose.records import model_version

        loaded = len(_PIPELINES)
        nlp = worker_pipeline(self.model, self.cfg)
        if len(_PIPELINES) > loaded:  # this rank loaded it; later ranks in the same worker process reuse it
            self.stat_update("pipeline_loads")
        version = model_version(nlp)
        done = proposed_ids(self.workspace, version)
        publishers: dict[str, str | None] = {}  # filled as documents stream in, before their batch runs

        def todo() -> Iterator[tuple[str, str]]:
            for doc in data or []:
                self.stat_update("documents")
                if doc.id in done:
                    self.stat_update("already_proposed")
                    continue
                done.add(doc.id)
                publishers[doc.id] = (doc.metadata or {}).get("publisher")
                yield doc.id, doc.text or ""

        from builder.propose.core import propose_options
        from builder.propose.windows import reject_of
        from builder.workspace.rejects import REJECT_KEY

        proposals = propose_docs(nlp, todo(), **propose_options(self.cfg), publishers=publishers)
        if self.progress:
            from builder.progress import track

            proposals = track(proposals, f"propose [{rank}]")
        for prop in proposals:
            quotes = sum(1 for r in prop.regions if r.label == "Quote")
            self.stat_update("quotes", value=quotes)
            if prop.error:
                self.stat_update("failed")
            yield DTDocument(text="", id=prop.doc_id, metadata={
                "model_version": prop.model_version,
                "regions": [asdict(r) for r in prop.regions],
                "relations": [asdict(r) for r in prop.relations],
                "error": prop.error,
                REJECT_KEY: reject_of(prop.doc_id, prop.error) if prop.error else None,
            })


def documents_reader(workspace: Workspace | str):
    """A reader of the workspace's Document shards, sharded by row (rank r: rows r, r+w, ...), so every
    rank has work even when ingest wrote a single file."""
    from builder.runner.executors import RankShardedRows

    return RankShardedRows(_ws(workspace).documents)


def propose_pipeline(workspace: Workspace | str, cfg: dict[str, Any] | None, run_id: str, model: str | None = None,
                     progress: bool = False) -> list:
    """Reader of workspace documents -> ``ProposeStep`` -> its rejects listed -> writer of
    ``proposals/<run_id>/<rank>.parquet``."""
    ws = _ws(workspace)
    return [
        documents_reader(ws),
        ProposeStep(ws, cfg, model, progress=progress),
        ListRejects(ws),
        record_writer("Proposal", ws.sub("proposals", run_id), fault_point="propose:proposals"),
    ]


def propose_workspace(workspace: Workspace | str, cfg: dict[str, Any] | None = None, *, tasks: int = 1, workers: int = 1,
                      progress: bool = True, model: str | None = None, run_id: str | None = None,
                      quiet: bool = True) -> dict[str, Any]:
    """Propose every ingested document of the workspace not yet proposed; returns counts.

    ``progress`` shows a bar per rank; ``quiet`` keeps datatrove's INFO lines off the terminal.
    """
    from builder.runner.executors import make_executor
    from builder.runner.stages import logging_dir, new_run_id

    from builder.workspace.lock import workspace_lock

    ws = _ws(workspace)
    if not parquet_files(ws.documents):
        raise FileNotFoundError(f"no documents in {ws.documents}: run `{quotes_command(ws, 'ingest PATH...')}` first")
    run_id = run_id or new_run_id()
    with workspace_lock(ws, "propose"), quiet_logs(quiet):
        executor = make_executor(propose_pipeline(ws, cfg, run_id, model=model, progress=progress),
                                 logging_dir=logging_dir(ws, run_id, "propose"), tasks=tasks, workers=workers,
                                 quiet=quiet)
        stats = executor.run()
    rows = list(read_rows(ws.sub("proposals", run_id), columns=["doc_id", "regions", "error"]))
    already = sum(int(metric.total) for step in getattr(stats, "stats", None) or []
                  for key, metric in step.stats.items() if key == "already_proposed")
    return {"run_id": run_id, "proposed": len(rows), "failed": sum(1 for r in rows if r["error"]),
            "quotes": sum(1 for r in rows for g in r["regions"] or [] if g["label"] == "Quote"),
            "already_proposed": already, "stats": stats}
