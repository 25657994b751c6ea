"""``quotes run``: ingest and propose as datatrove pipelines on a local, Slurm or Ray executor.

A run has an id (``--run-id``, default: a timestamp) and lives under
``<workspace>/state/runs/<run_id>/``:

    run.json                 what was asked (inputs, tasks, executor), so a relaunch matches
    logs/<stage>/            datatrove's logging_dir: completions/<rank>, stats/<rank>.json, logs/,
                             and progress/<rank> (documents read so far, for the progress bars)
    stats.json               the merged statistics, written when every stage completed

Relaunching with the same ``--run-id`` runs only the ranks without a completion
marker; the rank-named shards they write are the same whatever ran when, so the rows
of a run with 1, 2 or 8 tasks are the same set.
"""
from __future__ import annotations

import contextlib
import json
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer

from builder.options import Config, WorkspaceOpt

RUN_VERSION = "quotes.run.v1"


@dataclass(slots=True)
class Stage:
    """One datatrove pipeline of a run: its name, its steps and how many ranks it has."""

    name: str
    steps: list[Any]
    tasks: int = 1
    outputs: list[str] = field(default_factory=list)  # folders of rank-named shards (partial ones are discarded)
    expected: Callable[[], int | None] | None = None  # documents its reader will yield, counted when it starts


@dataclass(slots=True)
class StageProgress:
    """Where a running stage stands: what ``run_stages`` reports to its ``on_progress`` callback."""

    stage: str
    index: int  # 0-based position of the stage in the run
    of: int  # how many stages the run has
    tasks: int
    ranks_done: int = 0
    documents: int = 0  # documents its ranks' readers yielded so far (all launches)
    total: int | None = None  # documents expected, when known
    finished: bool = False


@dataclass(slots=True)
class RunSpec:
    """What a run was asked to do; saved as run.json so a relaunch does the same."""

    run_id: str
    executor: str
    tasks: int
    workers: int
    paths: list[str] = field(default_factory=list)
    version: str = RUN_VERSION
    rejects_offset: int = 0  # size of rejects.jsonl when the run was first launched


class RunIncomplete(RuntimeError):
    """Some ranks of a stage did not complete; the message says how to finish them."""

    def __init__(self, run_id: str, stage: str, ranks: list[int]):
        self.run_id, self.stage, self.ranks = run_id, stage, ranks
        super().__init__(
            f"run {run_id}: stage {stage} has {len(ranks)} unfinished rank(s) {ranks[:20]}: see "
            f"state/runs/{run_id}/logs/{stage}/logs/ for the errors, fix them, then relaunch with "
            f"`--run-id {run_id}` to run only those ranks"
        )


# --- where a run lives ---------------------------------------------------------------


def new_run_id() -> str:
    """A fresh run id: UTC time to the second (sortable)."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def run_folder(ws, run_id: str) -> str:
    return ws.sub("state", "runs", run_id)


def logging_dir(ws, run_id: str, stage: str) -> str:
    return ws.sub("state", "runs", run_id, "logs", stage)


def _folder(path: str):
    from datatrove.io import get_datafolder

    return get_datafolder(path)


def load_spec(ws, run_id: str) -> RunSpec | None:
    """The saved spec of run ``run_id``, or None for a new run."""
    df = _folder(run_folder(ws, run_id))
    if not df.exists("run.json"):
        return None
    with df.open("run.json", "rt") as fh:
        return RunSpec(**json.load(fh))


def save_spec(ws, spec: RunSpec) -> None:
    with _folder(run_folder(ws, spec.run_id)).open("run.json", "wt") as fh:
        json.dump(asdict(spec), fh, indent=2)


def resolve_spec(ws, asked: RunSpec) -> RunSpec:
    """``asked``, or the saved spec of the same run id; a relaunch may not change the ranks."""
    saved = load_spec(ws, asked.run_id)
    if saved is None:
        return asked
    if saved.tasks != asked.tasks:
        raise ValueError(f"run {asked.run_id} was started with --tasks {saved.tasks}: relaunch it with the "
                         f"same --tasks, or start a new run without --run-id")
    if asked.paths and sorted(asked.paths) != sorted(saved.paths):
        raise ValueError(f"run {asked.run_id} was started on other inputs ({len(saved.paths)} paths): relaunch "
                         f"it without PATHs (or with the same ones), or start a new run without --run-id")
    return RunSpec(asked.run_id, asked.executor, saved.tasks, asked.workers, saved.paths,
                   rejects_offset=saved.rejects_offset)


# --- running stages --------------------------------------------------------------------


def run_stages(stages: list[Stage], ws, cfg: dict[str, Any], spec: RunSpec,
               on_progress: Callable[[StageProgress], None] | None = None, quiet: bool = False,
               poll_seconds: float = 0.5) -> dict[str, float]:
    """Run ``stages`` in order on ``spec.executor``; wall seconds per stage.

    Local and Ray run each stage to completion before the next; Slurm submits them all
    as jobs chained with ``depends=`` and returns at once (relaunch later for stats).
    Raises ``RunIncomplete`` when a stage left ranks unfinished. ``on_progress`` hears a
    ``StageProgress`` every ``poll_seconds`` while a stage runs (from a watcher thread).
    """
    from builder.executors import executor_for, incomplete_ranks

    walls: dict[str, float] = {}
    previous = None
    for index, stage in enumerate(stages):
        folder = logging_dir(ws, spec.run_id, stage.name)
        steps = stage_steps(stage, folder, progress=spec.executor != "slurm")  # nobody watches Slurm's ranks
        executor = executor_for(cfg, steps, logging_dir=folder, kind=spec.executor,
                                tasks=stage.tasks, workers=spec.workers,
                                depends=previous if spec.executor == "slurm" else None, quiet=quiet)
        if spec.executor == "slurm":
            previous = executor
            continue
        state = StageProgress(stage.name, index, len(stages), stage.tasks)
        started = time.perf_counter()
        with watch_progress(folder, state, on_progress, poll_seconds, stage.expected):
            executor.run()
        walls[stage.name] = time.perf_counter() - started
        if missing := incomplete_ranks(executor):
            raise RunIncomplete(spec.run_id, stage.name, missing)
    if previous is not None:
        previous.run()  # submits the whole chain
    return walls


def stage_steps(stage: Stage, folder: str, progress: bool = True) -> list[Any]:
    """What the executor runs for ``stage``: clean-up of failed attempts, the steps with a time
    probe after each, and (``progress``) a document counter after the reader (``RankProgress``)."""
    from builder.executors import DiscardRankOutputs, RankProgress, with_probes

    probed = with_probes(stage.steps)
    counter = [RankProgress(folder)] if progress else []
    return [DiscardRankOutputs(stage.outputs), *probed[:2], *counter, *probed[2:]]


@contextlib.contextmanager
def watch_progress(folder: str, state: StageProgress, report: Callable[[StageProgress], None] | None,
                   every: float, expected: Callable[[], int | None] | None = None):
    """While the body runs, a thread updates ``state`` from the stage's progress files and
    completion markers and hands it to ``report``; a last report marks it ``finished``."""
    import threading

    from builder.executors import progress_of

    if report is None:
        yield state
        return
    known: dict[str, int] = {}

    def update(finished: bool = False) -> None:
        try:
            state.documents, state.ranks_done = progress_of(folder, known)
        except Exception:  # noqa: BLE001 - a display must never break the run
            pass
        state.finished = finished
        report(state)

    if expected is not None:
        with contextlib.suppress(Exception):
            state.total = expected()
    update()
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(every):
            update()

    thread = threading.Thread(target=poll, name="quotes-run-progress", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        stop.set()
        thread.join()
        update(finished=True)


def stages_complete(ws, run_id: str, stages: list[Stage]) -> bool:
    """True when every rank of every stage has its completion marker."""
    for stage in stages:
        df = _folder(logging_dir(ws, run_id, stage.name))
        done = set(df.list_files("completions")) if df.exists("completions") else set()
        if any(f"completions/{rank:05d}" not in done for rank in range(stage.tasks)):
            return False
    return True


# --- statistics ------------------------------------------------------------------------


def stage_step_stats(folder: str) -> list[dict[str, Any]]:
    """Per-step stats of one stage: datatrove's per-rank ``stats/<rank>.json`` merged."""
    from datatrove.utils.stats import PipelineStats

    df = _folder(folder)
    if not df.exists("stats"):
        return []
    total = None
    for name in sorted(f for f in df.list_files("stats") if f.endswith(".json")):
        with df.open(name, "rt") as fh:
            ranked = PipelineStats.from_json(json.load(fh))
        total = ranked if total is None else total + ranked
    if total is None:
        return []
    steps, upstream = [], 0.0
    for s in total.stats:
        if s.name.startswith(("🧹", "📶")):  # clean-up and progress counter: run's own steps
            continue
        if s.name.startswith("⏱️ - PROBE"):  # the time until here, all ranks: the previous step's own time
            inclusive = _metric_total(s.stats.get("upstream_seconds", 0))
            if steps:
                steps[-1]["seconds"] = round(max(inclusive - upstream, 0.0), 3)
            upstream = inclusive
            continue
        steps.append({"step": s.name, "seconds": round(s.time_stats.total, 3),
                      "metrics": {k: _metric_total(m) for k, m in s.stats.items()}})
    return steps


def _metric_total(metric: Any) -> float:
    """A datatrove metric's total, whether loaded as MetricStats, its dict form or a bare number."""
    if isinstance(metric, dict):
        return metric.get("total", 0)
    return getattr(metric, "total", metric)


def quote_counts(rows) -> dict[str, int]:
    """Proposal rows -> proposals, errors and quotes by type."""
    counts: Counter[str] = Counter()
    for row in rows:
        counts["proposals"] += 1
        counts["proposal_errors"] += bool(row.get("error"))
        for region in row.get("regions") or []:
            if region["label"] == "Quote":
                counts[f"quotes_{region.get('quote_type') or 'untyped'}"] += 1
    return dict(counts)


def reject_counts(rows) -> dict[str, int]:
    """Reject rows -> count per ``stage:reason``."""
    return dict(Counter(f"{r.get('stage', '?')}:{r.get('reason', '?')}" for r in rows))


def rejects_since(path: str, offset: int) -> tuple[list[dict[str, Any]], int]:
    """Reject rows appended to ``path`` after byte ``offset``, and the new end offset."""
    from datatrove.io import get_datafolder

    parent, _, name = path.rpartition("/")
    df = get_datafolder(parent or ".")
    if not df.exists(name):
        return [], 0
    with df.open(name, "rb") as fh:
        fh.seek(offset)
        data = fh.read()
    rows = [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
    return rows, offset + len(data)


def rejects_size(path: str) -> int:
    """Current size of the rejects file in bytes (0 if there is none)."""
    from datatrove.io import get_datafolder

    parent, _, name = path.rpartition("/")
    df = get_datafolder(parent or ".")
    return int(df.size(name)) if df.exists(name) else 0


def ingest_counts(summary: dict[str, Any] | None) -> dict[str, Any]:
    """Documents in/out and rejects by reason from ingest's ``summary.json`` (empty without one)."""
    if not summary:
        return {}
    rejected = {f"ingest:{reason}": n for reason, n in (summary.get("rejected") or {}).items()}
    if summary.get("duplicates"):
        rejected["ingest:duplicate"] = summary["duplicates"]
    records_in = (summary.get("ingested", 0) + summary.get("unchanged", 0) + summary.get("duplicates", 0)
                  + sum((summary.get("rejected") or {}).values()))
    return {"input_files": summary.get("inputs"), "documents_in": records_in, "documents_out": summary.get("ingested"),
            "already_ingested": summary.get("unchanged", 0), "near_duplicates": summary.get("near_duplicates", 0),
            "rejected": rejected}


def summarize(spec: RunSpec, stages: list[Stage], ws, walls: dict[str, float], rejects: list[dict[str, Any]],
              outputs: dict[str, str], ingest_summary: dict[str, Any] | None = None) -> dict[str, Any]:
    """The run's statistics: documents in/out, rejects by reason, quotes by type, time per step."""
    from builder.store import read_rows

    per_stage = []
    for stage in stages:
        per_stage.append({"stage": stage.name, "tasks": stage.tasks, "wall_seconds": round(walls.get(stage.name, 0.0), 3),
                          "steps": stage_step_stats(logging_dir(ws, spec.run_id, stage.name))})
    quotes = quote_counts(read_rows(outputs["proposals"], columns=["regions", "error"])) if "proposals" in outputs else {}
    counts = ingest_counts(ingest_summary)
    if not counts and "documents" in outputs and any(s.name == "dedupe" for s in stages):
        out = sum(1 for _ in read_rows(outputs["documents"], columns=["doc_id"]))
        counts = {"documents_in": None, "documents_out": out}
    if not counts and "proposals" in outputs:  # propose only: documents its reader read -> proposals written
        steps = next((s["steps"] for s in per_stage if s["stage"] == "propose"), [])
        metrics = [step.get("metrics") or {} for step in steps]
        counts = {"documents_in": metrics[0].get("documents", 0) if metrics else None,
                  "documents_out": quotes.get("proposals", 0),
                  "already_proposed": sum(m.get("already_proposed", 0) for m in metrics[1:])}
    rejected = dict(counts.pop("rejected", {}))
    for key, n in reject_counts(r for r in rejects if r.get("stage") != "ingest" or not ingest_summary).items():
        rejected[key] = rejected.get(key, 0) + n
    return {
        "run_id": spec.run_id, "version": spec.version, "executor": spec.executor, "tasks": spec.tasks,
        "workers": spec.workers, "inputs": spec.paths, "documents_in": None, "documents_out": None,
        **counts, "rejected": rejected, "quotes": quotes, "stages": per_stage,
    }


def write_stats(ws, run_id: str, stats: dict[str, Any]) -> str:
    """Write ``stats.json`` beside the run's logs; its path."""
    with _folder(run_folder(ws, run_id)).open("stats.json", "wt") as fh:
        json.dump(stats, fh, indent=2)
    return run_folder(ws, run_id) + "/stats.json"


# --- the real pipeline -----------------------------------------------------------------


def pipeline_stages(paths: list[str], ws, cfg: dict[str, Any], spec: RunSpec, model=None,
                    progress: bool = False) -> list[Stage]:
    """ingest extract (``tasks`` ranks over input files) -> dedupe (1 task) -> propose (``tasks`` ranks).

    Propose reads the workspace documents sharded by row (``RankShardedRows``) instead of by
    file: dedupe writes one documents shard per run, which file sharding would give to rank 0 only.
    """
    from datatrove.pipeline.readers.base import BaseDiskReader

    from builder.executors import RankShardedRows
    from builder.propose.pipeline import propose_pipeline
    from builder.store import count_rows

    outputs = run_outputs(ws, spec.run_id)
    stages = []
    if paths:
        from builder.ingest.pipeline import dedupe_pipeline, extract_pipeline, staging_folder

        extract = extract_pipeline(paths, ws, cfg, spec.run_id, progress=progress)
        inputs = len(getattr(extract[0], "inputs", []) or [])
        staged = staging_folder(ws, spec.run_id)
        stages.append(Stage("extract", extract, spec.tasks, [staged]))
        stages.append(Stage("dedupe", dedupe_pipeline(ws, cfg, spec.run_id, progress=progress, inputs=inputs), 1,
                            [outputs["documents"]], expected=lambda: count_rows(staged)))
    propose = propose_pipeline(ws, cfg, spec.run_id, model=model)
    if isinstance(propose[0], BaseDiskReader):
        propose[0] = RankShardedRows(ws.documents)
    stages.append(Stage("propose", propose, spec.tasks, [outputs["proposals"]],
                        expected=lambda: count_rows(ws.documents)))
    return stages


def run_outputs(ws, run_id: str) -> dict[str, str]:
    """The folders a run writes its rows into."""
    return {"documents": ws.sub("documents", run_id), "proposals": ws.sub("proposals", run_id)}


def read_ingest_summary(ws, run_id: str) -> dict[str, Any] | None:
    """Ingest's ``state/ingest/<run_id>/summary.json`` (written by its dedupe step), if any."""
    df = _folder(ws.sub("state", "ingest", run_id))
    if not df.exists("summary.json"):
        return None
    with df.open("summary.json", "rt") as fh:
        return json.load(fh)


def run_workspace(paths: list[str | Path] | None, ws, cfg: dict[str, Any], *, executor: str | None = None,
                  tasks: int | None = None, workers: int | None = None, run_id: str | None = None,
                  stages: list[Stage] | None = None, outputs: dict[str, str] | None = None,
                  on_progress: Callable[[StageProgress], None] | None = None, progress: bool = False,
                  quiet: bool = False) -> dict[str, Any]:
    """Run (or relaunch) ingest + propose on ``paths``; the merged stats (also in stats.json).

    ``stages``/``outputs`` replace the real pipeline (tests, other pipelines). On Slurm the
    jobs are submitted and ``{"submitted": True, ...}`` comes back; relaunch with the same
    ``run_id`` once they finished to get the stats. ``on_progress``: see ``run_stages``;
    ``progress`` turns on ingest's own per-rank tqdm bars (one line per rank; off by default).
    """
    from builder.executors import KINDS, run_settings

    settings = run_settings(cfg)
    saved = load_spec(ws, run_id) if run_id else None  # a relaunch: what was not given comes from run.json
    defaults = asdict(saved) if saved else settings
    asked = RunSpec(run_id=run_id or new_run_id(), executor=executor or defaults["executor"],
                    tasks=tasks or defaults["tasks"], workers=workers if workers is not None else defaults["workers"],
                    paths=[str(p) for p in paths or []], rejects_offset=rejects_size(ws.rejects))
    if asked.executor not in KINDS:
        raise ValueError(f"unknown executor {asked.executor!r}: use one of {', '.join(KINDS)}")
    spec = resolve_spec(ws, asked)
    save_spec(ws, spec)
    if stages is None:
        stages = pipeline_stages(spec.paths, ws, cfg, spec, progress=progress)
        outputs = run_outputs(ws, spec.run_id)
    walls = run_stages(stages, ws, cfg, spec, on_progress=on_progress, quiet=quiet)
    if spec.executor == "slurm" and not stages_complete(ws, spec.run_id, stages):
        return {"run_id": spec.run_id, "submitted": True, "executor": "slurm"}
    rejects, _ = rejects_since(ws.rejects, spec.rejects_offset)
    stats = summarize(spec, stages, ws, walls, rejects, outputs or {}, read_ingest_summary(ws, spec.run_id))
    stats["stats_path"] = write_stats(ws, spec.run_id, stats)
    return stats


# --- printing --------------------------------------------------------------------------


def stats_table(stats: dict[str, Any]):
    """A rich renderable of the run statistics."""
    from rich.console import Group
    from rich.table import Table

    head = Table(title=f"run {stats['run_id']} ({stats['executor']}, {stats['tasks']} tasks)", show_header=False)
    for key in ("input_files", "documents_in", "documents_out", "already_ingested", "near_duplicates",
                "already_proposed"):
        if key in stats:
            head.add_row(key.replace("_", " "), str(stats[key]))
    for reason, n in sorted(stats.get("rejected", {}).items()):
        head.add_row(f"rejected {reason}", str(n))
    for kind, n in sorted(stats.get("quotes", {}).items()):
        head.add_row(kind.replace("_", " "), str(n))
    steps = Table(title="time per step")
    for col in ("stage", "step", "seconds", "wall s (stage)"):
        steps.add_column(col)
    for stage in stats.get("stages", []):
        for i, step in enumerate(stage["steps"] or [{"step": "-", "seconds": 0.0}]):
            steps.add_row(stage["stage"] if i == 0 else "", step["step"], f"{step['seconds']:.2f}",
                          f"{stage['wall_seconds']:.2f}" if i == 0 else "")
    return Group(head, steps)


def run(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Inputs to ingest first (files, folders, globs); "
                                                               "none: propose the workspace's documents")] = None,
    executor: Annotated[Optional[str], typer.Option("--executor", "-e", help="local, slurm or ray "
                                                    "(default: quotes.toml run.executor, else local)")] = None,
    tasks: Annotated[Optional[int], typer.Option("--tasks", "-t", min=1, help="Ranks (output shards) per stage")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", help="Ranks running at once (-1: all)")] = None,
    run_id: Annotated[Optional[str], typer.Option("--run-id", help="Relaunch this run: only unfinished ranks run")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show datatrove's logs (always kept under "
                                                                  "state/runs/<run_id>/logs/)")] = False,
    workspace: WorkspaceOpt = None,
    config: Config = None,
) -> None:
    """Ingest then propose as datatrove pipelines on a local, Slurm or Ray executor; print the run's stats."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from rich.markup import escape

    from builder.executors import ExecutorError, quiet_logs
    from builder.options import settings

    console = Console(file=sys.__stderr__ if not verbose else None, stderr=True)
    cfg, ws = settings(config, workspace)
    missing = [str(p) for p in paths or [] if "*" not in str(p) and not p.exists()]
    if missing:
        raise typer.BadParameter(f"{', '.join(missing)} not found: pass existing files or folders", param_hint="PATHS")
    run_id = run_id or new_run_id()
    console.print(f"run [bold]{run_id}[/] (relaunch after a crash: `quotes run --run-id {run_id}`)")
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("docs"), TimeElapsedColumn(), console=console, transient=False) as progress:
        bars: dict[str, Any] = {}

        def on_progress(state: StageProgress) -> None:
            label = f"{state.index + 1}/{state.of} {state.stage:<8} ranks {state.ranks_done}/{state.tasks}"
            if state.stage not in bars:
                bars[state.stage] = progress.add_task(label, total=state.total)
            total = state.documents if state.finished and state.total is None else state.total
            progress.update(bars[state.stage], description=label, completed=state.documents, total=total)

        try:
            with quiet_logs(not verbose):
                stats = run_workspace(paths, ws, cfg, executor=executor, tasks=tasks, workers=workers,
                                      run_id=run_id, on_progress=on_progress, quiet=not verbose)
        except (RunIncomplete, ExecutorError, ValueError, ImportError, FileNotFoundError) as err:
            console.print("[red]error:[/]", escape(str(err)))
            raise typer.Exit(1)
    if stats.get("submitted"):
        console.print(f"submitted run {stats['run_id']} to Slurm; once its jobs finished, run "
                      f"`quotes run --executor slurm --run-id {stats['run_id']}` to merge and print its stats")
        return
    Console().print(stats_table(stats))
    console.print(f"stats: {stats['stats_path']}")
