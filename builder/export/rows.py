"""Pure functions: one document plus its chosen regions -> rows of the three configs."""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import Any

from builder.schema import Region, Relation
from builder.scheme import attributions

EXPORT_VERSION = "quotes.export.v1"
TAGGED_LABELS = ("Quote", "Speaker", "Cue", "Outlet")


def flat_row(record: Any) -> dict[str, Any]:
    """A flat slotted record as a dict (much faster than ``dataclasses.asdict``)."""
    return {name: getattr(record, name) for name in record.__slots__}


class RowError(ValueError):
    """A document's regions do not fit its text."""


@dataclass(slots=True)
class Source:
    """Where a document's spans come from: a human annotation or an unreviewed proposal."""
    origin: str                      # "annotated" or "proposed"
    regions: list[Region]
    relations: list[Relation]
    model_version: str | None
    annotator_ids: list[str]


def source_from_dicts(origin: str, regions: list[dict[str, Any]], relations: list[dict[str, Any]],
                      model_version: str | None, annotator_ids: list[str]) -> Source:
    return Source(origin, [Region(**r) for r in regions], [Relation(**r) for r in relations],
                  model_version, annotator_ids)


def check_regions(text: str, regions: list[Region], relations: list[Relation]) -> None:
    """Raise ``RowError`` unless every region is ``text[start:end]`` and relations link known regions."""
    ids = set()
    for g in regions:
        if not (0 <= g.start < g.end <= len(text)) or text[g.start:g.end] != g.text:
            raise RowError(f"region {g.id} ({g.label} {g.start}:{g.end}) is not the text at its offsets")
        ids.add(g.id)
    for r in relations:
        if r.from_id not in ids or r.to_id not in ids:
            raise RowError(f"relation {r.label} {r.from_id}->{r.to_id} links a missing region")


def attribution_rows(doc: dict[str, Any], src: Source) -> list[dict[str, Any]]:
    """Rows of the ``attributions`` config for one document, in text order."""
    return [flat_row(a) for a in attributions(
        doc["doc_id"], src.regions, src.relations, publisher=doc.get("publisher"), origin=src.origin,
        model_version=src.model_version, annotator_ids=src.annotator_ids)]


def document_row(doc: dict[str, Any], src: Source, quotes: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``documents`` config row: text, quotes, spans and relations."""
    spans = sorted(src.regions, key=lambda g: (g.start, g.end, g.label, g.id))
    return {
        "doc_id": doc["doc_id"], "text": doc["text"], "title": doc.get("title"),
        "publisher": doc.get("publisher"), "url": doc.get("url"), "date": doc.get("date"),
        "cluster_id": doc.get("cluster_id") or doc["doc_id"], "origin": src.origin,
        "model_version": src.model_version, "annotator_ids": list(src.annotator_ids),
        "quotes": quotes, "spans": [flat_row(g) for g in spans],
        "relations": [flat_row(r) for r in src.relations], "export_version": EXPORT_VERSION,
    }


def bio_tags(starts: list[int], ends: list[int], regions: list[Region], label: str) -> list[int]:
    """BIO class ids (0 O, 1 B, 2 I) for tokens at ``starts``/``ends`` (sorted) against
    ``label`` regions. A token is inside a region when it overlaps it; where regions nest or
    overlap, the earlier (outer) one keeps its tokens."""
    tags = [0] * len(starts)
    spans = sorted(((g.start, -g.end) for g in regions if g.label == label))
    for start, neg_end in spans:
        end = -neg_end
        i = bisect_left(ends, start + 1)  # first token ending after the region starts
        first = True
        while i < len(starts) and starts[i] < end:
            if tags[i] == 0:
                tags[i] = 1 if first else 2
            elif first:
                break  # the region starts inside one already tagged: keep the outer one
            first = False
            i += 1
    return tags


def token_row(doc: dict[str, Any], src: Source, tokens: list[tuple[str, int, int]]) -> dict[str, Any]:
    """The ``tokens`` config row from ``(text, start, end)`` tokens."""
    starts = [t[1] for t in tokens]
    ends = [t[2] for t in tokens]
    row = {"doc_id": doc["doc_id"], "origin": src.origin, "tokens": [t[0] for t in tokens],
           "token_starts": starts, "token_ends": ends}
    for label in TAGGED_LABELS:
        row[f"{label.lower()}_tags"] = bio_tags(starts, ends, src.regions, label)
    row["export_version"] = EXPORT_VERSION
    return row


class Tokenizer:
    """spaCy's rule-based English tokenizer only (``spacy.blank("en")``), loaded on first use.

    The vocabulary grows with every new word; a fresh tokenizer every ``renew_every``
    documents keeps memory flat on large corpora (tokens do not depend on it)."""

    def __init__(self, renew_every: int = 10_000) -> None:
        self._nlp = None
        self._used = 0
        self.renew_every = renew_every

    def __call__(self, text: str) -> list[tuple[str, int, int]]:
        from spacy.attrs import IDX, IS_SPACE, LENGTH

        if self._nlp is None or self._used >= self.renew_every:
            import spacy

            self._nlp, self._used = spacy.blank("en"), 0
        self._used += 1
        arr = self._nlp.tokenizer(text).to_array([IDX, LENGTH, IS_SPACE]).tolist()
        return [(text[i:i + n], i, i + n) for i, n, space in arr if not space]
