"""Pure text functions: decoding, normalization, stable ids, shingles."""
from __future__ import annotations

import re
import unicodedata

from builder.workspace.shards import doc_id_of  # noqa: F401  (one definition: readers re-check it)

INGEST_VERSION = "quotes.ingest.v1"

# Invisible characters that are never content: BOM, zero-width space, C0/C1 controls
# (tab and newline excepted). Typographic quotation marks and apostrophes are untouched.
_INVISIBLE = re.compile("[\ufeff\u200b\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_INNER_SPACE_RUN = re.compile(r"(?<=\S)[ \t]{2,}|(?<=\S)\t")
_BLANK_LINES = re.compile(r"\n{3,}")
_WORD = re.compile(r"\w+")


class Undecodable(ValueError):
    """Bytes that neither UTF-8 nor charset detection can turn into text."""


# Among encodings that fit equally well, the ones web text really uses (WHATWG decodes
# "latin-1" as windows-1252); charset-normalizer alone may pick e.g. cp775 for French Latin-1.
PREFERRED_ENCODINGS = ("cp1252", "iso8859_15", "latin_1")
MAX_CHAOS = 0.2  # charset-normalizer's mess ratio above which a decoding is mojibake, not text


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Text of ``data``: UTF-8, else the declared charset, else the encoding charset-normalizer
    finds (web encodings first among equals); ``Undecodable`` rather than mojibake."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            return data.decode(declared)
        except (UnicodeDecodeError, LookupError):
            pass
    from charset_normalizer import from_bytes

    results = list(from_bytes(data))
    if not results:
        raise Undecodable("no character encoding fits these bytes (binary file?)")
    lowest = min(m.chaos for m in results)
    plausible = [m for m in results if m.chaos <= lowest + 0.01]
    pick = next((m for enc in PREFERRED_ENCODINGS for m in plausible if m.encoding == enc),
                from_bytes(data).best())
    if pick is None or pick.chaos > MAX_CHAOS:
        raise Undecodable(f"not UTF-8, and no encoding decodes it to clean text (best guess "
                          f"{getattr(pick, 'encoding', None)}, mess ratio {getattr(pick, 'chaos', 1.0):.2f})")
    return str(pick)


def _tidy_line(line: str) -> str:
    """Trailing blanks dropped, inner runs of blanks made one space; indentation kept."""
    return _INNER_SPACE_RUN.sub(" ", line.rstrip(" \t"))


def normalize_text(text: str) -> str:
    """NFC, newlines unified, invisible characters dropped, blank runs and lines tidied.

    Quotation marks, apostrophes, non-breaking spaces and indentation are kept exactly:
    quote detection depends on them and gold offsets refer to the text as scraped.
    """
    text = unicodedata.normalize("NFC", text)
    text = _LINE_BREAKS.sub("\n", text)
    text = _INVISIBLE.sub("", text)
    text = "\n".join(_tidy_line(line) for line in text.split("\n"))
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()




def shingles(text: str, size: int = 3) -> list[bytes]:
    """Lowercased word ``size``-grams of ``text`` (the words themselves when it is shorter)."""
    words = _WORD.findall(text.lower())
    if len(words) < size:
        return [w.encode("utf-8") for w in words]
    grams = set(map(" ".join, zip(*(words[i:] for i in range(size)))))
    return [g.encode("utf-8") for g in sorted(grams)]


_DOMAIN = re.compile(r"(?<![\w.-])(?:[\w.+-]+@|www\.)?([a-z][a-z0-9-]{2,40})\.(?:com|co\.uk|org|net|news)\b", re.I)


def publisher_from_text(text: str, min_mentions: int = 2) -> str | None:
    """The publisher a scraped page names in its own furniture, or None.

    Pages carry their site's domain in subscription offers and contact lines ("Unlimited access
    to Newsweek.com", "tips@newsweek.com"): the domain named at least ``min_mentions`` times,
    spelled as the text capitalizes it (``Newsweek``; "The Hill" for thehill.com). No guess
    without such evidence.
    """
    counts: dict[str, int] = {}
    for m in _DOMAIN.finditer(text):
        stem = m.group(1).lower()
        counts[stem] = counts.get(stem, 0) + 1
    for stem, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        if n < min_mentions:
            break
        name = _spelled(text, stem)
        if name:
            return name
    return None


def _spelled(text: str, stem: str) -> str | None:
    """The capitalized words in ``text`` whose letters are ``stem``, most words first ("The Hill"
    over "TheHill" for "thehill"); the domain itself does not count."""
    found: list[str] = []
    for m in re.finditer(r"[A-Z][\w'&-]*(?: [A-Z][\w'&-]*)*", text):
        if text.startswith(".", m.end()) and _DOMAIN.match(text, m.start()):
            continue  # "Newsweek.com": the domain, not its spelling
        parts = m.group().split(" ")
        for i in range(len(parts)):
            joined = ""
            for j in range(i, len(parts)):
                joined += re.sub(r"\W", "", parts[j]).lower()
                if joined == stem:
                    found.append(" ".join(parts[i:j + 1]))
                if len(joined) >= len(stem):
                    break
    return max(found, key=lambda name: name.count(" "), default=None)
