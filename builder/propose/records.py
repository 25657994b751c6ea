"""Processed spaCy ``Doc`` -> scheme regions and relations -> ``Proposal`` (its Label Studio task:
``builder.records.studio.task_of``, re-exported here)."""
from __future__ import annotations

from spacy.tokens import Doc

from builder.records.scores import confidence
from builder.records.studio import task_of  # noqa: F401  (builder.propose.task_of)
from builder.schema import Proposal, Region, Relation

PROPOSER = "quotes.proposer.v1"


def model_version(nlp) -> str:
    """Registered proposer name + spaCy pipeline name and version. A pipeline from ``quotes
    train`` says how it proposes: ``quotes.proposer.learned.v1`` or ``quotes.proposer.hybrid.v1``."""
    meta = nlp.meta
    proposer = PROPOSER
    mode = (meta.get("quotes") or {}).get("mode")
    if mode in ("learned", "hybrid"):
        proposer = f"quotes.proposer.{mode}.v1"
    return f"{proposer}+{meta.get('lang', 'xx')}_{meta.get('name', 'pipeline')}-{meta.get('version', '0')}"


class _Regions:
    """Region ids unique per doc; one region per (label, range)."""

    def __init__(self, text: str):
        self.text = text
        self.regions: list[Region] = []
        self.ids: dict[tuple[str, int, int], str] = {}

    def add(self, label: str, rng: tuple[int, int], score: float, quote_type: str | None = None) -> str:
        key = (label, rng[0], rng[1])
        if key in self.ids and label != "Quote":
            return self.ids[key]
        rid = f"{label[0].lower()}{len(self.regions) + 1}"
        self.ids[key] = rid
        self.regions.append(Region(id=rid, label=label, start=rng[0], end=rng[1], text=self.text[rng[0]:rng[1]],
                                   quote_type=quote_type, score=confidence(score)))
        return rid


def _valid(text: str, rng) -> bool:
    return rng is not None and 0 <= rng[0] < rng[1] <= len(text)


def regions_of(doc: Doc) -> tuple[list[Region], list[Relation]]:
    """Scheme regions and relations of a processed doc."""
    text = doc.text
    out = _Regions(text)
    relations: list[Relation] = []
    refs = doc._.speaker_refs or {}
    for f in sorted(doc._.quote_records or [], key=lambda f: f.quote):
        if not _valid(text, f.quote):
            continue
        qid = out.add("Quote", f.quote, f.score, f.quote_type)
        if _valid(text, f.speaker):
            label = "Outlet" if f.speaker_is_outlet else "Speaker"
            sid = out.add(label, f.speaker, f.score)
            relations.append(Relation(from_id=qid, to_id=sid, label="said_by"))
            target = refs.get(f.speaker)
            if label == "Speaker" and _valid(text, target):
                tid = out.add("Speaker", target, f.score)
                if tid != sid and not any(r.from_id == sid and r.label == "refers_to" for r in relations):
                    relations.append(Relation(from_id=sid, to_id=tid, label="refers_to"))
        if _valid(text, f.cue):
            relations.append(Relation(from_id=qid, to_id=out.add("Cue", f.cue, f.score), label="cue"))
        if _valid(text, f.outlet):
            relations.append(Relation(from_id=qid, to_id=out.add("Outlet", f.outlet, f.score), label="via"))
    return out.regions, relations


def proposal_of(doc: Doc, doc_id: str, version: str) -> Proposal:
    """The ``Proposal`` row of one processed doc (error set and regions empty when a component failed)."""
    if doc._.quote_error:
        return Proposal(doc_id=doc_id, model_version=version, regions=[], relations=[], error=doc._.quote_error)
    regions, relations = regions_of(doc)
    return Proposal(doc_id=doc_id, model_version=version, regions=regions, relations=relations, error=None)
