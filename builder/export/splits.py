"""Split assignment: a seeded hash of the ingest ``cluster_id``, so near-duplicates and
syndicated copies always share a split, with no global state."""
from __future__ import annotations

import hashlib
from collections.abc import Mapping

from builder.export.versions import ExportError


def check_ratios(ratios: Mapping[str, float]) -> dict[str, float]:
    """Ratios normalized to sum to 1, in the order given; clear error if unusable."""
    if not ratios or any(float(v) < 0 for v in ratios.values()) or sum(map(float, ratios.values())) <= 0:
        raise ExportError(f"export.ratios {dict(ratios)!r}: give non-negative ratios per split, "
                          "e.g. {train = 0.8, validation = 0.1, test = 0.1}")
    total = sum(map(float, ratios.values()))
    return {name: float(v) / total for name, v in ratios.items()}


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
