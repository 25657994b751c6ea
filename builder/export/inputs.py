"""Streaming join of the workspace's proposals and annotations with its documents.

Proposals and annotations are streamed once into a temporary SQLite index keyed by
doc_id (on disk, small cache), then documents are streamed and each one looks up its
own rows: memory stays flat however large the corpus.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder.records.choice import is_live, supersedes
from builder.store import read_rows

_TABLES = """
CREATE TABLE proposals (doc_id TEXT PRIMARY KEY, model_version TEXT, regions TEXT, relations TEXT, error TEXT);
CREATE TABLE annotations (annotation_id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, task_id INTEGER,
    annotator TEXT, updated_at TEXT, was_cancelled INTEGER, ground_truth INTEGER, deleted INTEGER,
    prediction_model_version TEXT, regions TEXT, relations TEXT);
CREATE INDEX annotations_doc ON annotations (doc_id);
CREATE TABLE seen (doc_id TEXT PRIMARY KEY);
"""

_ANNOTATION_COLUMNS = ("annotation_id", "doc_id", "task_id", "annotator", "updated_at", "was_cancelled",
                       "ground_truth", "deleted", "prediction_model_version", "regions", "relations")


@dataclass(slots=True)
class AnnotationRow:
    """The latest state of one Label Studio annotation (regions/relations as plain dicts)."""
    annotation_id: int
    doc_id: str
    annotator: str | None
    updated_at: str
    was_cancelled: bool
    ground_truth: bool
    deleted: bool
    prediction_model_version: str | None
    regions: list[dict[str, Any]] = field(default_factory=list)
    relations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def live(self) -> bool:
        return is_live(self)


@dataclass(slots=True)
class ProposalRow:
    doc_id: str
    model_version: str | None
    regions: list[dict[str, Any]]
    relations: list[dict[str, Any]]
    error: str | None


class InputIndex:
    """An on-disk index of proposals and annotations by doc_id."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(str(path))
        self.db.create_function("supersedes", 2, supersedes, deterministic=True)
        self.db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-16000;"
                              "PRAGMA temp_store=FILE;" + _TABLES)

    def close(self) -> None:
        self.db.close()

    # -- loading -----------------------------------------------------------------------
    def load_proposals(self, folder: str) -> int:
        """Index every proposal row (a later row for the same document wins)."""
        n = 0
        rows = ((r["doc_id"], r.get("model_version"), _dump(r.get("regions")), _dump(r.get("relations")),
                 r.get("error")) for r in read_rows(folder))
        for chunk in _chunks(rows, 2000):
            self.db.executemany("INSERT OR REPLACE INTO proposals VALUES (?, ?, ?, ?, ?)", chunk)
            n += len(chunk)
        self.db.commit()
        return n

    def load_annotations(self, folder: str) -> int:
        """Index annotation rows, keeping the latest row of each annotation_id
        (``builder.records.choice.supersedes``)."""
        n = 0
        rows = ((r["annotation_id"], r["doc_id"], r.get("task_id"), r.get("annotator"), r.get("updated_at") or "",
                 bool(r.get("was_cancelled")), bool(r.get("ground_truth")), bool(r.get("deleted")),
                 r.get("prediction_model_version"), _dump(r.get("regions")), _dump(r.get("relations")))
                for r in read_rows(folder))
        sets = ", ".join(f"{c} = excluded.{c}" for c in _ANNOTATION_COLUMNS[1:])
        sql = (f"INSERT INTO annotations VALUES ({', '.join('?' * len(_ANNOTATION_COLUMNS))}) "
               f"ON CONFLICT (annotation_id) DO UPDATE SET {sets} "
               "WHERE supersedes(excluded.updated_at, annotations.updated_at)")
        for chunk in _chunks(rows, 2000):
            self.db.executemany(sql, chunk)
            n += len(chunk)
        self.db.commit()
        return n

    # -- lookups -----------------------------------------------------------------------
    def proposal(self, doc_id: str) -> ProposalRow | None:
        row = self.db.execute("SELECT doc_id, model_version, regions, relations, error FROM proposals "
                              "WHERE doc_id = ?", (doc_id,)).fetchone()
        if row is None:
            return None
        return ProposalRow(row[0], row[1], json.loads(row[2]), json.loads(row[3]), row[4])

    def annotations(self, doc_id: str) -> list[AnnotationRow]:
        cur = self.db.execute(
            "SELECT annotation_id, doc_id, annotator, updated_at, was_cancelled, ground_truth, deleted, "
            "prediction_model_version, regions, relations FROM annotations WHERE doc_id = ? "
            "ORDER BY annotation_id", (doc_id,))
        return [AnnotationRow(r[0], r[1], r[2], r[3], bool(r[4]), bool(r[5]), bool(r[6]), r[7],
                              json.loads(r[8]), json.loads(r[9])) for r in cur]

    def first_sighting(self, doc_id: str) -> bool:
        """True the first time ``doc_id`` is seen (duplicates across shards are skipped)."""
        return self.db.execute("INSERT OR IGNORE INTO seen VALUES (?)", (doc_id,)).rowcount == 1

    def unseen_annotated_docs(self) -> Iterator[tuple[str, int]]:
        """Documents with annotations that no document row had: (doc_id, annotation_id)."""
        yield from self.db.execute(
            "SELECT doc_id, MIN(annotation_id) FROM annotations WHERE doc_id NOT IN (SELECT doc_id FROM seen) "
            "GROUP BY doc_id ORDER BY doc_id")

    def model_versions(self) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT DISTINCT model_version FROM proposals WHERE model_version IS NOT NULL ORDER BY 1")]


def _dump(value: Any) -> str:
    return json.dumps(value or [], separators=(",", ":"), ensure_ascii=False)


def _chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
