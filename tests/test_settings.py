"""Typed settings: a malformed quotes.toml or an unknown key is a clear error (file, line, known keys)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from builder.config import DEFAULTS, ConfigError, load_config

QUOTES = str(Path(sys.executable).with_name("quotes"))


def write(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "quotes.toml"
    f.write_text(text)
    return f


@pytest.mark.parametrize("text, expected", [
    ('[propose]\nmodel = "x"\nscpoe = "broad"\n', ["line 3", "'scpoe'", "[propose]", "scope", "model"]),
    ("[propose\nscope = 1\n", ["not valid TOML", "line 1"]),
    ('[export]\nseed = "thirteen"\n', ["line 2", "export.seed", "an integer"]),
    ("bogus = 1\n", ["line 1", "'bogus'", "workspace", "export"]),
    ('[ingest]\nfields = { url = "link", titel = "t" }\n', ["line 2", "'titel'", "title"]),
])
def test_bad_settings_name_file_line_and_known_keys(tmp_path, text, expected):
    f = write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_config(f)
    for part in [str(f), *expected]:
        assert part in str(e.value)


def test_known_keys_come_from_defaults_and_open_tables_take_any(tmp_path, monkeypatch):
    f = write(tmp_path, '[run]\nexecutor = "slurm"\n[run.slurm]\npartition = "cpu"\nsbatch_args = { account = "a" }\n'
                        '[export]\nratios = { train = 0.9, test = 0.1 }\ninclude_proposed = true\n'
                        '[studio]\ntimeout = 5\n')
    cfg = load_config(f)
    assert cfg["run"]["slurm"]["partition"] == "cpu" and cfg["export"]["include_proposed"] is True
    assert cfg["studio"]["timeout"] == 5
    monkeypatch.setitem(DEFAULTS["propose"], "trained", None)  # adding a key to DEFAULTS is all it takes
    assert load_config(write(tmp_path, '[propose]\ntrained = "models/x"\n'))["propose"]["trained"] == "models/x"


def test_cli_reports_bad_settings_without_traceback(tmp_path):
    write(tmp_path, '[propose]\nscpoe = "broad"\n')
    r = subprocess.run([QUOTES, "ingest", "x.txt"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "quotes.toml, line 2: unknown setting 'scpoe'" in r.stderr and "known:" in r.stderr
