"""quotes run with the real ingest and propose pipelines: crash, relaunch, same rows as one task, Ray.

Input: 4 JSONL shards of news-like articles written here (so 4 extract ranks).
"""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest
from datatrove.pipeline.base import PipelineStep

pytest.importorskip("builder.ingest.pipeline", reason="ingest pipeline not available yet")
pytest.importorskip("builder.propose.pipeline", reason="propose pipeline not available yet")

from builder.config import DEFAULTS, Workspace  # noqa: E402
from builder.run import (  # noqa: E402
    RunIncomplete, RunSpec, pipeline_stages, run_outputs, run_workspace,
)
from builder.store import read_rows  # noqa: E402

NAMES = ["Maria Alvarez", "John Smith", "Aiko Tanaka", "Olu Adeyemi", "Sergei Ivanov", "Fatima Khan",
         "Lucas Moreau", "Mei Li", "Ahmed Haddad", "Sofia Rossi", "Daniel Kim", "Priya Patel"]
OUTLETS = ["Reuters", "The Guardian", "Le Monde", "CNN"]


def article(i: int) -> dict:
    who, other, outlet = NAMES[i % len(NAMES)], NAMES[(i * 5 + 3) % len(NAMES)], OUTLETS[i % len(OUTLETS)]
    text = "\n\n".join([
        f"City council votes on plan number {i}",
        f"The council met on Tuesday to discuss the transport plan for district {i}. The vote was close.",
        f"“We will not accept these terms for district {i},” {who}, the mayor, told reporters after the meeting.",
        f"{other} said that the plan would cost more than expected, according to {outlet}.",
        f"Residents of district {i} have waited for a decision for more than {i + 2} years.",
    ])
    return {"text": text, "title": f"Council plan {i}", "publisher": outlet, "url": f"https://news.example/{i}"}


@pytest.fixture
def shards(tmp_path) -> list[Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    paths = []
    for shard in range(4):
        path = folder / f"shard{shard}.jsonl"
        path.write_text("".join(json.dumps(article(i)) + "\n" for i in range(shard, 12, 4)))
        paths.append(path)
    return paths


class CrashOnRank(PipelineStep):
    """Fails rank ``rank`` at its second document while ``marker`` exists (after one went through)."""

    name = "crash on rank (test)"
    type = "Test"

    def __init__(self, marker: str, rank: int):
        super().__init__()
        self.marker, self.crash_rank = marker, rank

    def run(self, data, rank: int = 0, world_size: int = 1):
        for i, doc in enumerate(data):
            if i == 1 and rank == self.crash_rank and os.path.exists(self.marker):
                raise RuntimeError(f"test crash on rank {rank}")
            yield doc


def cfg() -> dict:
    return copy.deepcopy(DEFAULTS)


def stages_with_crash(paths, ws, settings, spec, marker: Path, rank: int):
    stages = pipeline_stages([str(p) for p in paths], ws, settings, spec)
    propose = next(s for s in stages if s.name == "propose")
    propose.steps.insert(2, CrashOnRank(str(marker), rank))  # after the proposer: a partial shard is left
    return stages


def proposal_rows(ws, run_id: str) -> list[tuple]:
    rows = read_rows(run_outputs(ws, run_id)["proposals"])
    return sorted(json.dumps(r, sort_keys=True) for r in rows)


def document_ids(ws, run_id: str) -> list[str]:
    return sorted(r["doc_id"] for r in read_rows(run_outputs(ws, run_id)["documents"], columns=["doc_id"]))


@pytest.fixture
def model_loads(monkeypatch) -> list[str]:
    """Names passed to spacy.load in this process (the runs below use workers=1: ranks run in-process)."""
    import spacy

    calls: list[str] = []
    real = spacy.load

    def counting_load(name, *args, **kwargs):
        calls.append(str(name))
        return real(name, *args, **kwargs)

    monkeypatch.setattr(spacy, "load", counting_load)
    monkeypatch.setattr("builder.propose.pipeline._PIPELINES", {})  # this process has loaded no pipeline yet
    return calls


@pytest.mark.slow
def test_crash_relaunch_and_same_rows_as_one_task(tmp_path, shards, model_loads):
    settings, ws = cfg(), Workspace(tmp_path / "ws")
    marker = tmp_path / "crash"
    marker.touch()
    spec = RunSpec("four", "local", 4, 1, [str(p) for p in shards])
    with pytest.raises(RunIncomplete) as err:
        run_workspace(shards, ws, settings, tasks=4, workers=1, run_id="four",
                      stages=stages_with_crash(shards, ws, settings, spec, marker, rank=3),
                      outputs=run_outputs(ws, "four"))
    assert err.value.stage == "propose" and err.value.ranks == [3]
    assert len(model_loads) == 1  # once per worker process (here: this one), not once per task

    marker.unlink()
    stats = run_workspace(None, ws, settings, tasks=4, workers=1, run_id="four",
                          stages=stages_with_crash(shards, ws, settings, spec, marker, rank=3),
                          outputs=run_outputs(ws, "four"))
    assert len(model_loads) == 1  # the relaunch (rank 3 of propose only) reused it

    one = Workspace(tmp_path / "ws1")
    run_workspace(shards, one, settings, tasks=1, workers=1, run_id="one")
    assert document_ids(ws, "four") == document_ids(one, "one") and len(document_ids(one, "one")) == 12
    assert proposal_rows(ws, "four") == proposal_rows(one, "one")

    assert stats["documents_out"] == 12 and stats["quotes"].get("proposals") == 12
    assert sum(v for k, v in stats["quotes"].items() if k.startswith("quotes_")) > 0
    assert [s["stage"] for s in stats["stages"]] == ["extract", "dedupe", "propose"]
    assert Path(ws.state, "runs", "four", "stats.json").exists()


@pytest.mark.slow
def test_two_workers_give_the_same_rows_and_count_rejects(tmp_path, shards):
    settings = cfg()
    (tmp_path / "in" / "empty.txt").write_text("")
    (tmp_path / "in" / "bad.jsonl").write_text(json.dumps(article(99)) + "\n{not json\n")
    inputs = [*shards, tmp_path / "in" / "empty.txt", tmp_path / "in" / "bad.jsonl"]
    a, b = Workspace(tmp_path / "a"), Workspace(tmp_path / "b")
    seen = {}
    one = run_workspace(inputs, a, settings, tasks=1, workers=1, run_id="r")
    two = run_workspace(inputs, b, settings, tasks=4, workers=2, run_id="r",
                        on_progress=lambda state: seen.__setitem__(state.stage, state))
    assert proposal_rows(a, "r") == proposal_rows(b, "r")
    for stats in (one, two):
        assert stats["rejected"].get("ingest:empty") == 1 and stats["rejected"].get("ingest:malformed_json") == 1
        assert stats["documents_out"] == 13 and stats["quotes"]["proposals"] == 13
    assert {name: (s.documents, s.ranks_done, s.finished) for name, s in seen.items()} == {
        "extract": (15, 4, True), "dedupe": (15, 1, True), "propose": (13, 4, True)}


@pytest.mark.ray
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:placement_group:DeprecationWarning")  # datatrove's call into Ray 2.60
def test_same_pipeline_on_ray(tmp_path, shards):
    pytest.importorskip("ray")
    import ray

    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
    try:
        settings = cfg()
        settings["run"] = {"ray": {"mem_per_cpu_gb": 0.5}}
        local, on_ray = Workspace(tmp_path / "local"), Workspace(tmp_path / "ray")
        run_workspace(shards, local, settings, tasks=1, workers=1, run_id="r")
        seen = {}
        stats = run_workspace(shards, on_ray, settings, executor="ray", tasks=4, workers=2, run_id="r",
                              on_progress=lambda state: seen.__setitem__(state.stage, state))
        assert proposal_rows(local, "r") == proposal_rows(on_ray, "r")
        assert stats["executor"] == "ray" and stats["documents_out"] == 12
        assert (seen["propose"].documents, seen["propose"].ranks_done) == (12, 4)  # progress of Ray workers
    finally:
        ray.shutdown()
