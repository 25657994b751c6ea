"""The training half of ``quotes_content`` (it reads the gold as ``builder.evaluate`` does, so
proposing, which imports ``builder.train.content`` only, imports no other stage)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from spacy.tokens import Doc

from builder.train.content import (ContentRefiner, Linear, _near, end_candidates, end_features, keep_features,
                                   record_views, rule_bounds, start_candidates, start_features)


# -- training ----------------------------------------------------------------------------------

@dataclass
class RecordRows:
    """What one rules record of a training article teaches: the features of its start and end
    candidates, labelled right when the candidate is the first (last) word of the gold quote it
    overlaps most, and of the whole record, labelled right when it overlaps a gold quote."""
    start_rows: list[list[str]]
    start_labels: list[int]
    end_rows: list[list[str]]
    end_labels: list[int]
    keep_row: list[str]
    keep_label: int


def gold_word_bounds(regions: Iterable[Any]) -> list[tuple[int, int, set[tuple[int, int]]]]:
    """(first word start, last word end, word offsets) of each gold Quote, as the strict scorer reads it."""
    from builder.evaluate.matching import tokens

    out = []
    for r in regions:
        if r.label != "Quote":
            continue
        toks = tokens(r)
        if toks:
            out.append((toks[0].start, toks[-1].end, {(t.start, t.end) for t in toks}))
    return out


def record_examples(doc: Doc, gold: list[tuple[int, int, set]]) -> list[RecordRows]:
    """Candidates of each record of ``doc`` labelled against the gold quote it overlaps most."""
    from builder.evaluate.matching import WORD

    records = list(doc._.quote_records or [])
    facts, words_between, views, live = record_views(doc, records)
    text = doc.text
    out = []
    for f, v in zip(records, views):
        if v is None:
            continue
        words = {(m.start() + f.quote[0], m.end() + f.quote[0]) for m in WORD.finditer(text[f.quote[0]:f.quote[1]])}
        best = max(gold, key=lambda g: len(words & g[2]) / len(words | g[2]), default=None)
        hit = best is not None and len(words & best[2]) > 0
        ex = RecordRows([], [], [], [], keep_features(doc, facts, v, f, live, text), int(hit))
        near = _near(v, live, facts)
        bounds = rule_bounds(doc, facts, v)
        if hit and bounds is not None:
            rule_s, rule_e = bounds
            for i in start_candidates(facts, v):
                ex.start_rows.append(start_features(facts, v, i, rule_s, words_between, near))
                ex.start_labels.append(int(doc[i].idx <= best[0] < doc[i].idx + len(doc[i].text)))
            for i in end_candidates(facts, v):
                ex.end_rows.append(end_features(facts, v, i, rule_e, words_between, near))
                ex.end_labels.append(int(doc[i].idx < best[1] <= doc[i].idx + len(doc[i].text)))
        out.append(ex)
    return out


def train_content(docs: list[Doc], golds: list[list[Any]], refiner: ContentRefiner | None = None,
                  c: float = 0.5, progress: Callable[[str], None] | None = None) -> ContentRefiner:
    """Fit the start, end and keep models on rules-annotated ``docs`` and their gold regions."""
    say = progress or (lambda _m: None)
    refiner = refiner or ContentRefiner(None)
    examples = [ex for doc, regions in zip(docs, golds)
                for ex in record_examples(doc, gold_word_bounds(regions))]
    rows: dict[str, tuple[list, list]] = {"start": ([], []), "end": ([], []), "keep": ([], [])}
    for ex in examples:
        if 1 in ex.start_labels:  # a candidate can reach the gold bound: learn from it
            rows["start"][0].extend(ex.start_rows)
            rows["start"][1].extend(ex.start_labels)
        if 1 in ex.end_labels:
            rows["end"][0].extend(ex.end_rows)
            rows["end"][1].extend(ex.end_labels)
        rows["keep"][0].append(ex.keep_row)
        rows["keep"][1].append(ex.keep_label)
    for key, (x, y) in rows.items():
        if len(set(y)) < 2:
            say(f"quotes_content: no {key} model (too few examples)")
            continue
        say(f"quotes_content: fitting {key} on {len(y)} rows ({sum(y)} positive)")
        setattr(refiner, f"{key}_model", Linear.fit(x, y, c))
        refiner.trained[key] = len(y)
    return refiner
