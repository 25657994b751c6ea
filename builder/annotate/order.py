"""The order tasks reach annotators: ``quotes push --order uncertainty`` imports first the
documents where the proposers disagree or the model is least sure (active learning: a
corrected task teaches the next ``quotes train`` most where the model was unsure)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

ORDERS = ("workspace", "uncertainty")


def _quotes(row: dict[str, Any]) -> list[dict[str, Any]]:
    return [g for g in row.get("regions") or [] if g["label"] == "Quote"]


def _agreement(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> float:
    """F1 of exact quote spans between two proposals (1.0 when both have none)."""
    sa, sb = {(g["start"], g["end"]) for g in a}, {(g["start"], g["end"]) for g in b}
    if not sa and not sb:
        return 1.0
    return 2 * len(sa & sb) / (len(sa) + len(sb))


def uncertainty(props: dict[str, dict[str, Any]]) -> float:
    """How unsure the proposers are about one document, in [0, 1]: the larger of their
    disagreement (1 - the lowest pairwise quote F1 among its proposer versions) and the doubt
    of the least sure quote (1 - its score). A document without quotes counts 0.5 sure."""
    rows = [p for _, p in sorted(props.items()) if not p.get("error")]
    if not rows:
        return 0.0
    disagreement = max((1 - _agreement(_quotes(a), _quotes(b)) for i, a in enumerate(rows) for b in rows[i + 1:]),
                       default=0.0)
    scores = [g["score"] for r in rows for g in _quotes(r) if g.get("score") is not None]
    doubt = 1 - min(scores) if scores else 0.5
    return max(disagreement, doubt)


def order_documents(doc_ids: Iterable[str], proposals: dict[str, dict[str, dict[str, Any]]],
                    order: str = "workspace") -> list[str]:
    """``doc_ids`` in push order: as given ("workspace") or most uncertain first ("uncertainty";
    ties keep the given order)."""
    ids = list(doc_ids)
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}: use one of {', '.join(ORDERS)}")
    if order == "workspace":
        return ids
    return sorted(ids, key=lambda d: -uncertainty(proposals.get(d, {})))
