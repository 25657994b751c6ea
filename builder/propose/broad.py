"""Broad-scope attribution (``[propose] scope = "broad"``): stances, intentions, evidence.

PolNeAR-style attribution also covers what a source thinks, wants, plans or shows: "criticized
the plan", "wants to run", "polls show that ...", "Name: statement" lines. These rules run only
when the lexicons' scope is broad; their patterns are weaker, so their scores stay below 0.8.
Pure functions over a parsed ``Doc``, returning ``Found`` records like ``extract``; registered as
rule passes of the broad scope (``builder.propose.rules``). The nominal content of cue verbs
("criticized the plan") lives in ``extract`` with the verb rules it belongs to.
"""
from __future__ import annotations

from spacy.tokens import Token

from builder.propose.extract import (
    COMPLEMENT_CLAUSES, DIRECT_OBJECTS, Context, FIRST_SECOND, Found, Quoted, SCORES, _content, _edges,
    mention, object_content, overlap, span_range, speaker_and_outlet, speaker_label,
    subject_of, token_range, trim,
)
from builder.propose.rules import register


def name_colon_lines(ctx: Context, directs: list[Quoted]) -> list[Found]:
    """Broad scope: a line "Name: statement" (headlines, interview lines) attributes the statement to Name."""
    out = []
    start = 0
    for line in ctx.text.split("\n"):
        m = speaker_label(line)
        if m:
            name = (start + m.start(1), start + m.end(1))
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
                c.dep_ in COMPLEMENT_CLAUSES for c in verb.children):
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
PREDICATIVE = frozenset({"xcomp", "oprd", "acomp"})  # "is seen as X", "seems to X"
NOUN_CLAUSES = frozenset({"acl", "ccomp"})  # "her claim that X", "his plan to X"


def raised(ctx: Context, directs: list[Quoted]) -> list[Found]:
    """Broad scope, no stated source: "X is expected to win", "X seems unlikely": the subject and
    the complement around the cue, as two parts of one content."""
    out = []
    for verb in ctx.cues:
        subj = next((c for c in verb.children if c.dep_ == "nsubjpass"
                     or (c.dep_ == "nsubj" and verb.lemma_.lower() in RAISING)), None)
        comp = next((c for c in verb.children if c.dep_ in PREDICATIVE and c.i > verb.i), None)
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
    if noun.dep_ in DIRECT_OBJECTS and noun.head.pos_ in {"VERB", "AUX"}:
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
        clause = next((c for c in noun.children if c.dep_ in NOUN_CLAUSES and c.pos_ in {"VERB", "AUX"}
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


# registered in this order (their Found lists meet in ``extract.dedupe``, which keeps the first of equals)
for _name, _pass in (("quotes.rules.noun_cues.v1", noun_cues), ("quotes.rules.name_colon_lines.v1", name_colon_lines),
                     ("quotes.rules.raised.v1", raised), ("quotes.rules.passive_objects.v1", passive_objects)):
    register(_name, scope="broad")(_pass)
