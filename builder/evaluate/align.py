"""Pairing each gold document with its prediction, and moving predicted offsets onto the gold text.

Predictions made from ingested text (NFC, whitespace tidied, invisible characters dropped)
do not share the gold text character for character, nor its doc_id (a hash of the text).
A gold document is paired with, in order:

1. the prediction of the same doc_id, else
2. the prediction of identical text, else
3. the most similar unpaired prediction: Jaccard similarity of word 3-shingles at least
   ``MIN_SIMILARITY`` (whitespace never counts).

When the paired texts differ, every predicted region is moved onto the gold text: through
the non-whitespace characters when those are equal (exact), else through the matching
blocks of ``difflib.SequenceMatcher``. A region none of whose characters survive is dropped,
with its relations. Not covered: a prediction on a different *version* of the story (edited
sentences) is paired when similar enough, and scored on what still lines up.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import replace
from typing import Any, Mapping

from builder.evaluate.gold import GoldDoc, PredDoc, Problem
from builder.schema import Region

MIN_SIMILARITY = 0.8
_WORD = re.compile(r"\w+")


def as_pred(doc_id: str, value: Any) -> PredDoc:
    """A PredDoc from a PredDoc, a (regions, relations) pair or a Proposal-like record."""
    if isinstance(value, PredDoc):
        return value
    if isinstance(value, tuple):
        regions, relations = value[0], value[1]
        return PredDoc(doc_id=doc_id, regions=list(regions), relations=list(relations))
    return PredDoc(doc_id=doc_id, regions=list(value.regions), relations=list(value.relations),
                   model_version=getattr(value, "model_version", None))


def shingles(text: str, size: int = 3) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    if len(words) < size:
        return {tuple(words)} if words else set()
    return {tuple(words[i:i + size]) for i in range(len(words) - size + 1)}


def similarity(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def char_map(src: str, dst: str) -> list[int]:
    """For each character of ``src``, its position in ``dst`` (-1 where it has none)."""
    out = [-1] * len(src)
    src_at = [i for i, c in enumerate(src) if not c.isspace()]
    dst_at = [i for i, c in enumerate(dst) if not c.isspace()]
    if len(src_at) == len(dst_at) and all(src[i] == dst[j] for i, j in zip(src_at, dst_at)):
        for i, j in zip(src_at, dst_at):
            out[i] = j
        return out
    matcher = difflib.SequenceMatcher(None, src, dst, autojunk=False)
    for a, b, n in matcher.get_matching_blocks():
        for k in range(n):
            out[a + k] = b + k
    return out


def remap_region(region: Region, cmap: list[int], dst: str) -> Region | None:
    """``region`` moved onto ``dst`` through ``cmap``; None when none of its characters survive."""
    hits = [cmap[i] for i in range(region.start, min(region.end, len(cmap))) if cmap[i] >= 0]
    if not hits:
        return None
    start, end = min(hits), max(hits) + 1
    return replace(region, start=start, end=end, text=dst[start:end])


def remap(pred: PredDoc, gold_text: str) -> PredDoc:
    """``pred`` with its regions moved onto ``gold_text`` (relations of dropped regions dropped)."""
    if pred.text is None or pred.text == gold_text:
        return pred
    cmap = char_map(pred.text, gold_text)
    regions = [r for r in (remap_region(r, cmap, gold_text) for r in pred.regions) if r is not None]
    kept = {r.id for r in regions}
    relations = [r for r in pred.relations if r.from_id in kept and r.to_id in kept]
    return replace(pred, regions=regions, relations=relations, text=gold_text)


def align(gold_docs: list[GoldDoc], predictions: Mapping[str, Any], problems: list[Problem]) -> list[PredDoc]:
    """The prediction of each gold doc, on the gold text (see the module docstring); an
    empty one, listed in ``problems``, where there is none."""
    preds = {k: as_pred(k, v) for k, v in predictions.items()}
    by_text = {p.text: p for p in preds.values() if p.text}
    chosen: dict[int, PredDoc] = {}
    for n, g in enumerate(gold_docs):
        p = preds.get(g.doc_id) or by_text.get(g.text)
        if p is not None:
            chosen[n] = p
    used = {id(p) for p in chosen.values()}
    free = [p for p in preds.values() if p.text and id(p) not in used]
    if free and len(chosen) < len(gold_docs):
        free_sh = [(p, shingles(p.text)) for p in free]
        for n, g in enumerate(gold_docs):
            if n in chosen:
                continue
            g_sh = shingles(g.text)
            best = max(((similarity(g_sh, sh), p) for p, sh in free_sh if id(p) not in used),
                       key=lambda x: x[0], default=(0.0, None))
            if best[1] is not None and best[0] >= MIN_SIMILARITY:
                chosen[n] = best[1]
                used.add(id(best[1]))
    out = []
    for n, g in enumerate(gold_docs):
        p = chosen.get(n)
        if p is None:
            problems.append(Problem(g.doc_id, "no_prediction",
                                    "predict this document too (it is scored as predicting nothing)"))
            p = PredDoc(doc_id=g.doc_id, regions=[], relations=[], text=g.text)
        elif p.text is not None and p.text != g.text:
            p = remap(p, g.text)
        out.append(p)
    return out
