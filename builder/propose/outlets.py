"""Which outlet is the article's own: its publisher, and the wire service whose copy it carries.

An outlet a quote came through is a relay only when it is not the article itself: "told The
Washington Post" in a Washington Post article is the publisher's own reporting, and "The
Associated Press" in AP copy carried by a TV station's site is the publisher's source, not
a relay. Publishers come as names ("The Washington Post") or slugs ("wash-post", "nyt").
Not covered: a publisher known by a name that shares no words and no initials with its
mentions (a parent company's name).
"""
from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+")
STOP = frozenset({"the", "of", "and", "com", "www", "co", "uk", "org", "net", "online", "news"})
WIRES = {"AP": "Associated Press", "Associated Press": "Associated Press", "Reuters": "Reuters",
         "AFP": "Agence France-Presse", "Agence France-Presse": "Agence France-Presse", "UPI": "United Press International",
         "United Press International": "United Press International", "Bloomberg": "Bloomberg"}
_WIRE_NAMES = "|".join(re.escape(n) for n in sorted(WIRES, key=len, reverse=True))
# a byline or dateline naming the wire: "WASHINGTON (AP) —", "By JANE DOE, Associated Press", "(Reuters) -"
_WIRE_BYLINE = re.compile(r"\((?P<a>" + _WIRE_NAMES + r")\)\s*[—–-]|^\s*By\b[^\n]{0,80}?\b(?P<b>" + _WIRE_NAMES
                          + r")\b\s*$", re.M)
_WIRE_FOOTER = re.compile(r"(?:Copyright|©)[^\n]{0,30}\b(?:The\s+)?(?P<c>" + _WIRE_NAMES + r")\b", re.I)


def _words(name: str) -> list[str]:
    return [w for w in _WORD.findall(name.lower())]


def _content(words: list[str]) -> list[str]:
    return [w for w in words if w not in STOP] or words


def is_own_outlet(mention: str | None, publisher: str | None) -> bool:
    """``mention`` names ``publisher`` ("The Post" / "wash-post", "The New York Times" / "nyt",
    "the Journal" / "The Wall Street Journal"): the same words, each publisher word a prefix of
    the mention's, the mention's last words, or the publisher's initials."""
    if not mention or not publisher:
        return False
    m, p = _content(_words(mention)), _content(_words(publisher))
    if not m or not p:
        return False
    if m == p:
        return True
    if len(m) == len(p) and all(a.startswith(b) or b.startswith(a) for a, b in zip(m, p)):
        return True  # "washington post" / "wash post"
    if len(m) < len(p) and p[-len(m):] == m:
        return True  # "Post" / "Washington Post"
    if len(p) == 1 and len(m) > 1 and "".join(w[0] for w in m) == p[0]:
        return True  # "New York Times" / "nyt"
    if len(p) == 1 and len(m) == 1 and len(p[0]) <= 4 and p[0][-1] == m[0][0] and len(m[0]) > 2:
        return True  # "Times" / "nyt": the name's last initial
    return len(m) == 1 and len(p) > 1 and p[-1].startswith(m[0])


def wire_of(text: str) -> str | None:
    """The wire service the article is copy of, from its byline, dateline or copyright line."""
    head, tail = text[:600], text[-400:]
    m = _WIRE_BYLINE.search(head) or _WIRE_FOOTER.search(tail)
    if m is None:
        return None
    return WIRES.get(next(g for g in m.groups() if g), None)
