"""Training ``quotes_cues_sources`` (``builder.train.roles``): its candidates labelled against
gold articles as the strict scorer (``builder.evaluate.strict``) reads spans, logistic
regressions (scikit-learn) turned into the plain weights the component sums."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from spacy.tokens import Doc

from builder.train.offsets import char_range
from builder.train.roles import ROLES, ROLES_MODEL, _groups, missed_candidates, missed_features, refine


# -- training ----------------------------------------------------------------------------

def _key(text: str, rng: tuple[int, int]) -> tuple:
    from builder.evaluate.strict import span_key
    from builder.schema import Region

    return span_key(Region(id="", label="", start=rng[0], end=rng[1], text=text[rng[0]:rng[1]]))


def gold_keys(regions: list[Any], relations: list[Any]) -> dict[str, set[tuple]]:
    """Word-token keys of the gold sources and cues (as the strict scorer reads them)."""
    from builder.evaluate.strict import role_spans

    spans = role_spans(regions, relations)
    return {role: spans[role] for role in ROLES}


def training_groups(docs: Iterable[Doc], golds: Iterable[tuple[list[Any], list[Any]]]) -> dict[str, list]:
    """Per role: (features of each candidate, index set of the right ones) for every rules
    record whose span has at least one candidate equal to a gold span."""
    out: dict[str, list] = {role: [] for role in ROLES}
    for doc, (regions, relations) in zip(docs, golds):
        keys = gold_keys(regions, relations)
        text = doc.text
        for f in doc._.quote_records or []:
            groups = _groups(doc, f)
            if "source" in groups and "cue" in groups:  # the cue learns with the right source blocked, as used
                right = [c for c in groups["source"][1] if _key(text, char_range(doc, c)) in keys["source"]]
                if right:
                    groups["cue"] = _groups(doc, replace(f, speaker=None), doc[right[0][0]:right[0][1]])["cue"]
            for role, (_span, cands, feats) in groups.items():
                labels = [_key(text, char_range(doc, c)) in keys[role] for c in cands]
                if any(labels):
                    out[role].append((feats, labels))
    return out


MIN_WEIGHT = 1e-6   # feature weights at most this far from 0 are left out of the saved weights


def fit(groups: list, c: float = 1.0) -> dict[str, float]:
    """Logistic regression over the candidates of all groups (right vs not), as feature weights."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    rows, y = [], []
    for feats, labels in groups:
        for f, lab in zip(feats, labels):
            rows.append(dict.fromkeys(f, 1.0))
            y.append(int(lab))
    if len(set(y)) < 2:
        return {}   # nothing to tell apart: the rules' bounds stay
    vec = DictVectorizer()
    X = vec.fit_transform(rows)
    model = LogisticRegression(C=c, max_iter=2000, fit_intercept=False)
    model.fit(X, y)
    return {name: round(float(w), 5) for name, w in zip(vec.get_feature_names_out(), model.coef_[0])
            if abs(w) > MIN_WEIGHT}


ADD_THRESHOLDS = (0.4, 0.5, 0.6, 0.7, 0.8)


def train_cues_sources(docs: list[Doc], golds: list[tuple[list[Any], list[Any]]], c: float = 1.0,
                       dev_docs: list[Doc] | None = None,
                       dev_golds: list[tuple[list[Any], list[Any]]] | None = None) -> dict[str, Any]:
    """Weights of both roles, trained on ``docs`` (``doc._.quote_records`` set by the rules)
    against ``golds`` (regions and relations over the same texts); with validation articles,
    also the ``add`` model of missed attributions and its threshold: the one of
    ``ADD_THRESHOLDS`` with the best sum of strict F1 (content, source, cue) on them, if any
    beats adding nothing."""
    groups = training_groups(docs, golds)
    weights: dict[str, Any] = {"model": ROLES_MODEL, "groups": {r: len(g) for r, g in groups.items()},
                               **{role: fit(groups[role], c) if groups[role] else {} for role in ROLES}}
    if not dev_docs:
        return weights
    rows = missed_rows(docs, golds)
    weights["add"] = fit([([f for f, _ in rows], [r for _, r in rows])], c) if rows else {}
    weights["groups"]["add"] = len(rows)
    best, best_sum = None, sum(refined_strict_f1(dev_docs, dev_golds or [], weights).values())
    for threshold in ADD_THRESHOLDS if weights["add"] else ():
        total = sum(refined_strict_f1(dev_docs, dev_golds or [], {**weights, "add_threshold": threshold}).values())
        if total > best_sum:
            best, best_sum = threshold, total
    weights["add_threshold"] = best
    return weights


def refined_strict_f1(docs: list[Doc], golds: list[tuple[list[Any], list[Any]]],
                      weights: dict[str, Any]) -> dict[str, float]:
    """Strict exact F1 per role (``builder.evaluate.strict``; 0.0 where undefined) of the records
    ``refine`` makes of ``doc._.quote_records`` with ``weights``, against ``golds``."""
    from builder.evaluate.gold import PredDoc
    from builder.evaluate.strict import ROLES as ALL_ROLES, StrictFigures, strict_doc
    from builder.schema import Region, Relation

    total = StrictFigures()
    for doc, (regions, relations) in zip(docs, golds):
        text, pred, links = doc.text, [], []
        for i, f in enumerate(refine(doc, list(doc._.quote_records or []), weights)):
            pred.append(Region(id=f"q{i}", label="Quote", start=f.quote[0], end=f.quote[1],
                               text=text[f.quote[0]:f.quote[1]]))
            for label, rng, rel in (("Speaker", f.speaker, "said_by"), ("Cue", f.cue, "cue")):
                if rng:
                    pred.append(Region(id=f"{rel}{i}", label=label, start=rng[0], end=rng[1], text=text[rng[0]:rng[1]]))
                    links.append(Relation(from_id=f"q{i}", to_id=f"{rel}{i}", label=rel))
        gold = PredDoc("", regions, relations)
        total.add(strict_doc(gold, PredDoc("", pred, links)))
    return {role: total.f1(role) or 0.0 for role in ALL_ROLES}


def missed_rows(docs: Iterable[Doc], golds: Iterable[tuple[list[Any], list[Any]]]) -> list:
    """``(features, right)`` of every missed-attribution candidate: right when a gold cue covers
    its cue word and that cue's gold content overlaps its content."""
    rows = []
    for doc, (regions, relations) in zip(docs, golds):
        by_id = {r.id: r for r in regions}
        pairs = [(by_id[r.to_id], by_id[r.from_id]) for r in relations
                 if r.label == "cue" and r.to_id in by_id and r.from_id in by_id]
        records = list(doc._.quote_records or [])
        for m in missed_candidates(doc, records):
            a, b = char_range(doc, m.content_tokens)
            right = any(c.start <= m.cue.idx < c.end and q.start < b and a < q.end for c, q in pairs)
            rows.append((missed_features(m, records), right))
    return rows
