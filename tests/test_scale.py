"""quotes run: executors, crash and relaunch, same rows whatever the task count, stats.

These tests use small datatrove steps of their own (below), so they do not depend on
the ingest and propose stages; tests/test_scale_pipeline.py runs the real ones.
"""
from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest
from datatrove.data import Document
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.writers import ParquetWriter

from builder.config import Workspace
from builder.executors import ExecutorError, executor_for, make_executor, run_settings
from builder.run import RunIncomplete, RunSpec, Stage, logging_dir, run_stages, run_workspace
from builder.store import read_rows

N_DOCS = 24


class ToyReader(PipelineStep):
    """Yields documents ``0..n-1``; rank r takes those with ``i % world_size == r``."""

    name = "toy reader"
    type = "Reader"

    def __init__(self, n: int):
        super().__init__()
        self.n = n

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        for i in range(rank, self.n, world_size):
            self.stat_update("documents")
            yield Document(text=f"article {i} said something", id=f"doc-{i:04d}", metadata={"n": i})


class ToyModelStep(PipelineStep):
    """Loads a 'model' lazily once per task (appends to ``log``), then counts words per doc.

    ``crash_marker``: while that file exists, the rank named in it fails midway.
    """

    name = "toy model"
    type = "Proposer"

    def __init__(self, log: str, crash_marker: str | None = None):
        super().__init__()
        self.log, self.crash_marker = log, crash_marker
        self._model = None

    def _load(self, rank: int):
        with open(self.log, "a") as fh:
            fh.write(f"load {rank} {os.getpid()}\n")
        return str.split

    def run(self, data, rank: int = 0, world_size: int = 1):
        if self._model is None:
            self._model = self._load(rank)
        crash = (self.crash_marker and os.path.exists(self.crash_marker)
                 and Path(self.crash_marker).read_text().strip() == str(rank))
        for i, doc in enumerate(data):
            if crash and i == 1:
                raise RuntimeError(f"crash on rank {rank} (test marker)")
            with self.track_time():
                doc.metadata["words"] = len(self._model(doc.text))
                self.stat_update("quotes_direct", value=1)
            yield doc


def toy_stage(out: Path, log: Path, tasks: int, crash_marker: Path | None = None) -> Stage:
    steps = [ToyReader(N_DOCS), ToyModelStep(str(log), str(crash_marker) if crash_marker else None),
             ParquetWriter(str(out), output_filename="${rank}.parquet")]
    return Stage("toy", steps, tasks)


def rows_of(folder: Path) -> list[tuple]:
    return sorted((r["id"], r["text"], r["metadata"]["words"]) for r in read_rows(str(folder)))


def loads(log: Path) -> list[int]:
    return sorted(int(line.split()[1]) for line in log.read_text().splitlines()) if log.exists() else []


# --- executor factory ------------------------------------------------------------------


def test_unknown_executor_is_a_clear_error(tmp_path):
    with pytest.raises(ExecutorError, match="use one of local, slurm, ray"):
        make_executor([], logging_dir=str(tmp_path), kind="kubernetes")


def test_slurm_needs_partition_and_time(tmp_path):
    with pytest.raises(ExecutorError, match=r"partition, time.*\[run.slurm\]"):
        make_executor([], logging_dir=str(tmp_path), kind="slurm", tasks=2)


def test_ray_missing_says_which_extra_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed: `import ray` fails
    with pytest.raises(ExecutorError, match="make test-scale"):
        make_executor([], logging_dir=str(tmp_path), kind="ray")


def test_run_settings_merge_quotes_toml_over_defaults():
    cfg = {"run": {"tasks": 8, "slurm": {"partition": "cpu", "time": "01:00:00"}}}
    run = run_settings(cfg)
    assert run["tasks"] == 8 and run["executor"] == "local"
    assert run["slurm"]["partition"] == "cpu" and run["slurm"]["mem_per_cpu_gb"] == 4


def test_slurm_executor_from_settings(tmp_path):
    cfg = {"run": {"slurm": {"partition": "cpu", "time": "01:00:00", "mem_per_cpu_gb": 3,
                             "sbatch_args": {"account": "news"}}}}
    ex = executor_for(cfg, [ToyReader(2)], logging_dir=str(tmp_path / "logs"), kind="slurm", tasks=4, workers=2)
    args = ex.get_sbatch_args(4)
    assert args["partition"] == "cpu" and args["time"] == "01:00:00" and args["mem-per-cpu"] == "3G"
    assert args["account"] == "news" and args["array"] == "0-3%2"


@pytest.fixture
def fake_sbatch(tmp_path, monkeypatch):
    """An ``sbatch`` on PATH that records its arguments and answers like Slurm."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    calls = tmp_path / "sbatch_calls.jsonl"
    script = bindir / "sbatch"
    script.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"calls = open({str(calls)!r}, 'a')\n"
        "calls.write(json.dumps(sys.argv[1:]) + '\\n'); calls.close()\n"
        f"print('Submitted batch job', 100 + len(open({str(calls)!r}).read().splitlines()))\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    return calls


def test_slurm_stages_are_chained_jobs(tmp_path, fake_sbatch):
    ws = Workspace(tmp_path / "ws")
    cfg = {"run": {"slurm": {"partition": "cpu", "time": "01:00:00"}}}
    spec = RunSpec("r1", "slurm", tasks=2, workers=-1)
    stages = [toy_stage(tmp_path / "a", tmp_path / "log", 2), toy_stage(tmp_path / "b", tmp_path / "log", 2)]
    stages[1].name = "second"
    run_stages(stages, ws, cfg, spec)
    calls = [json.loads(line) for line in fake_sbatch.read_text().splitlines()]
    # job 101: first stage, 102: its stats merge, 103: second stage after 101, 104: its stats merge
    deps = [next((a for a in call if a.startswith("--dependency")), None) for call in calls]
    assert "--dependency=afterok:101" in deps
    assert Path(logging_dir(ws, "r1", "toy"), "executor.pik").exists()
    assert Path(logging_dir(ws, "r1", "second"), "launch_script.slurm").read_text().count("#SBATCH --partition=cpu")


# --- local executor: crash, relaunch, determinism ----------------------------------------


def test_crash_then_relaunch_runs_only_the_missing_rank(tmp_path):
    ws, out, log, marker = Workspace(tmp_path / "ws"), tmp_path / "out", tmp_path / "loads.log", tmp_path / "crash"
    marker.write_text("2")
    stage = toy_stage(out, log, tasks=4, crash_marker=marker)
    with pytest.raises(RunIncomplete) as err:
        run_workspace(None, ws, {}, tasks=4, workers=2, run_id="crash", stages=[stage], outputs={})
    assert err.value.ranks == [2] and "--run-id crash" in str(err.value)
    assert loads(log) == [0, 1, 2, 3]
    assert not Path(logging_dir(ws, "crash", "toy"), "completions", "00002").exists()

    marker.unlink()
    stats = run_workspace(None, ws, {}, run_id="crash",  # tasks and workers come from the saved run.json
                          stages=[toy_stage(out, log, tasks=4)], outputs={})
    assert loads(log) == [0, 1, 2, 2, 3]  # only rank 2 ran again, and loaded its model once

    single = tmp_path / "single"
    run_workspace(None, Workspace(tmp_path / "ws1"), {}, tasks=1, workers=1, run_id="one",
                  stages=[toy_stage(single, tmp_path / "loads1.log", tasks=1)], outputs={})
    assert rows_of(out) == rows_of(single) and len(rows_of(out)) == N_DOCS

    steps = {s["step"]: s for s in stats["stages"][0]["steps"]}
    assert steps["Reader: toy reader"]["metrics"]["documents"] == N_DOCS  # merged over all 4 ranks, both launches
    assert steps["Proposer: toy model"]["metrics"]["quotes_direct"] == N_DOCS
    saved = json.loads(Path(ws.state, "runs", "crash", "stats.json").read_text())
    assert saved["run_id"] == "crash" and saved["stages"][0]["tasks"] == 4
    assert saved["tasks"] == 4 and saved["workers"] == 2


@pytest.mark.parametrize("tasks", [2, 8])
def test_rows_do_not_depend_on_task_count(tmp_path, tasks):
    one, many = tmp_path / "one", tmp_path / "many"
    run_workspace(None, Workspace(tmp_path / "w1"), {}, tasks=1, workers=1, run_id="a",
                  stages=[toy_stage(one, tmp_path / "l1", 1)], outputs={})
    run_workspace(None, Workspace(tmp_path / "w2"), {}, tasks=tasks, workers=2, run_id="b",
                  stages=[toy_stage(many, tmp_path / "l2", tasks)], outputs={})
    assert rows_of(one) == rows_of(many)
    shards = sorted(p.name for p in many.iterdir())
    assert len(shards) == tasks and all(f"{r:05d}.parquet" in name for r, name in enumerate(shards))
    assert loads(tmp_path / "l2") == list(range(tasks))  # one model load per task


def test_progress_reports_documents_and_ranks(tmp_path):
    seen = []
    stage = toy_stage(tmp_path / "out", tmp_path / "log", 3)
    stage.expected = lambda: N_DOCS
    run_workspace(None, Workspace(tmp_path / "ws"), {}, tasks=3, workers=2, run_id="p", stages=[stage], outputs={},
                  on_progress=lambda state: seen.append((state.documents, state.ranks_done, state.finished)))
    last = seen[-1]
    assert last == (N_DOCS, 3, True) and not any(finished for *_, finished in seen[:-1])
    assert [docs for docs, *_ in seen] == sorted(docs for docs, *_ in seen)  # never goes back
    stats = json.loads(Path(tmp_path, "ws", "state", "runs", "p", "stats.json").read_text())
    assert not any("PROGRESS" in step["step"] for step in stats["stages"][0]["steps"])


def test_progress_of_keeps_the_last_count_of_a_file_being_rewritten(tmp_path):
    from builder.executors import RankProgress, progress_of

    step = RankProgress(str(tmp_path))
    assert list(step.run(iter([Document(text="a", id="1"), Document(text="b", id="2")]), rank=0)) != []
    assert progress_of(str(tmp_path)) == (2, 0)
    known = {}
    (tmp_path / "progress" / "00001").write_text("5")
    assert progress_of(str(tmp_path), known) == (7, 0)
    (tmp_path / "progress" / "00001").write_text("")  # caught mid-rewrite
    (tmp_path / "completions").mkdir()
    (tmp_path / "completions" / "00000").write_text("")
    assert progress_of(str(tmp_path), known) == (7, 1)


def test_workspace_may_be_an_fsspec_url(tmp_path):
    ws = Workspace(f"file://{tmp_path}/ws")
    out, log = f"file://{tmp_path}/out", tmp_path / "log"
    stage = Stage("toy", [ToyReader(N_DOCS), ToyModelStep(str(log)), ParquetWriter(out, output_filename="${rank}.parquet")], 2)
    stats = run_workspace(None, ws, {}, tasks=2, workers=1, run_id="url", stages=[stage], outputs={})
    assert len(rows_of(tmp_path / "out")) == N_DOCS
    assert Path(tmp_path, "ws", "state", "runs", "url", "stats.json").exists()
    assert Path(tmp_path, "ws", "state", "runs", "url", "logs", "toy", "completions", "00001").exists()
    assert stats["stats_path"].startswith("file://")


def test_relaunch_must_keep_the_task_count(tmp_path):
    ws = Workspace(tmp_path / "ws")
    run_workspace(None, ws, {}, tasks=2, workers=1, run_id="r", stages=[toy_stage(tmp_path / "o", tmp_path / "l", 2)],
                  outputs={})
    with pytest.raises(ValueError, match="same --tasks"):
        run_workspace(None, ws, {}, tasks=3, workers=1, run_id="r",
                      stages=[toy_stage(tmp_path / "o", tmp_path / "l", 3)], outputs={})


def test_run_command_has_executor_options():
    from typer.testing import CliRunner

    from builder.cli import app

    result = CliRunner().invoke(app, ["run", "--help"])
    assert result.exit_code == 0
    for option in ("--executor", "--tasks", "--workers", "--run-id"):
        assert option in result.output


# --- Ray (local mode) -------------------------------------------------------------------


@pytest.mark.ray
@pytest.mark.filterwarnings("ignore:placement_group:DeprecationWarning")  # datatrove's call into Ray 2.60
def test_toy_pipeline_on_ray_matches_local(tmp_path):
    pytest.importorskip("ray")
    import ray

    tests_dir = str(Path(__file__).resolve().parent)  # Ray workers import the toy steps from here
    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join([tests_dir, os.environ.get("PYTHONPATH", "")])}})
    try:
        local, on_ray, marker = tmp_path / "local", tmp_path / "ray", tmp_path / "crash"
        run_workspace(None, Workspace(tmp_path / "w1"), {}, tasks=1, workers=1, run_id="a",
                      stages=[toy_stage(local, tmp_path / "l1", 1)], outputs={})
        marker.write_text("1")
        ws = Workspace(tmp_path / "w2")
        cfg = {"run": {"ray": {"mem_per_cpu_gb": 0.25}}}
        with pytest.raises(RunIncomplete) as err:
            run_workspace(None, ws, cfg, executor="ray", tasks=3, workers=2, run_id="b",
                          stages=[toy_stage(on_ray, tmp_path / "l2", 3, marker)], outputs={})
        assert err.value.ranks == [1]
        marker.unlink()
        stats = run_workspace(None, ws, cfg, executor="ray", tasks=3, workers=2, run_id="b",
                              stages=[toy_stage(on_ray, tmp_path / "l2", 3)], outputs={})
        assert rows_of(local) == rows_of(on_ray)
        assert loads(tmp_path / "l2") == [0, 1, 1, 2]
        assert stats["stages"][0]["steps"][0]["metrics"]["documents"] == N_DOCS
    finally:
        ray.shutdown()


# --- statistics helpers ----------------------------------------------------------------


def test_quote_and_reject_counts():
    from builder.run import quote_counts, reject_counts

    rows = [{"regions": [{"label": "Quote", "quote_type": "direct"}, {"label": "Speaker", "quote_type": None},
                         {"label": "Quote", "quote_type": "indirect"}], "error": None},
            {"regions": [], "error": "boom"}]
    assert quote_counts(rows) == {"proposals": 2, "proposal_errors": 1, "quotes_direct": 1, "quotes_indirect": 1}
    assert reject_counts([{"stage": "ingest", "reason": "too_short"}] * 2) == {"ingest:too_short": 2}


def test_rejects_since_reads_only_the_new_rows(tmp_path):
    from builder.run import rejects_since, rejects_size

    path = tmp_path / "rejects.jsonl"
    assert rejects_size(str(path)) == 0
    path.write_text(json.dumps({"reason": "old"}) + "\n")
    before = rejects_size(str(path))
    with path.open("a") as fh:
        fh.write(json.dumps({"reason": "new"}) + "\n")
    rows, end = rejects_since(str(path), before)
    assert [r["reason"] for r in rows] == ["new"] and end == path.stat().st_size


def test_discard_rank_outputs_removes_only_that_ranks_shards(tmp_path):
    from builder.executors import DiscardRankOutputs, rank_shards

    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    for name in ["000_00003.parquet", "00003.parquet", "sub/00003.parquet", "000_00013.parquet", "00001.parquet"]:
        (out / name).write_text("x")
    assert sorted(rank_shards(str(out), 3)) == sorted(["000_00003.parquet", "00003.parquet", "sub/00003.parquet"])
    assert DiscardRankOutputs([str(out), str(tmp_path / "missing")]).run(None, rank=3, world_size=4) is None
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == sorted(["000_00013.parquet", "00001.parquet"])


def test_make_executor_raises_on_a_failing_rank_by_default(tmp_path):
    marker = tmp_path / "crash"
    marker.write_text("0")
    stage = toy_stage(tmp_path / "out", tmp_path / "log", 1, marker)
    with pytest.raises(RuntimeError, match="crash on rank 0"):
        make_executor(stage.steps, logging_dir=str(tmp_path / "logs"), tasks=1, workers=1).run()
