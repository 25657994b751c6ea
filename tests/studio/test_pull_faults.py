"""A real ``quotes pull`` killed (SIGKILL, SIGTERM) at each of its write points, then run again,
stores exactly what one uninterrupted pull stores; two pulls started together store each
annotation once (issue 12, defect 4: both took the same sequence number and temp name)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from builder.config import Workspace
from builder.workspace.shards import read_rows
from .data import articles, write_workspace

pytestmark = [pytest.mark.studio, pytest.mark.slow]

QUOTES = str(Path(sys.executable).parent / "quotes")
SIGNALS = {"KILL": -signal.SIGKILL, "TERM": -signal.SIGTERM}
POINTS = ["pull:rows-written", "pull:mark-moved"]


@pytest.fixture(scope="module")
def annotated(studio_server, tmp_path_factory):
    """A workspace pushed to its own project, three of whose tasks were then annotated."""
    from builder.annotate import connect, push

    _server_ws, info = studio_server
    root = tmp_path_factory.mktemp("pull-faults")
    cfg = {"studio": {"url": info.url, "project_title": "quotes pull faults"}}
    (root / "quotes.toml").write_text(f'[studio]\nurl = "{info.url}"\nproject_title = "quotes pull faults"\n')
    env = {**os.environ, "QUOTES_STUDIO_TOKEN": Path(info.token_file).read_text().strip()}
    env.pop("QUOTES_FAULT", None)
    write_workspace(root / "w0", articles())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QUOTES_STUDIO_TOKEN", env["QUOTES_STUDIO_TOKEN"])
        ws = Workspace(root / "w0")
        s = push(ws, cfg, progress=False)
        c = connect(ws, cfg).client
        for task in list(c.tasks.list(project=s.project_id, fields="all"))[:3]:
            t = task.model_dump(mode="json")
            c.annotations.create(id=t["id"], result=t["predictions"][0]["result"])
    return root, env


def case(annotated, tmp_path: Path) -> Path:
    root, _env = annotated
    shutil.copytree(root / "w0", tmp_path / "ws")
    shutil.copy(root / "quotes.toml", tmp_path / "quotes.toml")
    return tmp_path


def pull(cwd: Path, env: dict, fault: str | None = None) -> int:
    env = {**env, **({"QUOTES_FAULT": fault} if fault else {})}
    with tempfile.TemporaryFile() as out:
        return subprocess.run([QUOTES, "pull", "-w", "ws"], cwd=cwd, env=env, stdout=out, stderr=out,
                              timeout=600).returncode


def stored(cwd: Path) -> list[str]:
    """Every stored annotation row (duplicates kept), order-free."""
    return sorted(json.dumps([r["annotation_id"], r["updated_at"], r["regions"], r["deleted"]], default=str)
                  for r in read_rows(str(cwd / "ws" / "annotations")))


@pytest.fixture(scope="module")
def reference(annotated, tmp_path_factory):
    cwd = case(annotated, tmp_path_factory.mktemp("pull-ref"))
    assert pull(cwd, annotated[1]) == 0
    rows = stored(cwd)
    assert len(rows) == 3
    return rows


@pytest.mark.parametrize("sig", SIGNALS)
@pytest.mark.parametrize("point", POINTS)
def test_pull_killed_at_each_write_point_then_rerun_equals_one_pull(annotated, reference, tmp_path, point, sig):
    cwd = case(annotated, tmp_path)
    assert pull(cwd, annotated[1], f"{point}:{sig}") == SIGNALS[sig]
    assert pull(cwd, annotated[1]) == 0
    assert stored(cwd) == reference
    assert not list((cwd / "ws" / "annotations").glob(".*"))  # no temp file left behind


def test_two_pulls_at_once_store_each_annotation_once(annotated, reference, tmp_path):
    cwd = case(annotated, tmp_path)
    env = annotated[1]
    procs = [subprocess.Popen([QUOTES, "pull", "-w", "ws"], cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for _ in range(2)]
    assert [p.wait(timeout=600) for p in procs] == [0, 0]
    assert stored(cwd) == reference
