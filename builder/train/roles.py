"""``quotes_cues_sources``: learned bounds of the cues and sources of the rules' quote records.

The rules find a cue verb and its speaker's head well, but bound them by their own scheme
("Obama", "said"), while a corpus may bound them otherwise (PolNeAR: "Mr. Obama", "White
House Press Secretary Josh Earnest", "Michael Tanner, an analyst at the Cato Institute";
"has repeatedly said", "did not respond to", "called for"). This component keeps each rules
record and re-bounds its cue and its source: it lists candidate bounds around the rules'
span from the parse (for a source: every cut of its head's subtree at a child, and of the
phrase it is a conjunct, apposition or possessor of; for a cue: the tokens up to a few before
and after its verb in the sentence, never into the quote or the source) and keeps the one a
linear model scores best. The model (logistic regression over sparse features of the
candidate's edges and of the children it keeps or cuts: lemma of closed-class words, POS,
dependency label, entity type, relation to the head) is trained by
``builder.train.roles_training.train_cues_sources`` on articles the rules annotated, against
their gold, and stored as plain JSON weights. It also adds the attributions the rules missed
that a third model (``missed_records``: a verb, adjective or noun and a content it governs,
a clause, an object, a prepositional object, a passive's subject) scores above a threshold
chosen on the validation articles.

Proposing needs no scikit-learn (a sum of weights per candidate).
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.tokens import Doc, Span, Token

from builder.train.offsets import TokenRange, char_range, token_range, token_span

ROLES_MODEL = "quotes.cues_sources.v2"   # v2: missed attributions of nouns, adjectives, passives, prepositions
ROLES = ("source", "cue")
NAMED = {"PROPN", "NUM", "X", "SYM"}           # open classes whose words are names: only their POS is a feature
HEAD_DEPS = {"conj", "appos", "compound", "poss", "nmod"}  # a source head inside a larger phrase
CUE_BEFORE, CUE_AFTER = 5, 6                    # tokens a cue may reach either side of its verb
MAX_SOURCE = 40                                 # tokens in a source candidate at most


# -- features ----------------------------------------------------------------------------

def _word(tok: Token) -> str:
    return tok.pos_ if tok.pos_ in NAMED or tok.like_num else tok.lemma_.lower()


def _tok(prefix: str, tok: Token | None) -> list[str]:
    if tok is None:
        return [f"{prefix}:none"]
    return [f"{prefix}:pos={tok.pos_}", f"{prefix}:dep={tok.dep_}", f"{prefix}:w={_word(tok)}",
            f"{prefix}:ent={tok.ent_type_ or '-'}"]


def _beside(doc: Doc, a: int, b: int) -> tuple[Token | None, Token | None]:
    """The token before and the token after the range [a, b) (None at the doc's edges)."""
    return (doc[a - 1] if a > 0 else None), (doc[b] if b < len(doc) else None)


def _edge_features(doc: Doc, a: int, b: int) -> list[str]:
    """Features of a candidate's first (F) and last (L) token and of the tokens before (B) and after (A) it."""
    before, after = _beside(doc, a, b)
    return _tok("F", doc[a]) + _tok("L", doc[b - 1]) + _tok("B", before) + _tok("A", after)


def _bucket(n: int) -> str:
    for edge in (1, 2, 3, 5, 8, 12, 20):
        if n <= edge:
            return str(edge)
    return "more"


def _trim(doc: Doc, a: int, b: int) -> TokenRange:
    while a < b and (doc[a].is_punct or doc[a].is_space):
        a += 1
    while b > a and (doc[b - 1].is_punct or doc[b - 1].is_space):
        b -= 1
    return a, b


def _hits(a: TokenRange, b: TokenRange | None) -> bool:
    return b is not None and min(a[1], b[1]) > max(a[0], b[0])


# -- sources -----------------------------------------------------------------------------

def _source_heads(head: Token) -> list[Token]:
    """The head and up to two phrases it is part of (conjunct, apposition, compound, possessor)."""
    heads, tok = [head], head
    for _ in range(2):
        if tok.dep_ not in HEAD_DEPS or tok.head.i == tok.i or tok.head.pos_ not in {"NOUN", "PROPN", "PRON"}:
            break
        tok = tok.head
        heads.append(tok)
    return heads


def source_candidates(doc: Doc, span: Span) -> list[TokenRange]:
    """Token ranges a source headed like ``span`` may take: each start and end where the
    subtree of its head (or of a phrase the head belongs to) can be cut at a child, the
    head's entity and the rules' own span; edge punctuation trimmed."""
    head = span.root
    starts, ends = {span.start, head.i}, {span.end, head.i + 1}
    for h in _source_heads(head):
        starts.add(h.left_edge.i)
        ends.add(h.right_edge.i + 1)
        for c in h.lefts:
            starts.update((c.left_edge.i, c.right_edge.i + 1))
        for c in h.rights:
            ends.update((c.left_edge.i, c.right_edge.i + 1))
        if h.ent_iob_ in {"B", "I"}:
            a, b = h.i, h.i + 1
            while a > 0 and doc[a].ent_iob_ == "I":
                a -= 1
            while b < len(doc) and doc[b].ent_iob_ == "I":
                b += 1
            starts.add(a)
            ends.add(b)
    out = set()
    for a in starts:
        for b in ends:
            if a <= head.i < b and b - a <= MAX_SOURCE:
                t = _trim(doc, a, b)
                if t[0] <= head.i < t[1]:
                    out.add(t)
    return sorted(out)


def source_features(doc: Doc, cand: TokenRange, span: Span, cue: TokenRange | None, quote: TokenRange | None,
                    record: Any) -> list[str]:
    a, b = cand
    head = span.root
    heads = _source_heads(head)
    feats = ["bias", f"len={_bucket(b - a)}", f"H:pos={head.pos_}", f"H:dep={head.dep_}",
             f"H:ent={head.ent_type_ or '-'}", f"kind={record.kind}", f"outlet={record.speaker_is_outlet}"]
    if cand == (span.start, span.end):
        feats.append("rules")
    feats += ["start=rules" if a == span.start else ("start<rules" if a < span.start else "start>rules"),
              "end=rules" if b == span.end else ("end<rules" if b < span.end else "end>rules")]
    if cand == _trim(doc, head.left_edge.i, head.right_edge.i + 1):
        feats.append("subtree")
    feats += _edge_features(doc, a, b)
    for depth, h in enumerate(heads):
        inside = a <= h.i < b
        if depth:
            feats.append(f"up{depth}:{heads[depth - 1].dep_}:{'in' if inside else 'out'}")
        if not inside:
            continue
        for c in h.children:
            side = "L" if c.i < h.i else "R"
            kept = a <= c.i < b and (a <= c.left_edge.i and c.right_edge.i < b)
            part = not kept and a <= c.i < b
            state = "in" if kept else ("part" if part else "out")
            feats += [f"{state}:{side}:{c.dep_}", f"{state}:{side}:{c.dep_}:{_word(c)}" if c.pos_ not in NAMED
                      else f"{state}:{side}:{c.dep_}:{c.pos_}"]
    words = doc[a:b]
    if cue is not None and _hits(cand, cue):
        feats.append("has_cue")
    if quote is not None and _hits(cand, quote):
        feats.append("has_quote")
    if cue is not None:
        feats.append("before_cue" if b <= cue[0] else "after_cue")
    commas = sum(t.text == "," for t in words)
    feats += [f"commas={min(commas, 3)}", f"paren={'(' in words.text}", f"verb={any(t.pos_ in {'VERB', 'AUX'} for t in words)}",
              f"sents={words[0].sent.start != words[-1].sent.start}"]
    return feats


# -- cues --------------------------------------------------------------------------------

def _relation(tok: Token, verb: Token) -> str:
    if tok.head.i == verb.i:
        return "child"
    if verb.head.i == tok.i:
        return "head"
    if tok.head.i == verb.head.i:
        return "sib"
    if tok.head.head.i == verb.i:
        return "grandchild"
    return "other"


def cue_candidates(doc: Doc, span: Span, blocked: list[TokenRange]) -> list[TokenRange]:
    """Token ranges a cue with ``span``'s verb may take: up to ``CUE_BEFORE`` tokens before it
    and ``CUE_AFTER`` after it, within its sentence, touching no ``blocked`` range (the
    quote, the source) and no quotation mark; the rules' span always."""
    verb = span.root
    sent = verb.sent
    out = {(span.start, span.end)}

    def free(i: int) -> bool:
        return not any(r[0] <= i < r[1] for r in blocked) and not doc[i].is_quote

    lo = verb.i
    while lo > max(sent.start, verb.i - CUE_BEFORE) and free(lo - 1):
        lo -= 1
    hi = verb.i + 1
    while hi < min(sent.end, verb.i + 1 + CUE_AFTER) and free(hi):
        hi += 1
    for a in range(lo, verb.i + 1):
        for b in range(verb.i + 1, hi + 1):
            t = _trim(doc, a, b)
            if t[0] <= verb.i < t[1]:
                out.add(t)
    return sorted(out)


def cue_features(doc: Doc, cand: TokenRange, span: Span, record: Any) -> list[str]:
    a, b = cand
    verb = span.root
    vw = _word(verb)
    feats = ["bias", f"len={_bucket(b - a)}", f"V:w={vw}", f"V:pos={verb.pos_}", f"V:dep={verb.dep_}",
             f"V:tag={verb.tag_}", f"kind={record.kind}"]
    if cand == (span.start, span.end):
        feats.append("rules")
    feats += _edge_features(doc, a, b)
    for edge, tok in zip("BA", _beside(doc, a, b)):
        if tok is not None:
            feats.append(f"{edge}:rel={_relation(tok, verb)}:{tok.dep_}")
    for t in doc[a:b]:
        if t.i == verb.i:
            continue
        side = "L" if t.i < verb.i else "R"
        rel = _relation(t, verb)
        feats += [f"in:{side}:{rel}:{t.dep_}", f"in:{side}:w={_word(t)}", f"in:{side}:{rel}:w={_word(t)}",
                  f"V={vw}|{side}={_word(t)}"]
    feats.append(f"punct_in={sum(t.is_punct for t in doc[a:b])}")
    return feats


# -- scoring -----------------------------------------------------------------------------

def _score(weights: dict[str, float], feats: list[str]) -> float:
    return sum(weights.get(f, 0.0) for f in feats)


def _best(weights: dict[str, float], cands: list[TokenRange], feats: list[list[str]]) -> TokenRange | None:
    """The best scored candidate, None when there is none (the record keeps its own bound)."""
    return max(zip(cands, feats), key=lambda cf: _score(weights, cf[1]))[0] if cands else None


def _groups(doc: Doc, record: Any, speaker: Span | None = None) -> dict[str, tuple[Span, list[TokenRange], list[list[str]]]]:
    """Per role the rules' span, its candidates and their features (the cue's candidates avoid
    ``speaker``, the chosen source, else the rules')."""
    out = {}
    quote = token_range(token_span(doc, record.quote))
    cue_span = token_span(doc, record.cue)
    src_span = token_span(doc, record.speaker)
    if src_span is not None:
        cands = source_candidates(doc, src_span)
        out["source"] = (src_span, cands, [source_features(doc, c, src_span, token_range(cue_span), quote, record)
                                           for c in cands])
    if cue_span is not None:
        blocked = [r for r in (quote, token_range(speaker if speaker is not None else src_span)) if r is not None]
        cands = cue_candidates(doc, cue_span, blocked)
        out["cue"] = (cue_span, cands, [cue_features(doc, c, cue_span, record) for c in cands])
    return out


def refine(doc: Doc, records: list[Any], weights: dict[str, dict[str, float]]) -> list[Any]:
    """The records, with the missed attributions the ``add`` model finds (``missed_records``),
    each source and cue moved to its best-scored candidate bounds."""
    added = missed_records(doc, records, weights)
    if added:
        records = sorted(records + added, key=lambda f: f.quote)
    out = []
    for f in records:
        groups = _groups(doc, f)
        speaker = f.speaker
        src = None
        if "source" in groups and weights.get("source"):
            _span, cands, feats = groups["source"]
            best = _best(weights["source"], cands, feats)
            if best is not None:
                src = doc[best[0]:best[1]]
                speaker = char_range(doc, best)
        cue = f.cue
        if f.cue is not None and weights.get("cue"):
            cue_groups = _groups(doc, replace(f, speaker=None), src) if src is not None else groups
            if "cue" in cue_groups:
                _span, cands, feats = cue_groups["cue"]
                best = _best(weights["cue"], cands, feats)
                cue = cue if best is None else char_range(doc, best)
        out.append(replace(f, speaker=speaker, cue=cue))
    return out


# -- the component -----------------------------------------------------------------------

class CuesSources(Pipe):
    """Re-bounds the cue and the source of each rules record (``doc._.quote_records`` and the
    ``doc.spans`` the rules write) with the trained weights; untrained, it changes nothing."""

    def __init__(self, nlp: Language, name: str = "quotes_cues_sources", weights: dict[str, Any] | None = None):
        self.name = name
        self.weights: dict[str, Any] = dict(weights or {})

    def __call__(self, doc: Doc) -> Doc:
        from builder.propose.components import QuoteAttribution

        if not self.weights:
            return doc
        records = list(doc._.quote_records or [])
        refined = refine(doc, records, self.weights)
        if refined or records:   # the adder may find attributions where the rules found none
            QuoteAttribution.set_annotations(self, doc, refined)
        return doc

    def to_disk(self, path, exclude=tuple()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / "weights.json").write_text(json.dumps(self.weights, sort_keys=True), "utf-8")

    def from_disk(self, path, exclude=tuple()) -> "CuesSources":
        file = Path(path) / "weights.json"
        self.weights = json.loads(file.read_text("utf-8")) if file.is_file() else {}
        model = self.weights.get("model", ROLES_MODEL)
        if model != ROLES_MODEL:
            raise ValueError(f"{file} holds {model} weights and this quotes reads {ROLES_MODEL}: train the "
                             "pipeline again with `quotes train` (the trained folder's meta.json says how)")
        return self


@Language.factory("quotes_cues_sources", default_config={})
def make_cues_sources(nlp: Language, name: str) -> CuesSources:
    return CuesSources(nlp, name)


# -- attributions the rules missed -------------------------------------------------------

SUBJECT_DEPS = {"nsubj", "nsubjpass"}
CUE_POS = {"VERB", "AUX", "NOUN", "ADJ"}         # words that may cue an attribution the rules missed
CLAUSE_DEPS = {"ccomp", "xcomp", "dobj"}         # a verb's or adjective's content child after it
NOUN_CLAUSE_DEPS = {"acl", "relcl", "ccomp"}     # a noun's complement clause ("an assertion that ...") ...
CLAUSE_MARKS = {"that", "whether", "if", "to"}   # ... which begins with one of these
PREDICATE_DEPS = {"acomp", "attr", "oprd"}       # a predicate that takes its verb's subject ("were critical of")


class Missed(NamedTuple):
    """A candidate attribution the rules missed: a cue word and a content it governs."""
    cue: Token
    subject: Token | None      # the speaker's head, if the parse gives one
    content: Token             # the content's head: its subtree is the content
    dep: str                   # its dependency label ("prep" for a prepositional object)
    prep: Token | None         # the preposition of a prepositional object

    @property
    def content_tokens(self) -> TokenRange:
        """The content's subtree as a token range (untrimmed)."""
        return self.content.left_edge.i, self.content.right_edge.i + 1


def _clause_mark(head: Token) -> str | None:
    """The word that opens the clause headed by ``head`` ("that", "whether", "if", "to"), if any."""
    return next((c.lower_ for c in head.children if c.dep_ in ("mark", "aux") and c.lower_ in CLAUSE_MARKS
                 and c.i < head.i), None)


def _subject(cue: Token) -> Token | None:
    """The speaker's head: a verb's subject before it (a passive's agent instead), a
    predicate's verb's subject ("leaders were critical of"), a noun's possessor ("his critique of")."""
    if cue.pos_ == "NOUN":
        return next((c for c in cue.children if c.dep_ == "poss"), None)
    own = next((c for c in cue.children if c.dep_ in SUBJECT_DEPS and c.i < cue.i), None)
    if own is not None and own.dep_ == "nsubjpass":
        agent = next((c for c in cue.children if c.dep_ == "agent"), None)
        return next((g for g in agent.children if g.dep_ == "pobj"), None) if agent is not None else None
    if own is None and cue.dep_ in PREDICATE_DEPS:
        own = next((c for c in cue.head.children if c.dep_ in SUBJECT_DEPS and c.i < cue.i), None)
    return own


def _contents(cue: Token) -> list[tuple[Token, str, Token | None]]:
    """The contents ``cue`` may govern, as ``(head, dependency, preposition)``: a verb's passive
    subject ("the memo was leaked"); after the cue, a verb's or adjective's clause or object, a
    noun's complement clause, and any word's prepositional object ("critical of", "an attack
    on"). Not covered: contents before an active cue, clauses the parse attaches elsewhere."""
    out = []
    for c in cue.children:
        if c.dep_ == "nsubjpass" and cue.pos_ == "VERB":
            out.append((c, c.dep_, None))
        if c.i <= cue.i:
            continue
        if cue.pos_ == "NOUN":
            if c.dep_ in NOUN_CLAUSE_DEPS and _clause_mark(c) is not None:
                out.append((c, c.dep_, None))
        elif c.dep_ in CLAUSE_DEPS:
            out.append((c, c.dep_, None))
        if c.dep_ == "prep":
            obj = next((g for g in c.children if g.dep_ in ("pobj", "pcomp")), None)
            if obj is not None:
                out.append((obj, "prep", c))
    return out


def missed_candidates(doc: Doc, records: list[Any]) -> list[Missed]:
    """Every word that may cue an attribution (a verb, adjective or noun outside every cue and
    source of the rules' records) with each content it governs (``_contents``)."""
    taken = set()
    for f in records:
        for rng in (f.cue, f.speaker):
            span = token_span(doc, rng)
            if span is not None:
                taken.update(range(span.start, span.end))
    out = []
    for cue in doc:
        if cue.pos_ not in CUE_POS or cue.i in taken:
            continue
        subj = _subject(cue)
        if subj is not None and subj.i in taken:
            continue
        out.extend(Missed(cue, subj, head, dep, prep) for head, dep, prep in _contents(cue))
    return out


def missed_features(m: Missed, records: list[Any]) -> list[str]:
    cue, subj, head = m.cue, m.subject, m.content
    vw = _word(cue)
    pw = m.prep.lower_ if m.prep is not None else "-"
    cd = f"{m.dep}_{pw}" if m.prep is not None else m.dep
    quoted = any(f.quote[0] <= cue.idx < f.quote[1] for f in records)
    inside = any(f.quote[0] <= head.idx < f.quote[1] for f in records)
    neg = any(c.dep_ == "neg" for c in cue.children)
    mark = _clause_mark(head) or "-"
    feats = ["bias", f"V:w={vw}", f"V:pos={cue.pos_}", f"V:tag={cue.tag_}", f"V:dep={cue.dep_}", f"C:dep={cd}",
             f"V={vw}|C={cd}", f"V:pos={cue.pos_}|C={cd}", f"P={pw}", f"mark={mark}", f"V={vw}|mark={mark}",
             f"in_quote={quoted}", f"C_in_quote={inside}", f"neg={neg}", f"C:pos={head.pos_}",
             f"C:ent={head.ent_type_ or '-'}", f"C:first={_word(head.left_edge)}",
             f"H:dep={cue.head.dep_ if cue.head.i != cue.i else 'ROOT'}", f"H:w={_word(cue.head)}"]
    if subj is None:
        feats.append("S:none")
    else:
        feats += [f"S:pos={subj.pos_}", f"S:ent={subj.ent_type_ or '-'}", f"S:w={_word(subj)}", f"S:dep={subj.dep_}",
                  f"V={vw}|S={subj.ent_type_ or subj.pos_}"]
    feats += [f"child:{c.dep_}" for c in cue.children]
    return feats


def missed_records(doc: Doc, records: list[Any], weights: dict[str, Any]) -> list[Any]:
    """New records for the candidates the ``add`` model scores at least ``add_threshold``, the
    best one of each cue word: content the subtree of the content's head, cue the word (with
    its preposition right after it), speaker the subject's subtree."""
    import math

    from builder.propose.extract import Found

    add, threshold = weights.get("add"), weights.get("add_threshold")
    if not add or threshold is None:
        return []
    best: dict[int, tuple[float, Any]] = {}
    for m in missed_candidates(doc, records):
        p = 1 / (1 + math.exp(-_score(add, missed_features(m, records))))
        if p < threshold or p <= best.get(m.cue.i, (0.0, None))[0]:
            continue
        a, b = _trim(doc, *m.content_tokens)
        if b <= a:
            continue
        speaker = None
        if m.subject is not None:
            s0, s1 = _trim(doc, m.subject.left_edge.i, m.subject.right_edge.i + 1)
            speaker = char_range(doc, (s0, s1)) if s1 > s0 else None
        cue_end = m.prep.i + 1 if m.prep is not None and m.prep.i == m.cue.i + 1 else m.cue.i + 1
        best[m.cue.i] = (p, Found(quote=char_range(doc, (a, b)), quote_type="indirect", kind="learned",
                                  cue=char_range(doc, (m.cue.i, cue_end)), speaker=speaker, score=round(p, 4)))
    return [f for _p, f in best.values()]

