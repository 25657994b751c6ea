"""Which annotation of a task the export uses (documented in annotation/README.md).

Per annotation_id the latest stored row wins (pulls append; tombstones delete). Per document:
the ground-truth (reviewed) annotation if any, else the latest non-cancelled, non-deleted one
(by ``updated_at``, then annotation id). Documents with only skipped or deleted annotations
get none.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

RESOLUTION = "quotes.resolve.v1: ground_truth, else latest non-cancelled non-deleted"


def latest_per_annotation(rows: Iterable[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The last row seen per annotation_id (rows in storage order)."""
    out: dict[int, dict[str, Any]] = {}
    for row in rows:
        out[row["annotation_id"]] = row
    return out


def live(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Latest rows that are neither deleted nor cancelled (skipped)."""
    return [r for r in latest_per_annotation(rows).values() if not r["deleted"] and not r["was_cancelled"]]


def to_record(row: dict[str, Any]):
    """An ``Annotation`` record (with ``Region`` / ``Relation`` records) from a row."""
    from builder.schema import Annotation, Region, Relation

    return Annotation(**{**row, "regions": [Region(**g) for g in row["regions"] or []],
                         "relations": [Relation(**r) for r in row["relations"] or []]})


def export_rank(ground_truth: bool, updated_at: str | None, annotation_id: int) -> tuple:
    """The one rule (``RESOLUTION``) that picks a document's exported annotation among its live ones:
    the highest rank wins (reviewed first, then the latest ``updated_at``, then the highest id).
    ``resolve_annotations`` and the export (``builder.export.inputs``) both use it."""
    return (bool(ground_truth), updated_at or "", annotation_id)


def resolve_annotations(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """doc_id -> the ``Annotation`` the export uses (see module docstring)."""
    best: dict[str, dict[str, Any]] = {}

    def rank(r: dict[str, Any]) -> tuple:
        return export_rank(r["ground_truth"], r["updated_at"], r["annotation_id"])

    for r in live(rows):
        cur = best.get(r["doc_id"])
        if cur is None or rank(r) > rank(cur):
            best[r["doc_id"]] = r
    return {d: to_record(r) for d, r in sorted(best.items())}
