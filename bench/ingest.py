"""Ingest benchmark: every figure measured side by side in one run.

1. documents per second ingesting .txt files and .html pages (the same pages for 2.);
2. ingest time over the bare extractor's (trafilatura alone: read, decode, extract) on the
   same HTML pages (target: at most 1.2x), as wall time and as CPU time (this process and its
   children): on a shared machine the CPU ratio is the stable one; the wall ratio also carries
   the run's fixed cost (two executor launches, SQLite, ~0.5 s) and other people's load;
3. peak memory (VmHWM, each size in its own subprocess) ingesting 5,000 versus 50,000
   synthetic documents from one JSONL file (target ratio: at most 1.3);
4. near-duplicate clustering: 1,000 versus 8,000 near-identical records (one story, a few
   words changed in each) in one JSONL file, ingested whole (wall time) and through the
   near-duplicate index alone (target: 8,000 at most 5x the time of 1,000).

    .venv/bin/python bench/ingest.py                    # defaults: 1000 txt, 300 html, 3 rounds, 5000 vs 50000
    .venv/bin/python bench/ingest.py --txt 200 --html 60 --small 500 --large 5000   # quick
    .venv/bin/python bench/ingest.py --neardup-only                  # only 4. (1000 vs 8000)
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

from builder.config import load_config  # noqa: E402
from peak import peak_rss_mib  # noqa: E402

SYLLABLES = "ba be bi bo bu da de di do du ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu " \
            "ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo vu za ze zi zo zu".split()


def vocabulary(size: int = 5000, seed: int = 7) -> list[str]:
    rnd = random.Random(seed)
    return sorted({"".join(rnd.choice(SYLLABLES) for _ in range(rnd.randint(2, 4))) for _ in range(size)})


def article(rnd: random.Random, words: list[str], paragraphs: int = 8) -> str:
    """An invented article: sentences of pseudo-words, with typographic direct quotes."""
    paras = [" ".join(rnd.choice(words) for _ in range(8)).title()]
    for _ in range(paragraphs):
        sentence = " ".join(rnd.choice(words) for _ in range(30))
        quote = " ".join(rnd.choice(words) for _ in range(12))
        paras.append(f"The {sentence}.\n\n“{quote.capitalize()},” said {rnd.choice(words).title()}.")
    return "\n\n".join(paras)


def web_page(rnd: random.Random, words: list[str], n: int) -> str:
    """A news page: header, navigation, promotions, scripts, the article, related links, footer."""
    body = article(rnd, words)
    title = body.split("\n\n")[0]
    nav = "".join(f'<li><a href="/section/{w}">{w.title()}</a></li>' for w in rnd.sample(words, 80))
    related = "".join(f'<li><a href="/story/{i}">{" ".join(rnd.sample(words, 6))}</a></li>' for i in range(20))
    script = "<script>" + "var a=1;" * 2000 + "</script>"
    paras = "".join(f"<p>{p}</p>" for p in body.split("\n\n")[1:])
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title} | Bench Times</title>'
            f'<meta property="og:site_name" content="Bench Times"><meta property="og:title" content="{title}">'
            f'<meta property="og:url" content="https://bench.example.com/{n}">'
            f'<meta property="article:published_time" content="2026-01-01T00:00:00Z">{script}</head><body>'
            f'<header><nav><ul>{nav}</ul></nav></header>'
            f'<aside class="promo">Subscribe to our newsletter for the best stories every morning.</aside>'
            f'<main><article><h1>{title}</h1>{paras}</article></main>'
            f'<section class="related"><h2>More stories</h2><ul>{related}</ul></section>'
            f'<footer><p>Copyright Bench Times. All rights reserved.</p><ul>{nav}</ul></footer></body></html>')


def write_corpus(folder: Path, count: int, kind: str, seed: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rnd, words = random.Random(seed), vocabulary()
    for i in range(count):
        text = web_page(rnd, words, i) if kind == "html" else article(rnd, words)
        (folder / f"{i:06d}.{kind}").write_text(text, encoding="utf-8")
    return folder


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the executor's helper process)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed_ingest(folder: Path, ws: Path) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, documents ingested) of ``quotes ingest`` on ``folder``."""
    from builder.ingest import ingest

    wall, cpu = time.perf_counter(), cpu_seconds()
    summary = ingest([folder], ws, load_config(), progress=False)
    return time.perf_counter() - wall, cpu_seconds() - cpu, summary.ingested


def timed_bare_extractor(folder: Path) -> tuple[float, float]:
    """trafilatura alone on the same pages (read the bytes, decode, extract text and metadata):
    (wall seconds, CPU seconds)."""
    import trafilatura

    wall, cpu = time.perf_counter(), cpu_seconds()
    for path in sorted(folder.glob("*.html")):
        html = path.read_bytes().decode("utf-8")
        trafilatura.bare_extraction(html, with_metadata=True, include_comments=False, favor_precision=True)
    return time.perf_counter() - wall, cpu_seconds() - cpu


def memory_child(count: int, tmp: str) -> None:
    """Generate ``count`` synthetic documents as JSONL (streamed), ingest them, print peak RSS in KiB."""
    rnd, words = random.Random(count), vocabulary()
    src = Path(tmp) / "docs.jsonl"
    with src.open("w", encoding="utf-8") as fh:
        for i in range(count):
            fh.write(json.dumps({"text": article(rnd, words, paragraphs=4), "title": f"doc {i}"}) + "\n")
    seconds, _cpu, ingested = timed_ingest(src, Path(tmp) / "ws")
    print(json.dumps({"count": count, "ingested": ingested, "seconds": seconds,
                      "peak_mib": peak_rss_mib()}))


def peak_memory(count: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([sys.executable, __file__, "--memory-child", str(count), "--tmp", tmp],
                             capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def near_identical(count: int, seed: int = 11) -> list[str]:
    """``count`` copies of one story, each with three words replaced (estimated Jaccard ~0.9)."""
    rnd, words = random.Random(seed), vocabulary()
    base = article(random.Random(seed), words, paragraphs=6).split(" ")
    out = []
    for _ in range(count):
        copy = list(base)
        for i in rnd.sample(range(len(copy)), 3):
            copy[i] = rnd.choice(words)
        out.append(" ".join(copy))
    return out


def timed_neardup(count: int, tmp: Path) -> dict:
    """Seconds to ingest ``count`` near-identical records, and to cluster them in the index alone."""
    from builder.ingest.neardup import Index, signature
    from builder.ingest.pipeline import DEFAULT_THRESHOLD
    from builder.ingest.text import doc_id_of

    texts = near_identical(count)
    src = tmp / f"near-{count}.jsonl"
    src.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    wall = time.perf_counter()
    summary = ingest_summary(src, tmp / f"ws-near-{count}")
    ingest_s = time.perf_counter() - wall
    sigs = [(doc_id_of(t), signature(t)) for t in texts]
    index = Index(tmp / f"near-{count}.sqlite", DEFAULT_THRESHOLD)
    start = time.perf_counter()
    for doc_id, sig in sigs:
        cluster = index.cluster_of(sig)
        index.add(doc_id, cluster or doc_id, "bench", None, sig)
    index.commit()
    index_s = time.perf_counter() - start
    index.close()
    return {"count": count, "ingested": summary.ingested, "near": summary.near_duplicates,
            "ingest_s": ingest_s, "index_s": index_s}


def ingest_summary(src: Path, ws: Path):
    from builder.ingest import ingest

    return ingest([src], ws, load_config(), progress=False)


def command_neardup(count: int, tmp: Path) -> float:
    """Seconds of a whole ``quotes ingest`` command (start-up included, as a user runs it) on
    ``count`` near-identical records."""
    src = tmp / f"cmd-near-{count}.jsonl"
    src.write_text("".join(json.dumps({"text": t}) + "\n" for t in near_identical(count)), encoding="utf-8")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "builder", "ingest", str(src), "-w", str(tmp / f"ws-cmd-{count}")],
                   capture_output=True, check=True)
    return time.perf_counter() - start


def report_neardup(small: int, large: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        timed_neardup(50, Path(tmp))  # imports, caches
        a, b = timed_neardup(small, Path(tmp)), timed_neardup(large, Path(tmp))
        cmd_a, cmd_b = command_neardup(small, Path(tmp)), command_neardup(large, Path(tmp))
    print(f"near-duplicates, whole `quotes ingest` command: {small} records {cmd_a:.2f}s, {large} records "
          f"{cmd_b:.2f}s = {cmd_b / cmd_a:.2f}x (target <= 5x)")
    for m in (a, b):
        print(f"near-duplicates: {m['count']} near-identical records, {m['ingested']} ingested "
              f"({m['near']} joined a cluster): ingest {m['ingest_s']:.2f}s, index alone {m['index_s']:.2f}s")
    print(f"near-duplicates {large} / {small} records: ingest {b['ingest_s'] / a['ingest_s']:.2f}x, "
          f"index alone {b['index_s'] / a['index_s']:.2f}x (target <= 5x)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--txt", type=int, default=1000, help="txt files to ingest")
    ap.add_argument("--html", type=int, default=300, help="HTML pages (ingest and bare extractor)")
    ap.add_argument("--small", type=int, default=5000, help="documents in the small memory run")
    ap.add_argument("--large", type=int, default=50000, help="documents in the large memory run")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds; the best time of each is kept")
    ap.add_argument("--near-small", type=int, default=1000, help="near-identical records, small run")
    ap.add_argument("--near-large", type=int, default=8000, help="near-identical records, large run")
    ap.add_argument("--neardup-only", action="store_true", help="run only the near-duplicate comparison")
    ap.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--tmp", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.tmp)
        return
    if args.neardup_only:
        report_neardup(args.near_small, args.near_large)
        return

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        txt = write_corpus(tmp / "txt", args.txt, "txt", 1)
        html = write_corpus(tmp / "html", args.html, "html", 2)
        timed_ingest(write_corpus(tmp / "warm", 3, "html", 3), tmp / "ws-warm")  # imports, caches
        timed_bare_extractor(tmp / "warm")
        txt_runs, html_runs, bare_runs = [], [], []  # (wall, cpu) per round; the best of each is kept
        for r in range(args.rounds):
            bare_runs.append(timed_bare_extractor(html))
            wall, cpu, n_html = timed_ingest(html, tmp / f"ws-html-{r}")
            html_runs.append((wall, cpu))
            wall, cpu, n_txt = timed_ingest(txt, tmp / f"ws-txt-{r}")
            txt_runs.append((wall, cpu))
    best = {name: (min(w for w, _ in runs), min(c for _, c in runs))
            for name, runs in (("txt", txt_runs), ("html", html_runs), ("bare", bare_runs))}
    print(f"(best of {args.rounds} alternating rounds; wall time is what you wait, CPU time is what the "
          "code costs, robust to other load on the machine)")
    print(f"txt : {n_txt} docs: wall {best['txt'][0]:.2f}s -> {n_txt / best['txt'][0]:.1f} docs/s; "
          f"CPU {best['txt'][1]:.2f}s -> {n_txt / best['txt'][1]:.1f} docs/CPU-s")
    print(f"html: {n_html} pages: wall {best['html'][0]:.2f}s -> {n_html / best['html'][0]:.1f} docs/s; "
          f"CPU {best['html'][1]:.2f}s -> {n_html / best['html'][1]:.1f} docs/CPU-s")
    print(f"bare trafilatura, same {args.html} pages: wall {best['bare'][0]:.2f}s, CPU {best['bare'][1]:.2f}s")
    print(f"ingest / bare extractor (HTML): wall {best['html'][0] / best['bare'][0]:.2f}x, "
          f"CPU {best['html'][1] / best['bare'][1]:.2f}x (target <= 1.2x)")

    small, large = peak_memory(args.small), peak_memory(args.large)
    for m in (small, large):
        print(f"memory: {m['count']} docs ingested={m['ingested']} in {m['seconds']:.1f}s, "
              f"peak RSS {m['peak_mib']:.1f} MiB")
    print(f"peak memory {args.large} / {args.small} docs: {large['peak_mib'] / small['peak_mib']:.2f}x "
          f"(target <= 1.3x)")
    report_neardup(args.near_small, args.near_large)


if __name__ == "__main__":
    main()
