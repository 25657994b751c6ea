"""The annotation scheme (../shared/gold/SCHEME.md) as code: the contract between
proposer, Label Studio and export.

Regions and relations are the schema records ``Region`` / ``Relation``. This module
converts them to and from Label Studio ``result`` lists, resolves a quote's
canonical speaker (``said_by`` then ``refers_to`` as far as it goes) and turns a
document's regions into ``Attribution`` rows.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from builder.schema import Attribution, Region, Relation, class_id

LABELS = ("Quote", "Speaker", "Cue", "Outlet")
QUOTE_TYPES = ("direct", "indirect", "mixed")
RELATIONS = ("said_by", "cue", "via", "refers_to")
RELATION_ENDS = {
    "said_by": ("Quote", ("Speaker", "Outlet")),
    "cue": ("Quote", ("Cue",)),
    "via": ("Quote", ("Outlet",)),
    "refers_to": ("Speaker", ("Speaker",)),
}
# a relation drawn in Label Studio without a label gets the one its ends imply (Alt+R, click: done)
IMPLIED_RELATION = {
    ("Quote", "Speaker"): "said_by",
    ("Quote", "Cue"): "cue",
    ("Quote", "Outlet"): "via",
    ("Speaker", "Speaker"): "refers_to",
}
LABEL_FROM_NAME = "label"
TYPE_FROM_NAME = "quote_type"
TO_NAME = "text"


class SchemeError(ValueError):
    """A Label Studio result that does not fit the scheme."""


# -- Label Studio results -> records -------------------------------------------------

def regions_from_results(results: Iterable[dict[str, Any]], text: str) -> tuple[list[Region], list[Relation]]:
    """Parse a Label Studio ``result`` list into regions and relations.

    Raises ``SchemeError`` on an unknown label or relation, or a region whose text is not
    ``text[start:end]``. A relation without a label gets the one its ends imply
    (``IMPLIED_RELATION``), and one drawn from its target to its quote is turned around. A region
    has at most one link of each kind: a later one replaces an earlier (re-linking is drawing the new link).
    """
    results = list(results)
    types: dict[str, str] = {}
    for r in results:
        if r.get("type") == "choices" and r.get("from_name") == TYPE_FROM_NAME:
            choice = (r.get("value", {}).get("choices") or [None])[0]
            if choice not in QUOTE_TYPES:
                raise SchemeError(f"region {r.get('id')}: unknown quote_type {choice!r}")
            types[r["id"]] = choice
    regions: list[Region] = []
    for r in results:
        if r.get("type") != "labels":
            continue
        v = r.get("value", {})
        labels = v.get("labels") or []
        if len(labels) != 1 or labels[0] not in LABELS:
            raise SchemeError(f"region {r.get('id')}: labels {labels!r} are not one of {LABELS}")
        start, end = int(v["start"]), int(v["end"])
        if not (0 <= start < end <= len(text)):
            raise SchemeError(f"region {r.get('id')}: offsets {start}:{end} outside the text ({len(text)} chars)")
        if "text" in v and v["text"] != text[start:end]:
            raise SchemeError(f"region {r.get('id')}: text {v['text']!r} is not text[{start}:{end}] {text[start:end]!r}")
        regions.append(Region(
            id=str(r["id"]), label=labels[0], start=start, end=end, text=text[start:end],
            quote_type=types.get(r["id"]) if labels[0] == "Quote" else None,
            score=float(r["score"]) if r.get("score") is not None else None,
        ))
    ids = {g.id: g for g in regions}
    relations: list[Relation] = []
    for r in results:
        if r.get("type") != "relation":
            continue
        if r.get("from_id") not in ids or r.get("to_id") not in ids:
            raise SchemeError(f"relation {r.get('labels')} {r.get('from_id')}->{r.get('to_id')}: end region missing")
        relations += _relations(ids[r["from_id"]], ids[r["to_id"]], r.get("labels") or [])
    latest = {(r.from_id, r.label): r for r in relations}  # one link of a kind per region: the last drawn
    return regions, [r for r in relations if latest[(r.from_id, r.label)] is r]


def _relations(a: Region, b: Region, labels: list[str]) -> list[Relation]:
    """The Relations between regions ``a`` and ``b`` as drawn (either direction): one per label (Label
    Studio keeps one relation per pair of regions, so "said_by" and "via" to one Outlet share it), or
    the one label the ends imply when none was picked."""
    if any(x not in RELATIONS for x in labels):
        raise SchemeError(f"relation {a.id}->{b.id}: labels {labels!r} not all in {RELATIONS}")
    implied = IMPLIED_RELATION.get((a.label, b.label)) or IMPLIED_RELATION.get((b.label, a.label))
    if not labels and implied is None:
        raise SchemeError(f"relation {a.id}->{b.id} ({a.label} -> {b.label}) has no label and its ends imply none: "
                          f"pick one of {RELATIONS}")
    out = []
    for label in labels or [implied]:
        source, targets = RELATION_ENDS[label]
        x, y = (b, a) if a.label != source and b.label == source and a.label in targets else (a, b)
        out.append(Relation(from_id=x.id, to_id=y.id, label=label))  # turned around when drawn towards the quote
    return out


def task_score(regions: Iterable[Region]) -> float:
    """The task-level prediction score: the lowest Quote score (the doubt an annotator should check
    first); 0.0 when nothing was proposed (a news article without a single quote is itself doubtful).
    Label Studio orders the Data Manager and the labeling stream by it, lowest first."""
    scores = [g.score for g in regions if g.label == "Quote" and g.score is not None]
    return round(min(scores), 4) if scores else 0.0


# -- records -> Label Studio results -------------------------------------------------

def results_from_regions(regions: Iterable[Region], relations: Iterable[Relation]) -> list[dict[str, Any]]:
    """Label Studio ``result`` list (prediction or annotation) for regions and relations."""
    out: list[dict[str, Any]] = []
    for g in regions:
        value = {"start": g.start, "end": g.end, "text": g.text}
        item: dict[str, Any] = {"id": g.id, "from_name": LABEL_FROM_NAME, "to_name": TO_NAME,
                                "type": "labels", "value": {**value, "labels": [g.label]}}
        if g.score is not None:
            item["score"] = round(float(g.score), 4)
        out.append(item)
        if g.label == "Quote" and g.quote_type:
            out.append({"id": g.id, "from_name": TYPE_FROM_NAME, "to_name": TO_NAME,
                        "type": "choices", "value": {**value, "choices": [g.quote_type]}})
    pairs: dict[tuple[str, str], list[str]] = {}  # Label Studio keeps one relation per pair of regions
    for r in relations:
        pairs.setdefault((r.from_id, r.to_id), []).append(r.label)
    for (a, b), labels in pairs.items():
        out.append({"from_id": a, "to_id": b, "type": "relation", "direction": "right", "labels": labels})
    return out


# -- attributions --------------------------------------------------------------------

def canonical(region_id: str, refers: dict[str, str]) -> str:
    """Follow ``refers_to`` links from ``region_id`` as far as they go (cycles stop)."""
    seen = {region_id}
    while region_id in refers and refers[region_id] not in seen:
        region_id = refers[region_id]
        seen.add(region_id)
    return region_id


@dataclass(frozen=True, slots=True)
class LinkedQuote:
    """A Quote region with the regions its relations point to (None where there is no link)."""

    quote: Region
    speaker: Region | None  # said_by: a Speaker, or an Outlet speaking for itself
    name: Region | None  # the speaker's canonical mention (refers_to followed as far as it goes)
    cue: Region | None
    outlet: Region | None  # via


def linked_quotes(regions: list[Region], relations: list[Relation]) -> list[LinkedQuote]:
    """The quotes of one document in text order, each with its speaker, name, cue and outlet."""
    by_id = {g.id: g for g in regions}
    links: dict[tuple[str, str], str] = {}
    refers: dict[str, str] = {}
    for r in relations:
        if r.label == "refers_to":
            refers[r.from_id] = r.to_id
        else:
            links.setdefault((r.from_id, r.label), r.to_id)

    def linked(q: Region, label: str) -> Region | None:
        return by_id.get(links.get((q.id, label), ""))

    out = []
    for q in sorted((g for g in regions if g.label == "Quote"), key=lambda g: (g.start, g.end, g.id)):
        speaker = linked(q, "said_by")
        name = by_id.get(canonical(speaker.id, refers)) if speaker else None
        out.append(LinkedQuote(q, speaker, name, linked(q, "cue"), linked(q, "via")))
    return out


def quote_id(doc_id: str, start: int, end: int) -> str:
    return hashlib.sha1(f"{doc_id}:{start}:{end}".encode()).hexdigest()[:16]


def attributions(doc_id: str, regions: list[Region], relations: list[Relation], *,
                 publisher: str | None, origin: str, model_version: str | None,
                 annotator_ids: list[str] | None = None) -> Iterator[Attribution]:
    """One ``Attribution`` per Quote region, in text order (``quote_type`` and ``origin`` as
    their ``ClassLabel`` ids: ``builder.schema.class_names`` gives the names)."""
    for link in linked_quotes(regions, relations):
        q, speaker, name, cue, outlet = link.quote, link.speaker, link.name, link.cue, link.outlet
        yield Attribution(
            quote_id=quote_id(doc_id, q.start, q.end), doc_id=doc_id,
            quote_text=q.text, quote_start=q.start, quote_end=q.end,
            quote_type=class_id("Attribution", "quote_type", q.quote_type or "direct"),
            speaker_text=speaker.text if speaker else None,
            speaker_start=speaker.start if speaker else None,
            speaker_end=speaker.end if speaker else None,
            speaker_name=name.text if name else None,
            speaker_name_start=name.start if name else None,
            speaker_name_end=name.end if name else None,
            cue_text=cue.text if cue else None,
            cue_start=cue.start if cue else None,
            cue_end=cue.end if cue else None,
            outlet_text=outlet.text if outlet else None,
            outlet_start=outlet.start if outlet else None,
            outlet_end=outlet.end if outlet else None,
            publisher=publisher, origin=class_id("Attribution", "origin", origin),
            confidence=q.score, annotator_ids=list(annotator_ids or []),
            model_version=model_version,
        )
