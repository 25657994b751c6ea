"""Scale benchmark: proposer throughput on 1 vs 2 workers, and cost per article as the input grows.

    .venv/bin/python bench/scale.py                       # sizes 1000,10000,50000; 4000 docs for throughput
    .venv/bin/python bench/scale.py --sizes 200,400 --throughput-docs 200   # a smoke run

Synthetic news briefs (a headline and ``--paragraphs`` paragraphs, 2 to 3 by default, each
a quote and a sentence of context; templates: random names, roles, cue verbs, outlets,
direct and indirect quotes; fixed seed) are written straight into a temporary workspace as
Document shards, then the propose stage runs through ``builder.run.run_stages`` on the local
executor. The articles are short (about 60 words) so that 50,000 fit in half an hour on two
shared cores; ``--paragraphs 4-8`` makes longer ones (about 140 words).

1. throughput: the same articles as 2 tasks, run with 1 worker then 2 workers, side by side;
   prints articles/s for both and the speed-up (target >= 1.7 on 2 free cores);
2. scaling: for each size, a fresh process runs the stage (1 task, 1 worker) and reports
   wall time and its peak RSS (VmHWM: its own, not the parent's; see bench/peak.py); prints
   cost per article and both ratios largest/smallest (target <= 1.2: flat per-article cost
   and flat memory);
3. pipeline loads: ``--loads-docs`` articles as 4 tasks on 2 workers; prints how many times the
   spaCy pipeline was loaded (the propose step's ``pipeline_loads`` statistic; target: once per
   worker process, not once per task).

``--proposer spacy`` measures the bare spaCy pipeline (``nlp.pipe`` in ``memory_zone``)
instead of the quotes proposer, as a floor to compare with.
"""
from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

FIRST = ["Maria", "John", "Aiko", "Olu", "Sergei", "Fatima", "Lucas", "Mei", "Ahmed", "Sofia", "Daniel", "Priya",
         "Kwame", "Elena", "Tomás", "Hannah", "Ravi", "Chen", "Ingrid", "Omar"]
LAST = ["Alvarez", "Smith", "Tanaka", "Adeyemi", "Ivanov", "Khan", "Moreau", "Li", "Haddad", "Rossi", "Kim", "Patel",
        "Mensah", "Petrova", "García", "Schmidt", "Nair", "Wang", "Larsen", "Farouk"]
ROLES = ["the finance minister", "a senior official", "the company's chief executive", "the mayor",
         "a spokesperson for the ministry", "the union leader", "an analyst at a Berlin think tank", "the coach"]
OUTLETS = ["Reuters", "the Associated Press", "The Guardian", "Le Monde", "CNN", "Al Jazeera", "the BBC",
           "The New York Times", "Bloomberg", "NHK"]
CUES = ["said", "told reporters", "added", "warned", "argued", "insisted", "explained", "noted", "claimed"]
TOPICS = ["the budget", "the new trade deal", "the strike", "interest rates", "the election", "the flood defences",
          "the merger", "the vaccine rollout", "the peace talks", "the stadium project"]
CLAIMS = ["we will not accept these terms", "the figures speak for themselves", "nobody expected it to move so fast",
          "this is only the beginning", "the deal is good for workers and for business",
          "there is still a lot of work to do", "we have been clear from the start", "it was a difficult decision"]
FILLER = ["The announcement came after weeks of negotiations.", "Markets reacted calmly on Tuesday.",
          "Critics have questioned the timing of the move.", "The plan still needs the approval of parliament.",
          "Officials met again on Thursday to discuss the details.", "Turnout was higher than in previous years.",
          "The report runs to more than 200 pages.", "Opposition parties called for an inquiry."]


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _paragraph(rng: random.Random) -> str:
    who, role, cue = _name(rng), rng.choice(ROLES), rng.choice(CUES)
    claim, topic, outlet = rng.choice(CLAIMS), rng.choice(TOPICS), rng.choice(OUTLETS)
    form = rng.randrange(5)
    if form == 0:
        quote = f"“{claim.capitalize()},” {who}, {role}, {cue}."
    elif form == 1:
        quote = f"{who} {cue} that {claim} on {topic}."
    elif form == 2:
        quote = f"“{claim.capitalize()},” {cue.split()[0]} {who} in an interview with {outlet}."
    elif form == 3:
        quote = f"Speaking about {topic}, {role} {cue}: “{claim.capitalize()}.”"
    else:
        quote = f"According to {outlet}, {who} {cue} that {claim}."
    context = rng.choice(FILLER)
    return " ".join([context, quote] if rng.random() < 0.5 else [quote, context])


def synthetic_article(i: int, seed: int = 13, length: tuple[int, int] = (2, 3)) -> dict:
    """Article ``i`` of the synthetic corpus: a headline and ``length[0]`` to ``length[1]`` news-like
    paragraphs with quotes, the same for the same seed."""
    rng = random.Random(seed * 1_000_003 + i)
    topic = rng.choice(TOPICS)
    body = [_paragraph(rng) for _ in range(rng.randint(*length))]
    return {"title": f"Debate over {topic} continues ({i})", "text": "\n\n".join([f"Debate over {topic} continues", *body]),
            "publisher": rng.choice(OUTLETS), "url": f"https://news.example/{seed}/{i}"}


def write_documents(folder: Path, n: int, shards: int, seed: int = 13, length: tuple[int, int] = (2, 3)) -> None:
    """``n`` synthetic articles as Document rows in ``shards`` Parquet files under ``folder``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from builder.workspace.shards import doc_id_of

    from builder.schema import arrow_schema

    folder.mkdir(parents=True, exist_ok=True)
    schema = arrow_schema("Document")
    for shard in range(shards):
        rows = []
        for i in range(shard, n, shards):
            art = synthetic_article(i, seed, length)
            doc_id = doc_id_of(art["text"])
            rows.append({"doc_id": doc_id, "text": art["text"], "title": art["title"], "publisher": art["publisher"],
                         "url": art["url"], "date": None, "source": "synthetic", "source_format": "jsonl",
                         "source_position": i, "cluster_id": doc_id, "ingest_version": "bench.synthetic"})
        # 1,000-row groups, as the ingest stage's writer makes them
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), folder / f"{shard:05d}.parquet", row_group_size=1000)


# --- the stage under test ----------------------------------------------------------------


def _pipeline_step_base():
    from datatrove.pipeline.base import PipelineStep

    return PipelineStep


class SpacyFloor(_pipeline_step_base()):
    """Bare spaCy over each document (lazy model load per task, batches in ``memory_zone``)."""

    name = "spaCy floor"
    type = "Proposer"

    def __init__(self, model: str, batch_size: int = 32):
        super().__init__()
        self.model, self.batch_size = model, batch_size
        self._nlp = None

    def run(self, data, rank: int = 0, world_size: int = 1):
        import spacy

        if self._nlp is None:
            self._nlp = spacy.load(self.model)
        data = iter(data)
        while batch := list(itertools.islice(data, self.batch_size)):
            with self.track_time("batch"), self._nlp.memory_zone():
                for doc, parsed in zip(batch, self._nlp.pipe(d.text for d in batch)):
                    self.stat_update("entities", value=len(parsed.ents))
            yield from batch


def stage_for(proposer: str, ws, cfg: dict, spec):
    """The propose stage exactly as ``quotes run`` builds it (or the bare-spaCy floor)."""
    from builder.runner.executors import RankShardedRows
    from builder.run import Stage, pipeline_stages

    if proposer == "spacy":
        from scale import SpacyFloor  # by module name, not __main__, so worker processes can import it

        steps = [RankShardedRows(ws.documents), SpacyFloor(cfg["propose"]["model"], cfg["propose"]["batch_size"])]
        return Stage("propose", steps, spec.tasks)
    return pipeline_stages([], ws, cfg, spec)[-1]


def run_propose(workdir: Path, tasks: int, workers: int, proposer: str, run_id: str, on_progress=None) -> float:
    """Wall seconds of the propose stage over the documents already in ``workdir``."""
    from builder.workspace import Workspace
    from builder.run import RunSpec, run_stages

    ws, cfg = Workspace(workdir), _cfg()
    spec = RunSpec(run_id, "local", tasks, workers)
    stage = stage_for(proposer, ws, cfg, spec)
    started = time.perf_counter()
    run_stages([stage], ws, cfg, spec, on_progress=on_progress, quiet=True)
    return time.perf_counter() - started


def _cfg() -> dict:
    """Default settings (the bench ignores any quotes.toml)."""
    import copy

    from builder.config import DEFAULTS

    return copy.deepcopy(DEFAULTS)


def _quiet_datatrove() -> None:
    from datatrove.utils.logging import logger

    logger.remove()
    logger.add(sys.stderr, level="WARNING")


def pipeline_loads(workdir: Path, run_id: str) -> int:
    """How many times the propose stage's ranks loaded the spaCy pipeline (summed over ranks)."""
    from builder.run import logging_dir, stage_step_stats
    from builder.workspace import Workspace

    steps = stage_step_stats(logging_dir(Workspace(workdir), run_id, "propose"))
    return int(sum(step["metrics"].get("pipeline_loads", 0) for step in steps))


def one_size(workdir: Path, n: int, proposer: str, run_id: str) -> dict:
    """Runs in a fresh process: the stage on ``n`` articles, its wall time and this process's peak RSS."""
    from peak import peak_rss_mib

    _quiet_datatrove()
    wall = run_propose(workdir, tasks=1, workers=1, proposer=proposer, run_id=run_id)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime  # the whole process: imports and model load included
    return {"n": n, "wall_s": wall, "cpu_s": cpu, "peak_mib": peak_rss_mib(),
            "ms_per_article": 1000 * wall / n, "cpu_ms_per_article": 1000 * cpu / n,
            "loads": pipeline_loads(workdir, run_id)}


def _child(workdir: Path, n: int, proposer: str, run_id: str, done) -> dict:
    """``one_size`` in a fresh process; ``done`` (a progress bar's setter) follows its documents through
    the progress files."""
    from builder.workspace import Workspace
    from builder.runner.executors import progress_of
    from builder.run import logging_dir

    folder, known = logging_dir(Workspace(workdir), run_id, "propose"), {}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen([sys.executable, __file__, "--one-size", str(n), "--workdir", str(workdir),
                                  "--proposer", proposer, "--run-id", run_id], stdout=out, stderr=err, text=True)
        while child.poll() is None:
            time.sleep(1.0)
            with contextlib.suppress(Exception):
                done(progress_of(folder, known)[0])
        out.seek(0), err.seek(0)
        if child.returncode != 0:
            raise SystemExit(f"size {n} failed:\n{err.read()[-3000:]}")
        done(n)
        return json.loads(out.read().strip().splitlines()[-1])


def _length(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    return int(low), int(high or low)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000,50000", help="comma-separated article counts for the scaling run")
    ap.add_argument("--throughput-docs", type=int, default=4000, help="articles for the 1-vs-2-workers run")
    ap.add_argument("--paragraphs", type=_length, default=(2, 3), help="paragraphs per article, e.g. 2-3 or 4-8")
    ap.add_argument("--proposer", choices=["quotes", "spacy"], default="quotes")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--skip-scaling", action="store_true")
    ap.add_argument("--loads-docs", type=int, default=200, help="articles for the pipeline-loads check (0: skip it)")
    ap.add_argument("--one-size", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--run-id", default="bench", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.one_size:
        print(json.dumps(one_size(args.workdir, args.one_size, args.proposer, args.run_id)))
        return

    from builder.progress import counter

    _quiet_datatrove()
    low, high = args.paragraphs
    print(f"proposer: {args.proposer}; cpus: {os.cpu_count()}; seed {args.seed}; articles of {low}-{high} "
          f"paragraphs; load average at start: {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="quotes-bench-scale-") as tmp:
        if not args.skip_throughput:
            n = args.throughput_docs
            walls, firsts = {}, {}
            for workers in (1, 2):
                work = Path(tmp) / f"throughput{workers}"
                write_documents(work / "documents" / "synthetic", n, shards=1, seed=args.seed, length=args.paragraphs)
                with counter(f"throughput, {workers} worker(s)", n) as done:
                    started = time.perf_counter()

                    def follow(state, done=done, workers=workers, started=started):
                        if state.documents and workers not in firsts:
                            firsts[workers] = time.perf_counter() - started  # start-up: imports, first model load
                        done(state.documents)

                    walls[workers] = run_propose(work, tasks=2, workers=workers, proposer=args.proposer,
                                                 run_id=f"w{workers}", on_progress=follow)
            print(f"\nthroughput on {n} articles, 2 tasks (start-up and model load included):")
            for workers, wall in walls.items():
                first = firsts.get(workers, 0.0)
                print(f"  {workers} worker(s): {wall:7.2f} s  {n / wall:7.1f} articles/s   (first article after "
                      f"{first:.1f} s; {n / max(wall - first, 1e-9):.1f} articles/s from then on)")
            steady = {w: (walls[w] - firsts.get(w, 0.0)) for w in walls}
            print(f"  speed-up 2 vs 1 workers: {walls[1] / walls[2]:.2f}x (target >= 1.7); after start-up: "
                  f"{steady[1] / max(steady[2], 1e-9):.2f}x; load average now {os.getloadavg()[0]:.1f}", flush=True)

        if args.loads_docs and args.proposer == "quotes":
            work = Path(tmp) / "loads"
            write_documents(work / "documents" / "synthetic", args.loads_docs, shards=1, seed=args.seed,
                            length=args.paragraphs)
            run_propose(work, tasks=4, workers=2, proposer=args.proposer, run_id="loads")
            print(f"\nspaCy pipeline loads: {pipeline_loads(work, 'loads')} for 4 tasks on 2 worker processes "
                  f"({args.loads_docs} articles; target: one per worker process, not one per task)", flush=True)
            shutil.rmtree(work, ignore_errors=True)

        if not args.skip_scaling:
            sizes = [int(s) for s in args.sizes.split(",")]
            results: list[dict] = []
            print_scaling_header()
            for n in sizes:
                work = Path(tmp) / f"size{n}"
                write_documents(work / "documents" / "synthetic", n, shards=1, seed=args.seed, length=args.paragraphs)
                with counter(f"scaling, {n} articles", n) as done:
                    results.append(_child(work, n, args.proposer, f"s{n}", done))
                print_scaling_row(results[-1], results[-2] if len(results) > 1 else None)
                shutil.rmtree(work, ignore_errors=True)
            print_scaling_summary(results)
            print(f"load average at the end: {os.getloadavg()[0]:.1f}")


def _marginal(a: dict | None, b: dict, key: str) -> float | None:
    """Cost per extra article from size ``a`` to size ``b`` (start-up cancels out), in ms."""
    return None if a is None else 1000 * (b[key] - a[key]) / (b["n"] - a["n"])


def print_scaling_header() -> None:
    print("\nscaling, 1 task, 1 worker (fresh process per size; ms/art includes start-up and model load, "
          "marg = per extra article since the previous size):")
    print(f"  {'articles':>9} {'wall s':>8} {'ms/art':>8} {'marg ms':>8} {'cpu s':>8} {'cpu ms/art':>10} "
          f"{'marg cpu ms':>11} {'peak MiB':>9} {'loads':>5}", flush=True)


def print_scaling_row(r: dict, previous: dict | None) -> None:
    """One size of the scaling table, printed as soon as it is measured."""
    fmt = lambda v: "-" if v is None else f"{v:.1f}"  # noqa: E731
    wm, cm = _marginal(previous, r, "wall_s"), _marginal(previous, r, "cpu_s")
    print(f"  {r['n']:>9} {r['wall_s']:>8.1f} {r['ms_per_article']:>8.1f} {fmt(wm):>8} {r['cpu_s']:>8.1f} "
          f"{r['cpu_ms_per_article']:>10.1f} {fmt(cm):>11} {r['peak_mib']:>9.1f} {r.get('loads', '-'):>5}", flush=True)


def print_scaling_summary(results: list[dict]) -> None:
    """Ratios largest vs smallest size: cost per article, marginal cost, peak memory."""
    small, large = results[0], results[-1]
    print(f"  per-article cost {large['n']} vs {small['n']} (start-up included): "
          f"wall {large['ms_per_article'] / small['ms_per_article']:.2f}x, "
          f"cpu {large['cpu_ms_per_article'] / small['cpu_ms_per_article']:.2f}x (target <= 1.2)")
    if len(results) >= 3:
        first = {k: _marginal(results[0], results[1], k) for k in ("wall_s", "cpu_s")}
        last = {k: _marginal(results[-2], results[-1], k) for k in ("wall_s", "cpu_s")}
        print(f"  marginal cost per article, last vs first increment: wall {last['wall_s'] / first['wall_s']:.2f}x, "
              f"cpu {last['cpu_s'] / first['cpu_s']:.2f}x (target <= 1.2)")
    print(f"  peak memory {large['n']} vs {small['n']}: {large['peak_mib'] / small['peak_mib']:.2f}x (target <= 1.2)")


if __name__ == "__main__":
    main()
