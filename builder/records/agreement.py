"""Agreement between annotations: one definition (``quotes agreement`` and the dataset card print
it; Label Studio community edition has none).

* span F1 between every pair of annotators of a task, per label (exact label+offsets) and per
  relation (label + both end spans), micro-averaged over pairs;
* Cohen's kappa at token level (whitespace tokens; a token's class is the label of the
  innermost region covering it, else O), averaged over annotator pairs.

``items``, ``count`` and ``prf`` also score a proposal against its resolved annotation
(``builder.annotate.agreement``). Pure.
"""
from __future__ import annotations

import re
from collections import Counter
from itertools import combinations
from typing import Any

from builder.records.choice import live


def _spans(regions: list[Any]) -> dict[str, tuple]:
    return {_get(g, "id"): (_get(g, "label"), _get(g, "start"), _get(g, "end")) for g in regions}


def _get(obj: Any, key: str) -> Any:
    return obj[key] if isinstance(obj, dict) else getattr(obj, key)


def items(regions: list[Any], relations: list[Any]) -> set[tuple]:
    """Comparable items: ('span', label, start, end) and ('rel', label, from span, to span)."""
    spans = _spans(regions)
    out = {("span", *s) for s in spans.values()}
    for r in relations:
        a, b = spans.get(_get(r, "from_id")), spans.get(_get(r, "to_id"))
        if a and b:
            out.add(("rel", _get(r, "label"), a, b))
    return out


def _key(item: tuple) -> str:
    return item[1] if item[0] == "span" else f"rel:{item[1]}"


def count(pred: set[tuple], gold: set[tuple], tally: dict[str, Counter]) -> None:
    """Add tp/fp/fn per label of ``pred`` against ``gold`` to ``tally``."""
    for it in pred | gold:
        c = tally.setdefault(_key(it), Counter())
        c["tp" if it in pred and it in gold else "fp" if it in pred else "fn"] += 1


def prf(c: Counter) -> dict[str, float]:
    tp, fp, fn = c["tp"], c["fp"], c["fn"]
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4),
            "f1": round(2 * tp / (2 * tp + fp + fn), 4) if tp + fp + fn else 1.0, "support": tp + fn}


def token_classes(text: str, regions: list[Any]) -> list[str]:
    """Per whitespace token, the label of the shortest region covering it (else 'O')."""
    tokens = [m.span() for m in re.finditer(r"\S+", text)]
    ordered = sorted(regions, key=lambda g: _get(g, "end") - _get(g, "start"))
    out = []
    for s, e in tokens:
        lab = next((_get(g, "label") for g in ordered if _get(g, "start") < e and s < _get(g, "end")), "O")
        out.append(lab)
    return out


def cohen_kappa(a: list[str], b: list[str]) -> float | None:
    n = len(a)
    if n == 0:
        return None
    po = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    pe = sum(ca[k] * cb[k] for k in ca) / (n * n)
    return 1.0 if pe == 1 else (po - pe) / (1 - pe)


def _text_of(region_lists: list[list[Any]]) -> str:
    """A stand-in text when the document is unknown: characters covered by any region."""
    end = max((_get(g, "end") for rs in region_lists for g in rs), default=0)
    return " ".join("x" for _ in range(end))


def annotator_agreement(rows: list[dict], texts: dict[str, str] | None = None) -> dict[str, Any]:
    """The one definition of inter-annotator agreement (``quotes agreement`` and the dataset card both
    print it): over documents with live annotations by two or more annotators, span and relation F1
    per label micro-averaged over annotator pairs, and token-level Cohen's kappa. Pure."""
    by_doc: dict[str, list[Any]] = {}
    for r in live(rows):
        by_doc.setdefault(r.doc_id, []).append(r)
    texts = texts or {}
    tally: dict[str, Counter] = {}
    kappas: list[float] = []
    pairs = 0
    multi = {d: rs for d, rs in by_doc.items() if len({r.annotator for r in rs}) >= 2}
    for doc, rs in sorted(multi.items()):
        for a, b in combinations(sorted(rs, key=lambda r: r.annotation_id), 2):
            if a.annotator == b.annotator:
                continue
            pairs += 1
            count(items(a.regions, a.relations), items(b.regions, b.relations), tally)
            text = texts.get(doc)
            if text is None:  # unknown text: character-level units
                text = _text_of([a.regions, b.regions])
            k = cohen_kappa(token_classes(text, a.regions), token_classes(text, b.regions))
            if k is not None:
                kappas.append(k)
    return {"tasks": len(multi), "pairs": pairs,
            "f1": {k: prf(c) for k, c in sorted(tally.items())},
            "token_kappa": round(sum(kappas) / len(kappas), 4) if kappas else None}
