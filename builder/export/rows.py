"""Pure functions: one document plus its chosen regions -> rows of the three configs."""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import Any

from builder.records.scheme import attributions
from builder.schema import Region, Relation, class_id, from_row

EXPORT_VERSION = "quotes.export.v2"
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
    return Source(origin, [from_row(Region, r) for r in regions], [from_row(Relation, r) for r in relations],
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
        "cluster_id": doc.get("cluster_id") or doc["doc_id"],
        "origin": class_id("DocumentRow", "origin", src.origin),
        "model_version": src.model_version, "annotator_ids": list(src.annotator_ids),
        "quotes": quotes, "spans": [flat_row(g) for g in spans],
        "relations": [flat_row(r) for r in src.relations], "export_version": EXPORT_VERSION,
    }


def _tag(starts: list[int], ends: list[int], spans: list[tuple[int, int, int]]) -> list[int]:
    """Tag ids for tokens at ``starts``/``ends`` (sorted) from ``(start, end, b_id)`` spans: B is
    ``b_id``, I ``b_id + 1``. A token is inside a span when it overlaps it. Spans are taken by
    start, the longer first at equal starts: a span keeps the tokens no earlier span took, and a
    span that starts inside an already tagged token run is left out (the outer one wins)."""
    tags = [0] * len(starts)
    for start, end, b_id in sorted(spans, key=lambda s: (s[0], -s[1], s[2])):
        i = bisect_left(ends, start + 1)  # first token ending after the span starts
        first = True
        while i < len(starts) and starts[i] < end:
            if tags[i] == 0:
                tags[i] = b_id if first else b_id + 1
            elif first:
                break  # the span starts inside one already tagged: keep the outer one
            first = False
            i += 1
    return tags


def bio_tags(starts: list[int], ends: list[int], regions: list[Region], label: str) -> list[int]:
    """BIO class ids (0 O, 1 B, 2 I) for tokens at ``starts``/``ends`` (sorted) against
    ``label`` regions. A token is inside a region when it overlaps it; where regions nest or
    overlap, the earlier (outer) one keeps its tokens."""
    return _tag(starts, ends, [(g.start, g.end, 1) for g in regions if g.label == label])


def combined_tags(starts: list[int], ends: list[int], regions: list[Region]) -> list[int]:
    """The ``tags`` column: one BIO sequence over Quote, Speaker, Cue and Outlet (class ids of
    ``TAG_NAMES``). Overlaps across labels follow the same rule as nesting within one label:
    the span that starts first (the longer one at equal starts) keeps the shared tokens."""
    b_ids = {label: 1 + 2 * k for k, label in enumerate(TAGGED_LABELS)}
    return _tag(starts, ends, [(g.start, g.end, b_ids[g.label]) for g in regions if g.label in b_ids])


TAG_NAMES = ["O"] + [f"{p}-{label.upper()}" for label in TAGGED_LABELS for p in "BI"]


@dataclass(slots=True)
class Token:
    """A non-whitespace token: text, offsets into the document, and whether a sentence or a
    paragraph (a line break before it) starts at it."""
    text: str
    start: int
    end: int
    sent_start: bool
    para_start: bool


def windows(tokens: list[Token], max_tokens: int) -> list[tuple[int, int]]:
    """``(first, last + 1)`` token ranges: each paragraph whole when it has at most ``max_tokens``
    tokens, else consecutive whole sentences of it packed up to ``max_tokens`` (a longer
    sentence is cut every ``max_tokens`` tokens)."""
    if max_tokens < 1:
        raise ValueError(f"window size must be at least 1 token, not {max_tokens}")
    out: list[tuple[int, int]] = []
    paragraphs = [i for i, t in enumerate(tokens) if i == 0 or t.para_start] + [len(tokens)]
    for p0, p1 in zip(paragraphs, paragraphs[1:]):
        if p1 - p0 <= max_tokens:
            out.append((p0, p1))
            continue
        sents = [i for i in range(p0, p1) if i == p0 or tokens[i].sent_start] + [p1]
        w0 = p0
        for s0, s1 in zip(sents, sents[1:]):
            if s1 - w0 <= max_tokens:
                continue
            if s0 > w0:
                out.append((w0, s0))
                w0 = s0
            while s1 - w0 > max_tokens:
                out.append((w0, w0 + max_tokens))
                w0 += max_tokens
        if w0 < p1:
            out.append((w0, p1))
    return out


def token_rows(doc: dict[str, Any], src: Source, tokens: list[Token], max_tokens: int = 256) -> list[dict[str, Any]]:
    """The ``tokens`` config rows of one document: one per window (see ``windows``)."""
    starts = [t.start for t in tokens]
    ends = [t.end for t in tokens]
    tags = {"tags": combined_tags(starts, ends, src.regions)}
    for label in TAGGED_LABELS:
        tags[f"{label.lower()}_tags"] = bio_tags(starts, ends, src.regions, label)
    origin = class_id("TokenRow", "origin", src.origin)
    rows = []
    for n, (a, b) in enumerate(windows(tokens, max_tokens)):
        row = {"doc_id": doc["doc_id"], "window": n, "start": starts[a], "end": ends[b - 1], "origin": origin,
               "tokens": [t.text for t in tokens[a:b]], "token_starts": starts[a:b], "token_ends": ends[a:b]}
        row.update({k: v[a:b] for k, v in tags.items()})
        row["export_version"] = EXPORT_VERSION
        rows.append(row)
    return rows


class Tokenizer:
    """spaCy's rule-based English tokenizer and punctuation sentencizer only (``spacy.blank("en")``
    + ``sentencizer``), loaded on first use.

    The vocabulary grows with every new word; a fresh tokenizer every ``renew_every``
    documents keeps memory flat on large corpora (tokens do not depend on it)."""

    def __init__(self, renew_every: int = 10_000) -> None:
        self._nlp = None
        self._used = 0
        self.renew_every = renew_every

    def __call__(self, text: str) -> list[Token]:
        from spacy.attrs import IDX, IS_SPACE, LENGTH, SENT_START

        if self._nlp is None or self._used >= self.renew_every:
            import spacy

            self._nlp, self._used = spacy.blank("en"), 0
            self._nlp.add_pipe("sentencizer")
        self._used += 1
        arr = self._nlp(text).to_array([IDX, LENGTH, IS_SPACE, SENT_START]).tolist()
        out: list[Token] = []
        prev_end = 0
        for i, n, space, sent in arr:
            if space:
                continue
            out.append(Token(text[i:i + n], i, i + n, sent == 1, bool(out) and "\n" in text[prev_end:i]))
            prev_end = i + n
        return out
