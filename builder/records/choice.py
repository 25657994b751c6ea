"""Which annotation of a task the export uses (documented in annotation/README.md): one rule.

Per annotation_id the latest row wins (``supersedes``: pulls append; tombstones delete). Per document:
the ground-truth (reviewed) annotation if any, else the latest non-cancelled, non-deleted one
(by ``updated_at``, then annotation id). Documents with only skipped or deleted annotations
get none. ``choose`` is the rule; ``quotes agreement``, ``resolve_annotations`` and the export
(``builder.export.inputs``) all call it.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from builder.schema import Annotation, from_row

RESOLUTION = "quotes.resolve.v1: ground_truth, else latest non-cancelled non-deleted"

A = TypeVar("A")  # an annotation: an ``Annotation`` record or any row with its attributes


def supersedes(updated_at: str | None, stored_updated_at: str | None) -> bool:
    """Whether a row of an annotation replaces one stored before it: unless it is older (ISO 8601
    times compare as strings; at equal times the later-stored row wins, so a tombstone does).
    The export's on-disk index calls this too (``builder.export.inputs``)."""
    return (updated_at or "") >= (stored_updated_at or "")


def latest_per_annotation(rows: Iterable[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The latest row per annotation_id (``supersedes``; rows in storage order)."""
    out: dict[int, dict[str, Any]] = {}
    for row in rows:
        stored = out.get(row["annotation_id"])
        if stored is None or supersedes(row["updated_at"], stored["updated_at"]):
            out[row["annotation_id"]] = row
    return out


def is_live(annotation: Any) -> bool:
    """Neither deleted nor cancelled (skipped)."""
    return not (annotation.deleted or annotation.was_cancelled)


def live(rows: Iterable[dict[str, Any]]) -> list[Any]:
    """The latest ``Annotation`` record of each annotation_id, live ones only (``is_live``)."""
    return [a for a in map(to_record, latest_per_annotation(rows).values()) if is_live(a)]


def to_record(row: dict[str, Any]) -> Any:
    """An ``Annotation`` record (with ``Region`` / ``Relation`` records) from a stored row."""
    return from_row(Annotation, {**row, "regions": row["regions"] or [], "relations": row["relations"] or []})


def export_rank(annotation: Any) -> tuple:
    """The rank ``choose`` maximises: reviewed first, then the latest ``updated_at``, then the highest id."""
    return (bool(annotation.ground_truth), annotation.updated_at or "", annotation.annotation_id)


def choose(annotations: Iterable[A]) -> A | None:
    """The annotation a document is exported with (``RESOLUTION``): among the live ones (one row per
    annotation), the highest ``export_rank``; None when none is live."""
    return max((a for a in annotations if is_live(a)), key=export_rank, default=None)


def resolve_annotations(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """doc_id -> the ``Annotation`` the export uses, from stored rows (see module docstring)."""
    by_doc: dict[str, list[Any]] = {}
    for a in live(rows):
        by_doc.setdefault(a.doc_id, []).append(a)
    return {d: choose(group) for d, group in sorted(by_doc.items())}
