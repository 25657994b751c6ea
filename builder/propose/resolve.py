"""Speaker resolution: a mention -> the fullest named mention of the same source.

``Resolver`` is the interface (a real coreference model can be plugged in through
``RESOLVERS``); ``HeuristicResolver`` resolves last names to full names, singular
personal pronouns to the previous person speaker, and descriptions ("the spokesman",
"the officials") to a name carrying that title or a fuller earlier description.
"""
from __future__ import annotations

from typing import Callable, Protocol

from spacy.tokens import Doc, Span

from builder.propose.extract import entity_of

Range = tuple[int, int]
PERSONAL = {"he", "she", "him", "her"}


class Resolver(Protocol):
    def __call__(self, doc: Doc, mentions: list[Range], persons: list[Range] | None = None) -> dict[Range, Range]:
        """mention -> antecedent (both character ranges); unresolved mentions are absent."""


def _span(doc: Doc, r: Range) -> Span | None:
    return doc.char_span(r[0], r[1], alignment_mode="expand")


def _person_names(doc: Doc, text: str) -> list[Span]:
    """PERSON entities outside quotation marks (names inside a quote are not its speakers)."""
    from builder.propose.marks import quoted_spans

    quoted = [(q.open, q.close) for q in quoted_spans(text)]  # once per doc
    return [e for e in doc.ents if e.label_ == "PERSON" and any(t.pos_ == "PROPN" for t in e)
            and not any(a <= e.start_char < b for a, b in quoted)]


def _first_entity(span: Span) -> str | None:
    """Label of the first named entity wholly inside ``span`` (``span.ents[0]`` without
    building every entity of the doc)."""
    for tok in span:
        ent = entity_of(tok)
        if ent is not None and ent.start >= span.start and ent.end <= span.end:
            return ent.label_
    return None


def _fullest(names: list[Span], last: str, before: int | None = None) -> Span | None:
    cands = [n for n in names if n[-1].text == last and len(n) > 1 and (before is None or n.start_char < before)]
    if not cands:
        return None
    longest = max(len(c) for c in cands)
    return next(c for c in cands if len(c) == longest)


def _titled_name(doc: Doc, head_lemma: str, before: int, persons: list[Span]) -> Span | None:
    """The latest person named with this title before ``before``: "State Duma member Alexander Kazakov"."""
    best = None
    for ent in persons:
        if ent.start_char >= before:
            break
        window = [t for t in doc[max(0, ent.start - 4):ent.start]
                  if t.dep_ == "compound" and ent.start <= t.head.i < ent.end]
        appos = [t for t in ent.root.children if t.dep_ == "appos"] + (
            [ent.root.head] if ent.root.dep_ == "appos" else [])
        if any(t.lemma_.lower() == head_lemma for t in window) or any(
                t.lemma_.lower() == head_lemma for a in appos for t in a.subtree):
            best = ent
    return best


DEFINITE = frozenset({"the", "this", "that"})


def _definite_singular(span: Span) -> bool:
    """"the spokesman", "the State Duma member": one person, named earlier. Not "recent reports",
    "officials" or "a senior official" (a new, unnamed source)."""
    root = span.root
    return root.tag_ in {"NN", "NNP"} and any(t.lower_ in DEFINITE and t.dep_ == "det" for t in root.children)


class HeuristicResolver:
    """Rule-based resolution over the parsed doc (no extra model)."""

    def __call__(self, doc: Doc, mentions: list[Range], persons: list[Range] | None = None) -> dict[Range, Range]:
        text = doc.text  # once: spaCy joins every token on each access
        persons = _person_names(doc, text)
        names = persons + [s for s in (_span(doc, r) for r in mentions)
                                      if s is not None and len(s) > 1 and all(t.pos_ == "PROPN" for t in s)]
        out: dict[Range, Range] = {}
        ordered = sorted(mentions)
        for k, r in enumerate(ordered):
            span = _span(doc, r)
            if span is None or not len(span):
                continue
            target = None
            root = span.root
            if len(span) == 1 and root.lower_ in PERSONAL:
                target = self._pronoun(doc, ordered[:k], out, names, r[0])
            elif all(t.pos_ == "PROPN" for t in span) and _first_entity(span) in (None, "PERSON"):
                target = _fullest(names, span[-1].text)
            elif root.pos_ == "NOUN":
                if _definite_singular(span):  # "the spokesman" -> the person with that title
                    target = _titled_name(doc, root.lemma_.lower(), r[0], persons)
                if target is None:
                    target = self._fuller_description(doc, ordered[:k], span)
            if target is not None:
                t = (target.start_char, target.end_char)
                if t != r and text[t[0]:t[1]] != text[r[0]:r[1]]:
                    out[r] = t
        return out

    @staticmethod
    def _pronoun(doc: Doc, earlier: list[Range], resolved: dict[Range, Range], names: list[Span], pos: int) -> Span | None:
        for r in reversed(earlier):
            r2 = resolved.get(r, r)
            s = _span(doc, r2)
            if s is not None and _first_entity(s) == "PERSON":
                full = _fullest(names, s[-1].text) or s
                return full
        prior = [n for n in names if n.end_char <= pos]
        if prior:
            last = prior[-1]
            return _fullest(names, last[-1].text) or last
        return None

    @staticmethod
    def _fuller_description(doc: Doc, earlier: list[Range], span: Span) -> Span | None:
        lemma = span.root.lemma_.lower()
        for r in earlier:
            s = _span(doc, r)
            if s is None or s.root.lemma_.lower() != lemma:
                continue
            if s[0].lower_ != "the" and len(s) >= 2:
                return s
        return None


RESOLVERS: dict[str, Callable[[], Resolver]] = {"heuristic": HeuristicResolver}


def get_resolver(name: str) -> Resolver:
    try:
        return RESOLVERS[name]()
    except KeyError:
        raise ValueError(f"unknown resolver {name!r}: use one of {', '.join(RESOLVERS)} "
                         f"or register yours in builder.propose.resolve.RESOLVERS") from None
