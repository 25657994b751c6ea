"""Quote matching and the name / cue comparisons of ../shared/gold/SCHEME.md § Scoring.

Word tokens are runs of letters/digits (inner apostrophes and hyphens kept), lowercased,
so quotation marks and punctuation never count; a leading "that" is dropped (unless it is
the only word). Tokens keep their character offsets: the overlap |proposed ∩ gold| / |gold|
counts gold tokens at the same position in the proposed span, so repeated common words
elsewhere never match.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from builder.schema import Region

WORD = re.compile(r"\w+(?:['’\-]\w+)*")
THRESHOLDS = (0.3, 0.8)


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    word: str


def tokens(region: Region) -> list[Token]:
    """Lowercased word tokens of a region with absolute offsets; a leading "that" dropped."""
    out = [Token(region.start + m.start(), region.start + m.end(), m.group().lower())
           for m in WORD.finditer(region.text)]
    if len(out) > 1 and out[0].word == "that":  # "That," he said: the quote is "that"
        out = out[1:]
    if not out and region.text.strip():  # no word at all ("—"): the span is its own token
        out = [Token(region.start, region.end, region.text.strip().lower())]
    return out


def overlap(pred: list[Token], gold: list[Token]) -> float:
    """|pred ∩ gold| / |gold| over positioned tokens (0 for an empty gold)."""
    if not gold:
        return 0.0
    spots = {(t.start, t.end) for t in pred}
    return sum((t.start, t.end) in spots for t in gold) / len(gold)


def exact(pred: list[Token], gold: list[Token]) -> bool:
    """Equal (non-empty) word sequences."""
    return bool(gold) and [t.word for t in pred] == [t.word for t in gold]


@dataclass(frozen=True)
class Match:
    pred: int  # index into the predicted quotes
    gold: int  # index into the gold quotes
    overlap: float  # |pred ∩ gold| / |gold|
    exact: bool


def match_quotes(pred: list[list[Token]], gold: list[list[Token]]) -> list[Match]:
    """One-to-one matching, greedy by best overlap (ties: exact first, then the pair whose
    proposal is most covered, then text order). Every pair with overlap > 0 is a candidate;
    filter by ``overlap >= t`` for a threshold (greedy order makes that the same as matching
    at t alone). Exact matches are found separately by ``match_exact``.
    """
    cands = []
    for i, p in enumerate(pred):
        for j, g in enumerate(gold):
            ov = overlap(p, g)
            if ov > 0:
                back = overlap(g, p)  # how much of the proposal is gold
                cands.append((-ov, not exact(p, g), -back, j, i))
    cands.sort()
    used_p, used_g, out = set(), set(), []
    for neg_ov, not_exact, _, j, i in cands:
        if i in used_p or j in used_g:
            continue
        used_p.add(i)
        used_g.add(j)
        out.append(Match(pred=i, gold=j, overlap=-neg_ov, exact=not not_exact))
    return sorted(out, key=lambda m: m.gold)


def match_exact(pred: list[list[Token]], gold: list[list[Token]]) -> list[Match]:
    """One-to-one matching of quotes with equal word sequences (text order, nearest first)."""
    used_p, out = set(), []
    for j, g in enumerate(gold):
        best = None
        for i, p in enumerate(pred):
            if i in used_p or not exact(p, g):
                continue
            dist = abs(p[0].start - g[0].start)
            if best is None or dist < best[0]:
                best = (dist, i)
        if best:
            used_p.add(best[1])
            out.append(Match(pred=best[1], gold=j, overlap=1.0, exact=True))
    return out


# -- speaker names -------------------------------------------------------------------

def norm_name(name: str | None) -> str:
    """Lowercased name without surrounding punctuation, a possessive 's, a leading "the",
    or extra spaces ("The New York Times'" -> "new york times")."""
    if not name:
        return ""
    words = " ".join(name.lower().split())
    words = re.sub(r"['’]s$", "", words).strip(" \t\n.,;:!?\"'“”‘’()[]")
    return re.sub(r"^the\s+", "", words)


def last_word(name: str) -> str:
    parts = norm_name(name).split()
    return parts[-1] if parts else ""


def same_speaker(pred_name: str | None, gold_name: str | None) -> bool:
    """SCHEME rule: case-insensitive; the proposed name equals the gold name or its last word."""
    p, g = norm_name(pred_name), norm_name(gold_name)
    return bool(p) and bool(g) and (p == g or p == last_word(g))


def mention_head(mention: str) -> str:
    """A mention without its appositive or parenthesis: "Flynn, a top Trump surrogate," ->
    "Flynn"; "Rep. Jim Clyburn (D-S.C.), the assistant leader" -> "Rep. Jim Clyburn"."""
    head = re.sub(r"\([^)]*\)", " ", mention).split(",")[0]
    return " ".join(head.split()) or mention


def same_speaker_no_coref(pred_name: str | None, pred_mention: Region | None, gold_mention: Region | None) -> bool:
    """Speaker rule for gold without coreference (brat): the gold Source mention is the name.

    Right when the proposed canonical name or the proposed mention equals the gold Source
    (without its appositive, ``mention_head``) or shares its last word ("Donald Trump" for Source "Trump"; "he" for "he"), or when
    the proposed mention overlaps the gold Source in the text (the same mention chosen).
    Without coreference in the gold, a pronoun Source cannot be resolved, so matching
    the mention itself is the fair test.
    """
    if gold_mention is None:
        return False
    g = mention_head(gold_mention.text)
    for name in (pred_name, pred_mention.text if pred_mention else None):
        if name and (same_speaker(name, g) or (last_word(name) and last_word(name) == last_word(g))):
            return True
    return bool(pred_mention) and pred_mention.start < gold_mention.end and gold_mention.start < pred_mention.end


# -- cue lemmas ----------------------------------------------------------------------

# words that never decide a cue: auxiliaries, particles, determiners, pronouns, adverbs
FUNCTION_WORDS = {
    "be", "have", "do", "will", "would", "can", "could", "may", "might", "shall", "should", "must",
    "not", "also", "to", "reportedly", "just", "already", "then", "now", "later", "again", "out",
    "up", "on", "in", "of", "for", "from", "by", "with", "a", "an", "the", "that", "this", "and",
    "he", "she", "it", "they", "we", "i", "you", "his", "her", "its", "their", "our", "my", "your",
}
_IRREGULAR = {"said": "say", "says": "say", "told": "tell", "wrote": "write", "written": "write",
              "spoke": "speak", "spoken": "speak", "thought": "think", "felt": "feel",
              "knew": "know", "known": "know", "made": "make", "gave": "give", "given": "give",
              "took": "take", "taken": "take", "went": "go", "gone": "go", "put": "put",
              "read": "read", "heard": "hear", "held": "hold", "sent": "send", "began": "begin",
              "saw": "see", "seen": "see", "found": "find", "meant": "mean", "swore": "swear",
              "sworn": "swear", "taught": "teach", "brought": "bring", "quoted": "quote",
              "is": "be", "are": "be", "was": "be", "were": "be", "been": "be", "has": "have",
              "had": "have", "does": "do", "did": "do", "according": "accord"}


def fallback_lemma(word: str) -> str:
    """A small rule lemmatizer for cue verbs, used when spaCy is not available."""
    w = word.lower()
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    for suffix, repl in (("ied", "y"), ("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            stem = w[: len(w) - len(suffix)] + repl
            if suffix in ("ed", "ing") and len(stem) >= 5 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
                stem = stem[:-1]  # admitted -> admit
            elif suffix in ("ed", "ing") and (re.search(r"[^aeiou][aeiou][cgkstvz]$|[^aeiou][cgvz]$|u$", stem)):
                stem += "e"  # noted -> note, urged -> urge, argued -> argue
            return stem
    return w


def content_lemmas(lemmas: list[str]) -> list[str]:
    """Cue lemmas without function words ("has warned" -> ["warn"]); all of them if none is left."""
    kept = [lem for lem in lemmas if lem not in FUNCTION_WORDS]
    return kept or lemmas


def same_cue(pred: list[str], gold: list[str]) -> bool:
    """Cue lemmas agree when their content lemmas share one ("warned" vs "has warned";
    "According to" vs "according"; "says" vs brat's "released a letter ... that says").
    Our scheme marks the main verb alone while brat cues can be whole phrases, so a
    shared content lemma is the fair test; cues without words (":") compare as text."""
    p, g = content_lemmas(pred), content_lemmas(gold)
    return bool(set(p) & set(g))
