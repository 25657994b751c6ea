"""Split assignment: a seeded hash of the ingest ``cluster_id``, so near-duplicates and
syndicated copies always share a split, with no global state."""
from __future__ import annotations

import hashlib
from collections.abc import Mapping

from builder.config import ratios_problem
from builder.export.versions import ExportError


def check_ratios(ratios: Mapping[str, float]) -> dict[str, float]:
    """The share of documents of each split, in the order given (``split_of`` depends on it);
    ``ExportError`` unless they name train, validation and test, none below 0, summing to 1
    (the rule is builder.config.ratios_problem, which also refuses them in a quotes.toml)."""
    problem = ratios_problem(dict(ratios))
    if problem:
        raise ExportError(problem)
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
