"""`quotes studio status` as a subprocess: what it says before the first push, and its exit status
(0: the server answers; 1: nothing answers)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

QUOTES = str(Path(sys.executable).with_name("quotes"))


def status(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUOTES_")}
    return subprocess.run([QUOTES, "studio", "status", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def test_status_of_a_server_that_does_not_answer_exits_1_and_says_how_to_start_it(tmp_path):
    from builder.annotate.server import free_port

    studio = tmp_path / "ws" / "studio"
    studio.mkdir(parents=True)
    url = f"http://127.0.0.1:{free_port()}"   # nothing listens there
    (studio / "server.json").write_text(json.dumps({
        "url": url, "port": int(url.rsplit(":", 1)[1]), "pid": None, "email": "admin@quotes.local",
        "password_file": str(studio / "password"), "token_file": str(studio / "token"),
        "log_file": str(studio / "server.log")}))
    r = status(tmp_path, "-w", "ws")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stdout + r.stderr
    assert r.stdout.startswith(f"{url}: not answering;") and "`quotes studio start -w ws` starts it" in r.stdout
    assert "project None" not in r.stdout, r.stdout
    r = status(tmp_path, "-w", "ws", "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["answers"] is False, r.stdout
    assert "1 when nothing answers" in " ".join(status(tmp_path, "--help").stdout.split())   # said in --help


@pytest.mark.studio
def test_status_before_the_first_push_says_there_is_no_project_yet(studio_server, tmp_path):
    """A workspace whose server answers (the session's real one) but that has pushed nothing yet."""
    ws, info = studio_server
    (tmp_path / "ws" / "studio").mkdir(parents=True)
    (tmp_path / "ws" / "studio" / "server.json").write_text((Path(ws.path) / "studio" / "server.json").read_text())
    r = status(tmp_path, "-w", "ws")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == (f"{info.url}: answers; no project yet (`quotes push -w ws` creates it); "
                                f"token file {info.token_file}"), r.stdout
