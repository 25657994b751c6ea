"""Annotator effort: what the proposals save, measured side by side in one run.

For every gold article the proposer runs on its text (``builder.evaluate.propose_gold``, each gold
with its own scope: our scheme for ../shared/gold, the broad scope for PolNeAR); then the edit
operations that turn the proposal into the gold are counted, quotes paired with the evaluation's
own matcher (``builder.evaluate.matching.match_quotes``, word overlap >= 0.3):

- regions added, deleted and moved (a moved region overlaps a gold region of its label but has
  other boundaries), quote types changed;
- relations (said_by, cue, via, refers_to) added, deleted and re-targeted (the same region and kind
  linked to another region).

Each kind of edit costs the UI actions (clicks, drags, key presses) that tests/ui measured in
Chromium in this project's task view (``bench/ui_actions.json``, asserted by
tests/ui/test_annotate.py). The same gold from an empty start (annotating from scratch) gives the
baseline; the ratio is what the proposals leave to do (target: <= 1/3 on ../shared/gold).

    .venv/bin/python bench/effort.py [--gold ../shared/gold] [--polnear ../shared/polnear-dev] [--limit N]
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]
SHARED = ROOT.parent / "shared"
COSTS = json.loads((Path(__file__).resolve().parent / "ui_actions.json").read_text())
MATCH_AT = 0.3

from builder.evaluate.matching import match_quotes, tokens  # noqa: E402
from builder.schema import Region, Relation  # noqa: E402

Span = tuple[str, int, int]  # (label, start, end)


def _key(g: Region) -> Span:
    return (g.label, g.start, g.end)


def pair_regions(gold: list[Region], pred: list[Region]) -> dict[str, str]:
    """pred region id -> gold region id: quotes by the evaluation's matcher, other labels by equal
    span first, then by overlap (a moved region)."""
    out: dict[str, str] = {}
    gq = [g for g in gold if g.label == "Quote"]
    pq = [p for p in pred if p.label == "Quote"]
    for m in match_quotes([tokens(p) for p in pq], [tokens(g) for g in gq]):
        if m.overlap >= MATCH_AT:
            out[pq[m.pred].id] = gq[m.gold].id
    rest_g = [g for g in gold if g.label != "Quote"]
    rest_p = [p for p in pred if p.label != "Quote"]
    by_span = {_key(g): g.id for g in rest_g}
    for p in rest_p:
        if _key(p) in by_span and by_span[_key(p)] not in out.values():
            out[p.id] = by_span[_key(p)]
    taken = set(out.values())
    for p in rest_p:
        if p.id in out:
            continue
        g = next((g for g in rest_g if g.id not in taken and g.label == p.label
                  and g.start < p.end and p.start < g.end), None)
        if g:
            out[p.id] = g.id
            taken.add(g.id)
    return out


def edits(gold_regions: list[Region], gold_relations: list[Relation], pred_regions: list[Region],
          pred_relations: list[Relation], *, types: bool = True) -> Counter:
    """Edit operations from the proposal to the gold, and their UI actions (key ``actions``)."""
    ops: Counter = Counter()
    to_gold = pair_regions(gold_regions, pred_regions)
    gold_by_id = {g.id: g for g in gold_regions}
    moved: set[str] = set()  # gold ids drawn again
    for p in pred_regions:
        g = gold_by_id.get(to_gold.get(p.id, ""))
        if g is None:
            ops["region_deleted"] += 1
        elif (g.start, g.end) != (p.start, p.end):
            ops["region_moved"] += 1
            moved.add(g.id)
        elif types and g.label == "Quote" and g.quote_type and g.quote_type != p.quote_type:
            ops["type_changed"] += 1
    matched = set(to_gold.values())
    added = {g.id for g in gold_regions if g.id not in matched}
    ops["region_added"] += len(added)
    added_quotes = sum(gold_by_id[i].label == "Quote" for i in added)
    moved_quotes = sum(gold_by_id[i].label == "Quote" for i in moved)

    want = {(r.from_id, r.label): r.to_id for r in gold_relations}
    have = {(to_gold[r.from_id], r.label): to_gold.get(r.to_id)
            for r in pred_relations if r.from_id in to_gold}
    redrawn = 0  # links of a moved or added region, drawn again with it
    for (src, label), dst in want.items():
        if src in added or dst in added or src in moved or dst in moved:
            redrawn += 1
        elif (src, label) not in have:
            ops["relation_added"] += 1
        elif have[(src, label)] != dst:
            ops["relation_retargeted"] += 1
    ops["relation_added"] += redrawn
    ops["relation_deleted"] += sum(1 for (src, label), dst in have.items()
                                   if (src, label) not in want and src not in moved and dst is not None)
    c = COSTS
    ops["actions"] = (c["submit"]
                      + ops["region_deleted"] * c["delete_region"]
                      + (ops["region_moved"] + ops["region_added"]) * c["add_region"]
                      + ops["region_moved"] * c["delete_region"]
                      + (added_quotes + moved_quotes) * c["set_new_quote_type"]
                      + ops["type_changed"] * c["change_type"]
                      + ops["relation_added"] * c["add_relation"]
                      + ops["relation_retargeted"] * c["retarget_relation"]
                      + ops["relation_deleted"] * c["delete_relation"])
    return ops


def in_scope(gold, regions: list[Region], relations: list[Relation]) -> tuple[list[Region], list[Relation]]:
    """What the gold marks at all: no Outlet regions / via links where it has no outlets, no
    refers_to where it has no coreference."""
    drop_labels = set() if gold.has_outlets else {"Outlet"}
    drop_rel = (set() if gold.has_outlets else {"via"}) | (set() if gold.has_coref else {"refers_to"})
    keep = {g.id for g in regions if g.label not in drop_labels}
    return ([g for g in regions if g.id in keep],
            [r for r in relations if r.label not in drop_rel and r.from_id in keep and r.to_id in keep])


def measure(name: str, gold_docs: list, cfg: dict) -> dict:
    from builder.evaluate import propose_gold

    preds = propose_gold(gold_docs, cfg, scope="auto")
    total, scratch, quotes = Counter(), Counter(), 0
    for g in gold_docs:
        p = preds.get(g.doc_id)
        pr, prel = in_scope(g, p.regions if p else [], p.relations if p else [])
        gr, grel = in_scope(g, g.regions, g.relations)
        total += edits(gr, grel, pr, prel, types=g.has_types)
        scratch += edits(gr, grel, [], [], types=g.has_types)
        quotes += sum(r.label == "Quote" for r in gr)
    n = len(gold_docs)
    ops = {k: v for k, v in total.items() if k != "actions"}
    return {"gold": name, "articles": n, "quotes": quotes, "edits": ops,
            "edits_per_quote": sum(ops.values()) / max(quotes, 1),
            "scratch_edits_per_quote": sum(v for k, v in scratch.items() if k != "actions") / max(quotes, 1),
            "actions_per_article": total["actions"] / max(n, 1),
            "scratch_actions_per_article": scratch["actions"] / max(n, 1),
            "ratio": total["actions"] / max(scratch["actions"], 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gold", default=str(SHARED / "gold"), help="Label Studio gold JSON folder; '' skips")
    ap.add_argument("--polnear", default=str(SHARED / "polnear-dev"), help="brat folder (broad scope); '' skips")
    ap.add_argument("--limit", type=int, default=None, help="first N PolNeAR articles only")
    args = ap.parse_args()
    from builder.config import load_config
    from builder.evaluate import load_gold

    cfg = load_config(None)
    rows = []
    for name, path in [("gold", args.gold), ("polnear-dev", args.polnear)]:
        if not path or not Path(path).exists():
            print(f"{name}: {path} not found, skipped")
            continue
        docs = load_gold([path])
        if name == "polnear-dev" and args.limit:
            docs = docs[:args.limit]
        rows.append(measure(name, docs, cfg))
    print(f"UI actions per edit (bench/ui_actions.json, measured by tests/ui): "
          + ", ".join(f"{k} {v}" for k, v in COSTS.items() if not k.startswith("_")))
    print(f"{'gold':<12} {'articles':>8} {'quotes':>6} {'edits/quote':>11} {'scratch':>8} "
          f"{'actions/article':>15} {'scratch':>8} {'ratio':>6}")
    for r in rows:
        print(f"{r['gold']:<12} {r['articles']:>8} {r['quotes']:>6} {r['edits_per_quote']:>11.2f} "
              f"{r['scratch_edits_per_quote']:>8.2f} {r['actions_per_article']:>15.1f} "
              f"{r['scratch_actions_per_article']:>8.1f} {r['ratio']:>6.2f}")
    for r in rows:
        print(f"{r['gold']} edits: " + ", ".join(f"{k} {v}" for k, v in sorted(r["edits"].items())))
    print("target: ratio <= 0.33 on gold (proposals leave at most a third of the from-scratch actions)")


if __name__ == "__main__":
    main()
