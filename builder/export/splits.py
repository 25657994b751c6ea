"""Split assignment: a seeded hash of the ingest ``cluster_id``, so near-duplicates and
syndicated copies always share a split, with no global state."""
from __future__ import annotations

import hashlib
from collections.abc import Mapping

from builder.export.versions import ExportError


SPLITS = ("train", "validation", "test")
TOLERANCE = 1e-6


def check_ratios(ratios: Mapping[str, float]) -> dict[str, float]:
    """The share of documents of each split, in the order given (``split_of`` depends on it);
    ``ExportError`` unless ``ratios`` names the three ``SPLITS`` and no other, none below 0, summing
    to 1 (within ``TOLERANCE``): a share is never made up or rescaled, so no document moves split
    unasked."""
    example = "give all three, summing to 1: ratios = { train = 0.8, validation = 0.1, test = 0.1 }"
    total = sum(float(v) for v in ratios.values())
    given = f"export.ratios {dict(ratios)!r} (summing to {total:.6g})"
    missing = [name for name in SPLITS if name not in ratios]
    other = [name for name in ratios if name not in SPLITS]
    if missing:
        raise ExportError(f"{given} do not name {' and '.join(missing)}; {example}")
    if other:
        raise ExportError(f"{given} name {', '.join(other)}, which is not a split ({', '.join(SPLITS)}); {example}")
    if any(float(v) < 0 for v in ratios.values()):
        raise ExportError(f"{given} have a ratio below 0; {example}")
    if abs(total - 1) > TOLERANCE:
        raise ExportError(f"{given} do not sum to 1; {example}")
    return {name: float(v) for name, v in ratios.items()}


def unit_hash(key: str, seed: int | str) -> float:
    """A number in [0, 1) from ``seed`` and ``key``, the same on every machine."""
    digest = hashlib.sha256(f"{seed}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_of(cluster_id: str, ratios: Mapping[str, float], seed: int | str) -> str:
    """The split of every document of ``cluster_id`` (``ratios`` already normalized)."""
    u = unit_hash(cluster_id, seed)
    edge = 0.0
    names = list(ratios)
    for name in names:
        edge += ratios[name]
        if u < edge:
            return name
    return next(n for n in reversed(names) if ratios[n] > 0)
