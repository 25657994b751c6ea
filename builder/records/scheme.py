"""The annotation scheme (../shared/gold/SCHEME.md) as code: the contract between
proposer, Label Studio and export.

Regions and relations are the schema records ``Region`` / ``Relation``. This module names the
scheme's labels and relations, resolves a quote's canonical speaker (``said_by`` then
``refers_to`` as far as it goes) and turns a document's regions into ``Attribution`` rows
(the one conversion regions -> attributions). Label Studio's ``result`` lists are
``builder.records.studio``'s.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

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


class SchemeError(ValueError):
    """A Label Studio result that does not fit the scheme."""


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
