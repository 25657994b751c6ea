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
that a third model (``missed_records``: a verb with a subject before it and a content after
it) scores above a threshold chosen on the validation articles.

Proposing needs no scikit-learn (a sum of weights per candidate).
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.tokens import Doc, Span, Token

from builder.train.offsets import TokenRange, char_range, token_range, token_span

ROLES_MODEL = "quotes.cues_sources.v1"
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

        records = doc._.quote_records
        if not records or not self.weights:
            return doc
        QuoteAttribution.set_annotations(self, doc, refine(doc, list(records), self.weights))
        return doc

    def to_disk(self, path, exclude=tuple()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / "weights.json").write_text(json.dumps(self.weights, sort_keys=True), "utf-8")

    def from_disk(self, path, exclude=tuple()) -> "CuesSources":
        file = Path(path) / "weights.json"
        self.weights = json.loads(file.read_text("utf-8")) if file.is_file() else {}
        return self


@Language.factory("quotes_cues_sources", default_config={})
def make_cues_sources(nlp: Language, name: str) -> CuesSources:
    return CuesSources(nlp, name)


# -- attributions the rules missed -------------------------------------------------------

SUBJECT_DEPS = {"nsubj", "nsubjpass"}
CONTENT_DEPS = ("ccomp", "xcomp", "dobj")       # a missed attribution's content, in this preference
ABOUT = {"about", "on", "of", "for", "over", "against", "with"}


def _content_head(verb: Token) -> tuple[Token | None, str]:
    kids = list(verb.children)
    for dep in CONTENT_DEPS:
        for c in kids:
            if c.dep_ == dep and c.i > verb.i:
                return c, dep
    for c in kids:
        if c.dep_ == "prep" and c.lower_ in ABOUT and c.i > verb.i:
            obj = next((g for g in c.children if g.dep_ == "pobj"), None)
            if obj is not None:
                return obj, "prep_" + c.lower_
    return None, "-"


def missed_candidates(doc: Doc, records: list[Any]) -> list[tuple[Token, Token, Token, str]]:
    """Verbs with a subject before them and a content after them (a that-clause, an infinitive,
    an object, "about ..."), outside every cue and source of the rules' records:
    ``(verb, subject, content head, content dependency)``."""
    taken = set()
    for f in records:
        for rng in (f.cue, f.speaker):
            span = token_span(doc, rng)
            if span is not None:
                taken.update(range(span.start, span.end))
    out = []
    for verb in doc:
        if verb.pos_ != "VERB" or verb.i in taken:
            continue
        subj = next((c for c in verb.children if c.dep_ in SUBJECT_DEPS and c.i < verb.i), None)
        if subj is None or subj.i in taken:
            continue
        head, dep = _content_head(verb)
        if head is not None:
            out.append((verb, subj, head, dep))
    return out


def missed_features(verb: Token, subj: Token, head: Token, dep: str, records: list[Any]) -> list[str]:
    vw = _word(verb)
    quoted = any(f.quote[0] <= verb.idx < f.quote[1] for f in records)
    neg = any(c.dep_ == "neg" for c in verb.children)
    feats = ["bias", f"V:w={vw}", f"V:tag={verb.tag_}", f"V:dep={verb.dep_}", f"C:dep={dep}", f"V={vw}|C={dep}",
             f"S:pos={subj.pos_}", f"S:ent={subj.ent_type_ or '-'}", f"S:w={_word(subj)}", f"S:dep={subj.dep_}",
             f"in_quote={quoted}", f"neg={neg}", f"C:pos={head.pos_}", f"V={vw}|S={subj.ent_type_ or subj.pos_}",
             f"H:dep={verb.head.dep_ if verb.head.i != verb.i else 'ROOT'}", f"H:w={_word(verb.head)}"]
    feats += [f"child:{c.dep_}" for c in verb.children]
    return feats


def missed_records(doc: Doc, records: list[Any], weights: dict[str, Any]) -> list[Any]:
    """New records for the candidates the ``add`` model scores at least ``add_threshold``."""
    import math

    from builder.propose.extract import Found

    add, threshold = weights.get("add"), weights.get("add_threshold")
    if not add or threshold is None:
        return []
    out = []
    for verb, subj, head, dep in missed_candidates(doc, records):
        p = 1 / (1 + math.exp(-_score(add, missed_features(verb, subj, head, dep, records))))
        if p < threshold:
            continue
        a, b = _trim(doc, head.left_edge.i, head.right_edge.i + 1)
        if b <= a:
            continue
        s0, s1 = _trim(doc, subj.left_edge.i, subj.right_edge.i + 1)
        quote = char_range(doc, (a, b))
        out.append(Found(quote=quote, quote_type="indirect", kind="learned",
                         cue=char_range(doc, (verb.i, verb.i + 1)),
                         speaker=char_range(doc, (s0, s1)) if s1 > s0 else None, score=round(p, 4)))
    return out

