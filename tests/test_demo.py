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
    # a second demo publishes the next patch version, never overwriting the first
    again = CliRunner().invoke(app, ["demo", str(ROOT / "examples"), "--no-studio"])
    assert again.exit_code == 0, again.output
    assert (tmp_path / "exports" / "quotes" / "0.1.1").is_dir()
