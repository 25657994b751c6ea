"""Broad-scope attribution (``[propose] scope = "broad"``): stances, intentions, evidence.

PolNeAR-style attribution also covers what a source thinks, wants, plans or shows: "criticized
the plan", "wants to run", "polls show that ...", "Name: statement" lines. These rules run only
when the lexicons' scope is broad; their patterns are weaker, so their scores stay below 0.8.
Pure functions over a parsed ``Doc``, returning ``Found`` records like ``extract``.
"""
from __future__ import annotations

import re
from dataclasses import replace

from spacy.tokens import Token

from builder.propose.extract import (
    Context, FIRST_SECOND, Found, NAME, Quoted, Range, SCORES, _content, _edges, mention,
    overlap, span_range, speaker_and_outlet, subject_of, token_range, trim,
)
from builder.propose.lexicons import Lexicons
from builder.propose.marks import words


def with_score(f: Found, score: float) -> Found:
    return replace(f, score=score)


LINE_LABELS = {"photo", "photos", "update", "updated", "note", "editor's note", "editor’s note", "related", "read more",
               "watch", "source", "sources", "credit", "abstract", "caption", "image", "video", "correction",
               "clarification", "disclosure", "follow", "subscribe", "advertisement", "tags", "topics", "see also",
               "more", "listen", "share", "email", "contact", "warning", "breaking", "exclusive", "opinion",
               "analysis", "live", "developing"}
_NAME_COLON = re.compile(r"(" + NAME + r"):[ \t]+(\S.*)")


def name_colon_lines(ctx: Context, directs: list[Quoted]) -> list[Found]:
    """Broad scope: a line "Name: statement" (headlines, interview lines) attributes the statement to Name."""
    out = []
    start = 0
    for line in ctx.text.split("\n"):
        m = _NAME_COLON.match(line)
        if m and len(m.group(1).split()) <= 4 and len(words(m.group(2))) >= 3:
            name = (start + m.start(1), start + m.end(1))
            if m.group(1).lower() not in LINE_LABELS:
                s, e = trim(ctx.text, start + m.start(2), start + m.end(2), keep_close=True)
                if not any(overlap((q.start, q.end), (s, e)) > 0.6 * (e - s) for q in directs):
                    out.append(Found(quote=(s, e), quote_type="indirect", kind="colon", cue=(name[1], name[1] + 1),
                                     speaker=name, score=SCORES["colon"]))
        start += len(line) + 1
    return out


def passive_objects(ctx: Context, directs: list[Quoted]) -> list[Found]:
    """Broad scope: "The plan was criticized by the council": the subject is the content, the agent the source."""
    out = []
    exclude = [(q.open, q.close + 1) for q in directs]
    for verb in ctx.cues:
        subj = next((c for c in verb.children if c.dep_ == "nsubjpass"), None)
        if subj is None or not any(c.dep_ == "agent" for c in verb.children) or any(
                c.dep_ in {"ccomp", "xcomp"} for c in verb.children):
            continue
        if ctx.para_of(verb.idx) is None or ctx.in_quote(token_range(verb)) is not None:
            continue
        content = object_content(ctx, _edges(subj), directs)
        if content is None:
            continue
        (s, e), qtype = content
        speaker, outlet, is_outlet = speaker_and_outlet(ctx, verb, exclude + [(s, e)])
        if speaker is not None:
            out.append(Found(quote=(s, e), quote_type=qtype, kind="object", cue=token_range(verb), speaker=speaker,
                             outlet=outlet, speaker_is_outlet=is_outlet, score=SCORES["object"]))
    return out


RAISING = {"seem", "appear"}


def raised(ctx: Context, directs: list[Quoted]) -> list[Found]:
    """Broad scope, no stated source: "X is expected to win", "X seems unlikely": the subject and
    the complement around the cue, as two parts of one content."""
    out = []
    for verb in ctx.cues:
        subj = next((c for c in verb.children if c.dep_ == "nsubjpass"
                     or (c.dep_ == "nsubj" and verb.lemma_.lower() in RAISING)), None)
        comp = next((c for c in verb.children if c.dep_ in {"xcomp", "oprd", "acomp"} and c.i > verb.i), None)
        if subj is None or comp is None or any(c.dep_ == "agent" for c in verb.children):
            continue
        if ctx.para_of(verb.idx) is None or ctx.in_quote(token_range(verb)) is not None:
            continue
        if subj.lower_ in {"that", "which", "who", "what"} or subj.pos_ == "PRON" and subj.lower_ in FIRST_SECOND:
            continue
        parts = [trim(ctx.text, *_edges(subj), drop_lead=False, keep_close=True), trim(ctx.text, *_edges(comp))]
        if any(any(overlap(p, (q.open, q.close + 1)) for q in directs) for p in parts):
            continue
        for part in parts:
            if part[1] > part[0]:
                out.append(Found(quote=part, quote_type="indirect", kind="raised", cue=token_range(verb),
                                 score=SCORES["nospeaker"]))
    return out


def _noun_holder(noun: Token) -> Token | None:
    """Whose claim or plan: the possessor, "by"/"from" X, or the subject that made or voiced it."""
    for child in noun.children:
        if child.dep_ == "poss":
            return child
    for child in noun.children:
        if child.dep_ == "prep" and child.lower_ in {"by", "from"}:
            return next((g for g in child.children if g.dep_ == "pobj"), None)
    if noun.dep_ in {"dobj", "attr"} and noun.head.pos_ in {"VERB", "AUX"}:
        return subject_of(noun.head)  # "the mayor repeated her claim", "she made the argument that"
    return None


def noun_cues(ctx: Context, directs: list[Quoted]) -> list[Found]:
    """Broad scope: a stance noun with a content clause ("her plan to cut taxes", "his claim that ...")."""
    out = []
    if not ctx.lex.content_nouns:
        return out
    exclude = [(q.open, q.close + 1) for q in directs]
    for noun in ctx.doc:
        if noun.pos_ != "NOUN" or noun.lemma_.lower() not in ctx.lex.content_nouns or ctx.para_of(noun.idx) is None:
            continue
        clause = next((c for c in noun.children if c.dep_ in {"acl", "ccomp"} and c.pos_ in {"VERB", "AUX"}
                       and c.i > noun.i and any(g.lower_ in {"that", "to"} for g in c.children)), None)
        if clause is None or ctx.in_quote(token_range(noun)) is not None:
            continue
        holder = _noun_holder(noun)
        if holder is None:
            continue
        content = _content(ctx, *_edges(clause), directs)
        if content is None:
            continue
        (s, e), qtype = content
        speaker = mention(holder)
        if any(overlap(span_range(speaker), r) for r in exclude + [(s, e)]):
            continue
        out.append(Found(quote=(s, e), quote_type=qtype, kind="noun", cue=token_range(noun),
                         speaker=span_range(speaker), score=SCORES["noun"]))
    return out


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
    dobj = next((c for c in verb.children if c.dep_ in {"dobj", "attr"}), None)
    rest = [c for c in verb.children if c.i > verb.i and c.dep_ in {"oprd", "prep", "ccomp", "xcomp"}
            and (c.dep_ != "prep" or c.lower_ in OBJECT_PREPS | COMPLEMENT_PREPS)]
    if dobj is not None:
        if dobj.tag_ in {"WP", "WDT"} or dobj.ent_type_ in CIRCUMSTANCE:
            return None
        comp = next((c for c in rest if c.i > dobj.i and (c.dep_ != "prep" or c.lower_ in COMPLEMENT_PREPS)), None)
        if comp is not None and comp.dep_ == "prep" and (comp.lower_ == "of" or comp.lower_ == "for" and _person_like(dobj)):
            obj = next((g for g in comp.children if g.dep_ in {"pobj", "pcomp"}), None)  # "accused her of lying"
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
            obj = next((g for g in child.children if g.dep_ in {"pobj", "pcomp"}), None)
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
