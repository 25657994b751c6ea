"""Benchmark `quotes export`: rows per second and peak memory (VmHWM, see bench/peak.py) exporting a small
and a 10x larger synthetic workspace (about 10 quotes per document), side by side in one run.

    .venv/bin/python bench/export.py                # 10,000 vs 100,000 documents
    .venv/bin/python bench/export.py --scale 0.1    # 1,000 vs 10,000

Each workspace is generated, then exported, in its own subprocess, so each peak is the
export's own. Target: peak memory of the large run at most 1.5x the small one.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from peak import peak_rss_mib  # noqa: E402


def child_generate(path: str, n: int, quotes: int) -> None:
    from builder.export.synthetic import write_synthetic_workspace

    write_synthetic_workspace(path, n, quotes=quotes, annotate_every=3)


def child_export(path: str, exports: str) -> None:
    import datasets  # noqa: F401  (imports warmed up: the timing is the export's own)
    import spacy

    from builder.config import load_config
    from builder.export import export_dataset

    spacy.blank("en")
    start = time.perf_counter()
    folder = export_dataset(path, load_config(), version="1.0.0", include_proposed=True,
                            exports_dir=exports, progress=False)
    seconds = time.perf_counter() - start
    rows = json.loads((folder / "manifest.json").read_text())["rows"]
    print(json.dumps({"seconds": seconds, "peak_mib": peak_rss_mib(),
                      "documents": sum(rows["documents"].values()), "quotes": sum(rows["attributions"].values())}))


def run_scale(n: int, quotes: int, tmp: Path) -> dict:
    ws, exports = tmp / f"ws-{n}", tmp / f"exports-{n}"
    subprocess.run([sys.executable, __file__, "--child", "generate", str(ws), str(n), str(quotes)], check=True)
    out = subprocess.run([sys.executable, __file__, "--child", "export", str(ws), str(exports)],
                         check=True, capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    shutil.rmtree(ws, ignore_errors=True)
    shutil.rmtree(exports, ignore_errors=True)
    return {"n": n, **result}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply both sizes (10,000 and 100,000)")
    ap.add_argument("--quotes", type=int, default=10, help="quotes per document")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "generate":
            child_generate(rest[0], int(rest[1]), int(rest[2]))
        else:
            child_export(rest[0], rest[1])
        return
    small, large = int(10_000 * args.scale), int(100_000 * args.scale)
    with tempfile.TemporaryDirectory(prefix="quotes-bench-export-") as tmp:
        results = []
        for n in (small, large):
            print(f"exporting {n:,} synthetic documents ...", file=sys.stderr, flush=True)
            results.append(run_scale(n, args.quotes, Path(tmp)))
    a, b = results
    print(f"{'documents':>10} {'quotes':>10} {'seconds':>9} {'docs/s':>8} {'quotes/s':>9} {'peak MiB':>9}")
    for r in results:
        print(f"{r['documents']:>10,} {r['quotes']:>10,} {r['seconds']:>9.1f} {r['documents'] / r['seconds']:>8.0f} "
              f"{r['quotes'] / r['seconds']:>9.0f} {r['peak_mib']:>9.1f}")
    ratio = b["peak_mib"] / a["peak_mib"]
    print(f"peak memory ratio {b['n']:,} / {a['n']:,} documents: {ratio:.2f}x (target <= 1.5x): "
          f"{'OK' if ratio <= 1.5 else 'OVER'}")
    print(f"throughput ratio (quotes/s, large / small): "
          f"{(b['quotes'] / b['seconds']) / (a['quotes'] / a['seconds']):.2f}x")


if __name__ == "__main__":
    main()
