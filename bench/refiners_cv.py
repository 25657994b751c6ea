"""Cross-validated figures of the hybrid's refiners on PolNeAR train, beside PolNeAR dev.

PolNeAR dev has 84 articles and every rule change has been measured on it; a figure chosen
there is optimistic. This bench splits PolNeAR *train* into ``--folds`` folds of whole articles;
for each fold it fits the refiners (``quotes_cues_sources``, ``quotes_content``) on the other
folds, as ``quotes train`` fits them (``builder.train.trainer.fit_refiners``; the add threshold
chosen on dev), and prints strict exact F1 per role (content / source / cue) of the rules and
of the refined records on the held-out fold and on dev, then the means. The BIO tagger is not
trained: the default hybrid does not use it.

    nice -n 10 .venv/bin/python bench/refiners_cv.py [--train ../shared/polnear-train]
        [--dev ../shared/polnear-dev] [--folds 2] [--cache /tmp/quotes-polnear-cache]

Annotating PolNeAR train with the rules takes minutes; ``--cache`` keeps the annotated articles
(outside the repository: PolNeAR has no license) for the next run.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]
SHARED = ROOT.parent / "shared"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", type=Path, default=SHARED / "polnear-train")
    ap.add_argument("--dev", type=Path, default=SHARED / "polnear-dev")
    ap.add_argument("--folds", type=int, default=2, help="folds of the train articles (at least 2)")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "quotes-polnear-cache",
                    help="annotated articles kept here between runs")
    args = ap.parse_args()
    if args.folds < 2:
        sys.exit("bench/refiners_cv.py: --folds must be at least 2")
    if str(args.cache.resolve()).startswith(str(ROOT)):
        sys.exit("bench/refiners_cv.py: keep the annotated PolNeAR articles outside the repository (--cache)")

    from builder.evaluate.strict import ROLES
    from builder.train import TrainError, TrainSettings, read_brat
    from builder.train.trainer import build_pipeline, fit_refiners, format_strict, refined, rules_annotator, strict_f1

    t0 = time.perf_counter()
    try:
        corpus = read_brat(args.train, args.dev)
    except TrainError as e:
        sys.exit(f"bench/refiners_cv.py: {e} (--train, --dev)")
    train_arts, dev_arts = corpus.articles["train"], corpus.articles.get("validation") or []
    if len(train_arts) < args.folds:
        sys.exit(f"bench/refiners_cv.py: {len(train_arts)} train articles cannot make {args.folds} folds")
    settings = TrainSettings(cache_dir=str(args.cache))
    annotated = rules_annotator(settings, "broad")   # fresh docs each call: fitting and refining rewrite them
    annotated(train_arts), annotated(dev_arts)
    print(f"{len(train_arts)} train and {len(dev_arts)} dev articles annotated by the rules in "
          f"{time.perf_counter() - t0:.0f}s", flush=True)
    rows = []
    for k in range(args.folds):
        t1 = time.perf_counter()
        docs = annotated(train_arts)
        fit = [i for i in range(len(docs)) if i % args.folds != k]
        held = [i for i in range(len(docs)) if i % args.folds == k]
        nlp = build_pipeline(settings, "broad")
        dev = annotated(dev_arts) if dev_arts else []
        figures = fit_refiners(nlp, [docs[i] for i in fit], [train_arts[i] for i in fit], dev, dev_arts)
        held_docs, held_arts = [docs[i] for i in held], [train_arts[i] for i in held]
        rules_f1 = strict_f1(held_docs, held_arts)
        row = {"held-out rules": rules_f1, "held-out hybrid": strict_f1(refined(nlp, held_docs), held_arts),
               "dev rules": figures.get("validation_rules"), "dev hybrid": figures.get("validation_refined")}
        rows.append(row)
        print(f"fold {k + 1}/{args.folds} ({len(fit)} articles fitted, {len(held)} held out, "
              f"{time.perf_counter() - t1:.0f}s): " + "; ".join(f"{name} {format_strict(v)}"
                                                               for name, v in row.items() if v), flush=True)
    print(f"\nPolNeAR, broad scope, strict exact F1 (content / source / cue); refiners fitted on "
          f"{args.folds - 1}/{args.folds} of train")
    print(f"{'':<16} {'content':>8} {'source':>8} {'cue':>8}")
    for name in rows[0]:
        if rows[0][name] is None:
            continue
        mean = {role: sum(r[name][role] or 0 for r in rows) / len(rows) for role in ROLES}
        print(f"{name:<16} " + " ".join(f"{mean[role]:8.1f}" for role in ROLES))
    print(f"wall time {(time.perf_counter() - t0) / 60:.1f} min")


if __name__ == "__main__":
    main()
