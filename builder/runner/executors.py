"""One place that turns a list of datatrove steps into a running executor.

Every stage builds its pipeline as a plain list of steps; ``make_executor`` runs it
locally by default (``LocalPipelineExecutor``), and the same list runs on Slurm or
Ray unchanged. Completion markers (``logging_dir/completions/<rank>``), per-rank
stats (``logging_dir/stats/<rank>.json``) and logs go under ``logging_dir``; a
relaunch with the same ``logging_dir`` skips the ranks that completed.

Slurm and Ray are optional: their executors are imported only when asked for, with
an error that says which extra to install. Their settings come from ``quotes.toml``:

    [run]
    executor = "local"            # local, slurm or ray
    tasks = 4                     # ranks = output shards per stage
    workers = 2                   # ranks running at once (-1: all)

    [run.slurm]                   # SlurmPipelineExecutor options
    partition = "cpu"
    time = "04:00:00"
    cpus_per_task = 1
    mem_per_cpu_gb = 4
    qos = "normal"
    venv_path = ".venv/bin/activate"
    sbatch_args = { account = "my-account" }

    [run.ray]                     # RayPipelineExecutor options
    cpus_per_task = 1
    mem_per_cpu_gb = 2
    init = { address = "auto" }   # ray.init() keyword arguments; {} starts a local Ray
"""
from __future__ import annotations

import contextlib
import copy
import os
from typing import Any

from datatrove.data import Document
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.base import PipelineStep
from datatrove.utils.logging import logger
from datatrove.utils.stats import PipelineStats

KINDS = ("local", "slurm", "ray")

RUN_DEFAULTS: dict[str, Any] = {
    "executor": "local",
    "tasks": 1,
    "workers": -1,
    "slurm": {"job_name": "quotes", "cpus_per_task": 1, "mem_per_cpu_gb": 4, "qos": "normal"},
    "ray": {"cpus_per_task": 1, "mem_per_cpu_gb": 2, "init": {}},
}

SLURM_REQUIRED = ("partition", "time")


class ExecutorError(RuntimeError):
    """An executor that cannot be made as asked; the message says what to do."""


def run_settings(cfg: dict[str, Any] | None) -> dict[str, Any]:
    """``RUN_DEFAULTS`` merged with the ``[run]`` table of the settings."""
    merged = copy.deepcopy(RUN_DEFAULTS)
    for key, value in ((cfg or {}).get("run") or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def executor_options(cfg: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    """The executor keyword arguments ``[run.<kind>]`` holds (``init`` excluded)."""
    if kind == "local":
        return dict((run_settings(cfg).get("local") or {}))
    return {k: v for k, v in run_settings(cfg)[kind].items() if k != "init"}


def _import_error(kind: str, err: ImportError) -> ExecutorError:
    if kind == "ray":
        how = "the `ray` extra: `make test-scale`, or `uv pip install -r requirements/lock-ray.txt`"
    else:
        how = "datatrove's Slurm dependencies (`pip install 'datatrove[processing]'` or just `dill`)"
    return ExecutorError(f"the {kind} executor cannot be imported ({err}): install {how}")


def init_ray(init_options: dict[str, Any] | None = None) -> None:
    """Start or connect to Ray once per process (``ray.init(**init_options)``)."""
    try:
        import ray
    except ImportError as err:
        raise _import_error("ray", err) from err
    if not ray.is_initialized():
        ray.init(**{"ignore_reinit_error": True, "log_to_driver": False, **(init_options or {})})


class RankTolerantLocalExecutor(LocalPipelineExecutor):
    """``LocalPipelineExecutor`` that can let the other ranks finish when one rank fails.

    The stock one stops the pool on the first failure, killing ranks in flight; with
    ``keep_going`` a failed rank is logged and left without its completion marker, so a
    relaunch runs only the ranks that did not complete (``incomplete_ranks`` lists them).
    ``quiet`` sends the ranks' console logs to /dev/null (their log files keep them).
    """

    def __init__(self, *args: Any, quiet: bool = False, keep_going: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.quiet = quiet  # keep datatrove's console logs off the terminal (the log files keep them)
        self.keep_going = keep_going  # False: a failing rank raises, as in LocalPipelineExecutor

    def run(self):
        """Run the missing ranks; with ``quiet``, datatrove's console logs (ranks and summary) go nowhere."""
        with quiet_logs(self.quiet), managers_die_with_parent():
            return super().run()

    def _launch_run_for_rank(self, rank, ranks_q, completed=None, completed_lock=None):
        with quiet_logs(self.quiet):  # again here: forkserver pool workers do not inherit the redirect
            try:
                return super()._launch_run_for_rank(rank, ranks_q, completed, completed_lock)
            except Exception as err:  # the rank stays incomplete; the caller reports it
                if not self.keep_going:
                    raise
                logger.error(f"rank {rank} failed: {type(err).__name__}: {err}")
                return PipelineStats()


def _die_with_parent() -> None:
    """In a helper process: ask Linux to SIGKILL it when the process that started it dies."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the manager outlives a killed parent, as before
        return
    if os.getppid() == 1:  # the parent died before prctl
        os._exit(0)


@contextlib.contextmanager
def managers_die_with_parent():
    """datatrove's local executor starts a ``multiprocess.Manager`` server process per run; a killed
    ``quotes`` (SIGKILL, OOM killer) would leave it running forever, holding the terminal's pipes.
    Inside this block such managers die with the process that started them."""
    import multiprocess
    from multiprocess.managers import SyncManager

    original = multiprocess.Manager

    def manager():
        m = SyncManager(ctx=multiprocess.get_context())
        m.start(_die_with_parent)
        return m

    multiprocess.Manager = manager
    try:
        yield
    finally:
        multiprocess.Manager = original


@contextlib.contextmanager
def quiet_logs(quiet: bool = True):
    """Keep datatrove's console logs off the terminal in this process and the ranks it forks (the
    per-rank log files keep them); restores datatrove's default console logger afterwards."""
    if not quiet:
        yield
        return
    from datatrove.utils.logging import setup_default_logger

    try:
        with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
            setup_default_logger()  # datatrove's loggers write to sys.stderr as it is when added
            yield
    finally:
        setup_default_logger()


def incomplete_ranks(executor) -> list[int]:
    """Ranks of ``executor`` without a completion marker (whatever ``skip_completed`` says)."""
    return executor.get_incomplete_ranks(skip_completed=True)


def make_executor(pipeline: list[Any], *, logging_dir: str, kind: str = "local", tasks: int = 1,
                  workers: int = 1, depends: Any = None, ray_init: dict[str, Any] | None = None,
                  quiet: bool = False, keep_going: bool = False, **options: Any):
    """An executor of ``kind`` (local, slurm, ray) for ``pipeline``, skipping completed ranks.

    ``options`` go to the executor (e.g. ``partition``/``time`` for Slurm, ``cpus_per_task``
    for Ray); ``ray_init`` are ``ray.init`` arguments, used when Ray is not started yet;
    ``quiet`` keeps datatrove's console logs of local ranks off the terminal; ``keep_going``
    lets the other local ranks finish when one fails (check ``incomplete_ranks`` after
    ``run()``), where by default the first failure raises.
    """
    common = dict(tasks=tasks, workers=workers, logging_dir=logging_dir, skip_completed=True, depends=depends)
    if kind == "local":
        return RankTolerantLocalExecutor(pipeline, **common, quiet=quiet, keep_going=keep_going, **options)
    if kind == "slurm":
        missing = [name for name in SLURM_REQUIRED if not options.get(name)]
        if missing:
            raise ExecutorError(f"slurm executor needs {', '.join(missing)}: set them under [run.slurm] in quotes.toml")
        try:
            from datatrove.executor.slurm import SlurmPipelineExecutor
        except ImportError as err:
            raise _import_error("slurm", err) from err
        return SlurmPipelineExecutor(pipeline, **common, **options)
    if kind == "ray":
        try:
            import ray  # noqa: F401
            from datatrove.executor.ray import RayPipelineExecutor
        except ImportError as err:
            raise _import_error("ray", err) from err
        init_ray(ray_init)
        return RayPipelineExecutor(pipeline, **common, **options)
    raise ExecutorError(f"unknown executor {kind!r}: use one of {', '.join(KINDS)}")


def executor_for(cfg: dict[str, Any] | None, pipeline: list[Any], *, logging_dir: str, kind: str | None = None,
                 tasks: int | None = None, workers: int | None = None, depends: Any = None, quiet: bool = False):
    """``make_executor`` with the ``[run]`` settings filled in (flags win over the file); local ranks
    keep going when one fails (``quotes run`` reports the unfinished ranks)."""
    run = run_settings(cfg)
    kind = kind or run["executor"]
    tasks = tasks or run["tasks"]
    workers = workers if workers is not None else run["workers"]
    init = run["ray"].get("init") if kind == "ray" else None
    extra = {"ray_init": init} if kind == "ray" else {"quiet": quiet, "keep_going": True} if kind == "local" else {}
    return make_executor(pipeline, logging_dir=logging_dir, kind=kind, tasks=tasks, workers=workers,
                         depends=depends, **extra, **executor_options(cfg, kind))


class RankShardedRows(PipelineStep):
    """Reads the rows of every Parquet shard under ``folder``; rank r keeps rows r, r+w, r+2w, ...

    Sharding by row (not by file, as datatrove's readers do) keeps every rank busy when a
    stage wrote fewer files than there are tasks (e.g. one documents shard per ingest run),
    and the split depends only on the rows' fixed order and the task count.
    """

    name = "rows sharded by rank"
    type = "📖 - READER"

    def __init__(self, folder: str, id_key: str = "doc_id", text_key: str = "text", batch_size: int = 256):
        super().__init__()
        self.folder, self.id_key, self.text_key, self.batch_size = str(folder), id_key, text_key, batch_size

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        from builder.workspace.shards import iter_shard_batches, parquet_files

        if data:
            yield from data
        seen = 0  # index of the next row in the fixed order over all shards
        for name in parquet_files(self.folder):
            # one batch at a time, no read-ahead, page checksums verified: memory stays flat however large the shard
            for batch in iter_shard_batches(self.folder, name, batch_size=self.batch_size):
                first = (rank - seen) % world_size
                mine = list(range(first, batch.num_rows, world_size))
                seen += batch.num_rows
                if not mine:
                    continue
                for row in batch.take(mine).to_pylist():
                    self.stat_update("documents")
                    text = row.pop(self.text_key, "") or ""
                    yield Document(text=text, id=str(row.pop(self.id_key)), metadata=row)


class TimeProbe(PipelineStep):
    """Passes documents through, timing how long the steps upstream of it took to produce them.

    ``with_probes`` puts one after every step; the difference between consecutive probes is
    each step's own time (datatrove only counts the time a step tracks itself).
    """

    name = "time probe"
    type = "⏱️ - PROBE"

    def __init__(self, after: str):
        super().__init__()
        self.after = after
        self.stats.name = f"{self.type}: after {after}"

    def run(self, data, rank: int = 0, world_size: int = 1):
        import time

        if data is None:
            return
        it = iter(data)
        spent = 0.0
        while True:
            started = time.perf_counter()
            try:
                doc = next(it)
            except StopIteration:
                spent += time.perf_counter() - started
                break
            spent += time.perf_counter() - started
            yield doc
        self.stat_update("upstream_seconds", value=spent, unit="task")


def with_probes(steps: list[Any]) -> list[Any]:
    """``steps`` with a ``TimeProbe`` after each one."""
    probed: list[Any] = []
    for step in steps:
        probed += [step, TimeProbe(str(step))]
    return probed


def rank_shards(folder: str, rank: int) -> list[str]:
    """Files of ``rank`` under ``folder``: names ending in ``<rank:05d>.parquet`` or, half-written,
    ``<rank:05d>.parquet.part`` (datatrove may prefix a file index, ``000_00003.parquet``)."""
    from datatrove.io import get_datafolder

    df = get_datafolder(folder)
    if not df.exists(""):
        return []
    wanted = (f"{rank:05d}.parquet", f"{rank:05d}.parquet.part")  # published, or left half-written
    return [name for name in df.list_files(recursive=True)
            if (base := name.rsplit("/", 1)[-1]) in wanted or base.split("_", 1)[-1] in wanted]


class DiscardRankOutputs(PipelineStep):
    """First step of a stage: deletes what an earlier, failed attempt of this rank left in ``folders``.

    It runs eagerly (not as a generator), inside the rank, before any other step starts, so
    a rerun never sees its own half-written shard (e.g. as 'already proposed'), on any executor.
    Completed ranks are skipped by the executor and never get here.
    """

    name = "discard partial outputs"
    type = "🧹 - CLEAN"

    def __init__(self, folders: list[str]):
        super().__init__()
        self.folders = [str(f) for f in folders]

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        from datatrove.io import get_datafolder

        for folder in self.folders:
            for name in rank_shards(folder, rank):
                logger.warning(f"rank {rank}: removing {folder}/{name} left by an unfinished attempt")
                get_datafolder(folder).rm(name)
        return data


PROGRESS_FOLDER = "progress"  # under a stage's logging_dir: one file per rank holding its document count


class RankProgress(PipelineStep):
    """Passes documents through, writing how many went by to ``<logging_dir>/progress/<rank>``.

    The count is written at the first document, then at most every ``interval`` seconds, and at
    the end, so a process watching the logging dir (``progress_of``) can show a documents bar
    for ranks running in other processes or on other machines of a shared filesystem.
    """

    name = "rank progress"
    type = "📶 - PROGRESS"

    def __init__(self, logging_dir: str, interval: float = 1.0):
        super().__init__()
        self.logging_dir, self.interval = str(logging_dir), interval

    def _write(self, rank: int, count: int) -> None:
        from datatrove.io import get_datafolder

        with get_datafolder(self.logging_dir).open(f"{PROGRESS_FOLDER}/{rank:05d}", "wt") as fh:
            fh.write(str(count))

    def run(self, data, rank: int = 0, world_size: int = 1):
        import time

        count, last = 0, time.monotonic()
        self._write(rank, 0)
        for doc in data or []:
            count += 1
            if count == 1 or time.monotonic() - last >= self.interval:  # the first one at once: start-up is over
                self._write(rank, count)
                last = time.monotonic()
            yield doc
        self._write(rank, count)


def progress_of(logging_dir: str, known: dict[str, int] | None = None) -> tuple[int, int]:
    """(documents counted by ``RankProgress`` over all ranks, ranks with a completion marker).

    ``known`` keeps each rank's last count, used while a rank is rewriting its file."""
    from datatrove.io import get_datafolder

    known = {} if known is None else known
    df = get_datafolder(logging_dir)
    if df.exists(PROGRESS_FOLDER):
        for name in df.list_files(PROGRESS_FOLDER):
            try:
                with df.open(name, "rt") as fh:
                    known[name] = int(fh.read().strip())
            except (OSError, ValueError):  # caught mid-rewrite: keep the last count
                continue
    done = len(df.list_files("completions")) if df.exists("completions") else 0
    return sum(known.values()), done
