"""Quotation marks -> quoted character spans, from the text alone (no model).

``quoted_spans(text)`` finds the text between matching marks paragraph by paragraph:
straight ``"..."``, typographic ``“...”``, ``«...»``, ``„...“``; a paragraph that opens a
quote without closing it, followed by a paragraph that opens with a mark, is one
paragraph of a multi-paragraph quote. A paragraph that opens with a closing ``”`` (a common
typo) opens a quote there. Unbalanced marks are left alone.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

PAIRS = {"“": "”", "«": "»", "„": "“”", "\"": "\"", "‟": "”"}
OPENERS = "\"“«„‟"
PARAGRAPH = re.compile(r"[^\n]+")


@dataclass(frozen=True, slots=True)
class Quoted:
    """Text between quotation marks: ``start``/``end`` of the inside, ``open``/``close`` of the marks."""
    start: int
    end: int
    open: int
    close: int          # offset of the closing mark; == end of paragraph when unclosed
    closed: bool = True


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-blank line."""
    return [(m.start(), m.end()) for m in PARAGRAPH.finditer(text) if m.group().strip()]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and (text[start].isspace() or text[start] == PAD):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] == PAD):
        end -= 1
    return start, end


def _scan(text: str, start: int, end: int) -> tuple[list[Quoted], int | None]:
    """Balanced quotes in one paragraph, and the offset of an unclosed opening mark."""
    found: list[Quoted] = []
    i = start
    while i < end:
        ch = text[i]
        if (ch in PAIRS and (ch != "\"" or _opens(text, i, start))) or (ch == "”" and i == start):
            closers = PAIRS.get(ch, "”")  # a paragraph opening with a closing mark: a typo for “
            j = i + 1
            while j < end and not (text[j] in closers and (ch != "\"" or _closes(text, j, end))):
                j += 1
            if j >= end:
                return found, i
            s, e = _strip(text, i + 1, j)
            if s < e:
                found.append(Quoted(s, e, i, j))
            i = j + 1
            continue
        i += 1
    return found, None


def _opens(text: str, i: int, start: int) -> bool:
    """A straight mark opens when it is not glued to a word on its left."""
    return i == start or not text[i - 1].isalnum() or text[i - 1] in "([{—–-"


def _closes(text: str, j: int, end: int) -> bool:
    return True


PAD = "\u2063"  # stands in for the second character of a two-character mark


def normalize_marks(text: str) -> str:
    """Two apostrophes ('' as in some wire copy) -> one straight mark; same length, same offsets."""
    return text.replace("''", "\"" + PAD)


def quoted_spans(text: str) -> list[Quoted]:
    """Every quoted span of ``text`` in order (multi-paragraph quotes give one span a paragraph)."""
    text = normalize_marks(text)
    out: list[Quoted] = []
    paras = paragraphs(text)
    for k, (start, end) in enumerate(paras):
        found, unclosed = _scan(text, start, end)
        out.extend(found)
        if unclosed is None:
            continue
        nxt = paras[k + 1] if k + 1 < len(paras) else None
        if nxt and text[nxt[0]] in OPENERS:
            s, e = _strip(text, unclosed + 1, end)
            if s < e:
                out.append(Quoted(s, e, unclosed, end, closed=False))
    return sorted(out, key=lambda q: q.start)


def words(text: str) -> list[str]:
    return re.findall(r"\w+(?:['’]\w+)*", text)

