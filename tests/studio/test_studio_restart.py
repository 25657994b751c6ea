"""Starting, interrupting and restarting a workspace's own Label Studio server, as a user does it:
``quotes studio start`` as a subprocess, sent SIGINT (Ctrl-C), SIGTERM, or SIGKILLed at the point
where the server answers but its API token is not set up yet. Each later start must recover by
itself and keep the annotations already in the server's database. The module's server runs in a
workspace of its own (its tokens are revoked and made again; the session server is left alone)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from builder.annotate.server import free_port, label_studio_bin, token_auth
from .data import articles, as_from_a_terminal, write_workspace

pytestmark = [pytest.mark.studio, pytest.mark.slow]

QUOTES = str(Path(sys.executable).with_name("quotes"))


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """(cwd, workspace folder, port); whatever server the tests leave is stopped at the end."""
    if not label_studio_bin().exists():
        pytest.skip(f"Label Studio not installed ({label_studio_bin()} missing): run `make install-studio`")
    cwd = tmp_path_factory.mktemp("restart")
    ws = cwd / "ws"
    write_workspace(ws, articles())
    yield cwd, ws, free_port()
    record = ws / "studio" / "server.json"
    pid = json.loads(record.read_text()).get("pid") if record.exists() else None
    if pid and group_alive(pid):
        os.killpg(pid, signal.SIGKILL)


def env_of(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUOTES_")}
    return {**env, **extra}


def quotes(cwd: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([QUOTES, *args], cwd=cwd, env=env_of(**extra), capture_output=True, text=True,
                          timeout=600)


def group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def record(ws: Path) -> dict:
    return json.loads((ws / "studio" / "server.json").read_text())


def wait_for(condition, what: str, limit_s: float = 300.0) -> None:
    """Poll ``condition`` (a safety limit only: no timing is asserted)."""
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


def servers_of(ws: Path) -> list[int]:
    """Pids of the processes whose command line names this workspace's Label Studio data folder."""
    data = str((ws / "studio" / "data").resolve()).encode()
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and data in (proc / "cmdline").read_bytes():
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def assert_nothing_left(ws: Path, r: subprocess.CompletedProcess, code: int = 130) -> None:
    assert r.returncode == code, (r.returncode, r.stderr)   # 128 + the signal: 130 Ctrl-C, 143 SIGTERM
    assert "Traceback" not in r.stderr and "interrupted" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert servers_of(ws) == []
    assert record(ws)["pid"] is None
    assert not (ws / "studio" / "token").exists()


def test_ctrl_c_during_the_first_start_stops_the_server_it_launched(home):
    cwd, ws, port = home
    proc = subprocess.Popen([QUOTES, "studio", "start", "-w", str(ws), "--port", str(port)], cwd=cwd,
                            env=env_of(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=as_from_a_terminal)
    server_json = ws / "studio" / "server.json"
    wait_for(lambda: server_json.exists() and record(ws).get("pid"), "the server to be launched")
    launched = record(ws)["pid"]
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert not group_alive(launched)  # the server and every process it spawned are gone
    assert "the Label Studio server it was starting is stopped: none runs" in err, err
    assert_nothing_left(ws, subprocess.CompletedProcess(proc.args, proc.returncode, out, err))


def test_start_stopped_after_the_admin_exists_but_before_its_token_leaves_nothing(home):
    cwd, ws, port = home
    r = quotes(cwd, "studio", "start", "-w", str(ws), "--port", str(port), QUOTES_FAULT="studio:answers:TERM")
    assert_nothing_left(ws, r, 128 + signal.SIGTERM)
    assert "the Label Studio server it was starting is stopped: none runs" in r.stderr, r.stderr   # as Ctrl-C says


def test_next_start_sets_the_token_up_and_keeps_annotations(home):
    """The admin user already exists (previous test) and its first token was never stored: the start
    logs in with the password file and makes a new personal access token."""
    cwd, ws, port = home
    r = quotes(cwd, "studio", "start", "-w", ws.name, "--port", str(port))
    assert r.returncode == 0, r.stderr
    token = (ws / "studio" / "token").read_text().strip()
    assert token.count(".") == 2 and token not in r.stdout + r.stderr
    assert r.stdout.rstrip().endswith(f"stop it with `quotes studio stop -w {ws.name}`"), r.stdout  # the -w given
    r = quotes(cwd, "push", "-w", str(ws))
    assert r.returncode == 0 and f"{len(articles())} new tasks" in r.stdout, r.stdout + r.stderr
    annotate_one(ws, port, token)
    r = quotes(cwd, "pull", "-w", str(ws))
    assert r.returncode == 0 and ", 1 annotation rows" in r.stdout, r.stdout + r.stderr


def test_server_left_running_without_a_token_is_repaired_by_the_next_start(home):
    """What the old start left after Ctrl-C: the server running on, no token file. Here made by
    SIGKILLing the start where the server answers and losing the token file."""
    cwd, ws, port = home
    running = record(ws)["pid"]
    stop = quotes(cwd, "studio", "stop", "-w", ws.name)  # the stop hint of the start before, as printed
    assert stop.returncode == 0 and stop.stdout.strip() == "stopped", stop.stdout
    assert not group_alive(running) and servers_of(ws) == []
    old = (ws / "studio" / "token").read_text().strip()
    url = f"http://127.0.0.1:{port}"
    stopped = quotes(cwd, "push", "-w", str(ws))
    assert stopped.returncode == 1 and "not running" in stopped.stderr and "refused" not in stopped.stderr
    (ws / "studio" / "token").unlink()
    r = quotes(cwd, "studio", "start", "-w", str(ws), QUOTES_FAULT="studio:answers:KILL")  # no --port: its own
    assert r.returncode == -signal.SIGKILL
    orphan = record(ws)["pid"]
    assert group_alive(orphan)
    status = quotes(cwd, "studio", "status", "-w", str(ws))
    assert status.returncode == 0 and "missing or no longer works" in status.stdout, status.stdout
    push = quotes(cwd, "push", "-w", str(ws))
    assert push.returncode == 1 and "Traceback" not in push.stderr and "quotes studio start" in push.stderr
    assert len(push.stderr.strip().splitlines()) <= 2, push.stderr  # the error and its hint
    r = quotes(cwd, "studio", "start", "-w", str(ws))
    assert r.returncode == 0, r.stderr
    assert record(ws)["pid"] == orphan  # the running server was kept
    assert r.stdout.startswith(f"Label Studio already runs at {url}") and "template" not in r.stdout, r.stdout
    token = (ws / "studio" / "token").read_text().strip()
    import httpx

    assert httpx.post(f"{url}/api/token/refresh/", json={"refresh": old}, timeout=30).status_code == 401  # revoked
    r = quotes(cwd, "pull", "-w", str(ws))
    assert r.returncode == 0 and "0 annotation rows" in r.stdout, r.stdout + r.stderr
    tasks = httpx.get(f"{url}/api/tasks", params={"project": project_id(ws)}, auth=token_auth(url, token),
                      timeout=30).json()["tasks"]
    assert sum(t["total_annotations"] for t in tasks) == 1  # the annotation made before is still there
    assert quotes(cwd, "studio", "stop", "-w", str(ws)).returncode == 0
    assert not group_alive(orphan)


def project_id(ws: Path) -> int:
    return json.loads((ws / "state" / "studio" / "project.json").read_text())["project_id"]


def annotate_one(ws: Path, port: int, token: str) -> None:
    from label_studio_sdk import LabelStudio

    c = LabelStudio(base_url=f"http://127.0.0.1:{port}", api_key=token)
    task = next(iter(c.tasks.list(project=project_id(ws), fields="all")))
    c.annotations.create(id=task.id, result=task.model_dump(mode="json")["predictions"][0]["result"])


def test_a_new_port_when_its_own_is_taken_keeps_push_and_pull_state(home):
    """(The test before came back on the workspace's port without --port.)"""
    import socket

    cwd, ws, port = home
    pulled = sorted((ws / "annotations").glob("*.parquet"))
    with socket.socket() as taken:  # something else took the port meanwhile
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past the stopped server's TIME_WAIT
        taken.bind(("127.0.0.1", port))
        taken.listen()
        r = quotes(cwd, "studio", "start", "-w", str(ws))
        assert r.returncode == 0, r.stderr
        assert f"port {port} (this workspace's) is taken" in r.stdout, r.stdout
        moved = record(ws)["port"]
        assert moved != port and f"answers at http://127.0.0.1:{moved}\n" in r.stdout
        status = quotes(cwd, "studio", "status", "-w", str(ws))
        assert f"answers; project {project_id(ws)};" in status.stdout, status.stdout
        pull = quotes(cwd, "pull", "-w", str(ws))
        assert pull.returncode == 0 and pull.stdout.startswith("0 changed tasks"), pull.stdout + pull.stderr
        assert "nothing new" in pull.stdout and sorted((ws / "annotations").glob("*.parquet")) == pulled
        push = quotes(cwd, "push", "-w", str(ws))
        assert push.returncode == 0 and " 0 new tasks, 0 new predictions" in push.stdout, push.stdout + push.stderr
    assert quotes(cwd, "studio", "stop", "-w", str(ws)).returncode == 0
    assert servers_of(ws) == []


def test_two_starts_at_once_launch_one_server(home):
    """Two `quotes studio start` of one workspace at once: the second waits for the first (the
    workspace's studio lock) and then finds its server, instead of launching a second server on the
    same SQLite database. The test holds the lock until both wait for it, so they truly overlap."""
    from builder.config import Workspace
    from builder.workspace.lock import workspace_lock

    cwd, ws, port = home
    assert servers_of(ws) == []   # the test before stopped the server
    logs = [cwd / f"start-{n}.err" for n in range(2)]
    with workspace_lock(Workspace(str(ws)), "studio", on_wait=None):
        procs = []
        for log in logs:
            with log.open("w") as err:
                procs.append(subprocess.Popen([QUOTES, "studio", "start", "-w", str(ws)], cwd=cwd, env=env_of(),
                                              stdout=subprocess.PIPE, stderr=err, text=True))

        def both_wait() -> bool:
            assert all(p.poll() is None for p in procs), [log.read_text() for log in logs]   # none got past it
            return all("waiting for the workspace's studio lock" in log.read_text() for log in logs)

        wait_for(both_wait, "both starts to wait for the lock")
    outs = [p.communicate(timeout=600)[0] for p in procs]
    errs = [log.read_text() for log in logs]
    assert [p.returncode for p in procs] == [0, 0], errs
    assert "Traceback" not in "".join(errs)
    url = record(ws)["url"]
    said = sorted(next(line for line in out.splitlines() if line.startswith("Label Studio ")) for out in outs)
    assert said == [f"Label Studio already runs at {url}", f"Label Studio answers at {url}"], outs
    assert sum("starting Label Studio" in out for out in outs) == 1, outs   # said only by the one holding the lock
    leader = record(ws)["pid"]
    assert group_alive(leader) and {os.getpgid(pid) for pid in servers_of(ws)} == {leader}   # one server
    assert quotes(cwd, "studio", "stop", "-w", str(ws)).returncode == 0
    assert servers_of(ws) == []
