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


@pytest.mark.parametrize("command", READERS, ids=" ".join)
def test_a_folder_that_is_not_a_workspace_is_refused_and_nothing_is_written_there(tmp_path, command):
    """`-w docs` (an existing folder no quotes command made): refused like a missing one (exit 2), naming
    it and the `quotes ingest` line; no state/locks/ or studio/ appears in it, no exports/ beside it."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.md").write_text("not a workspace")
    r = quotes(tmp_path, *command, "-w", "docs")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stdout + r.stderr
    assert f"error: no workspace at docs ({tmp_path / 'docs'}): it is a folder but not a workspace" in r.stderr, \
        r.stderr
    assert "`quotes ingest PATH... -w docs` creates a workspace" in r.stderr, r.stderr
    assert "studio start" not in r.stdout + r.stderr
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["docs", "docs/notes.md"]


def test_hints_name_the_workspace_and_settings_file_given_and_a_failed_export_leaves_no_folder(tmp_path):
    """Every hint that names a next command names the same workspace (-w) and settings (--config);
    an export that fails (no documents, nothing annotated) leaves no exports/ folder behind."""
    (tmp_path / "X" / "state").mkdir(parents=True)   # a workspace without documents yet
    r = quotes(tmp_path, "propose", "-w", "X")
    assert r.returncode == 1 and "run `quotes ingest PATH... -w X` first" in r.stderr, r.stderr
    r = quotes(tmp_path, "export", "--version", "1.0.0", "-w", "X")
    assert r.returncode == 1 and "run `quotes ingest PATH... -w X` first" in r.stderr, r.stderr
    assert not (tmp_path / "exports").exists()
    r = quotes(tmp_path, "ingest", str(REPO / "examples" / "harbour_bridge.txt"), "-w", "X", "--no-progress")
    assert r.returncode == 0, r.stdout + r.stderr
    r = quotes(tmp_path, "export", "--version", "1.0.0", "-w", "X")   # documents, but nothing annotated
    assert r.returncode == 1 and "run `quotes pull -w X`" in r.stderr, r.stderr
    assert not (tmp_path / "exports").exists()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "quotes.toml").write_text('[workspace]\npath = "../X"\n[export]\nexports_dir = "out"\n')
    r = quotes(tmp_path, "export", "--version", "1.0.0", "--config", "other/quotes.toml")
    assert r.returncode == 1 and "run `quotes pull -w X --config other/quotes.toml`" in r.stderr, r.stderr
    assert not (tmp_path / "other" / "out").exists() and not (tmp_path / "exports").exists()
    r = quotes(tmp_path, "agreement", "--config", "other/quotes.toml")
    assert r.returncode == 0 and "`quotes pull -w X --config other/quotes.toml`" in r.stdout.replace(
        "\n", ""), r.stdout
