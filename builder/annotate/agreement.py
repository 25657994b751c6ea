"""``quotes agreement``: inter-annotator agreement (``builder.records.agreement``, the one
definition) and, per proposer version, precision / recall of its regions against the resolved
annotation, and how many annotations were submitted unchanged.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from builder.records.agreement import annotator_agreement, count, items, prf
from builder.records.choice import live, resolve_annotations


def agreement_report(rows: list[dict], texts: dict[str, str], proposals: list[dict]) -> dict[str, Any]:
    """The agreement report from annotation rows, document texts and proposal rows. Pure."""
    rows = list(rows)
    iaa = annotator_agreement(rows, texts)
    live_rows = live(rows)
    by_doc = {r.doc_id for r in live_rows}
    resolved = resolve_annotations(rows)
    per_version: dict[str, dict[str, Any]] = {}
    tallies: dict[str, dict[str, Counter]] = {}
    for p in proposals:
        ann = resolved.get(p["doc_id"])
        if ann is None or p.get("error"):
            continue
        v = p["model_version"]
        entry = per_version.setdefault(v, {"documents": 0, "unchanged": 0})
        entry["documents"] += 1
        pred, gold = items(p["regions"] or [], p["relations"] or []), items(ann.regions, ann.relations)
        entry["unchanged"] += pred == gold
        count(pred, gold, tallies.setdefault(v, {}))
    for v, t in tallies.items():
        total = sum(t.values(), Counter())
        per_version[v]["overall"] = prf(total)
        per_version[v]["per_label"] = {k: prf(c) for k, c in sorted(t.items())}
    return {"annotations": len(live_rows), "documents": len(by_doc), "agreement": iaa,
            "proposer": dict(sorted(per_version.items()))}


def agreement(workspace: Any) -> dict[str, Any]:
    """The agreement report for a workspace's pulled annotations."""
    from builder.store import read_rows

    rows = list(read_rows(workspace.annotations))
    docs = {r["doc_id"] for r in rows}
    texts = {r["doc_id"]: r["text"] for r in read_rows(workspace.documents, columns=["doc_id", "text"])
             if r["doc_id"] in docs}
    proposals = [p for p in read_rows(workspace.proposals) if p["doc_id"] in docs]
    return agreement_report(rows, texts, proposals)
