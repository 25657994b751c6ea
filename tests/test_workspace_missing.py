"""A misspelled -w: commands that read a workspace (or add to one that exists) refuse a folder that
does not exist, naming it and the command that makes one; they never create it empty. Commands
that make or fill a workspace (ingest, run with inputs, demo) create it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

QUOTES = str(Path(sys.executable).with_name("quotes"))
REPO = Path(__file__).resolve().parent.parent

READERS = [
    ["export", "--version", "1.0.0"], ["push"], ["pull"], ["agreement"], ["studio", "start"], ["studio", "stop"],
    ["studio", "status"], ["run"],
]


def quotes(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([QUOTES, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("command", READERS, ids=" ".join)
def test_a_command_that_reads_a_workspace_refuses_a_missing_one_and_creates_nothing(tmp_path, command):
    r = quotes(tmp_path, *command, "-w", "wrokspace")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.strip() == (f"error: no workspace at wrokspace ({tmp_path / 'wrokspace'}): it does not exist. "
                                "Check -w/--workspace (or [workspace] path in quotes.toml); "
                                "`quotes ingest PATH... -w wrokspace` creates a workspace"), r.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_default_workspace_and_a_file_in_its_place_are_refused_too(tmp_path):
    r = quotes(tmp_path, "export", "--version", "1.0.0")   # ./workspace, the default
    assert r.returncode == 2 and "no workspace at workspace" in r.stderr and "`quotes ingest PATH...` creates" \
        in r.stderr, r.stderr
    (tmp_path / "ws").write_text("not a folder")
    r = quotes(tmp_path, "pull", "-w", "ws")
    assert r.returncode == 2 and "it is not a folder" in r.stderr, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ws"]


def test_ingest_creates_the_workspace_it_is_given(tmp_path):
    r = quotes(tmp_path, "ingest", str(REPO / "examples" / "harbour_bridge.txt"), "-w", "new/ws", "--no-progress")
    assert r.returncode == 0, r.stdout + r.stderr
    assert list((tmp_path / "new" / "ws" / "documents").rglob("*.parquet"))
    r = quotes(tmp_path, "agreement", "-w", "new/ws")   # the same reader now finds it
    assert r.returncode == 0 and "no annotations pulled yet" in r.stdout, r.stdout + r.stderr
