"""Lexicons kept as data files under ``builder/propose/lexicons/`` (one entry a line, ``#`` comments)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from builder.config import SCOPES   # the scopes ([propose] scope) the settings allow

LEXICON_DIR = Path(__file__).parent / "lexicons"
NAMES = ("cue_verbs", "xcomp_verbs", "cue_nouns", "cue_phrases", "outlets", "outlets_derived", "media_words",
         "platform_words", "outlet_anaphors", "programme_words", "report_nouns", "media_verbs",
         "belief_verbs", "broad_verbs", "addressee_verbs", "broad_nouns",
         "complement_verbs", "evidence_nouns")


def read_lexicon(path: str | Path) -> tuple[str, ...]:
    """Entries of one lexicon file: stripped lines, without blanks and ``#`` comments."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return tuple(s for s in (line.split("#", 1)[0].strip() for line in lines) if s)


@dataclass(frozen=True)
class Lexicons:
    """Every word list the proposer uses."""
    cue_verbs: frozenset[str]
    xcomp_verbs: frozenset[str]
    cue_nouns: frozenset[str]
    cue_phrases: tuple[str, ...]
    outlets: frozenset[str]  # news outlets (outlets.txt, by hand, and outlets_derived.txt, from data)
    media_words: frozenset[str]
    platform_words: frozenset[str] = field(default_factory=frozenset)  # platforms: outlets too, kept apart
    outlet_anaphors: frozenset[str] = field(default_factory=frozenset)  # "the newspaper" -> the outlet named before
    programme_words: frozenset[str] = field(default_factory=frozenset)  # "told Good Morning Britain"
    report_nouns: frozenset[str] = field(default_factory=frozenset)  # "a report in X": the outlet X
    media_verbs: frozenset[str] = field(default_factory=frozenset)  # broad: cues when an outlet is the subject
    object_verbs: frozenset[str] = field(default_factory=frozenset)  # object = content (broad scope)
    belief_verbs: frozenset[str] = field(default_factory=frozenset)
    addressee_verbs: frozenset[str] = field(default_factory=frozenset)  # object = the hearer ("told reporters")
    complement_verbs: frozenset[str] = field(default_factory=frozenset)  # object needs a complement (broad)
    content_nouns: frozenset[str] = field(default_factory=frozenset)  # "her claim that ..." (broad scope)
    evidence_nouns: frozenset[str] = field(default_factory=frozenset)  # "polls show ..." (broad scope)
    speech_verbs: frozenset[str] = field(default_factory=frozenset)  # cue_verbs.txt alone (speech and writing)
    scope: str = "speech"

    @property
    def broad(self) -> bool:
        return self.scope == "broad"

    @property
    def platforms(self) -> frozenset[str]:
        """Platform names ("X", "YouTube"): outlets in our scheme, kept apart from news outlets."""
        return self.platform_words


@lru_cache(maxsize=8)
def load_lexicons(folder: str | None = None, scope: str = "speech", **overrides: tuple[str, ...]) -> Lexicons:
    """Lexicons from ``folder`` (default: the packaged ones); ``overrides`` replace single lists.

    ``scope="speech"`` (default): speech and writing only, as ../shared/gold/SCHEME.md wants.
    ``scope="broad"``: also thoughts, beliefs and stances (belief_verbs, broad_verbs), as PolNeAR counts them;
    then the object of a cue verb is content too, except the hearer of addressee_verbs ("told reporters")
    and a bare object of complement_verbs ("saw the tweet") unless the subject is one of evidence_nouns
    ("polls show ..."); broad_nouns with cue_nouns carry content clauses ("her plan to ...").
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}: use one of {', '.join(SCOPES)}")
    base = Path(folder) if folder else LEXICON_DIR
    lists = {}
    for name in NAMES:
        entries = overrides.get(name)
        if entries is None:
            path = base / f"{name}.txt"
            entries = read_lexicon(path if path.exists() else LEXICON_DIR / f"{name}.txt")
        lists[name] = entries
    verbs = set(lists["cue_verbs"])
    if scope == "broad":
        verbs |= set(lists["belief_verbs"]) | set(lists["broad_verbs"])
    return Lexicons(
        belief_verbs=frozenset(w.lower() for w in lists["belief_verbs"]),
        object_verbs=frozenset(w.lower() for w in verbs) if scope == "broad" else frozenset(),
        addressee_verbs=frozenset(w.lower() for w in lists["addressee_verbs"]),
        complement_verbs=frozenset(w.lower() for w in lists["complement_verbs"] + lists["belief_verbs"]),
        evidence_nouns=frozenset(w.lower() for w in lists["evidence_nouns"]),
        speech_verbs=frozenset(w.lower() for w in lists["cue_verbs"]),
        scope=scope,
        cue_verbs=frozenset(w.lower() for w in verbs),
        xcomp_verbs=frozenset(w.lower() for w in lists["xcomp_verbs"]),
        cue_nouns=frozenset(w.lower() for w in lists["cue_nouns"]),
        content_nouns=frozenset(w.lower() for w in lists["cue_nouns"] + lists["broad_nouns"]) if scope == "broad"
        else frozenset(),
        cue_phrases=tuple(sorted({p.lower() for p in lists["cue_phrases"]}, key=len, reverse=True)),
        outlets=frozenset(lists["outlets"] + lists["outlets_derived"]) - frozenset(lists["platform_words"]),
        media_words=frozenset(lists["media_words"]),
        platform_words=frozenset(lists["platform_words"]),
        outlet_anaphors=frozenset(w.lower() for w in lists["outlet_anaphors"]),
        programme_words=frozenset(lists["programme_words"]),
        report_nouns=frozenset(w.lower() for w in lists["report_nouns"]),
        media_verbs=frozenset(w.lower() for w in lists["media_verbs"]) if scope == "broad" else frozenset(),
    )
