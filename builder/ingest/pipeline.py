"""The ingest stage as datatrove pipelines.

``extract_pipeline`` (any number of tasks): inputs sharded by rank -> read -> extract and
normalize -> MinHash signature -> staging shard ``state/ingest/<run_id>/extracted/<rank>.parquet``
holding this rank's documents and rejects in input order.

``dedupe_pipeline`` (one task): staged rows merged back into the run's input order ->
exact duplicates dropped (doc_id already in the workspace or earlier in the run) ->
``cluster_id`` from the persistent LSH index -> new documents written to
``documents/<run_id>/00000.parquet``; rejects and duplicates appended to ``rejects.jsonl``
once each; counts to ``state/ingest/<run_id>/summary.json``.

``ingest`` runs both through ``builder.runner.executors.make_executor`` and returns an ``IngestSummary``.
"""
from __future__ import annotations

import heapq
import json
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from datatrove.data import Document as DTDocument
from datatrove.pipeline.base import PipelineStep

from builder.workspace import Workspace
from builder.runner.executors import quiet_logs
from builder.ingest.readers import Extracted, Input, Raw, expand_paths, extract, read_input, rejected
from builder.schema import Reject, as_row
from builder.ingest.text import INGEST_VERSION
from builder.workspace.shards import count_rows

DEFAULT_THRESHOLD = 0.5  # [ingest] near_duplicate_threshold: estimated Jaccard of word 3-grams

STAGED = pa.schema([
    pa.field("input_index", pa.int64(), nullable=False),
    pa.field("seq", pa.int64(), nullable=False),
    pa.field("kind", pa.string(), nullable=False),  # doc or reject
    pa.field("source", pa.string(), nullable=False),
    pa.field("position", pa.int64()),
    pa.field("doc_id", pa.string()),
    pa.field("text", pa.string()),
    pa.field("title", pa.string()),
    pa.field("publisher", pa.string()),
    pa.field("url", pa.string()),
    pa.field("date", pa.string()),
    pa.field("source_format", pa.string()),
    pa.field("signature", pa.binary()),
    pa.field("reason", pa.string()),
    pa.field("detail", pa.string()),
])


@dataclass
class IngestSummary:
    """What one ingest run did."""

    inputs: int = 0
    ingested: int = 0
    near_duplicates: int = 0  # among ingested: joined an existing cluster
    unchanged: int = 0        # already in the workspace from the same source
    duplicates: int = 0       # same text as another document
    rejected: dict[str, int] = field(default_factory=dict)
    newly_listed: int = 0     # rows appended to rejects.jsonl by this run
    batch: str | None = None  # documents/<batch>/ when new documents were written

    @property
    def total_rejected(self) -> int:
        return sum(self.rejected.values())

    @property
    def all_failed(self) -> bool:
        """Every input was rejected: nothing ingested, already there, or a duplicate (the command fails)."""
        return self.total_rejected > 0 and not (self.ingested or self.unchanged or self.duplicates)


from builder.runner.stages import new_run_id  # noqa: E402,F401  (one format; also the documents batch name)


def _workspace(workspace: Workspace | str | Path) -> Workspace:
    return workspace if isinstance(workspace, Workspace) else Workspace(workspace)


def run_folder(workspace: Workspace | str | Path, run_id: str) -> str:
    return _workspace(workspace).sub("state", "ingest", run_id)


INDEX_FILE = "state/ingest/index.sqlite"


def _threshold(cfg: dict[str, Any]) -> float:
    return float(cfg["ingest"].get("near_duplicate_threshold", DEFAULT_THRESHOLD))


def _progress(iterable, progress: bool, description: str, total: int | None = None):
    if not progress:
        return iterable
    from builder.progress import track

    return track(iterable, description, total)


# ---------------------------------------------------------------- extract (any number of tasks)

class ReadInputs(PipelineStep):
    """Reads this rank's share of the inputs (every ``world_size``-th, from ``rank``) as raw records."""

    name = "read inputs"
    type = "📖 - READER"

    def __init__(self, inputs: list[Input], cfg: dict[str, Any], progress: bool = False):
        super().__init__()
        self.inputs, self.cfg, self.progress = inputs, cfg, progress

    def run(self, data=None, rank: int = 0, world_size: int = 1) -> Iterator[DTDocument]:
        mine = self.inputs[rank::world_size]
        for item in _progress(mine, self.progress, f"ingest: read [{rank}]"):
            for seq, record in enumerate(_guarded(item, self.cfg)):
                self.stat_update("rejected" if isinstance(record, Reject) else "read")
                yield DTDocument(text=getattr(record, "content", ""), id=f"{item.index}:{seq}",
                                 metadata={"record": record, "input_index": item.index, "seq": seq})


def _guarded(item: Input, cfg: dict[str, Any]) -> Iterator[Raw | Reject]:
    """``read_input``, with an unexpected reader error turned into a reject (the run goes on)."""
    records = read_input(item, cfg)
    position = None
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except Exception as e:  # noqa: BLE001 - any reader failure is reported, never fatal
            yield rejected(item.path, position, "read_error", f"{type(e).__name__}: {e}")
            return
        position = record.position
        yield record


class Extract(PipelineStep):
    """Raw records -> clean documents (HTML main text, NFC, tidy whitespace, length checks) or rejects."""

    name = "extract and normalize"
    type = "🔨 - EXTRACT"

    def __init__(self, cfg: dict[str, Any]):
        super().__init__()
        self.cfg = cfg

    def run(self, data: Iterable[DTDocument], rank: int = 0, world_size: int = 1) -> Iterator[DTDocument]:
        for doc in data:
            record = doc.metadata["record"]
            if isinstance(record, Raw):
                with self.track_time():
                    try:
                        record = extract(record, self.cfg)
                    except Exception as e:  # noqa: BLE001 - one bad record never stops the run
                        record = rejected(record.source, record.position, "extract_error",
                                          f"{type(e).__name__}: {e}")
                doc.metadata["record"] = record
            doc.text = record.text if isinstance(record, Extracted) else ""
            self.stat_update(record.reason if isinstance(record, Reject) else "extracted")
            yield doc


class Sign(PipelineStep):
    """Adds the MinHash signature of each clean document."""

    name = "minhash signature"
    type = "🫂 - DEDUP"

    def run(self, data: Iterable[DTDocument], rank: int = 0, world_size: int = 1) -> Iterator[DTDocument]:
        from builder.ingest.neardup import signature

        for doc in data:
            if isinstance(doc.metadata["record"], Extracted):
                with self.track_time():
                    doc.metadata["signature"] = signature(doc.text)
            yield doc


def staged_row(_writer, doc: DTDocument) -> dict[str, Any]:
    """The staging row of a datatrove document carrying an ``Extracted`` or ``Reject`` record."""
    record = doc.metadata["record"]
    row = {"input_index": doc.metadata["input_index"], "seq": doc.metadata["seq"], "source": record.source,
           "position": record.position, "signature": doc.metadata.get("signature")}
    if isinstance(record, Reject):
        return {**row, "kind": "reject", "reason": record.reason, "detail": record.detail}
    return {**row, "kind": "doc", "doc_id": record.doc_id, "text": record.text, "title": record.title,
            "publisher": record.publisher, "url": record.url, "date": record.date,
            "source_format": record.source_format}


def staging_folder(workspace: Workspace | str | Path, run_id: str) -> str:
    return run_folder(workspace, run_id) + "/extracted"


def extract_pipeline(paths: Iterable[str | Path], workspace: Workspace | str | Path, cfg: dict[str, Any],
                     run_id: str, *, progress: bool = False) -> list:
    """Steps reading ``paths`` (sharded by rank) into staging shards of documents and rejects."""
    from builder.workspace.shards import shard_writer

    inputs = expand_paths(paths)
    return [
        ReadInputs(inputs, cfg, progress),
        Extract(cfg),
        Sign(),
        shard_writer(staging_folder(workspace, run_id), STAGED, staged_row, fault_point="ingest:staged"),
    ]


# ---------------------------------------------------------------- dedupe (one task)

def staged_rows(folder: str, batch_size: int = 256) -> Iterator[dict[str, Any]]:
    """Rows of every staging shard merged into the run's input order (independent of the task count)."""
    from builder.workspace.shards import iter_shard_batches, parquet_files

    def rows(name: str) -> Iterator[dict[str, Any]]:
        for batch in iter_shard_batches(folder, name, batch_size=batch_size):
            yield from batch.to_pylist()

    yield from heapq.merge(*(rows(n) for n in parquet_files(folder)), key=lambda r: (r["input_index"], r["seq"]))


class ReadStaged(PipelineStep):
    """Reads the run's staging shards in input order (a single-task step)."""

    name = "read staged"
    type = "📖 - READER"

    def __init__(self, folder: str, progress: bool = False):
        super().__init__()
        self.folder, self.progress = folder, progress

    def run(self, data=None, rank: int = 0, world_size: int = 1) -> Iterator[DTDocument]:
        if world_size != 1:
            raise ValueError("the dedupe pipeline runs as one task (tasks=1)")
        total = count_rows(self.folder) if self.progress else None
        for row in _progress(staged_rows(self.folder), self.progress, "ingest: dedupe", total):
            yield DTDocument(text=row.pop("text") or "", id=row["doc_id"] or "", metadata=row)


class Dedupe(PipelineStep):
    """Drops exact duplicates, assigns near-duplicate clusters, writes the new documents, lists rejects
    once, counts everything.

    Order of the writes (each durable before the next starts): the documents shard
    (``documents/<run_id>/00000.parquet``, renamed into place when closed), then the rejects
    (through the workspace's one reject writer, which lists each once), then the index that says
    the documents are there. ``sync_index`` at the start repairs an index that a kill left behind
    or ahead of the workspace, so no kill loses or duplicates a document or a reject.
    """

    name = "dedupe and cluster"
    type = "🫂 - DEDUP"

    def __init__(self, workspace: Workspace | str | Path, cfg: dict[str, Any], run_id: str, inputs: int = 0):
        super().__init__()
        self.workspace, self.cfg, self.run_id, self.inputs = _workspace(workspace), cfg, run_id, inputs

    def run(self, data: Iterable[DTDocument], rank: int = 0, world_size: int = 1) -> Iterator[DTDocument]:
        from builder.ingest.neardup import Index
        from builder.workspace.faults import fault
        from builder.workspace.rejects import write_rejects
        from builder.workspace.shards import record_writer

        summary = IngestSummary(inputs=self.inputs)
        ws = self.workspace
        with ws.local_file(INDEX_FILE) as db, tempfile.TemporaryFile("w+", encoding="utf-8") as pending:
            index = Index(db, _threshold(self.cfg))
            try:
                sync_index(index, ws)
                index.commit()
                documents = ws.sub("documents", self.run_id)
                with record_writer("Document", documents, fault_point="ingest:documents") as writer:
                    for doc in data:
                        new = self._handle(doc, index, pending, summary)
                        if new is not None:
                            writer.write(new, rank)
                            yield new
                pending.seek(0)  # listed only once every document of the run is handled
                summary.newly_listed = write_rejects(ws, (Reject(**json.loads(line)) for line in pending))
                fault("ingest:rejects-listed")
                _set_meta(index, BATCHES_KEY, sorted(_meta(index, BATCHES_KEY) + ([self.run_id] if summary.ingested
                                                                                   else [])))
                index.commit()
                fault("ingest:index-committed")
            finally:
                index.close()
        summary.rejected = dict(sorted(summary.rejected.items()))
        summary.batch = self.run_id if summary.ingested else None
        ws.write_text(f"state/ingest/{self.run_id}/summary.json", json.dumps(asdict(summary)))

    def _handle(self, doc: DTDocument, index, out, summary: IngestSummary) -> DTDocument | None:
        """One staged row: listed as a reject or duplicate, counted as unchanged, or returned as new."""
        row = doc.metadata
        if row["kind"] == "reject":
            summary.rejected[row["reason"]] = summary.rejected.get(row["reason"], 0) + 1
            self._list(out, rejected(row["source"], row["position"], row["reason"], row["detail"]))
            return None
        known = index.known(doc.id)
        if known is not None and (known.source, known.position) == (row["source"], row["position"]):
            summary.unchanged += 1
            return None
        if known is not None:
            summary.duplicates += 1
            where = known.source + (f" #{known.position}" if known.position is not None else "")
            self._list(out, rejected(row["source"], row["position"], "duplicate", f"{known.doc_id} (from {where})"))
            return None
        with self.track_time():
            cluster = index.cluster_of(row["signature"])
            index.add(doc.id, cluster or doc.id, row["source"], row["position"], row["signature"])
        summary.ingested += 1
        summary.near_duplicates += cluster is not None
        self.stat_update("ingested")
        doc.metadata = {"title": row["title"], "publisher": row["publisher"], "url": row["url"], "date": row["date"],
                        "source": row["source"], "source_format": row["source_format"],
                        "source_position": row["position"], "cluster_id": cluster or doc.id,
                        "ingest_version": INGEST_VERSION}
        return doc

    @staticmethod
    def _list(out, reject: Reject) -> None:
        """Keep ``reject`` for the end of the run (a temporary file: memory stays flat)."""
        out.write(json.dumps(as_row(reject), ensure_ascii=False) + "\n")

BATCHES_KEY = "batches"  # index meta: the documents batches the index holds


def _meta(index, key: str) -> Any:
    row = index.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return json.loads(row[0]) if row else None


def _set_meta(index, key: str, value: Any) -> None:
    if _meta(index, key) != value:  # an unchanged index stays byte-identical
        index.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))


def document_batches(workspace: Workspace) -> set[str]:
    """Batches (``documents/<batch>/``) with at least one published shard."""
    from builder.workspace.shards import parquet_files

    return {name.split("/", 1)[0] for name in parquet_files(workspace.documents) if "/" in name}


def sync_index(index, workspace: Workspace) -> None:
    """Make the dedupe index say exactly what the workspace holds (the documents are the truth).

    A batch the index holds but the workspace does not (a kill between the index and its shard,
    a damaged shard moved aside) means the index is rebuilt from the documents; a batch the
    workspace holds but the index does not (a kill after the shard, before the index) is added.
    """
    for name in workspace.folder().glob("documents/**/*.part"):  # left by a killed writer (we hold the lock)
        workspace.folder().rm(name)
    on_disk = document_batches(workspace)
    held = _meta(index, BATCHES_KEY)
    if held is None and not index.is_empty():  # an index from before batches were recorded: trust it
        held = sorted(on_disk)
    elif held is None or set(held) - on_disk:
        if held is not None:
            from datatrove.utils.logging import logger

            logger.warning(f"the dedupe index holds batches no longer in {workspace.documents} "
                           f"({sorted(set(held) - on_disk)}): rebuilding it from the documents")
        tables = [r[0] for r in index.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            if table != "meta":
                index.db.execute(f"DELETE FROM {table}")
        held = []
    for batch in sorted(on_disk - set(held)):
        rebuild_index(index, workspace, batch)
    _set_meta(index, BATCHES_KEY, sorted(on_disk))


def rebuild_index(index, workspace: Workspace, batch: str | None = None) -> None:
    """Adds the workspace's documents (of ``batch``, else all) to the index (e.g. after state/ was lost)."""
    from builder.ingest.neardup import signature
    from builder.workspace.shards import read_rows

    folder = workspace.sub("documents", batch) if batch else workspace.documents
    for row in read_rows(folder, columns=["doc_id", "text", "cluster_id", "source", "source_position"]):
        if index.known(row["doc_id"]) is None:
            index.add(row["doc_id"], row["cluster_id"], row["source"], row["source_position"],
                      signature(row["text"]))


def dedupe_pipeline(workspace: Workspace | str | Path, cfg: dict[str, Any], run_id: str, *,
                    progress: bool = False, inputs: int = 0) -> list:
    """Single-task steps: staged rows -> exact and near-duplicate handling -> ``documents/<run_id>/``."""
    ws = _workspace(workspace)
    return [
        ReadStaged(staging_folder(ws, run_id), progress),
        Dedupe(ws, cfg, run_id, inputs),  # writes documents/<run_id>/00000.parquet itself, before the index
    ]


# ---------------------------------------------------------------- both

from builder.runner.stages import StageFailed  # noqa: E402


class IngestFailed(StageFailed):
    """An ingest task failed (not an input problem: those are rejects); the message says where to look."""


def _run_stage(name: str, steps: list, ws: Workspace, run_id: str, *, tasks: int, workers: int,
               quiet: bool) -> None:
    """One stage through ``make_executor``, logs in the one log folder (``state/runs/<run_id>/logs/<stage>``);
    raises ``IngestFailed`` if any rank did not complete."""
    from builder.runner.executors import incomplete_ranks, make_executor
    from builder.runner.stages import logging_dir

    logs = logging_dir(ws, run_id, name)
    executor = make_executor(steps, logging_dir=logs, tasks=tasks, workers=workers, quiet=quiet, keep_going=True)
    executor.run()
    failed = incomplete_ranks(executor)
    if failed:
        raise IngestFailed(f"{name} rank(s) {failed} failed: see {logs}/logs/")


def remove_stale_runs(workspace: Workspace, keep: str | None = None) -> list[str]:
    """Remove what earlier ingests left under ``state/ingest/`` (the caller holds the ingest lock, so none of
    them is running): the staging shards and logs of a killed ``quotes ingest`` (it has no ``run.json``:
    nothing can relaunch it; its documents, if published, are already the workspace's), and the staging
    shards of a ``quotes run`` that finished (``stats.json`` written). An unfinished ``quotes run`` keeps
    its staging for ``--run-id``. Returns the run ids cleaned."""
    df = workspace.folder()
    if not df.exists("state/ingest"):
        return []
    cleaned = []
    for folder in sorted(df.glob("state/ingest/*")):
        run_id = folder.rstrip("/").rsplit("/", 1)[-1]
        if run_id == keep or not df.isdir(folder):
            continue
        runs = f"state/runs/{run_id}"
        if not df.exists(f"{runs}/run.json"):
            workspace.remove(f"state/ingest/{run_id}")
            workspace.remove(runs)
        elif df.exists(f"{runs}/stats.json") and df.exists(f"state/ingest/{run_id}/extracted"):
            workspace.remove(f"state/ingest/{run_id}/extracted")
        else:
            continue
        cleaned.append(run_id)
    return cleaned


def ingest(paths: Iterable[str | Path], workspace: Workspace | str | Path, cfg: dict[str, Any], *,
           tasks: int = 1, workers: int = 1, progress: bool = True, quiet: bool = True,
           keep_staging: bool = False) -> IngestSummary:
    """Ingest ``paths`` into ``workspace``: extract (``tasks`` shards), then dedupe; the run's counts.

    Input problems never stop the run (they are rejects); a failed task raises ``IngestFailed``
    and leaves the workspace's documents and index as they were.
    """
    from builder.workspace.lock import workspace_lock

    ws = _workspace(workspace)
    run_id = new_run_id()
    try:
        with workspace_lock(ws, "ingest"), quiet_logs(quiet):
            remove_stale_runs(ws, keep=run_id)
            extract_steps = extract_pipeline(list(paths), ws, cfg, run_id, progress=progress)
            inputs = len(extract_steps[0].inputs)
            _run_stage("extract", extract_steps, ws, run_id, tasks=tasks, workers=workers, quiet=quiet)
            _run_stage("dedupe", dedupe_pipeline(ws, cfg, run_id, progress=progress, inputs=inputs), ws, run_id,
                       tasks=1, workers=1, quiet=quiet)
    except BaseException as e:
        # drop the batch so a re-run starts clean (if the index already held it, the next run's sync_index
        # sees it gone and rebuilds the index from the documents)
        ws.remove(f"documents/{run_id}")
        if isinstance(e, IngestFailed):
            raise IngestFailed(f"ingest run {run_id}: {e}. Nothing was added; fix the cause and run the same "
                               "command again.") from None
        raise
    summary = IngestSummary(**json.loads(ws.read_text(f"state/ingest/{run_id}/summary.json") or "{}"))
    if not keep_staging:  # staging and logs of a run that succeeded (an unchanged workspace stays unchanged)
        ws.remove(f"state/ingest/{run_id}")
        ws.remove(f"state/runs/{run_id}")
    return summary
