"""Running a list of datatrove stages as one resumable run.

A run has an id and lives under ``<workspace>/state/runs/<run_id>/``:

    run.json                 what was asked (inputs, tasks, executor), so a relaunch matches
    logs/<stage>/            datatrove's logging_dir: completions/<rank>, stats/<rank>.json, logs/,
                             and progress/<rank> (documents read so far, for the progress bars)
    stats.json               the merged statistics, written when every stage completed

Relaunching with the same run id runs only the ranks without a completion marker; the
rank-named shards they write are the same whatever ran when, so the rows of a run with
1, 2 or 8 tasks are the same set. A stage starts only once every rank of the stage before
it has its completion marker, so no stage reads a shard still being written.
"""
from __future__ import annotations

import contextlib
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

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


class StageFailed(RuntimeError):
    """The one failure type of a pipeline run: ranks of a stage did not complete (not an input problem:
    those are rejects). The message names the stage and its log folder, ``state/runs/<run_id>/logs/<stage>/``."""


class RunIncomplete(StageFailed):
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
    """The one run-id format of every command (``quotes run``, ingest batches, propose runs): UTC time to
    the second, sortable, plus a random suffix so two commands started in the same second differ."""
    import secrets

    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


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
    from builder.runner.executors import executor_for, incomplete_ranks

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
    from builder.runner.executors import DiscardRankOutputs, RankProgress, with_probes

    probed = with_probes(stage.steps)
    counter = [RankProgress(folder)] if progress else []
    return [DiscardRankOutputs(stage.outputs), *probed[:2], *counter, *probed[2:]]


@contextlib.contextmanager
def watch_progress(folder: str, state: StageProgress, report: Callable[[StageProgress], None] | None,
                   every: float, expected: Callable[[], int | None] | None = None):
    """While the body runs, a thread updates ``state`` from the stage's progress files and
    completion markers and hands it to ``report``; a last report marks it ``finished``."""
    import threading

    from builder.runner.executors import progress_of

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



def write_stats(ws, run_id: str, stats: dict[str, Any]) -> str:
    """Write ``stats.json`` beside the run's logs; its path."""
    with _folder(run_folder(ws, run_id)).open("stats.json", "wt") as fh:
        json.dump(stats, fh, indent=2)
    return run_folder(ws, run_id) + "/stats.json"

