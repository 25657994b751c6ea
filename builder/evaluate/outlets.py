"""An outlet development set from attribution gold without an outlet role (PolNeAR), and its recall.

PolNeAR marks no outlet, but an attribution whose Source *is* a news organisation ("The New
York Times reported ...", "according to CNN", "the newspaper said") is exactly an outlet
that is the only source: our scheme gives it ``said_by`` and ``via`` both. ``outlet_cases``
collects them from gold documents; ``outlet_recall`` counts the share a prediction gets:
a proposed quote matched at 0.3 to one of the case's content fragments, with an outlet
(``via``) of the same name.

A Source is a news organisation when, without a leading determiner and a possessive, it is
an outlet name of the proposer's lexicons (``outlets.txt`` and the derived
``outlets_derived.txt``; platforms are left out), or an outlet anaphor ("the newspaper",
"the paper", "the network", "the broadcaster"), whose name is then the latest outlet named
before it. Left out: the article's own publisher and the wire service it carries (not a
relay, ``builder.propose.outlets.is_own_outlet``); polls, analyses and reporters of an outlet
("a CNN/ORC poll", "CNN's Jake Tapper": their source is not the outlet itself).

    from builder.evaluate.outlets import outlet_cases, outlet_recall
    cases = outlet_cases(load_gold(["../shared/polnear-dev", "../shared/polnear-train"]))
    outlet_recall(cases, predictions)     # OutletRecall(cases=..., found=...)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from builder.evaluate.gold import GoldDoc, PredDoc
from builder.evaluate.matching import match_quotes, norm_name, tokens
from builder.schema import Region

ANAPHORS = frozenset({"newspaper", "paper", "network", "broadcaster", "news agency", "agency", "outlet",
                      "magazine", "channel", "station", "website", "site", "tabloid"})


@dataclass
class OutletCase:
    """One gold attribution whose only source is a news outlet."""

    doc_id: str
    quotes: list[Region]  # the content fragments
    source: Region  # the gold Source mention
    outlet: str  # the outlet's name (normalised); an anaphor's antecedent


@dataclass
class OutletRecall:
    cases: int = 0
    found: int = 0
    quote_found: int = 0  # the quote was proposed (matched at 0.3), whatever its outlet
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # (doc_id, outlet, quote start)

    @property
    def recall(self) -> float | None:
        return self.found / self.cases if self.cases else None

    def to_dict(self) -> dict[str, Any]:
        return {"cases": self.cases, "found": self.found, "quote_found": self.quote_found, "recall": self.recall}


def _bare(name: str) -> str:
    words = norm_name(name)
    return re.sub(r"^(a|an|this|that)\s+", "", words)


def _outlet_names() -> dict[str, str]:
    """normalised outlet name -> its lexicon spelling (news outlets only, no platforms)."""
    from builder.propose.lexicons import load_lexicons

    out: dict[str, str] = {}
    for n in sorted(load_lexicons().outlets, key=lambda n: (len(n), n)):  # deterministic: the longest spelling last
        out[norm_name(n)] = n
    return out


def _antecedent(text: str, before: int, names: dict[str, str]) -> str | None:
    """The latest outlet named in ``text`` before ``before`` (longest name at a position)."""
    from builder.propose.lexicons import load_lexicons

    alts = "|".join(re.escape(n) for n in sorted(load_lexicons().outlets, key=lambda n: (-len(n), n)))
    last = None
    for m in re.finditer(r"(?<!\w)(?:" + alts + r")(?!\w)", text[:before]):
        last = m.group()
    return norm_name(last) if last else None


def outlet_cases(gold_docs: list[GoldDoc]) -> list[OutletCase]:
    """The attributions of ``gold_docs`` whose Source is a news outlet (see the module docstring)."""
    from builder.propose.outlets import is_own_outlet, wire_of

    names = _outlet_names()
    out = []
    for g in gold_docs:
        by_id = {r.id: r for r in g.regions}
        wire = wire_of(g.text)
        quotes_of: dict[str, list[Region]] = {}
        for rel in g.relations:
            if rel.label == "said_by" and rel.from_id in by_id and rel.to_id in by_id:
                quotes_of.setdefault(rel.to_id, []).append(by_id[rel.from_id])
        for sid, quotes in quotes_of.items():
            src = by_id[sid]
            bare = _bare(src.text)
            if bare in names:
                name = bare
            elif bare in ANAPHORS:
                name = _antecedent(g.text, src.start, names)
                if name is None:
                    continue
            else:
                continue
            if is_own_outlet(name, g.publisher) or (wire and is_own_outlet(name, wire)):
                continue
            out.append(OutletCase(doc_id=g.doc_id, quotes=sorted(quotes, key=lambda r: r.start), source=src,
                                  outlet=name))
    return out


def _same_outlet(pred: str | None, gold: str) -> bool:
    """Equal names, or one is the other's last words ("Post" / "Washington Post")."""
    if not pred:
        return False
    p, g = norm_name(pred), norm_name(gold)
    return p == g or g.endswith(" " + p) or p.endswith(" " + g)


def outlet_recall(cases: list[OutletCase], predictions: Mapping[str, PredDoc]) -> OutletRecall:
    """How many ``cases`` a prediction (on the gold text) gets: a proposed quote matched at 0.3
    to one of the case's fragments, with a ``via`` outlet of the same name."""
    from builder.records.scheme import linked_quotes

    res = OutletRecall()
    views: dict[str, list] = {}
    for case in cases:
        res.cases += 1
        pred = predictions.get(case.doc_id)
        if pred is None:
            res.misses.append((case.doc_id, case.outlet, str(case.quotes[0].start)))
            continue
        if case.doc_id not in views:
            views[case.doc_id] = list(linked_quotes(pred.regions, pred.relations))
        linked = views[case.doc_id]
        matches = match_quotes([tokens(q.quote) for q in linked], [tokens(q) for q in case.quotes])
        hits = [linked[m.pred] for m in matches if m.overlap >= 0.3]
        res.quote_found += bool(hits)
        if any(_same_outlet(q.outlet.text if q.outlet else None, case.outlet) for q in hits):
            res.found += 1
        else:
            res.misses.append((case.doc_id, case.outlet, str(case.quotes[0].start)))
    return res
