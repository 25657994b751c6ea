"""`quotes demo` end to end on the repo's example articles (Label Studio skipped here;
tests/studio/ covers the round trip against a real server)."""
from __future__ import annotations

from pathlib import Path

import datasets
from typer.testing import CliRunner

from builder.cli import app

ROOT = Path(__file__).resolve().parent.parent


def test_demo_exports_a_dataset_that_loads(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "quotes.toml").write_text(f'[export]\nexports_dir = "{tmp_path / "exports"}"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["demo", str(ROOT / "examples"), "--no-studio"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "exports" / "quotes" / "0.1.0"
    assert str(folder) in result.output and "load_dataset" in result.output
    rows = datasets.load_dataset(str(folder), "attributions")
    assert sum(len(split) for split in rows.values()) > 0
    # a second demo on the same articles has nothing new: 0.1.0 holds that data, nothing is published
    again = CliRunner().invoke(app, ["demo", str(ROOT / "examples"), "--no-studio"])
    assert again.exit_code == 0, again.output
    assert "identical to 0.1.0" in again.output and str(folder) in again.output
    assert sorted(p.name for p in (tmp_path / "exports" / "quotes").iterdir()) == ["0.1.0"]


def test_demo_label_studio_failure_is_one_clear_line(tmp_path):
    """A Label Studio that cannot start (here a stand-in that exits 3): `quotes demo` says so in one
    line and its hint, exit 1, no traceback."""
    import os
    import shutil
    import subprocess
    import sys

    samples = tmp_path / "samples"
    samples.mkdir()
    shutil.copy(ROOT / "examples" / "harbour_bridge.txt", samples)
    fake = tmp_path / "label-studio"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUOTES_")}
    env.update(QUOTES_LABEL_STUDIO=str(fake), XDG_CACHE_HOME=str(tmp_path / "cache"))
    r = subprocess.run([str(Path(sys.executable).with_name("quotes")), "demo", str(samples), "-w", str(tmp_path / "ws")],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and "error: Label Studio exited with code 3 while starting" in r.stderr
    assert "hint: read" in r.stderr
