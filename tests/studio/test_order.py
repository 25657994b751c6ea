"""``quotes push --order uncertainty`` against a real Label Studio server: the tasks land most
uncertain first (disagreeing proposers, then the least sure quote), each with its task score."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from builder.annotate import connect
from builder.config import Workspace
from .data import INVENTED, invented_results, proposal_row, write_shard, document_row

pytestmark = pytest.mark.studio

QUOTES = str(Path(sys.executable).parent / "quotes")
V1, V2 = "quotes.proposer.test+v1", "quotes.proposer.hybrid.v1+test"


def _with_score(row: dict, score: float) -> dict:
    return {**row, "regions": [{**g, "score": score} for g in row["regions"]]}


def _shifted(row: dict) -> dict:
    """The same proposal with its quote one character shorter (a proposer that disagrees)."""
    return {**row, "regions": [{**g, "end": g["end"] - 1} if g["label"] == "Quote" else g for g in row["regions"]]}


def test_push_order_uncertainty_imports_disputed_and_doubtful_tasks_first(studio_server, tmp_path):
    _server_ws, info = studio_server
    text = dict(INVENTED)["inv-bridge"]
    docs = ["a-sure", "b-doubtful", "c-disputed"]   # workspace order: sure first
    (tmp_path / "quotes.toml").write_text(f'[studio]\nurl = "{info.url}"\nproject_title = "quotes order"\n')
    root = tmp_path / "ws"
    write_shard(root / "documents" / "b1", "Document", [document_row(d, f"{text} ({d})") for d in docs])
    base = {d: proposal_row(d, f"{text} ({d})", invented_results(text)) for d in docs}
    first = [_with_score(base["a-sure"], 0.95), _with_score(base["b-doubtful"], 0.35),
             _with_score(base["c-disputed"], 0.9)]
    second = [_with_score({**base["a-sure"], "model_version": V2}, 0.95),
              _with_score({**base["b-doubtful"], "model_version": V2}, 0.35),
              _with_score(_shifted({**base["c-disputed"], "model_version": V2}), 0.9)]
    write_shard(root / "proposals" / "b1", "Proposal", first)
    write_shard(root / "proposals" / "b2", "Proposal", second)
    token = Path(info.token_file).read_text().strip()
    env = {**os.environ, "QUOTES_STUDIO_TOKEN": token}
    out = subprocess.run([QUOTES, "push", "-w", "ws", "--order", "uncertainty"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    assert token not in out.stdout + out.stderr

    c = connect(Workspace(root), {"studio": {"url": info.url}}, token=token).client
    pid = next(p.id for p in c.projects.list() if p.title == "quotes order")
    tasks = [t.model_dump(mode="json") for t in c.tasks.list(project=pid, fields="all")]
    landed = [t["data"]["doc_id"] for t in sorted(tasks, key=lambda t: t["id"])]
    assert landed == ["c-disputed", "b-doubtful", "a-sure"]   # imported (task ids) most uncertain first
    scores = {t["data"]["doc_id"]: sorted(p["score"] for p in t["predictions"]) for t in tasks}
    assert scores == {"a-sure": [0.95, 0.95], "b-doubtful": [0.35, 0.35], "c-disputed": [0.9, 0.9]}
    assert {p["model_version"] for t in tasks for p in t["predictions"]} == {V1, V2}
    # annotators start from the newest proposals (b2's), although their version's name sorts first
    assert c.projects.get(pid).model_version == V2
