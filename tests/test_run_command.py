"""The README's own ``quotes run articles/ --tasks 4 --workers 2``, as a user types it, on a clean workspace.

It used to fail in 2 of 3 runs (issue 12, defect 2: a propose rank read proposal shards its siblings were
still writing). Run three times: every document is proposed exactly once, and the spaCy pipeline is
loaded once per worker process, not once per task (the propose step's ``pipeline_loads`` statistic).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from builder.workspace.shards import read_rows

QUOTES = str(Path(sys.executable).parent / "quotes")

TEMPLATES = [
    "“We will not accept these terms,” {who}, the mayor, told reporters on {day}.",
    "{who} said that the plan for district {i} would cost more than expected.",
    "According to Reuters, {who} warned that the talks could collapse by {day}.",
]
NAMES = ["Maria Alvarez", "John Smith", "Aiko Tanaka", "Olu Adeyemi", "Sergei Ivanov", "Fatima Khan"]


def articles(folder: Path, n: int = 7) -> list[Path]:
    """``n`` small invented articles as .txt files (one file per article, as the README's articles/)."""
    folder.mkdir()
    paths = []
    for i in range(n):
        lines = [f"Council vote number {i}", f"The council met to discuss the transport plan for district {i}."]
        lines += [t.format(who=NAMES[(i + k) % len(NAMES)], day=["Monday", "Tuesday"][k % 2], i=i)
                  for k, t in enumerate(TEMPLATES)]
        path = folder / f"article{i}.txt"
        path.write_text("\n\n".join(lines) + "\n")
        paths.append(path)
    return paths


def quotes(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "QUOTES_FAULT"}
    with tempfile.TemporaryFile("w+") as out:
        code = subprocess.run([QUOTES, *args], cwd=cwd, env=env, stdout=out, stderr=out, timeout=600).returncode
        out.seek(0)
        return subprocess.CompletedProcess(args, code, out.read(), "")


@pytest.mark.slow
@pytest.mark.parametrize("attempt", range(3))
def test_readme_run_command_proposes_every_document_once(tmp_path, attempt):
    articles(tmp_path / "articles")
    out = quotes("run", "articles/", "--tasks", "4", "--workers", "2", "-w", "ws", cwd=tmp_path)
    assert out.returncode == 0, out.stdout[-3000:]
    ws = tmp_path / "ws"
    documents = [r["doc_id"] for r in read_rows(str(ws / "documents"), columns=["doc_id"])]
    proposed = [r["doc_id"] for r in read_rows(str(ws / "proposals"), columns=["doc_id"])]
    assert len(documents) == 7 and sorted(proposed) == sorted(documents)  # each once, none missing
    assert sorted(p.name for p in (ws / "proposals").rglob("*.parquet")) == [f"{r:05d}.parquet" for r in range(4)]
    (stats_path,) = (ws / "state" / "runs").glob("*/stats.json")
    stats = json.loads(stats_path.read_text())
    propose = next(s for s in stats["stages"] if s["stage"] == "propose")
    loads = sum(step["metrics"].get("pipeline_loads", 0) for step in propose["steps"])
    assert 1 <= loads <= 2, propose["steps"]  # 4 tasks on 2 worker processes: at most one load per process
    assert stats["documents_out"] == 7
