"""Compare the quotes (``attributions`` config) of two exported versions."""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from builder.export.versions import ExportError


MODEL_VERSION = "model_version"   # the proposer's name: a new proposer renames every silver row it kept as it was


@dataclass
class VersionDiff:
    """Quote ids added in B, removed from A, and changed (with the fields that differ); quotes whose
    only change is the proposer's ``model_version`` are counted per (old, new) pair instead."""
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[tuple[str, list[str]]] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # quote_id -> short readable description
    model_version_only: Counter[tuple[str | None, str | None]] = field(default_factory=Counter)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.model_version_only)


def attribution_rows(folder: Path) -> Iterator[dict[str, Any]]:
    """Every ``attributions`` row of a version folder, split by split, streaming."""
    files = sorted((folder / "attributions").glob("*.parquet"))
    if not files:
        raise ExportError(f"{folder} has no attributions/*.parquet: is it an exported version?")
    for path in files:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=2048):
            yield from batch.to_pylist()


def _digest(row: dict[str, Any]) -> bytes:
    return hashlib.sha1(json.dumps(row, sort_keys=True, default=str).encode()).digest()


def label(row: dict[str, Any], width: int = 70) -> str:
    """A quote row in one line: its text (shortened), speaker and document."""
    text = " ".join((row.get("quote_text") or "").split())
    text = text if len(text) <= width else text[: width - 1] + "…"
    who = row.get("speaker_name") or row.get("speaker_text") or "?"
    return f"“{text}” — {who} [{(row.get('doc_id') or '')[:12]}]"


def diff_versions(a: Path, b: Path) -> VersionDiff:
    """Quotes added, removed and changed from version folder ``a`` to ``b`` (by quote_id).

    Holds one short digest per quote of ``a``; the changed fields and the removed quotes'
    labels are found by reading ``a`` again."""
    digests = {row["quote_id"]: _digest(row) for row in attribution_rows(Path(a))}
    out = VersionDiff()
    changed_rows: dict[str, dict[str, Any]] = {}
    for row in attribution_rows(Path(b)):
        old = digests.pop(row["quote_id"], None)
        if old is None:
            out.added.append(row["quote_id"])
            out.labels[row["quote_id"]] = label(row)
        elif old != _digest(row):
            changed_rows[row["quote_id"]] = row
            out.labels[row["quote_id"]] = label(row)
    out.removed = sorted(digests)
    if changed_rows or digests:
        for row in attribution_rows(Path(a)):
            if row["quote_id"] in digests:
                out.labels[row["quote_id"]] = label(row)
            new = changed_rows.get(row["quote_id"])
            if new is None:
                continue
            fields = [k for k in new if new[k] != row.get(k)]
            if fields == [MODEL_VERSION]:
                out.model_version_only[(row.get(MODEL_VERSION), new[MODEL_VERSION])] += 1
            else:
                out.changed.append((row["quote_id"], fields))
    out.added.sort()
    out.changed.sort()
    return out


def diff_lines(result: VersionDiff, a: str, b: str, limit: int = 50) -> list[str]:
    """``quotes export diff``'s report: one line of totals, one per (old, new) model_version pair of the
    quotes where only that changed, then the quotes added (+), removed (-) and changed (~), at most
    ``limit`` of each kind (0: all)."""
    moved = sum(result.model_version_only.values())
    lines = [f"{a} -> {b}: {len(result.added)} added, {len(result.removed)} removed, {len(result.changed)} changed"
             + (f", {moved:,} with only model_version changed" if moved else "")]
    for (old, new), n in result.model_version_only.most_common():
        lines.append(f"{n:,} {'row' if n == 1 else 'rows'}: only model_version changed ({old} -> {new})")
    for sign, items in (("+", result.added), ("-", result.removed)):
        lines += [f"{sign} {qid}  {result.labels.get(qid, '')}" for qid in items[: limit or None]]
    lines += [f"~ {qid}  {result.labels.get(qid, '')}  changed: {', '.join(fields)}"
              for qid, fields in result.changed[: limit or None]]
    hidden = sum(max(0, len(items) - limit) for items in (result.added, result.removed, result.changed)) if limit else 0
    if hidden:
        lines.append(f"... {hidden} more not listed (--limit 0 lists all)")
    return lines


def resolve_version(ref: str, root: Path) -> Path:
    """A version given as a folder path or as a version name under ``root``."""
    path = Path(ref)
    if path.is_dir() and (path / "attributions").is_dir():
        return path
    if (root / ref).is_dir():
        return root / ref
    raise ExportError(f"no version {ref!r}: give a version folder or one of the versions under {root}")
