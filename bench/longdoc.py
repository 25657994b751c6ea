"""Long-document benchmark: proposer time and peak memory on one long single-paragraph text.

Each size runs in its own subprocess (peak memory is that process's VmHWM, ``bench/peak.py``):
load the pipeline, warm it up on a short text, then time ``propose_texts`` on one document of
10 KB, 100 KB and 1 MB -- one paragraph, no line breaks, sentences with direct quotes -- as
wall time and as CPU time (the stable figure on a shared machine). The
proposer processes texts over ``[propose] window_chars`` in windows, so time should grow
linearly. Targets: time 1 MB / 100 KB at most 12x; peak memory under 1 GB.

    .venv/bin/python bench/longdoc.py                    # 10 KB, 100 KB, 1 MB
    .venv/bin/python bench/longdoc.py --sizes 10000,50000 # quick
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

from peak import peak_rss_mib  # noqa: E402

NAMES = ["Maria Lopez", "John Carter", "the minister", "a spokesman", "Dr. Amina Yusuf", "the mayor"]
VERBS = ["said", "told reporters", "added", "warned", "explained"]
WORDS = ("council budget river school clinic harbour minister market railway library farmer festival museum "
         "police weather bridge hospital election tunnel airport factory orchard village court teacher union "
         "station ferry garden parliament reporter theatre plan cost year week city people report").split()


def long_paragraph(chars: int, seed: int = 3) -> str:
    """One paragraph of about ``chars`` characters: narrative sentences and attributed quotes."""
    rnd = random.Random(seed)
    out, size = [], 0
    while size < chars:
        words = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(8, 20)))
        if rnd.random() < 0.4:
            sentence = f"“The {words},” {rnd.choice(NAMES)} {rnd.choice(VERBS)}."
        elif rnd.random() < 0.5:
            sentence = f"{rnd.choice(NAMES).capitalize()} {rnd.choice(VERBS)} that the {words}."
        else:
            sentence = f"The {words}."
        out.append(sentence)
        size += len(sentence) + 1
    return " ".join(out)[:chars]


def child(chars: int, window_chars: int | None) -> None:
    import copy

    from builder.config import DEFAULTS
    from builder.propose import load_pipeline, propose_texts

    cfg = copy.deepcopy(DEFAULTS)
    if window_chars:
        cfg["propose"]["window_chars"] = window_chars
    nlp = load_pipeline()
    propose_texts([long_paragraph(2000, seed=1)], nlp=nlp)  # warm-up
    text = long_paragraph(chars)
    start, cpu = time.perf_counter(), time.process_time()
    [proposal] = propose_texts([text], cfg=cfg, nlp=nlp)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    quotes = sum(1 for r in proposal.regions if r.label == "Quote")
    print(json.dumps({"chars": len(text), "seconds": seconds, "cpu": cpu, "quotes": quotes,
                      "error": proposal.error, "peak_mib": peak_rss_mib()}))


def measure(chars: int, window_chars: int | None = None) -> dict:
    extra = ["--window-chars", str(window_chars)] if window_chars else []
    out = subprocess.run([sys.executable, __file__, "--child", str(chars), *extra], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000", help="document sizes in characters")
    ap.add_argument("--window-chars", type=int, help="[propose] window_chars [default: builder/config.py's]")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.window_chars)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    for chars in sizes:
        m = measure(chars, args.window_chars)
        results[chars] = m
        print(f"{chars:>9,} chars: wall {m['seconds']:7.2f}s, CPU {m['cpu']:7.2f}s "
              f"({m['chars'] / m['cpu']:,.0f} chars/CPU-s), "
              f"{m['quotes']} quotes, peak {m['peak_mib']:.0f} MiB" + (f", error {m['error']}" if m['error'] else ""),
              flush=True)
    for small, large in zip(sizes, sizes[1:]):
        a, b = results[small], results[large]
        print(f"time {large:,} / {small:,} chars: wall {b['seconds'] / a['seconds']:.2f}x, CPU "
              f"{b['cpu'] / a['cpu']:.2f}x for {large / small:.0f}x the text"
              + (" (target <= 12x)" if (small, large) == (100000, 1000000) else ""))
    print(f"peak memory: {max(m['peak_mib'] for m in results.values()):.0f} MiB (target < 1024 MiB)")


if __name__ == "__main__":
    main()
