"""Character ranges (``Found`` records, gold regions) to token ranges of a spaCy doc and back,
as the learned components read and write them."""
from __future__ import annotations

from spacy.tokens import Doc, Span

TokenRange = tuple[int, int]   # [start, end) token indexes
CharRange = tuple[int, int]    # [start, end) character offsets


def token_span(doc: Doc, chars: CharRange | None) -> Span | None:
    """The tokens ``chars`` touches (partial tokens taken whole); None for None or no token."""
    if chars is None:
        return None
    span = doc.char_span(chars[0], chars[1], alignment_mode="expand")
    return span if span is not None and len(span) else None


def token_range(span: Span | None) -> TokenRange | None:
    """``span``'s token range (None for None)."""
    return (span.start, span.end) if span is not None else None


def char_range(doc: Doc, tokens: TokenRange | None) -> CharRange | None:
    """From the first character of token ``tokens[0]`` to the last of token ``tokens[1] - 1``
    (None for None)."""
    if tokens is None:
        return None
    return doc[tokens[0]].idx, doc[tokens[1] - 1].idx + len(doc[tokens[1] - 1].text)
