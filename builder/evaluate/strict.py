"""Strict, PolNeAR-style span scoring: exact span F1 per role (content, source, cue).

This is how published PolNeAR results are reported (Newell et al. 2018; the CofeNet paper's
BERT-CRF: content 71.0 / source 82.2 / cue 74.9 exact-match F1 on the test split), so a
change to the proposer can be measured against them:

* a span is the tuple of its word tokens at their character offsets (``matching.tokens``:
  runs of letters and digits, so punctuation and quotation marks never count), with a
  leading "that" dropped from both sides;
* content spans are the Quote regions (one per fragment of a discontinuous content, as
  both gold readers and the proposer cut them); source spans are the mentions quotes are
  ``said_by`` (a Speaker, or an Outlet that is the only source); cue spans are the regions
  quotes are linked to by ``cue``;
* per document, each role's spans are a set (a speaker mentioned once but credited with
  five quotes is one span); a predicted span is right when the gold set has the same tuple.
  Counts are summed over documents (micro-averaged).

Not covered: partial credit (the overlap figures of ``scoring`` give that), the pairing of
roles into one attribution (a right source of a wrong content still counts), and
PolNeAR's own token-level BIO evaluation (its tokenizer differs from ours).

    from builder.evaluate.strict import strict_scores
    fig = strict_scores(gold_docs, predictions)   # predictions as for ``score``
    fig.f1("content"), fig.to_dict()
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

from builder.evaluate.gold import GoldDoc, PredDoc
from builder.evaluate.matching import tokens
from builder.schema import Region, Relation


def rate(num: int, den: int) -> float | None:
    """``num / den``, or None when there is nothing to divide by."""
    return num / den if den else None


def f1_of(p: float | None, r: float | None) -> float | None:
    """The harmonic mean of precision ``p`` and recall ``r`` (None if either is)."""
    if p is None or r is None:
        return None
    return 2 * p * r / (p + r) if p + r else 0.0

ROLES = ("content", "source", "cue")
PUBLISHED = {"content": 0.710, "source": 0.822, "cue": 0.749}  # BERT-CRF on PolNeAR test (CofeNet paper)
PUBLISHED_NAME = "BERT-CRF (PolNeAR test)"
Span = tuple[tuple[int, int], ...]


@dataclass
class RoleCounts:
    """Exact-span counts of one role."""

    gold: int = 0
    pred: int = 0
    right: int = 0

    def precision(self) -> float | None:
        return rate(self.right, self.pred)

    def recall(self) -> float | None:
        return rate(self.right, self.gold)

    def f1(self) -> float | None:
        return f1_of(self.precision(), self.recall())


@dataclass
class StrictFigures:
    """Exact span counts per role (content, source, cue), summed over documents."""

    docs: int = 0
    roles: dict[str, RoleCounts] = field(default_factory=lambda: {r: RoleCounts() for r in ROLES})

    def add(self, other: "StrictFigures") -> None:
        self.docs += other.docs
        for role, c in other.roles.items():
            mine = self.roles[role]
            mine.gold, mine.pred, mine.right = mine.gold + c.gold, mine.pred + c.pred, mine.right + c.right

    def f1(self, role: str) -> float | None:
        return self.roles[role].f1()

    def to_dict(self) -> dict[str, Any]:
        return {"docs": self.docs, "published": {"name": PUBLISHED_NAME, "f1": PUBLISHED},
                **{role: {**dataclasses.asdict(c), "precision": c.precision(), "recall": c.recall(), "f1": c.f1()}
                   for role, c in self.roles.items()}}


def span_key(region: Region) -> Span:
    """The word tokens of a region at their offsets (punctuation ignored, a leading "that" dropped)."""
    return tuple((t.start, t.end) for t in tokens(region))


def role_spans(regions: list[Region], relations: list[Relation]) -> dict[str, set[Span]]:
    """Content, source and cue spans of one annotation (see the module docstring)."""
    by_id = {r.id: r for r in regions}
    out: dict[str, set[Span]] = {role: set() for role in ROLES}
    out["content"] = {span_key(r) for r in regions if r.label == "Quote"}
    for rel in relations:
        src, dst = by_id.get(rel.from_id), by_id.get(rel.to_id)
        if src is None or dst is None or src.label != "Quote":
            continue
        if rel.label == "said_by":
            out["source"].add(span_key(dst))
        elif rel.label == "cue":
            out["cue"].add(span_key(dst))
    return {role: {s for s in spans if s} for role, spans in out.items()}


def strict_doc(gold: GoldDoc, pred: PredDoc) -> StrictFigures:
    """Exact span counts of one gold/prediction pair (the prediction's offsets into the gold text)."""
    g, p = role_spans(gold.regions, gold.relations), role_spans(pred.regions, pred.relations)
    fig = StrictFigures(docs=1)
    for role in ROLES:
        fig.roles[role] = RoleCounts(gold=len(g[role]), pred=len(p[role]), right=len(g[role] & p[role]))
    return fig


def strict_scores(gold_docs: list[GoldDoc], predictions: Mapping[str, Any], *,
                  problems: list | None = None) -> StrictFigures:
    """Exact span P/R/F1 per role of ``predictions`` against ``gold_docs``.

    ``predictions`` is what ``scoring.score`` takes (doc_id -> PredDoc, (regions, relations)
    or a Proposal); documents are paired the same way (doc_id, identical or similar text, with
    offsets remapped). A gold document without a prediction counts as predicting nothing.
    """
    from builder.evaluate.align import align

    total = StrictFigures()
    for g, p in zip(gold_docs, align(gold_docs, predictions, [] if problems is None else problems)):
        total.add(strict_doc(g, p))
    return total
