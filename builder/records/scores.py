"""Scores: how sure a proposal is, per quote and per task (each rule written once).

* ``confidence``: a region's score as stored in a ``Proposal``, sent to Label Studio and exported
  (``Attribution.confidence``): rounded to 4 decimals.
* ``least_quote_score``: a document is as sure as its least sure quote.
* ``task_score``: the Label Studio task score (``quotes push`` and ``quotes propose -o``).
"""
from __future__ import annotations

from collections.abc import Iterable

from builder.schema import Region


def confidence(score: float) -> float:
    """A region's score as it is stored and sent: a float rounded to 4 decimals."""
    return round(float(score), 4)


def least_quote_score(regions: Iterable[Region]) -> float | None:
    """The lowest Quote score of ``regions`` (None when no Quote has a score)."""
    return min((g.score for g in regions if g.label == "Quote" and g.score is not None), default=None)


def task_score(regions: Iterable[Region]) -> float:
    """The task-level prediction score: the lowest Quote score (the doubt an annotator should check
    first); 0.0 when nothing was proposed (a news article without a single quote is itself doubtful).
    Label Studio orders the Data Manager and the labeling stream by it, lowest first."""
    least = least_quote_score(regions)
    return 0.0 if least is None else round(least, 4)
