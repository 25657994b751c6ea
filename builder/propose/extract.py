"""Pure functions over a parsed spaCy ``Doc``: quotes, cues, speakers and outlets.

Everything here finds and returns plain records (``Found``) with character offsets; the
spaCy components in ``components.py`` only call these and set annotations.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from dataclasses import dataclass, field

from spacy.tokens import Doc, Span, Token

from builder.propose.lexicons import Lexicons
from builder.propose.marks import Quoted, paragraphs, quoted_spans, words
from builder.propose.rules import passes_for, register

Range = tuple[int, int]


PERSON_LABELS = {"PERSON"}
NAME_LABELS = {"PERSON", "ORG", "GPE", "NORP", "FAC"}

# Dependency labels (spaCy's English scheme, ClearNLP), named by what the rules use them for,
# as textacy's extract/triples.py names its label sets.
SUBJECTS = frozenset({"nsubj", "nsubjpass", "csubj"})
NOMINAL_SUBJECTS = frozenset({"nsubj", "nsubjpass"})
ACTIVE_SUBJECTS = frozenset({"nsubj", "csubj"})  # a passive subject yields to them
OBJECTS = frozenset({"dobj", "pobj"})  # "citing officials", "a report by X": the outlet or source
DIRECT_OBJECTS = frozenset({"dobj", "attr"})
PREP_OBJECTS = frozenset({"pobj", "pcomp"})  # "accused her of lying", "as saying"
CUE_OBJECTS = frozenset({"dobj", "attr", "npadvmod"})  # "..., reported the Washington Examiner."
COMPLEMENT_CLAUSES = frozenset({"ccomp", "xcomp"})  # "said she thinks X", "wants to say X"
OBJECT_COMPLEMENTS = frozenset({"oprd", "prep", "ccomp", "xcomp"})  # what may follow a verb's object
SUBJECT_SHARING = frozenset({"conj", "xcomp", "advcl", "acl", "relcl"})  # verbs whose subject may be their head's
CLAUSE_DEPS = frozenset({"advcl", "ccomp", "conj", "relcl", "xcomp", "csubj"})  # a clause of its own
MODIFIER_CLAUSES = frozenset({"acl", "relcl", "amod", "xcomp", "advcl"})  # a verb that modifies, not asserts
NAME_SKIP = frozenset({"punct", "cc", "preconj", "appos"})  # left dependents that are no part of a name
TRAILING_MODIFIERS = frozenset({"advmod", "npadvmod", "prep", "pobj", "det", "amod", "compound"})
FIRST_SECOND = {"i", "we", "you", "me", "us"}
FINAL_PUNCT = ".!?:;\"”’'»"
DIRECT_MIN_WORDS = 5

# Scores: what share of proposals of each kind are right (tuned on development data as a whole,
# not per sentence). Named speakers raise, pronouns or missing speakers lower.
# The broad-scope patterns (object, xcomp, noun, colon, raised) are weaker: kept below 0.8.
SCORES = {
    "direct": 0.9, "direct_continued": 0.8, "direct_later": 0.6, "direct_nocue": 0.3, "dash": 0.8, "label": 0.8,
    "indirect": 0.8, "that": 0.7, "nospeaker": 0.35, "parenthetical": 0.7, "according": 0.8, "mixed": 0.65,
    "object": 0.5, "xcomp": 0.55, "noun": 0.5, "colon": 0.5, "as": 0.7,
}


@dataclass(slots=True)
class Found:
    """One proposed quote with its attribution, as character ranges into the text."""
    quote: Range
    quote_type: str
    kind: str
    cue: Range | None = None
    speaker: Range | None = None
    outlet: Range | None = None
    speaker_is_outlet: bool = False
    outlet_how: str | None = None  # source | report | journalist | interview (how the outlet relayed it)
    outlet_platform: bool = False  # the outlet is a platform (platform_words.txt), not a news outlet
    score: float = 0.5
    fragments: list[Range] = field(default_factory=list)


# -- small helpers ---------------------------------------------------------------------

def inside(r: Range, outer: Range) -> bool:
    return outer[0] <= r[0] and r[1] <= outer[1]


def overlap(a: Range, b: Range) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def token_range(tok: Token) -> Range:
    return tok.idx, tok.idx + len(tok.text)


def span_range(span: Span) -> Range:
    return span.start_char, span.end_char


def _edges(tok: Token) -> Range:
    """The character range of ``tok``'s subtree."""
    return tok.left_edge.idx, tok.right_edge.idx + len(tok.right_edge.text)


def trim(text: str, start: int, end: int, *, drop_lead: bool = True, keep_close: bool = False) -> Range:
    """Strip spaces, edge punctuation, a leading that/how and a final period from a content range."""
    while True:
        while start < end and (text[start].isspace() or text[start] in ",;:—–-"):
            start += 1
        while end > start and (text[end - 1].isspace() or text[end - 1] in ",;:—–-"):
            end -= 1
        m = re.match(r"(that|how)\b\s*", text[start:end], flags=re.I) if drop_lead else None
        if m and end - start > m.end():
            start += m.end()
            continue
        if end > start and text[end - 1] in ".!?" and not keep_close:
            end -= 1
            continue
        return start, end


_SIGNED = re.compile(r"[\"”’'][ \t\u00a0]*(?:[―—–]|--)[ \t\u00a0]*[A-Z][\w.'’ -]{1,60}$")


def is_headline(text: str, para: Range) -> bool:
    """A short line without sentence-final punctuation: a headline, caption or boilerplate."""
    line = text[para[0]:para[1]].rstrip()
    if _SIGNED.search(line):
        return False  # a quote signed by its speaker: '"...." ― Jane Doe'
    return bool(line) and line[-1] not in FINAL_PUNCT and len(words(line)) < 30


def body_paragraphs(text: str) -> list[Range]:
    return [p for p in paragraphs(text) if not is_headline(text, p)]


# -- mentions --------------------------------------------------------------------------

def entity_of(tok: Token) -> Span | None:
    """The named entity ``tok`` is part of, found from the IOB tags around it (not by scanning ``doc.ents``)."""
    if tok.ent_iob_ not in {"B", "I"} or not tok.ent_type_:
        return None
    doc, start, end = tok.doc, tok.i, tok.i + 1
    while start > 0 and doc[start].ent_iob_ == "I":
        start -= 1
    while end < len(doc) and doc[end].ent_iob_ == "I":
        end += 1
    return Span(doc, start, end, label=tok.ent_type)


def _strip_possessive(span: Span) -> Span:
    while len(span) > 1 and span[-1].tag_ == "POS" or (len(span) > 1 and span[-1].is_punct):
        span = span[:-1]
    while len(span) > 1 and span[0].is_punct:
        span = span[1:]
    return span


def mention(head: Token) -> Span:
    """The speaker mention headed by ``head``: a name without titles, a pronoun, or a description."""
    doc = head.doc
    if head.pos_ == "PRON":
        return doc[head.i:head.i + 1]
    for child in head.children:  # "the spokesman, John Kirby," -> the name
        if child.dep_ == "appos" and child.ent_type_ in PERSON_LABELS and head.pos_ != "PROPN":
            return mention(child)
    ent = entity_of(head)
    if ent is not None and ent.label_ in NAME_LABELS:
        start = ent.start
        if ent.label_ != "PERSON" and start > 0 and doc[start - 1].lower_ == "the" and doc[start - 1].head.i in range(ent.start, ent.end):
            start -= 1
        return _strip_possessive(doc[start:ent.end])
    keep = [t for t in head.lefts if t.dep_ not in NAME_SKIP]
    start = min([head.i] + [t.left_edge.i for t in keep])
    end = head.i + 1
    for child in head.rights:
        if child.dep_ == "prep" and child.lower_ in {"on", "of", "at", "in", "from", "for", "with"}:
            end = max(end, child.right_edge.i + 1)
        else:
            break
    if end - start > 12:
        end = head.i + 1
        start = max(start, head.i - 6)
    return _strip_possessive(doc[start:end])


def subject_of(verb: Token) -> Token | None:
    """The speaker head of a cue verb: subject, passive agent, or the subject it shares."""
    seen = 0
    while verb is not None and seen < 4:
        seen += 1
        agent = None
        subj = None
        for child in verb.children:
            if child.dep_ in ACTIVE_SUBJECTS and (subj is None or subj.dep_ == "nsubjpass" or child.i < verb.i):
                subj = child  # the subject nearest before the verb: "The fight flared: Republicans said ..."
            elif child.dep_ == "nsubjpass":
                subj = subj or child
            elif child.dep_ == "agent":
                agent = next((g for g in child.children if g.dep_ == "pobj"), None)
        if agent is not None:
            return agent
        if subj is None and _misparsed_verb(verb):
            return next(c for c in verb.children if c.dep_ == "compound" and c.i < verb.i)
        if subj is not None and subj.lower_ not in {"that", "which", "who", "what"}:
            return subj
        if subj is not None and verb.dep_ == "relcl":
            return verb.head
        if subj is None and verb.dep_ == "acl" and verb.tag_ == "VBD" and verb.head.pos_ in {"NOUN", "PROPN"}:
            return verb.head  # misparsed main verb: "The Institute, a think tank, assessed that ..."
        if verb.dep_ in SUBJECT_SHARING:
            nxt = verb.head
            while nxt.dep_ == "ccomp" and nxt.head.i != nxt.i:
                nxt = nxt.head
            if nxt.i == verb.i:
                return None
            verb = nxt
            continue
        return None
    return None


# -- outlets ---------------------------------------------------------------------------
#
# An outlet is a news organisation, a broadcast programme or a platform a quote reached the
# article through. ``outlet_mentions`` finds the mentions; ``source_outlet`` decides, for the
# source mention of a cue, whether the source is an outlet ("The Times reported", "a report in
# The Times") or carries one ("CNN's Jake Tapper", "Julia Davis of the Daily Beast");
# ``outlet_for`` finds one tied to the cue ("told BBC News", "said on Meet the Press", "in an
# interview with the BBC", "in a clip shared on X"). Anaphors ("the newspaper") and short
# forms ("the Post") stand for the outlet named before them (``OutletMentions.refs``).

CONTENT_MARKS = frozenset({"because", "since", "although", "though", "unless", "if"})  # "said X because Y"
MEDIUM_NOUNS = frozenset({"clip", "video", "post", "interview", "broadcast", "segment", "tweet", "footage", "podcast",
                          "episode", "appearance", "programme", "program", "show", "livestream", "thread", "message"})
SPEAKING_VERBS = frozenset({"speak", "talk", "appear", "write", "post", "tweet", "share", "interview", "tell"})
AFFILIATION_DEPS = frozenset({"compound", "poss", "prep", "pobj", "appos", "nmod", "amod", "case"})
AFFILIATION_PREPS = frozenset({"of", "at", "for", "from", "with", "in", "by", "on"})
CUE_CONTEXT = re.compile(r"(?:\b(?:told|on|to|with|via)\s+)$")
TITLE_WORD = r"[A-Z][\w'’&.-]*"
_TITLE_RUN = re.compile(TITLE_WORD + r"(?:\s+(?:the|of|and|&|in|" + TITLE_WORD + r"))*")


def is_outlet_span(span: Span, lex: Lexicons, *, after_on: bool = False) -> bool:
    text = span.text
    bare = text[4:] if text.lower().startswith("the ") else text
    if text in lex.outlets or bare in lex.outlets:
        return True
    if after_on and (text in lex.platform_words or bare in lex.platform_words):
        return True
    ent = entity_of(span.root)
    if ent is not None and ent.label_ in {"ORG", "WORK_OF_ART", "PERSON"} and ent[-1].text in lex.media_words:
        return True
    return False


@lru_cache(maxsize=16)
def _outlet_regex(names: frozenset[str]) -> re.Pattern:
    """One alternation of every outlet name, longest first (leftmost-longest matches)."""
    return re.compile(r"(?<![\w])(?:" + "|".join(_name_pattern(n) for n in sorted(names, key=len, reverse=True))
                      + r")(?![\w])")


def _name_pattern(name: str) -> str:
    """A name as a pattern: any space between its words ("the\u00a0Post"), "the" or "The" first."""
    words_ = [re.escape(w) for w in name.split()]
    if len(words_) > 1 and words_[0] == "The":
        words_[0] = "[Tt]he"
    return r"\s+".join(words_)


def _in_person_name(span: Span) -> bool:
    """"Bloomberg" in "Michael Bloomberg": a lexicon name inside a longer PERSON entity."""
    ent = entity_of(span[0])
    return ent is not None and ent.label_ == "PERSON" and (ent.start < span.start or ent.end > span.end)


def _with_the(doc: Doc, span: Span) -> Span:
    if span.start > 0 and doc[span.start - 1].lower_ == "the" and span[0].lower_ != "the":
        return doc[span.start - 1:span.end]
    return span


def _programmes(doc: Doc, lex: Lexicons, text: str) -> Iterator[Span]:
    """Broadcast programmes: a title-case name with a programme word after "told", "on", "to",
    "with" ("told Good Morning Britain", "on Meet the Press"). Not covered: one-word titles
    without a programme word ("on Hardball" is, through the lexicon)."""
    for m in _TITLE_RUN.finditer(text):
        name = m.group().rstrip(".")
        words_ = name.split()
        if not CUE_CONTEXT.search(text[max(0, m.start() - 6):m.start()]):
            continue
        if not any(w.strip("'’s") in lex.programme_words for w in words_) or words_[-1][0].islower():
            continue
        span = doc.char_span(m.start(), m.start() + len(name), alignment_mode="contract")
        if span is not None and len(span) and not any(t.ent_type_ in {"DATE", "TIME"} for t in span):
            yield span


def _platforms(doc: Doc, lex: Lexicons, text: str) -> Iterator[Span]:
    """Platforms after "on", "to" or "via": "shared on X", "posted to Truth Social"."""
    for m in _outlet_regex(lex.platform_words).finditer(text):
        if CUE_CONTEXT.search(text[max(0, m.start() - 6):m.start()]):
            span = doc.char_span(m.start(), m.end(), alignment_mode="expand")  # "on X." is one token
            if span is not None and len(span) and span.end_char - m.end() <= 1:
                yield span


def outlet_mentions(doc: Doc, lex: Lexicons, text: str | None = None) -> list[Span]:
    """Outlet mentions: programmes in a cue context, lexicon names (longest first), media
    organisations (ORG ending with a media word), platforms after "on"/"to"/"via", and
    anaphors ("the newspaper") once a news outlet has been named.

    ``text`` is ``doc.text`` when the caller has it (spaCy joins every token on each access)."""
    found: list[Span] = []
    taken: set[int] = set()
    text = doc.text if text is None else text

    def add(span: Span) -> None:
        found.append(span)
        taken.update(t.i for t in span)

    for span in _programmes(doc, lex, text):
        if not any(t.i in taken for t in span):
            add(span)
    for m in _outlet_regex(lex.outlets).finditer(text):
        name = m.group()
        span = doc.char_span(m.start(), m.end(), alignment_mode="strict")
        if span is None or any(t.i in taken for t in span) or _in_person_name(span):
            continue
        if span.end < len(doc) and doc[span.end].lower_ in {"photo", "photos", "images"}:
            continue  # "AP Photo": a picture credit
        add(_with_the(doc, span))
    for ent in doc.ents:
        if ent.label_ in {"ORG", "WORK_OF_ART"} and ent[-1].text in lex.media_words and not any(t.i in taken for t in ent):
            add(_strip_possessive(ent))
    for span in _platforms(doc, lex, text):
        if not any(t.i in taken for t in span):
            add(span)
    first = min((s.start for s in found), default=len(doc))
    for tok in doc[first:]:
        if tok.i in taken or tok.i == 0 or doc[tok.i - 1].lower_ != "the":
            continue
        two = doc[tok.i:tok.i + 2]
        for span in (two, doc[tok.i:tok.i + 1]):
            if span.text.lower() in lex.outlet_anaphors and span[-1].pos_ == "NOUN" and not any(t.i in taken for t in span):
                add(doc[tok.i - 1:span.end])
                break
    return sorted(found, key=lambda s: s.start)


def outlet_refs(outlets: list[Span], lex: Lexicons) -> dict[Range, Range]:
    """Anaphor or short form -> the outlet named before it: "the newspaper" -> the latest news
    outlet; "the Post" -> the latest outlet whose name ends with "Post"."""
    refs: dict[Range, Range] = {}
    named: list[Span] = []
    for o in outlets:
        words_ = [t for t in o if t.lower_ != "the"]
        if not words_:
            continue
        if o.text.lower().removeprefix("the ") in lex.outlet_anaphors:
            news = [n for n in named if n.text not in lex.platform_words]
            if news:
                refs[span_range(o)] = span_range(news[-1])
            continue
        longer = [n for n in named if len([t for t in n if t.lower_ != "the"]) > len(words_)
                  and n[-1].text == words_[-1].text and n.text.lower() != o.text.lower()]
        if longer:
            refs[span_range(o)] = span_range(longer[-1])
        else:
            named.append(o)
    return refs


def _attached(tok: Token, head: Token, steps: int = 4) -> bool:
    """``tok`` hangs from ``head`` within its noun phrase (compound, possessive, "of"/"at"/"for" X, apposition)."""
    while steps and tok.i != head.i and tok.head.i != tok.i:
        if tok.dep_ not in AFFILIATION_DEPS or (tok.dep_ == "prep" and tok.lower_ not in AFFILIATION_PREPS):
            return False
        tok, steps = tok.head, steps - 1
    return tok.i == head.i


def source_outlet(head: Token, outlets: list[Span], lex: Lexicons) -> tuple[Span | None, str | None]:
    """(outlet, how) of a source mention headed by ``head``: the source itself ("The Times"),
    an outlet's report ("a report in The Times", "the Post's investigation"), or a person of an
    outlet ("CNN's Jake Tapper", "Julia Davis of the Daily Beast", "Fox News host Sean Hannity").
    Not covered: an affiliation stated in a later sentence, former affiliations told apart."""
    for o in outlets:
        if o.start <= head.i < o.end:
            return o, "source"
    if head.lemma_.lower() in lex.report_nouns or head.lower_ in lex.report_nouns:
        for o in outlets:
            if _attached(o.root, head):
                return o, "source"
    if head.ent_type_ == "PERSON" or head.pos_ == "PROPN" or head.lemma_.lower() in JOURNALISTS:
        for o in outlets:
            if o.sent.start == head.sent.start and _attached(o.root, head) and _journalist_of(o.root, head):
                return o, "journalist"
    return None, None


JOURNALISTS = frozenset({"reporter", "correspondent", "journalist", "columnist", "host", "anchor", "editor", "writer",
                         "presenter", "producer", "reporters", "correspondents", "journalists"})


def _journalist_of(outlet: Token, person: Token) -> bool:
    """"Sarah Jones of The Independent", "CNN's Jake Tapper", "Fox host Sean Hannity", "a reporter
    for the Post": a possessive, a preposition, or a journalist's title; not a "former" one, and
    not a compound without a title ("Fox News contributor", "CNN commentator" are guests)."""
    path = []
    tok = outlet
    while tok.i != person.i and tok.head.i != tok.i:
        path.append(tok)
        tok = tok.head
    if any(c.lower_ in {"former", "ex", "onetime", "erstwhile"} for t in path + [person] for c in t.children):
        return False
    deps = {t.dep_ for t in path}
    if "poss" in deps or "prep" in deps:
        return True
    return any(t.lemma_.lower() in JOURNALISTS for t in path)


def outlet_for(cue: Token, sent: Span, outlets: list[Span], exclude: list[Range]) -> Span | None:
    """An outlet tied to ``cue`` in its sentence: "told BBC", "said on X", "in a clip shared on X"."""
    best = None
    for o in outlets:
        if not (sent.start <= o.start < sent.end):
            continue
        if any(overlap(span_range(o), r) for r in exclude):
            continue
        tok = o.root
        steps = 0
        while tok.i != cue.i and tok.head.i != tok.i and steps < 6:
            if steps and tok.dep_ in CLAUSE_DEPS and not (
                    tok.dep_ == "advcl" and tok.lemma_.lower() in SPEAKING_VERBS):
                break  # another clause; but "Speaking to LBC, she said": the cue's own occasion
            if tok.dep_ in SUBJECTS:
                break  # in a subject: its own affiliation is ``source_outlet``'s, not the cue's medium
            tok = tok.head
            steps += 1
        if (tok.i == cue.i or _in_medium(o.root, cue)) and (best is None or abs(o.start - cue.i) < abs(best.start - cue.i)):
            best = o
    return best


def _medium_phrase(tok: Token) -> Token | None:
    """The preposition of "in a clip shared on X" / "in an interview with X" above ``tok``."""
    steps = 0
    while tok.head.i != tok.i and steps < 6:
        if tok.lemma_.lower() in MEDIUM_NOUNS and tok.dep_ == "pobj" and tok.head.dep_ == "prep":
            return tok.head
        tok, steps = tok.head, steps + 1
    return None


def _in_medium(tok: Token, cue: Token) -> bool:
    """``tok`` is the outlet of a medium phrase of the cue or of its content clause ("said X, in a
    clip shared on Y": the parser hangs the phrase on the content)."""
    prep = _medium_phrase(tok)
    if prep is None:
        return False
    return prep.head.i == cue.i or (prep.head.dep_ == "ccomp" and prep.head.head.i == cue.i)


# -- cues ------------------------------------------------------------------------------

def cue_lemma(tok: Token, lex: Lexicons) -> str:
    """The token's lemma, repaired where the model drops a final "e" ("hoped" -> "hop")."""
    lemma = tok.lemma_.lower()
    if lemma not in lex.cue_verbs and lemma + "e" in lex.cue_verbs and tok.lower_.startswith(lemma + "e"):
        return lemma + "e"
    return lemma


def cue_verbs(doc: Doc, lex: Lexicons) -> Iterator[Token]:
    for tok in doc:
        if tok.pos_ in {"VERB", "AUX"} and cue_lemma(tok, lex) in lex.cue_verbs:
            yield tok
        elif _misparsed_verb(tok) and tok.lemma_.lower() in lex.cue_verbs:
            yield tok


def media_verbs(doc: Doc, lex: Lexicons, outlets: list[Span]) -> Iterator[Token]:
    """Broad scope: an outlet's publishing verbs ("The Times published ...", "CNN aired ...",
    "Forbes lists ..."), cues only when an outlet is their subject."""
    if not lex.media_verbs:
        return
    for tok in doc:
        if tok.pos_ == "VERB" and tok.lemma_.lower() in lex.media_verbs:
            subj = subject_of(tok)
            if subj is not None and any(o.start <= subj.i < o.end for o in outlets):
                yield tok


def _misparsed_verb(tok: Token) -> bool:
    """A reporting verb parsed as a noun heading the sentence: "Smith claims that ...", "Jones warns ..."."""
    return (tok.tag_ == "NNS" and tok.dep_ == "ROOT" and any(c.dep_ == "ccomp" for c in tok.children)
            and any(c.dep_ == "compound" and c.i < tok.i for c in tok.children))


def phrase_cues(doc: Doc, lex: Lexicons, text: str | None = None) -> Iterator[tuple[Span, Token | None]]:
    """(cue phrase span, head of its object) for "according to X", "as reported by X"."""
    low = (doc.text if text is None else text).lower()
    for phrase in lex.cue_phrases:
        for m in re.finditer(r"(?<![\w])" + re.escape(phrase) + r"(?![\w])", low):
            span = doc.char_span(m.start(), m.end(), alignment_mode="strict")
            if span is None:
                continue
            obj = next((t for t in span[-1].children if t.dep_ in OBJECTS), None)
            if obj is None:
                nxt = span.end
                obj = doc[nxt] if nxt < len(doc) and doc[nxt].pos_ in {"PROPN", "NOUN", "PRON", "DET"} else None
                if obj is not None and obj.pos_ == "DET":
                    obj = obj.head
            yield span, obj


# -- the attribution pass ---------------------------------------------------------------

@dataclass(slots=True)
class Context:
    doc: Doc
    lex: Lexicons
    quotes: list[Quoted]
    body: list[Range]
    outlets: list[Span]
    cues: list[Token] = field(default_factory=list)
    phrases: list[tuple[Span, Token | None]] = field(default_factory=list)
    text: str = ""  # doc.text, computed once (spaCy rebuilds it on every access)
    outlet_refs: dict[Range, Range] = field(default_factory=dict)  # anaphor / short form -> named outlet
    outlet_how: dict[Range, str] = field(default_factory=dict)  # outlet range -> source | report | journalist | interview

    def outlet_of(self, outlet: Span | None, how: str | None) -> Range | None:
        """The range of ``outlet`` (its named antecedent for "the newspaper"), noting how it relayed."""
        if outlet is None:
            return None
        rng = self.outlet_refs.get(span_range(outlet), span_range(outlet))
        while rng[1] - rng[0] > 1 and self.text[rng[1] - 1] in ".,;:'’":  # "on X." is one token
            rng = (rng[0], rng[1] - 1)
        self.outlet_how.setdefault(rng, how or "source")
        return rng

    def para_of(self, pos: int) -> Range | None:
        for p in self.body:
            if p[0] <= pos < p[1] + 1:
                return p
        return None

    def in_quote(self, r: Range) -> Quoted | None:
        for q in self.quotes:
            if q.open <= r[0] and r[1] <= q.close + 1:
                return q
        return None


def speaker_and_outlet(ctx: Context, cue: Token, exclude: list[Range]) -> tuple[Range | None, Range | None, bool]:
    """(speaker, outlet, speaker is the outlet) for a cue verb: the outlet the source is or
    carries (``source_outlet``), else one tied to the cue (``outlet_for``: "told BBC News")."""
    head = subject_of(cue) or _inverted_outlet(cue, ctx.outlets)
    speaker = None
    if head is not None:
        m = mention(head)
        if not any(overlap(span_range(m), r) for r in exclude):
            speaker = m
    outlet, how = (None, None)
    if speaker is not None:
        speaker, outlet, how = _source_outlet_of(ctx, head, speaker)
    is_outlet = how == "source"
    if is_outlet:
        cited = _cited_source(cue)
        if cited is not None:  # "The Post reported, citing officials": said by the officials, via the Post
            speaker, is_outlet, how = mention(cited), False, "report"
    if outlet is None:
        outlet = outlet_for(cue, cue.sent, ctx.outlets, exclude + ([span_range(speaker)] if speaker is not None else []))
        how = "interview" if outlet is not None else None
    if outlet is None and speaker is not None:
        relayed = _phrase_outlet(ctx, cue)
        if relayed is not None:
            return span_range(speaker), relayed, False
    return (span_range(speaker) if speaker is not None else None, ctx.outlet_of(outlet, how), is_outlet)


def _phrase_outlet(ctx: Context, cue: Token) -> Range | None:
    """"X said Y, according to the Post": an "according to" outlet after the cue in its sentence."""
    sent = cue.sent
    for span, obj in ctx.phrases:
        if obj is not None and sent.start <= span.start < sent.end and span.start > cue.i:
            _, _, outlet, is_outlet = _phrase_attribution(ctx, span, obj)
            if is_outlet and outlet is not None:
                return outlet
    return None


def _inverted_outlet(cue: Token, outlets: list[Span]) -> Token | None:
    """"..., reported the Washington Examiner.": an outlet the parser took for the object of a
    sentence-final reporting verb."""
    obj = next((c for c in cue.children if c.dep_ in CUE_OBJECTS and c.i > cue.i), None)
    if obj is None or any(not t.is_punct for t in cue.doc[obj.right_edge.i + 1:cue.sent.end]):
        return None
    return obj if any(o.start <= obj.i < o.end for o in outlets) else None


def _cited_source(cue: Token) -> Token | None:
    """"The Post reported, citing officials": the officials (the parser may hang "citing" on the
    cue or on its content clause); "The AP quoted a witness as saying": the witness."""
    if _quoted_as_saying(cue) is not None:
        return next((c for c in cue.children if c.dep_ == "dobj"), None)
    for child in _citing(cue):
        return next((g for g in child.children if g.dep_ in OBJECTS), None)
    return None


def _citing(cue: Token) -> list[Token]:
    """"citing X" phrases of a cue: its own, or one fronted in its content clause."""
    out = [c for c in cue.children if c.lower_ == "citing"]
    for clause in (c for c in cue.children if c.dep_ == "ccomp"):
        out += [c for c in clause.children if c.lower_ == "citing" and c.i < clause.i and c.dep_ == "advcl"]
    return out


def direct_quotes(ctx: Context) -> list[Quoted]:
    """Quoted spans long enough or sentence-like enough to be direct quotes, outside headlines."""
    out = []
    for q in ctx.quotes:
        para = ctx.para_of(q.open)
        if para is None:
            continue
        inner = ctx.text[q.start:q.end]
        n = len(words(inner))
        follows = bool(out) and ctx.para_of(out[-1].open) == para  # '"A," she said. "B."': B goes on
        if n >= DIRECT_MIN_WORDS or (n >= 1 and inner[-1] in ",.!?" and (follows and n >= 2 or _cue_adjacent(ctx, q))):
            out.append(q)
    return out


def _cue_adjacent(ctx: Context, q: Quoted) -> bool:
    """A cue verb right after the closing mark ('"Now," he added') or right before the opening."""
    after = ctx.text[q.close + 1:q.close + 60]
    before = ctx.text[max(0, q.open - 60):q.open]
    span = ctx.doc.char_span(q.close + 1, min(len(ctx.text), q.close + 1 + len(after)), alignment_mode="expand")
    toks = list(span)[:5] if span is not None else []
    if any(t.lemma_.lower() in ctx.lex.cue_verbs for t in toks):
        return True
    return bool(re.search(r"\b\w+\s*[:,]\s*$", before)) and any(
        t.lemma_.lower() in ctx.lex.cue_verbs for t in (ctx.doc.char_span(max(0, q.open - 60), q.open, alignment_mode="expand") or []))


def _window_cues(ctx: Context, q: Quoted, prev_end: int, next_start: int) -> list[Token]:
    """Cue verbs outside quotes near ``q``: in its sentences, within its paragraph, between neighbours."""
    para = ctx.para_of(q.open)
    lo, hi = max(prev_end, para[0]), min(next_start, para[1])
    first = ctx.doc.char_span(q.open, q.open + 1, alignment_mode="expand")
    last = ctx.doc.char_span(q.close, min(len(ctx.text), q.close + 1), alignment_mode="expand") if q.closed else None
    s_lo = first[0].sent.start_char if first is not None and len(first) else q.open
    s_hi = last[-1].sent.end_char if last is not None and len(last) else q.end
    if last is not None and len(last) and last[-1].i + 1 < len(ctx.doc):
        nxt = ctx.doc[last[-1].i + 1]
        if nxt.sent.start == nxt.i and nxt.sent.end_char - nxt.sent.start_char < 80:
            s_hi = max(s_hi, nxt.sent.end_char)  # '"...." he said.' split off as its own sentence
    if first is not None and len(first) and first[0].i > 0:
        prev = ctx.doc[first[0].i - 1]
        if prev.text == ":" or (prev.text == "," and first[0].sent.start == first[0].i):
            s_lo = min(s_lo, prev.sent.start_char)
    lo, hi = max(lo, s_lo), min(hi, s_hi)
    cues = []
    for tok in ctx.cues:
        r = token_range(tok)
        if lo <= r[0] and r[1] <= hi and ctx.in_quote(r) is None:
            cues.append(tok)
    return sorted(cues, key=lambda t: min(abs(t.idx - q.close), abs(t.idx - q.open)))


def attribute_direct(ctx: Context, directs: list[Quoted], others: list[Found] = ()) -> list[Found]:
    """Each direct quote with the nearest cue in its window, else its predecessor's attribution."""
    found: list[Found] = []
    others = [f for f in others if f.speaker is not None]
    exclude = [(q.open, q.close + 1) for q in ctx.quotes]
    for k, q in enumerate(directs):
        prev_end = directs[k - 1].close + 1 if k else 0
        next_start = directs[k + 1].open if k + 1 < len(directs) else len(ctx.text)
        item = Found(quote=(q.start, q.end), quote_type="direct", kind="direct")
        label = _label_source(ctx.text, q)
        if label is not None:
            item.cue, item.speaker, item.quote, item.score = label[0], label[1], (label[2], q.end), SCORES["label"]
            found.append(item)
            continue
        cues = _window_cues(ctx, q, prev_end, next_start)
        if ctx.lex.broad:  # words are said: a speech verb beats a nearer "shows" or "believes"
            cues.sort(key=lambda t: cue_lemma(t, ctx.lex) not in ctx.lex.speech_verbs)
        for cue in cues:
            speaker, outlet, is_outlet = speaker_and_outlet(ctx, cue, exclude)
            if speaker is None:
                continue
            item.cue, item.speaker, item.outlet, item.speaker_is_outlet = token_range(cue), speaker, outlet, is_outlet
            item.score = SCORES["direct"]
            break
        if item.speaker is None:
            dash = _dash_source(ctx.text, q)
            if dash is not None:
                item.cue, item.speaker = dash
                item.score = SCORES["dash"]
        if item.speaker is None:
            for cue in _colon_intro_cues(ctx, q):
                speaker, outlet, is_outlet = speaker_and_outlet(ctx, cue, exclude)
                if speaker is not None:
                    item.cue, item.speaker, item.outlet, item.speaker_is_outlet = token_range(cue), speaker, outlet, is_outlet
                    item.score = SCORES["direct"]
                    break
        if item.speaker is None:
            phrase = _phrase_near(ctx, q)
            if phrase is not None:
                item.cue, item.speaker, item.outlet, item.speaker_is_outlet = phrase
                item.score = SCORES["direct"]
        if item.speaker is not None and item.outlet is None and not item.speaker_is_outlet:
            item.outlet = _relaying_outlet(ctx, cues, item.cue, exclude)
        before = [f for f in found + others if f.quote[1] <= q.open and not inside((q.start, q.end), f.quote)]
        if item.speaker is None and before:
            prev = max(before, key=lambda f: f.quote[1])
            same_para = ctx.para_of(prev.quote[0]) == ctx.para_of(q.start)
            if prev.speaker is not None and (same_para or _para_is_quote(ctx, q)):
                item.speaker, item.speaker_is_outlet = prev.speaker, prev.speaker_is_outlet
                if same_para:
                    item.cue, item.outlet, item.kind = prev.cue, prev.outlet, "direct_continued"
                else:
                    item.kind = "direct_later"
                item.score = SCORES[item.kind]
        if item.speaker is None:
            if len(words(ctx.text[q.start:q.end])) < 8:
                continue
            item.kind, item.score = "direct_nocue", SCORES["direct_nocue"]
        found.append(item)
    return found


def _relaying_outlet(ctx: Context, cues: list[Token], chosen: Range | None, exclude: list[Range]) -> Range | None:
    """'"...," Trump said, the Times reported' / '"...," the judge said, according to the Post':
    another cue of the quote, in the chosen cue's sentence, whose source is an outlet."""
    sent = ctx.doc.char_span(*chosen, alignment_mode="expand").sent if chosen is not None else None
    for span, obj in ctx.phrases:
        if sent is not None and obj is not None and sent.start <= span.start < sent.end:
            _, _, outlet, is_outlet = _phrase_attribution(ctx, span, obj)
            if is_outlet and outlet is not None:
                return outlet
    for cue in cues:
        if token_range(cue) == chosen:
            continue
        speaker, outlet, is_outlet = speaker_and_outlet(ctx, cue, exclude)
        if is_outlet and outlet is not None:
            return outlet
    return None


NAME = r"[A-Z][\w.'’-]*(?:[ \t]+(?:[A-Z][\w.'’-]*|de|van|von|da|del|la))*"
# Words that label a line without naming who speaks ("Update: ...", "Photo: ...").
LINE_LABELS = {"photo", "photos", "update", "updated", "note", "editor's note", "editor’s note", "related", "read more",
               "watch", "source", "sources", "credit", "abstract", "caption", "image", "video", "correction",
               "clarification", "disclosure", "follow", "subscribe", "advertisement", "tags", "topics", "see also",
               "more", "listen", "share", "email", "contact", "warning", "breaking", "exclusive", "opinion",
               "analysis", "live", "developing"}
NAME_COLON = re.compile(r"(" + NAME + r"):[ \t]+(\S.*)")
_DASH_SOURCE = re.compile(r"[ \t\u00a0]*(?:[―—–]|--)[ \t\u00a0]*(" + NAME + r")")


def _dash_source(text: str, q: Quoted) -> tuple[Range, Range] | None:
    """(cue, speaker) of a quote signed with a dash after it: '"...." ― Jane Doe'."""
    if not q.closed:
        return None
    m = _DASH_SOURCE.match(text, q.close + 1)
    if m is None or len(m.group(1).split()) > 5:
        return None
    at = m.start() + len(m.group()) - len(m.group().lstrip(" \t\u00a0"))
    width = 2 if text.startswith("--", at) else 1
    name = m.group(1)
    if name.endswith(".") and len(name.split()[-1]) > 3:  # a full stop, not an initial ("Jr.", "P.")
        name = name[:-1]
    return (at, at + width), (m.start(1), m.start(1) + len(name))


def speaker_label(text: str) -> re.Match | None:
    """``text`` opening with a speaker's label ("Senator Smith: ..."): a name of at most four
    words, not a line label ("Update:"), then a colon and a statement of three words or more."""
    m = NAME_COLON.match(text)
    if m is None or len(m.group(1).split()) > 4 or m.group(1).lower() in LINE_LABELS or len(words(m.group(2))) < 3:
        return None
    return m


def _label_source(text: str, q: Quoted) -> tuple[Range, Range, int] | None:
    """(cue, speaker, content start) of a quote that opens with its speaker's label, as
    transcripts print it: '"PENCE: Well, look, ..."' (the label is no part of the content)."""
    m = speaker_label(text[q.start:q.end])
    if m is None or not (m.group(1).isupper() or " " in m.group(1)):
        return None  # "Look: ..." is a word, not a label; "PENCE:" and "Mr. Trump:" are
    name_end = q.start + m.end(1)
    return (name_end, name_end + 1), (q.start + m.start(1), name_end), q.start + m.start(2)


def _colon_intro_cues(ctx: Context, q: Quoted) -> list[Token]:
    """Cue verbs of the sentence that introduces ``q`` with a colon, in its paragraph or the one before:
    'Sanders made the following comment:' / 'She said:'."""
    return _cues_before_colon(ctx, q.open)


def _cues_before_colon(ctx: Context, pos: int) -> list[Token]:
    """Cue verbs (nearest first) of the sentence ending with the colon right before ``pos``."""
    before = ctx.text[:pos].rstrip()
    if not before.endswith(":"):
        return []
    colon = ctx.doc.char_span(len(before) - 1, len(before), alignment_mode="expand")
    if colon is None or not len(colon):
        return []
    sent = colon[0].sent
    cues = [t for t in sent if t.pos_ in {"VERB", "AUX"} and (t.lemma_.lower() in ctx.lex.cue_verbs
                                                              or any(c.lemma_.lower() in ctx.lex.cue_nouns for c in t.children))]
    cues = [t for t in cues if ctx.in_quote(token_range(t)) is None]
    return sorted(cues, key=lambda t: -t.i)


def colon_paragraphs(ctx: Context, directs: list[Quoted]) -> list[Found]:
    """An unquoted paragraph introduced by "X added:" / "the paper wrote:" at the end of the
    paragraph before (its first line, when the page lists several)."""
    out = []
    exclude = [(q.open, q.close + 1) for q in directs]
    paras = paragraphs(ctx.text)
    for prev, para in zip(paras, paras[1:]):
        first = ctx.text[para[0]]
        if first in "\"“”«„‟'‘" or not ctx.text[prev[0]:prev[1]].rstrip().endswith(":"):
            continue
        s, e = trim(ctx.text, *para, drop_lead=False)
        if len(words(ctx.text[s:e])) < 3:
            continue
        for cue in _cues_before_colon(ctx, para[0]):
            speaker, outlet, is_outlet = speaker_and_outlet(ctx, cue, exclude + [(s, e)])
            if speaker is not None:
                out.append(Found(quote=(s, e), quote_type="indirect", kind="colon", cue=token_range(cue),
                                 speaker=speaker, outlet=outlet, speaker_is_outlet=is_outlet, score=SCORES["colon"]))
                break
    return out


def _para_is_quote(ctx: Context, q: Quoted) -> bool:
    para = ctx.para_of(q.open)
    return para is not None and q.open - para[0] < 3


def _phrase_near(ctx: Context, q: Quoted):
    """'According to X, "..."' / 'As reported by X, "..."' in the quote's paragraph, before it."""
    para = ctx.para_of(q.open)
    for span, obj in ctx.phrases:
        if para[0] <= span.start_char < q.open and obj is not None and ctx.in_quote(span_range(span)) is None:
            between = ctx.text[span.end_char:q.open]
            if re.search(r"[.!?]\s", between):
                continue
            return _phrase_attribution(ctx, span, obj)
    return None


def _phrase_attribution(ctx: Context, span: Span, obj: Token):
    """(cue, speaker, outlet, speaker is the outlet) of "according to X", "as reported by X"."""
    m, outlet, how = _source_outlet_of(ctx, obj, mention(obj))
    return (span_range(span), span_range(m), ctx.outlet_of(outlet, how), how == "source")


def _source_outlet_of(ctx: Context, head: Token, m: Span) -> tuple[Span, Span | None, str | None]:
    """(speaker mention, outlet, how) for source ``head`` with mention ``m``: the outlet the source
    carries (``source_outlet``: "Jane Doe of CNN"), else ``m`` itself when it names an outlet; an
    outlet that is the source (how == "source") is also the speaker mention."""
    outlet, how = source_outlet(head, ctx.outlets, ctx.lex)
    if outlet is None and is_outlet_span(m, ctx.lex):
        outlet, how = m, "source"
    return (outlet if how == "source" else m), outlet, how


def _fragments_in(ctx: Context, r: Range) -> list[Quoted]:
    return [q for q in ctx.quotes if r[0] <= q.open and q.close < r[1] + 2]


def _content(ctx: Context, start: int, end: int, directs: list[Quoted],
             container: Quoted | None = None) -> tuple[Range, str] | None:
    """Trimmed content range and its type (indirect or mixed), or None when it is a direct quote.

    ``container``: the direct quote the cue itself stands in (reported speech inside a quote).
    """
    text = ctx.text
    s, e = trim(text, start, end)
    if e - s < 3 or len(words(text[s:e])) < 2:
        return None
    for q in directs:
        if container is not None and q.open == container.open:
            continue
        if overlap((q.start, q.end), (s, e)) > 0.6 * (e - s):
            return None
    if container is not None:
        s, e = max(s, container.start), min(e, container.end)
        s, e = trim(text, s, e)
        if e - s < 3:
            return None
        return (s, e), "indirect"
    frags = _fragments_in(ctx, (s, e + 1))
    if not frags:
        return (s, e), "indirect"
    last = max(frags, key=lambda q: q.close)
    if last.close >= e - 1:
        e = min(len(text), last.close + 1)
    return (s, e), "mixed"


# -- nominal content (broad scope): "criticized the plan", "called for an inquiry" -------------

ASPECT_VERBS = {"continue", "begin", "start", "keep", "stop"}


def takes_xcomp(lex: Lexicons, verb: Token) -> bool:
    """Broad scope: an intention or stance verb with an infinitive ("wants to", "agreed to", "declined to")."""
    return lex.broad and verb.lemma_.lower() not in ASPECT_VERBS


OBJECT_PREPS = {"for", "on", "to", "about", "of", "against", "over"}
OBJECT_TAIL = {"prep", "oprd", "ccomp", "xcomp", "npadvmod", "dative", "acomp", "agent"}
HEARER_PREPS = {"to", "for", "with"}  # "spoke to reporters": the hearer, not content
CIRCUMSTANCE = {"DATE", "TIME", "CARDINAL", "QUANTITY", "GPE", "LOC", "FAC", "MONEY", "PERCENT", "ORDINAL"}
COMPLEMENT_PREPS = {"as", "of", "for"}
PERSONAL = {"him", "her", "them", "me", "us", "you", "it", "himself", "herself", "themselves"}


def _person_like(tok: Token) -> bool:
    return tok.lower_ in PERSONAL or tok.ent_type_ in {"PERSON", "NORP"} or tok.pos_ == "PROPN"


def _evidence_subject(verb: Token, lex: Lexicons) -> bool:
    subj = subject_of(verb)
    return subj is not None and subj.lemma_.lower() in lex.evidence_nouns


def object_range(verb: Token, lex: Lexicons | None = None) -> Range | None:
    """Broad scope: the object is the content ("called for an inquiry", "criticized the plan",
    "described the plan as reckless", "accused her of lying"); never the hearer ("told reporters")."""
    lemma = verb.lemma_.lower()
    addressee = lex is not None and lemma in lex.addressee_verbs
    needs_complement = lex is not None and lemma in lex.complement_verbs and not _evidence_subject(verb, lex)
    dobj = next((c for c in verb.children if c.dep_ in DIRECT_OBJECTS), None)
    rest = [c for c in verb.children if c.i > verb.i and c.dep_ in OBJECT_COMPLEMENTS
            and (c.dep_ != "prep" or c.lower_ in OBJECT_PREPS | COMPLEMENT_PREPS)]
    if dobj is not None:
        if dobj.tag_ in {"WP", "WDT"} or dobj.ent_type_ in CIRCUMSTANCE:
            return None
        comp = next((c for c in rest if c.i > dobj.i and (c.dep_ != "prep" or c.lower_ in COMPLEMENT_PREPS)), None)
        if comp is not None and comp.dep_ == "prep" and (comp.lower_ == "of" or comp.lower_ == "for" and _person_like(dobj)):
            obj = next((g for g in comp.children if g.dep_ in PREP_OBJECTS), None)  # "accused her of lying"
            if obj is None:
                return None
            return _edges(obj) if dobj.pos_ == "PRON" else (_edges(dobj)[0], _edges(comp)[1])
        if (addressee or needs_complement) and comp is None:
            return None
        start, end = _edges(dobj)
        for child in verb.children:  # "described the plan to reporters as reckless"
            if child.i > dobj.i and child.dep_ in OBJECT_TAIL:
                end = max(end, _edges(child)[1])
        return start, end
    for child in rest:
        if child.dep_ == "prep" and child.lower_ in OBJECT_PREPS:
            obj = next((g for g in child.children if g.dep_ in PREP_OBJECTS), None)
            if obj is None or obj.ent_type_ in CIRCUMSTANCE or (child.lower_ in HEARER_PREPS and _person_like(obj)):
                continue
            end = max([_edges(obj)[1]] + [_edges(c)[1] for c in verb.children if c.i > child.i and c.dep_ in OBJECT_TAIL])
            return _edges(obj)[0], end
    return None


def object_content(ctx: Context, rng: Range, directs: list[Quoted]) -> tuple[Range, str] | None:
    """A nominal content may be one word ("attacked Smith"), but not a bare pronoun."""
    s, e = trim(ctx.text, *rng)
    if e - s < 2 or ctx.text[s:e].lower() in PERSONAL | {"this", "that", "what", "which", "who"}:
        return None
    if len(words(ctx.text[s:e])) >= 2:
        return _content(ctx, s, e, directs)
    if any(overlap((q.start, q.end), (s, e)) for q in directs):
        return None
    return (s, e), "indirect"


def attribute_indirect(ctx: Context, directs: list[Quoted]) -> list[Found]:
    """Every registered rule pass of the lexicons' scope (``builder.propose.rules``), in order:
    content clauses of cue verbs, cue phrases, colon paragraphs; broad: stances, intentions."""
    return [f for rule in passes_for(ctx.lex.scope) for f in rule.run(ctx, directs)]


def verb_clauses(ctx: Context, directs: list[Quoted]) -> list[Found]:
    """Content clauses of cue verbs (ccomp; xcomp for ask/urge/tell; broad: their objects)."""
    found: list[Found] = []
    exclude = [(q.open, q.close + 1) for q in directs]
    cue_ids = {t.i for t in ctx.cues}
    for verb in ctx.cues:
        if ctx.para_of(verb.idx) is None:
            continue
        if ctx.lex.broad and verb.dep_ in COMPLEMENT_CLAUSES and verb.head.i in cue_ids:
            continue  # "she said she thinks X", "wants to say X": one attribution, the outer one (PolNeAR)
        located = _content_range(ctx, verb)
        if located is None:
            continue
        rng, kind = located
        container = ctx.in_quote(token_range(verb))
        container = container if container is not None and any(d.open == container.open for d in directs) else None
        if container is not None and kind != "indirect":
            continue
        content = object_content(ctx, rng, directs) if kind == "object" else _content(ctx, *rng, directs, container)
        if content is None:
            continue
        (s, e), qtype = content
        if token_range(verb)[0] >= s and token_range(verb)[1] <= e and kind != "parenthetical":
            continue
        here = [r for r in exclude if container is None or r[0] != container.open]
        speaker, outlet, is_outlet = speaker_and_outlet(ctx, verb, here + ([] if kind == "parenthetical" else [(s, e)]))
        nested = container is not None
        if nested and (speaker is None or ctx.text[speaker[0]:speaker[1]].lower() in FIRST_SECOND
                       or verb.lemma_.lower() in ctx.lex.belief_verbs):
            continue  # "I think ..." inside a quote is the quote's own content, not a new attribution
        score = SCORES["mixed" if qtype == "mixed" else kind] - (0.25 if nested else 0.0)
        if speaker is None:
            if nested or kind != "indirect" or verb.dep_ in MODIFIER_CLAUSES:
                continue
            score = SCORES["nospeaker"]
        parts = _around_cue(ctx.text, (s, e), verb) if kind == "parenthetical" else [(s, e)]
        for part in parts:
            found.append(Found(quote=part, quote_type=qtype, kind=kind, cue=token_range(verb),
                               speaker=speaker, outlet=outlet, speaker_is_outlet=is_outlet, score=score))
    return found


def _content_range(ctx: Context, verb: Token) -> tuple[Range, str] | None:
    """(untrimmed content range, kind) of a cue verb: its content clause (ccomp; xcomp for ask/urge
    or, broad, intentions), a detached "that" clause, a parenthetical's sentence, or (broad) its object."""

    clauses = [c for c in verb.children if c.dep_ == "ccomp"] or _misparsed_clauses(verb)
    right = [c for c in clauses if c.i > verb.i]
    clause = (right or clauses or [None])[0]  # "X, she said, Y": the content after the cue
    kind = "indirect"
    if clause is None:
        clause = _quoted_as_saying(verb)
    if clause is None:
        rng = _as_clause(verb)
        if rng is not None:
            return rng, "as"
    if clause is None and (verb.lemma_.lower() in ctx.lex.xcomp_verbs or takes_xcomp(ctx.lex, verb)):
        clause = next((c for c in verb.children if c.dep_ == "xcomp"), None)
        kind = "xcomp"
    if clause is not None and clause.pos_ not in {"VERB", "AUX"} and not _has_subject(clause):
        clause = None
    if clause is None:
        for kind, rng in (("that", _that_clause(verb)), ("parenthetical", _parenthetical(verb))):
            if rng is not None:
                return rng, kind
        if verb.lemma_.lower() in ctx.lex.object_verbs or verb.lemma_.lower() in ctx.lex.media_verbs:
            rng = object_range(verb, ctx.lex)
            return (rng, "object") if rng is not None else None
        return None
    rng = _edges(clause)
    if clause.dep_ == "advcl":  # a misparsed content clause: "said after the vote he would ...": from its subject on
        subject = next(c for c in clause.children if c.dep_ in SUBJECTS)
        rng = (max(rng[0], subject.left_edge.idx), rng[1])
    for span, _ in ctx.phrases:  # "said Y, according to the Post": the phrase is not what was said
        if rng[0] < span.start_char < rng[1] and span.start > verb.i and ctx.text[:span.start_char].rstrip().endswith(","):
            rng = (rng[0], span.start_char)
    for citing in _citing(verb):  # "reported, citing officials, that ...": not part of the content
        if rng[0] <= citing.idx < rng[1]:
            rng = (max(rng[0], _edges(citing)[1]), rng[1])
    act = _speaker_act(ctx, clause)  # "said he would order a review and warned against ...": not said
    if act is not None and rng[0] < act:
        rng = (rng[0], min(rng[1], act))
    for prep in (c for c in clause.children if c.dep_ == "prep" and c.i > clause.i):
        obj = next((g for g in prep.children if g.dep_ == "pobj"), None)
        if obj is not None and obj.lemma_.lower() in MEDIUM_NOUNS and prep.i > 0 and prep.doc[prep.i - 1].text == ",":
            rng = (rng[0], min(rng[1], prep.idx))  # "..., in a clip shared on X": how it was said, not what
    if kind == "indirect" and clause.i > verb.i:  # "said X because Y": the parser hangs Y on the cue
        for adv in (c for c in verb.children if c.dep_ == "advcl" and c.i > clause.right_edge.i):
            if any(m.dep_ == "mark" and m.lower_ in CONTENT_MARKS for m in adv.children):
                rng = (rng[0], max(rng[1], _edges(adv)[1]))
    if kind == "indirect" and len(right) > 1:  # one clause the parser cut in two
        rng = (rng[0], max(_edges(c)[1] for c in right))
    if kind == "xcomp" and not ctx.lex.broad:  # the scheme drops "to"; PolNeAR keeps it
        lead = re.match(r"to\s+", ctx.text[rng[0]:rng[1]])
        rng = (rng[0] + (lead.end() if lead else 0), rng[1])
    return rng, kind


def _quoted_as_saying(verb: Token) -> Token | None:
    """"The AP quoted a witness as saying (that) X": the content clause of "saying"."""
    if verb.lemma_.lower() != "quote":
        return None
    for prep in (c for c in verb.children if c.dep_ == "prep" and c.lower_ == "as"):
        for saying in (g for g in prep.children if g.dep_ in PREP_OBJECTS and g.lemma_.lower() == "say"):
            return next((c for c in saying.children if c.dep_ == "ccomp"), None)
    return None


def _as_clause(verb: Token) -> Range | None:
    """"As the Post reported, X" / "X, as the paper noted": the clause the "as" clause of the cue
    modifies, without it. Not covered: "as" clauses in the middle of their host."""
    if verb.dep_ != "advcl" or not any(c.dep_ == "mark" and c.lower_ == "as" for c in verb.children):
        return None
    if subject_of(verb) is None or verb.head.pos_ not in {"VERB", "AUX"}:
        return None
    start, end = _edges(verb.head)
    own = _edges(verb)
    if own[0] <= start:
        return own[1], end
    if own[1] >= end:
        return start, own[0]
    return None


def _speaker_act(ctx: Context, clause: Token) -> int | None:
    """Where the speaker's own next act starts, when the parser joined it to the content clause:
    "said he would order a review and warned against hackers" (a cue verb after the clause's
    head, a conjunct or adverbial with no subject of its own), from what leads into it (", and");
    None without one."""
    acts = [c for c in clause.children if c.i > clause.i and c.dep_ in SPEAKER_ACTS and c.pos_ == "VERB"
            and not _has_subject(c) and cue_lemma(c, ctx.lex) in ctx.lex.cue_verbs]
    if not acts:
        return None
    doc, cut = clause.doc, acts[0].left_edge.i
    while cut - 1 > clause.i and (doc[cut - 1].dep_ == "cc" or doc[cut - 1].is_punct):
        cut -= 1
    return doc[cut].idx


SPEAKER_ACTS = frozenset({"conj", "advcl"})


def _misparsed_clauses(verb: Token) -> list[Token]:
    """A content clause the parser hung on the cue as an adverbial one: "said after the
    convention he would not accept": after the cue, with its own subject, no "if", "when" or
    "because" of its own."""
    return [c for c in verb.children if c.dep_ == "advcl" and c.i > verb.i and _has_subject(c)
            and not any(m.dep_ in ADVERBIAL_OPENERS and m.i < c.i for m in c.children)]


ADVERBIAL_OPENERS = frozenset({"mark", "advmod"})  # "if", "when", "because", "while", "as", "how"


def _has_subject(tok: Token) -> bool:
    """A clause headed by an adjective or noun the parser took for its predicate ("X was 'unhinged'")."""
    return any(c.dep_ in SUBJECTS for c in tok.children)


def _around_cue(text: str, rng: Range, verb: Token) -> list[Range]:
    """A content interrupted by its attribution ("A, the minister said, B") as two parts, as the
    scheme splits an interrupted quote; else the content itself."""
    if not (rng[0] <= verb.idx < rng[1]):
        return [rng]
    subj = subject_of(verb)
    start = min(verb.idx, subj.left_edge.idx if subj is not None else verb.idx)
    end = verb.idx + len(verb.text)
    for tok in verb.doc[verb.i + 1:verb.sent.end]:
        if tok.text in {",", "—", "–", ":"} or tok.idx >= rng[1]:
            break
        end = tok.idx + len(tok.text)
    parts = [trim(text, rng[0], start, drop_lead=False, keep_close=True), trim(text, end, rng[1], keep_close=True)]
    parts = [p for p in parts if p[1] > p[0] and words(text[p[0]:p[1]])]
    return parts or [rng]


def _that_clause(verb: Token) -> Range | None:
    """A "that" clause the parser did not attach to the cue verb: "said prior to X that ..."."""
    sent = verb.sent
    for tok in verb.doc[verb.i + 1:min(sent.end, verb.i + 14)]:
        if tok.pos_ in {"VERB", "AUX"} and tok.dep_ != "amod":
            return None
        if tok.lower_ == "that" and tok.dep_ == "mark":
            last = sent[-1]
            return tok.idx, last.idx + len(last.text)
    return None


def _parenthetical(verb: Token) -> Range | None:
    """Content around a comma-delimited attribution: "Prices will rise, the minister said." and
    "Prices, the minister said, will rise." (the rest of the sentence)."""
    subj = subject_of(verb)
    if subj is None or subj.head.i != verb.i or subj.i > verb.i:
        return None
    sent = verb.sent
    doc = verb.doc
    left = subj.left_edge.i
    if left - 1 <= sent.start or doc[left - 1].text not in {",", "—", "–"}:
        return None
    right = verb.i + 1
    while right < sent.end and doc[right].dep_ in TRAILING_MODIFIERS \
            and doc[right].head.i in range(verb.i, right):
        right = doc[right].right_edge.i + 1
    tail = [t for t in doc[right:sent.end] if not t.is_punct and not t.is_space]
    if tail and doc[right].text not in {",", "—", "–"}:
        return None
    if len([t for t in doc[sent.start:left] if not t.is_punct and not t.is_space]) < 1:
        return None
    if _modifies(verb, doc[sent.start:left - 1]):
        return None  # "In an interview, she said:": a fronted adverbial of the cue, not what was said
    last = sent[-1]
    while last.i > right and (last.is_punct or last.is_space) and last.text not in {"\"", "”", "’"}:
        last = doc[last.i - 1]
    end = last.idx + len(last.text) if tail else doc[left - 1].idx
    return sent.start_char, end


MODIFIER_DEPS = frozenset({"prep", "advmod", "npadvmod", "advcl", "agent"})


def _modifies(verb: Token, span: Span) -> bool:
    """Every word of ``span`` hangs from an adverbial dependent of ``verb`` (a fronted "In 2010",
    "After the vote"): the span modifies the cue and reports nothing."""
    heads = {c.i for c in verb.children if c.dep_ in MODIFIER_DEPS}
    words_ = [t for t in span if not t.is_punct and not t.is_space]
    return bool(words_) and all(t.i in heads or any(a.i in heads for a in t.ancestors) for t in words_)


def _according(ctx: Context, directs: list[Quoted]) -> list[Found]:
    out = []
    for span, obj in ctx.phrases:
        if obj is None or ctx.para_of(span.start_char) is None or ctx.in_quote(span_range(span)):
            continue
        sent = span.sent
        phrase_end = max(obj.right_edge.i + 1, span.end)
        before = (sent.start_char, span.start_char)
        after = (ctx.doc[phrase_end - 1].idx + len(ctx.doc[phrase_end - 1].text), sent.end_char)
        side = after if after[1] - after[0] > before[1] - before[0] else before
        content = _content(ctx, *side, directs)
        if content is None:
            continue
        (s, e), qtype = content
        cue, speaker, outlet, is_outlet = _phrase_attribution(ctx, span, obj)
        out.append(Found(quote=(s, e), quote_type=qtype, kind="according", cue=cue, speaker=speaker,
                         outlet=outlet, speaker_is_outlet=is_outlet, score=SCORES["according"]))
    return out


def find_quotes(doc: Doc, lex: Lexicons, publisher: str | None = None) -> list[Found]:
    """Every quote of ``doc`` with cue, speaker and outlet, in text order, duplicates removed.

    ``publisher``: the outlet that published the article; it (and the wire service whose
    copy the article is) is never a relaying outlet."""
    text = doc.text
    outlets = outlet_mentions(doc, lex, text)
    cues = sorted(set(cue_verbs(doc, lex)) | set(media_verbs(doc, lex, outlets)), key=lambda t: t.i)
    ctx = Context(doc=doc, lex=lex, text=text, quotes=quoted_spans(text), body=body_paragraphs(text),
                  outlets=outlets, cues=cues, phrases=list(phrase_cues(doc, lex, text)),
                  outlet_refs=outlet_refs(outlets, lex))
    directs = direct_quotes(ctx)
    indirect = attribute_indirect(ctx, directs)
    found = attribute_direct(ctx, directs, indirect) + indirect
    found = inherit_outlets(shared_outlets(outlet_speakers(ctx, found)))
    found = dedupe(found)
    for f in found:
        if f.outlet is not None:
            f.outlet_how = ctx.outlet_how.get(f.outlet)
            f.outlet_platform = text[f.outlet[0]:f.outlet[1]] in lex.platform_words
    found = inherit_interview_outlets(ctx, found)
    return drop_own_outlets(found, text, publisher)


def outlet_speakers(ctx: Context, found: list[Found]) -> list[Found]:
    """A speaker that is an outlet mention (from any rule: "NY Post: headline", a quote
    continuing an outlet's) is the only source: ``said_by`` and ``via`` both."""
    by_range = {span_range(o): o for o in ctx.outlets}
    for f in found:
        if f.outlet is not None or f.speaker is None:
            continue
        o = by_range.get(f.speaker)
        if o is not None:
            f.outlet, f.speaker_is_outlet = ctx.outlet_of(o, "source"), True
    return found


def shared_outlets(found: list[Found]) -> list[Found]:
    """One content, two attributions: "Trump said X, the Times reported" / "X, the campaign said,
    according to Politico": the speaker's quote came through the outlet (``via``)."""
    relays = [g for g in found if g.speaker_is_outlet and g.outlet is not None]
    for f in found:
        if f.outlet is not None or f.speaker_is_outlet:
            continue
        size = max(1, f.quote[1] - f.quote[0])
        for g in relays:
            if overlap(g.quote, f.quote) >= 0.5 * size and g.cue != f.cue:
                f.outlet, f.outlet_how = g.outlet, "report"
                break
    return found


def _speaker_key(ctx: Context, f: Found) -> str | None:
    """The last word of a named speaker mention, lower-cased ("Jane Doe", "Doe" -> "doe")."""
    if f.speaker is None or f.speaker_is_outlet:
        return None
    words_ = ctx.text[f.speaker[0]:f.speaker[1]].split()
    if not words_ or not words_[-1][:1].isupper():
        return None
    return re.sub(r"['’]s$", "", words_[-1]).strip(".,").lower()


REMARK_NOUNS = frozenset({"remark", "comment", "statement", "claim", "word", "quote", "interview", "exchange",
                          "admission", "warning", "prediction", "suggestion", "message"})


def remark_outlets(ctx: Context) -> list[tuple[int, str | None, Range]]:
    """(position, speaker key, outlet) of sentences that place the quotes before them: "The remark
    was made by Jane Doe in a clip shared on X", "His comments came in an interview with CNN".
    Not covered: the quote it refers to two paragraphs back (only the latest quote before gets it)."""
    out = []
    for o in ctx.outlets:
        root = o.root
        sent = root.sent
        subj = next((t for t in sent if t.dep_ in NOMINAL_SUBJECTS and t.lemma_.lower() in REMARK_NOUNS
                     and any(d.lower_ in {"the", "these", "those", "his", "her", "their", "that", "this"}
                             for d in t.children)), None)
        if subj is None or _medium_phrase(root) is None and not any(
                a.lower_ in {"on", "with"} and a.dep_ == "prep" for a in root.ancestors):
            continue
        verb = subj.head
        agent = next((g for c in verb.children if c.dep_ == "agent" for g in c.children if g.dep_ == "pobj"), None)
        key = None
        if agent is not None:
            name = mention(agent)
            key = re.sub(r"['’]s$", "", name[-1].text).lower() if name[-1].text[:1].isupper() else None
        rng = ctx.outlet_of(o, "interview")
        out.append((sent.start_char, key, rng))
    return out


def inherit_interview_outlets(ctx: Context, found: list[Found]) -> list[Found]:
    """Later paragraphs of an interview write-up came through the same outlet: once a named
    speaker "told BBC News" (or spoke "in an interview with", "on" a programme, or "the remark
    was made by" them "in a clip shared on X", which also gives the quote before it that
    outlet), their later quotes without an outlet of their own, and those of "he"/"she" while
    they are the last named speaker, get it. Not covered: a later quote from another occasion
    ("at a rally")."""
    interviews: dict[str, Range] = {}
    last_named: str | None = None
    events = sorted(remark_outlets(ctx))
    quotes = sorted(found, key=lambda f: f.quote)
    for f in quotes:
        while events and events[0][0] < f.quote[0]:
            pos, key, outlet = events.pop(0)
            before = [g for g in quotes if g.quote[1] <= pos]
            if before and before[-1].outlet is None:
                last = before[-1]
                last.outlet, last.outlet_how = outlet, "interview"
            if key:
                interviews[key] = outlet
        key = _speaker_key(ctx, f)
        pronoun = f.speaker is not None and ctx.text[f.speaker[0]:f.speaker[1]].lower() in {"he", "she"}
        who = key or (last_named if pronoun else None)
        if key:
            last_named = key
        if who is None:
            continue
        if f.outlet is not None and f.outlet_how == "interview":
            interviews[who] = f.outlet
        elif f.outlet is None and who in interviews and f.kind != "direct_continued":
            f.outlet, f.outlet_how = interviews[who], "interview"
    for f in found:
        if f.outlet is not None:
            f.outlet_platform = ctx.text[f.outlet[0]:f.outlet[1]] in ctx.lex.platform_words
    return found


def drop_own_outlets(found: list[Found], text: str, publisher: str | None) -> list[Found]:
    """No quote came "through" the article itself: an outlet naming the publisher, or the wire
    service the article is copy of, is dropped (a source that is that outlet stays a Speaker)."""
    from builder.propose.outlets import is_own_outlet, wire_of

    own = [p for p in (publisher, wire_of(text)) if p]
    if not own:
        return found
    for f in found:
        if f.outlet is not None and any(is_own_outlet(text[f.outlet[0]:f.outlet[1]], p) for p in own):
            f.outlet, f.outlet_how, f.outlet_platform = None, None, False
            f.speaker_is_outlet = False
    return found


def inherit_outlets(found: list[Found]) -> list[Found]:
    """Reported speech inside a quote relayed by an outlet reached us through that outlet too."""
    for f in found:
        if f.outlet is None:
            outer = [g for g in found if g is not f and g.outlet is not None and inside(f.quote, g.quote)]
            if outer:
                f.outlet = outer[0].outlet
    return found


def dedupe(found: list[Found]) -> list[Found]:
    """Keep one quote per range (the best scored); drop a quote contained in a better one with the same cue."""
    best: dict[Range, Found] = {}
    for f in found:
        if f.quote not in best or f.score > best[f.quote].score:
            best[f.quote] = f
    items = sorted(best.values(), key=lambda f: (f.quote[0], -f.quote[1]))
    out: list[Found] = []
    for f in items:
        if any(g.cue == f.cue and g.cue is not None and inside(f.quote, g.quote) for g in out):
            continue
        out.append(f)
    return out


# the speech-scope rule passes, in this order (``attribute_indirect``; broad.py adds the broad ones)
for _name, _pass in (("quotes.rules.verb_clauses.v1", verb_clauses), ("quotes.rules.according.v1", _according),
                     ("quotes.rules.colon_paragraphs.v1", colon_paragraphs)):
    register(_name)(_pass)
