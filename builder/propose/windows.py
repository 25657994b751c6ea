"""Long documents in windows: the parser never sees more than ``window_chars`` at once.

spaCy's cost (and the proposer's rules over a doc) grows faster than the text when a text is
very long, and ``nlp.max_length`` stops at 1,000,000 characters. A text longer than
``window_chars`` is cut into windows at paragraph breaks, else at sentence ends, else at a
blank (a hard cut only when a window has none); each window is proposed on its own and the
regions are shifted back to document offsets, so the cost is linear in the length. Texts up
to ``window_chars`` (default 40,000: every article of ``../shared`` and PolNeAR) are one
window, proposed exactly as before. A text over ``max_chars`` is not proposed at all: it is
rejected with reason ``too_long``.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from builder.schema import Proposal, Region, Reject, Relation, from_row

WINDOW_CHARS = 40_000
MAX_CHARS = 2_000_000
TOO_LONG = "too_long"

_PARAGRAPH = re.compile(r"\n\s*\n|\n")
_SENTENCE = re.compile(r"(?<=[.!?])[\"'”’»)\]]*\s+(?=\S)")


@dataclass(slots=True)
class Window:
    """A slice of a document's text: ``text == full[start:start + len(text)]``."""

    start: int
    text: str


def _cuts(text: str, pattern: re.Pattern, start: int, end: int) -> list[int]:
    """Offsets (absolute) right after each separator ``pattern`` finds in ``text[start:end]``."""
    return [m.end() for m in pattern.finditer(text, start, end)]


def _cut_point(text: str, start: int, limit: int) -> int:
    """Where the window starting at ``start`` ends: the last paragraph break, else sentence end,
    else blank, at most ``limit`` characters on; a hard cut only when there is none."""
    end = start + limit
    for pattern in (_PARAGRAPH, _SENTENCE):
        cuts = [c for c in _cuts(text, pattern, start, end) if start < c <= end]
        if cuts:
            return cuts[-1]
    blank = text.rfind(" ", start + 1, end)
    return blank + 1 if blank > start else end


def windows(text: str, window_chars: int = WINDOW_CHARS) -> list[Window]:
    """``text`` as consecutive windows of at most ``window_chars`` characters that cover it exactly
    (``ValueError`` below 1: no window could hold a character; quotes.toml asks for at least
    1,000, builder.config.MINIMUMS)."""
    if window_chars < 1:
        raise ValueError(f"window_chars must be at least 1, not {window_chars}")
    if len(text) <= window_chars:
        return [Window(0, text)]
    out, start = [], 0
    while start < len(text):
        end = len(text) if len(text) - start <= window_chars else _cut_point(text, start, window_chars)
        out.append(Window(start, text[start:end]))
        start = end
    return out


def too_long(doc_id: str, version: str, length: int, max_chars: int) -> Proposal:
    """The failed proposal of a text over the per-document limit (listed as a ``too_long`` reject)."""
    return Proposal(doc_id=doc_id, model_version=version, regions=[], relations=[],
                    error=f"{TOO_LONG}: {length} characters > [propose] max_chars {max_chars}")


def merge(doc_id: str, version: str, parts: list[tuple[int, Proposal]], text: str) -> Proposal:
    """One document's proposal from its windows' (start offset, proposal): regions shifted to
    document offsets and numbered again (ids stay unique); the first window error wins."""
    if len(parts) == 1 and parts[0][0] == 0:
        return parts[0][1]
    for _start, part in parts:
        if part.error:
            return Proposal(doc_id=doc_id, model_version=version, regions=[], relations=[], error=part.error)
    regions: list[Region] = []
    relations: list[Relation] = []
    for start, part in parts:
        ids: dict[str, str] = {}
        for r in part.regions:
            r = from_row(Region, r)
            new_id = f"{r.label[0].lower()}{len(regions) + 1}"
            ids[r.id] = new_id
            regions.append(Region(id=new_id, label=r.label, start=r.start + start, end=r.end + start,
                                  text=text[r.start + start:r.end + start], quote_type=r.quote_type, score=r.score))
        for rel in part.relations:
            rel = from_row(Relation, rel)
            relations.append(Relation(from_id=ids[rel.from_id], to_id=ids[rel.to_id], label=rel.label))
    return Proposal(doc_id=doc_id, model_version=version, regions=regions, relations=relations, error=None)


def reject_of(doc_id: str, error: str) -> Reject:
    """The ``Reject`` of a document whose proposal failed with ``error``."""
    reason = reject_reason(error)
    return Reject(stage="propose", source=doc_id, position=None, reason=reason, hint=HINTS[reason], detail=error)


def reject_reason(error: str | None) -> str:
    """The reject reason of a failed proposal: ``too_long`` or ``component_failed``."""
    return TOO_LONG if (error or "").startswith(TOO_LONG + ":") else "component_failed"


HINTS = {
    TOO_LONG: "the text is longer than [propose] max_chars: split it into articles, or raise max_chars in "
              "quotes.toml (long texts are proposed in windows, so time grows linearly)",
    "component_failed": "the document was skipped; report it with its text to the proposer's maintainers",
}


def pieces(items: Iterator[tuple[str, str]], window_chars: int) -> Iterator[tuple[str, str, Window, bool]]:
    """(doc_id, full text, window, last window of the doc) for every window of every item, in order."""
    for doc_id, text in items:
        ws = windows(text, window_chars)
        for i, w in enumerate(ws):
            yield doc_id, text, w, i == len(ws) - 1
