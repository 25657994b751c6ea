"""Every command answers --help, through both entry points."""
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
