"""Label Studio <-> records: the one conversion each way.

* a ``result`` list (a prediction's or an annotation's) <-> ``Region`` / ``Relation`` records
  (``regions_from_results``, ``results_from_regions``);
* a ``Proposal`` -> a prediction (``prediction``) and a task (``task``, ``task_of``): what
  ``quotes push`` imports and ``quotes propose -o tasks.json`` writes are the same;
* a task's annotation -> an ``Annotation`` row (``annotation_row``), as ``quotes pull`` stores it.

Pure: no server, no workspace (``builder.annotate`` talks to Label Studio).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from builder.records.scheme import IMPLIED_RELATION, LABELS, QUOTE_TYPES, RELATION_ENDS, RELATIONS, SchemeError
from builder.records.scores import confidence, task_score
from builder.schema import Proposal, Region, Relation, as_row, from_row

LABEL_FROM_NAME = "label"
TYPE_FROM_NAME = "quote_type"
TO_NAME = "text"
TASK_FIELDS = ("text", "doc_id", "publisher", "title", "url")  # a task's data: the text and what annotators see of it


# -- Label Studio results -> records ------------------------------------------------

def regions_from_results(results: Iterable[dict[str, Any]], text: str) -> tuple[list[Region], list[Relation]]:
    """Parse a Label Studio ``result`` list into regions and relations.

    Raises ``SchemeError`` on an unknown label or relation, or a region whose text is not
    ``text[start:end]``. A relation without a label gets the one its ends imply
    (``IMPLIED_RELATION``), and one drawn from its target to its quote is turned around. A region
    has at most one link of each kind: a later one replaces an earlier (re-linking is drawing the new link).
    """
    results = list(results)
    types: dict[str, str] = {}
    for r in results:
        if r.get("type") == "choices" and r.get("from_name") == TYPE_FROM_NAME:
            choice = (r.get("value", {}).get("choices") or [None])[0]
            if choice not in QUOTE_TYPES:
                raise SchemeError(f"region {r.get('id')}: unknown quote_type {choice!r}")
            types[r["id"]] = choice
    regions: list[Region] = []
    for r in results:
        if r.get("type") != "labels":
            continue
        v = r.get("value", {})
        labels = v.get("labels") or []
        if len(labels) != 1 or labels[0] not in LABELS:
            raise SchemeError(f"region {r.get('id')}: labels {labels!r} are not one of {LABELS}")
        start, end = int(v["start"]), int(v["end"])
        if not (0 <= start < end <= len(text)):
            raise SchemeError(f"region {r.get('id')}: offsets {start}:{end} outside the text ({len(text)} chars)")
        if "text" in v and v["text"] != text[start:end]:
            raise SchemeError(f"region {r.get('id')}: text {v['text']!r} is not text[{start}:{end}] {text[start:end]!r}")
        regions.append(Region(
            id=str(r["id"]), label=labels[0], start=start, end=end, text=text[start:end],
            quote_type=types.get(r["id"]) if labels[0] == "Quote" else None,
            score=float(r["score"]) if r.get("score") is not None else None,
        ))
    ids = {g.id: g for g in regions}
    relations: list[Relation] = []
    for r in results:
        if r.get("type") != "relation":
            continue
        if r.get("from_id") not in ids or r.get("to_id") not in ids:
            raise SchemeError(f"relation {r.get('labels')} {r.get('from_id')}->{r.get('to_id')}: end region missing")
        relations += _relations(ids[r["from_id"]], ids[r["to_id"]], r.get("labels") or [])
    latest = {(r.from_id, r.label): r for r in relations}  # one link of a kind per region: the last drawn
    return regions, [r for r in relations if latest[(r.from_id, r.label)] is r]


def _relations(a: Region, b: Region, labels: list[str]) -> list[Relation]:
    """The Relations between regions ``a`` and ``b`` as drawn (either direction): one per label (Label
    Studio keeps one relation per pair of regions, so "said_by" and "via" to one Outlet share it), or
    the one label the ends imply when none was picked."""
    if any(x not in RELATIONS for x in labels):
        raise SchemeError(f"relation {a.id}->{b.id}: labels {labels!r} not all in {RELATIONS}")
    implied = IMPLIED_RELATION.get((a.label, b.label)) or IMPLIED_RELATION.get((b.label, a.label))
    if not labels and implied is None:
        raise SchemeError(f"relation {a.id}->{b.id} ({a.label} -> {b.label}) has no label and its ends imply none: "
                          f"pick one of {RELATIONS}")
    out = []
    for label in labels or [implied]:
        source, targets = RELATION_ENDS[label]
        x, y = (b, a) if a.label != source and b.label == source and a.label in targets else (a, b)
        out.append(Relation(from_id=x.id, to_id=y.id, label=label))  # turned around when drawn towards the quote
    return out


# -- records -> Label Studio results -------------------------------------------------

def results_from_regions(regions: Iterable[Region], relations: Iterable[Relation]) -> list[dict[str, Any]]:
    """Label Studio ``result`` list (prediction or annotation) for regions and relations."""
    out: list[dict[str, Any]] = []
    for g in regions:
        value = {"start": g.start, "end": g.end, "text": g.text}
        item: dict[str, Any] = {"id": g.id, "from_name": LABEL_FROM_NAME, "to_name": TO_NAME,
                                "type": "labels", "value": {**value, "labels": [g.label]}}
        if g.score is not None:
            item["score"] = confidence(g.score)
        out.append(item)
        if g.label == "Quote" and g.quote_type:
            out.append({"id": g.id, "from_name": TYPE_FROM_NAME, "to_name": TO_NAME,
                        "type": "choices", "value": {**value, "choices": [g.quote_type]}})
    pairs: dict[tuple[str, str], list[str]] = {}  # Label Studio keeps one relation per pair of regions
    for r in relations:
        pairs.setdefault((r.from_id, r.to_id), []).append(r.label)
    for (a, b), labels in pairs.items():
        out.append({"from_id": a, "to_id": b, "type": "relation", "direction": "right", "labels": labels})
    return out


# -- proposals -> predictions and tasks ----------------------------------------------

def prediction(proposal: Any) -> dict[str, Any]:
    """A Label Studio prediction of a ``Proposal`` (a record or a stored row): its model version,
    the task score (``builder.records.scores.task_score``) and its result list."""
    proposal = from_row(Proposal, proposal)
    regions = list(proposal.regions or [])
    return {"model_version": proposal.model_version, "score": task_score(regions),
            "result": results_from_regions(regions, proposal.relations or [])}


def task(doc: Mapping[str, Any], proposals: Iterable[Any]) -> dict[str, Any]:
    """A Label Studio task: ``doc``'s ``TASK_FIELDS`` as its data, each proposal as a prediction."""
    return {"data": {k: doc.get(k) for k in TASK_FIELDS}, "predictions": [prediction(p) for p in proposals]}


def task_of(proposal: Any, text: str, data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The task of one proposal over ``text`` (offsets into it); ``data`` may add publisher, title, url."""
    return task({**(data or {}), "text": text, "doc_id": from_row(Proposal, proposal).doc_id}, [proposal])


# -- annotations -> Annotation rows --------------------------------------------------

def iso(value: Any) -> str | None:
    """A timestamp (str or datetime) as an ISO 8601 UTC string."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def annotation_row(task: Mapping[str, Any], ann: Mapping[str, Any], users: Mapping[Any, str],
                   pred_versions: Mapping[Any, str]) -> dict[str, Any]:
    """An ``Annotation`` row from a Label Studio task and one of its annotations (``SchemeError`` if
    off-scheme); ``users`` names annotators by id, ``pred_versions`` gives prediction id -> model version."""
    text = (task.get("data") or {}).get("text") or ""
    regions, relations = regions_from_results(ann.get("result") or [], text)
    who = ann.get("completed_by")
    if isinstance(who, dict):
        who = who.get("email") or who.get("id")
    return {
        "doc_id": str((task.get("data") or {}).get("doc_id") or task["id"]),
        "task_id": int(task["id"]), "annotation_id": int(ann["id"]),
        "annotator": users.get(who, str(who)) if who is not None else "unknown",
        "created_at": iso(ann.get("created_at")), "updated_at": iso(ann.get("updated_at")),
        "lead_time": float(ann["lead_time"]) if ann.get("lead_time") is not None else None,
        "was_cancelled": bool(ann.get("was_cancelled")), "ground_truth": bool(ann.get("ground_truth")),
        "deleted": False,
        "prediction_model_version": pred_versions.get(ann.get("parent_prediction")),
        "regions": [as_row(g) for g in regions], "relations": [as_row(r) for r in relations],
    }
