"""A local Label Studio server (the ``.venv-studio`` virtualenv) with SQLite in the workspace.

``start_server`` creates an admin user non-interactively through environment variables
(LABEL_STUDIO_USERNAME / _PASSWORD), closes sign-up and turns off the update check. The API
token it keeps is a Label Studio 1.23 *personal access token* (a JWT refresh token the SDK
exchanges for short-lived access tokens): whenever the token file is missing or no longer
works (the first start, or one interrupted before it wrote the file), the start logs in as
the admin over HTTP with the password file, revokes the admin's personal access tokens,
creates a new one and switches legacy tokens off for the organisation. The database keeps
only the personal access token's header and payload, never its signature.

A start that is interrupted (Ctrl-C, SIGTERM, SIGHUP) or fails stops the server process
group it launched and records that no server runs; the next start picks up from there
(the database, with any annotations, is kept). The password and token live in 0600 files under
``workspace/studio/``; ``workspace/studio/`` and its ``data/`` folder are 0700 and the
server writes its files 0600 (umask 077).
"""
from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from builder.annotate.client import StudioError, clean_token, health, pid_alive, read_json, studio_dir, write_json
from builder.workspace.atomic import publish, temp_name, write_atomic
from builder.workspace.faults import fault
from builder.workspace.folder import quotes_command
from builder.workspace.lock import workspace_lock

ADMIN_EMAIL = "admin@quotes.local"
HOST = "127.0.0.1"


@dataclass
class ServerInfo:
    url: str
    port: int
    pid: int | None
    email: str
    password_file: str
    token_file: str
    log_file: str
    answers: bool = False
    project_id: int | None = None
    token_works: bool = False  # the token file exists and the server accepts it
    started: bool = False  # this call launched the server (False: it already ran)
    moved_from: int | None = None  # the workspace's port, taken by something else: this start took another


def label_studio_bin() -> Path:
    """The label-studio executable of ``.venv-studio`` (env QUOTES_LABEL_STUDIO overrides)."""
    env = os.environ.get("QUOTES_LABEL_STUDIO")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parents[2] / ".venv-studio" / "bin" / "label-studio"
    if here.exists():
        return here
    return Path(sys.prefix).parent / ".venv-studio" / "bin" / "label-studio"


def _secret_file(path: Path, make) -> Path:
    if not path.exists():
        write_atomic(path, make().encode(), mode=0o600)
    os.chmod(path, 0o600)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def port_busy(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return True
    return False



def _auth_header(url: str, token: str, timeout: float) -> dict[str, str] | None:
    """The Authorization header for ``token``: a personal access token (JWT refresh token) is
    exchanged for an access token first; a legacy token is sent as is. None if the exchange fails."""
    import httpx

    if token.count(".") != 2:
        return {"Authorization": f"Token {token}"}
    r = httpx.post(f"{url}/api/token/refresh/", json={"refresh": token}, timeout=timeout)
    if r.status_code != 200:
        return None
    return {"Authorization": f"Bearer {r.json()['access']}"}


def token_auth(url: str, token: str):
    """An ``httpx`` auth for ``token`` at ``url`` (scripts and tests that call the API directly): a
    legacy token is sent as is; a personal access token is exchanged for an access token, and again
    when the server answers 401 (access tokens live minutes)."""
    import httpx

    class TokenAuth(httpx.Auth):
        header: dict[str, str] | None = None

        def fresh(self) -> dict[str, str]:
            self.header = _auth_header(url, token, 30.0) or {}
            return self.header

        def auth_flow(self, request: httpx.Request):
            request.headers.update(self.header if self.header is not None else self.fresh())
            response = yield request
            if response.status_code == 401 and token.count(".") == 2:
                request.headers.update(self.fresh())
                yield request

    return TokenAuth()


def answers(url: str, token: str | None = None, timeout: float = 3.0) -> bool:
    """True when the server's API answers (with the token, when given)."""
    import httpx

    if not token:
        return health(url, timeout)
    try:
        headers = _auth_header(url, token, timeout)
        if headers is None:
            return False
        r = httpx.get(f"{url}/api/current-user/whoami", headers=headers, timeout=timeout, follow_redirects=True)
        return r.status_code == 200
    except (httpx.HTTPError, httpx.InvalidURL, ValueError, KeyError):
        return False


def lock_down(folder: Path) -> None:
    """``folder`` and every folder under it 0700, every file 0600 (the database holds credentials)."""
    os.chmod(folder, 0o700)
    for dirpath, dirs, files in os.walk(folder):
        for d in dirs:
            os.chmod(os.path.join(dirpath, d), 0o700)
        for f in files:
            path = os.path.join(dirpath, f)
            if not os.path.islink(path):
                os.chmod(path, 0o600)


def _admin_session(url: str, password: str, timeout: float, again: str):
    """An ``httpx.Client`` logged in to the local server as the admin (Label Studio's login form, then
    its CSRF cookie as header for the API's session authentication)."""
    import httpx

    client = httpx.Client(base_url=url, timeout=timeout)
    try:
        client.get("/user/login/")
        r = client.post("/user/login/", headers={"Referer": f"{url}/user/login/"},
                        data={"email": ADMIN_EMAIL, "password": password,
                              "csrfmiddlewaretoken": client.cookies.get("csrftoken", "")})
        if r.status_code != 302:  # a failed login shows the form again (200)
            raise StudioError(f"could not log in to the local Label Studio as {ADMIN_EMAIL} with the password "
                              "in workspace/studio/password",
                              "if you changed the admin's password in Label Studio, write the new one into that "
                              f"file (0600) and run `{again}` again")
        client.headers.update({"X-CSRFToken": client.cookies.get("csrftoken", ""), "Referer": f"{url}/"})
        return client
    except BaseException:
        client.close()
        raise


def _new_personal_access_token(url: str, password: str, log_file: Path, again: str, timeout: float = 30.0) -> str:
    """A new personal access token of the admin: log in with the password, revoke the admin's personal
    access tokens (one whose file an interrupted start never wrote), create one, switch legacy tokens
    off for the organisation."""
    import httpx

    def check(r, what: str, ok=(200, 201, 204)):
        if r.status_code not in ok:
            raise StudioError(f"could not {what} on the local Label Studio ({r.status_code})", f"read {log_file}")
        return r

    try:
        s = _admin_session(url, password, timeout, again)
        try:
            for old in check(s.get("/api/token/"), "list the admin's API tokens").json():
                check(s.post("/api/token/blacklist/", json={"refresh": old["token"]}), "revoke an old API token",
                      ok=(204, 404))  # 404: already revoked
            pat = clean_token(check(s.post("/api/token/"), "create a personal access token").json().get("token"),
                              "the local server")
            check(s.post("/api/jwt/settings", json={"api_tokens_enabled": True, "legacy_api_tokens_enabled": False}),
                  "switch legacy API tokens off")
            return pat
        finally:
            s.close()
    except httpx.HTTPError as e:
        raise StudioError(f"the local Label Studio stopped answering while setting up its API token "
                          f"({type(e).__name__})", f"read {log_file}") from None


def ensure_token(url: str, token_file: Path, password_file: Path, again: str = "quotes studio start") -> None:
    """Make ``token_file`` hold a personal access token the server at ``url`` accepts: kept when it
    works, else (missing, revoked, or a legacy token of an older workspace) set up again."""
    token = token_file.read_text().strip() if token_file.exists() else None
    works = bool(token) and answers(url, token, timeout=30.0)
    if works and token.count(".") == 2:
        return
    try:
        pat = _new_personal_access_token(url, password_file.read_text().strip(), token_file.parent / "server.log",
                                         again)
    except StudioError:
        if works:
            return  # a legacy token that keeps working; upgrading it is not essential
        raise
    write_atomic(token_file, pat.encode(), mode=0o600)


def _server_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO_", "HEARTEX_"))}
    env.update({
        "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
        "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir.resolve()),
        "LATEST_VERSION_CHECK": "false",
        "COLLECT_ANALYTICS": "false",
        "LOG_LEVEL": "WARNING",
    })
    return env


def _alive_group(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


@contextmanager
def _no_interrupts():
    """Ctrl-C ignored in the block (main thread only), so that a second one cannot cut a clean-up short."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised as Ctrl-C is (``_stops_raise``); ``signum`` says which."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def signal_of(interrupt: BaseException) -> int:
    """The signal behind a KeyboardInterrupt: SIGTERM or SIGHUP (``Stopped``), else SIGINT (Ctrl-C). A
    command stopped by it exits 128 + that number (130, 143, 129), as a shell reports it."""
    return int(getattr(interrupt, "signum", signal.SIGINT))


@contextmanager
def _stops_raise():
    """SIGTERM and SIGHUP raise KeyboardInterrupt (``Stopped``) in the block (main thread only), as Ctrl-C
    does, so a start stopped by any of them still stops the server it launched."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise Stopped(signum)

    old = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def kill_group(pid: int, wait_s: float = 20.0) -> None:
    """Stop the process group led by ``pid`` (a server started in a session of its own): SIGTERM, then
    SIGKILL after ``wait_s``; waits until no process of the group is left."""
    with _no_interrupts():
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and (pid_alive(pid) or _alive_group(pid)):
            time.sleep(0.2)
        if pid_alive(pid) or _alive_group(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            while pid_alive(pid) or _alive_group(pid):
                time.sleep(0.1)


def _run_group(cmd: list[str], **kwargs: Any) -> None:
    """``cmd`` in a session of its own; its whole process group is stopped if this one is interrupted."""
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, **kwargs)
    try:
        if proc.wait() != 0:
            raise subprocess.CalledProcessError(proc.returncode, cmd)
    except BaseException:
        kill_group(proc.pid)
        raise


def _template_path(exe: Path) -> Path:
    st = exe.resolve().stat()
    key = hashlib.sha1(f"{exe.resolve()}:{st.st_mtime_ns}".encode()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "quotes" / f"label-studio-{key}"
    return cache / "label_studio.sqlite3"


def migrated_template(exe: Path) -> Path:
    """An empty, fully migrated Label Studio SQLite database, made once per installation and cached
    (``$XDG_CACHE_HOME/quotes``): a fresh workspace copies it instead of running every migration."""
    db = _template_path(exe)
    if db.exists():
        return db
    db.parent.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ls-template-", dir=db.parent.parent))
    try:
        # any label-studio command applies the migrations first; `version` then exits without creating users
        _run_group([str(exe), "version", "--data-dir", str(work)], env=_server_env(work), cwd=str(work))
        db.parent.mkdir(parents=True, exist_ok=True)
        _copy_atomic(work / "label_studio.sqlite3", db)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return db


def _copy_atomic(src: Path, dst: Path) -> None:
    tmp = temp_name(dst)
    try:
        shutil.copyfile(src, tmp)
        publish(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def _info(workspace: Any) -> dict[str, Any]:
    return read_json(studio_dir(workspace) / "server.json", {}) or {}


def runs(workspace: Any) -> bool:
    """Whether the server ``start_server`` started for this workspace still runs."""
    return pid_alive(_info(workspace).get("pid"))


def start_note(workspace: Any) -> str | None:
    """What a start of this workspace's server is about to do (None: it already runs): the first start
    of an installation migrates the template database, which takes minutes."""
    if runs(workspace):
        return None
    exe = label_studio_bin()
    fresh = not (studio_dir(workspace) / "data" / "label_studio.sqlite3").exists()
    if fresh and exe.exists() and not _template_path(exe).exists():
        return "starting Label Studio (its first start migrates a template database: a few minutes)..."
    return "starting Label Studio..."


def _wait_until_answers(url: str, wait_s: float, log_file: Path, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + wait_s
    while not answers(url):
        if proc is not None and proc.poll() is not None:
            raise StudioError(f"Label Studio exited with code {proc.returncode} while starting", f"read {log_file}")
        if time.monotonic() > deadline:
            raise StudioError(f"Label Studio did not answer within {wait_s:.0f}s", f"read {log_file}")
        time.sleep(1.0)


class StartInterrupted(KeyboardInterrupt):
    """A start stopped by Ctrl-C, SIGTERM or SIGHUP (``signum``); its message says what it leaves running."""

    def __init__(self, message: str, signum: int = signal.SIGINT):
        super().__init__(message)
        self.signum = int(signum)


NOTHING_STARTED = "no Label Studio server was started; run the command again"


def start_server(workspace: Any, port: int | None = None, wait_s: float = 300.0,
                 on_start: Callable[[str], None] | None = None) -> ServerInfo:
    """Start Label Studio on 127.0.0.1 and wait until it answers and its API token file works. The port:
    ``port`` (busy is an error), else the one the workspace's server had last (its annotators' URL
    stays the same), else -- the first time, or when that one is taken (``moved_from``) -- a free
    one. A server of this workspace that already runs is kept (its token set up again if its file is
    missing or no longer works). Interrupted or failed, the start stops the server it launched. Starts
    and stops of one workspace's server take its ``studio`` lock (builder.workspace.lock): two starts
    never launch two servers on one SQLite database; the second waits, then finds the first one's.
    ``on_start`` is given what the start is about to do (``start_note``) once it holds that lock."""
    holding = False
    try:
        with _stops_raise(), workspace_lock(workspace, "studio"):
            holding = True
            note = start_note(workspace)
            if note and on_start:
                on_start(note)
            return _start_server(workspace, port, wait_s)
    except StartInterrupted:
        raise
    except KeyboardInterrupt as e:
        raise StartInterrupted(NOTHING_STARTED if holding else
                               "it was waiting for another start or stop of this workspace's server and started "
                               "nothing; run the command again", signal_of(e)) from None


def _start_server(workspace: Any, port: int | None, wait_s: float) -> ServerInfo:
    home = studio_dir(workspace)
    current = _info(workspace)
    if current and pid_alive(current.get("pid")):
        if port not in (None, current.get("port")):
            raise StudioError(f"a Label Studio server of this workspace already runs on port {current['port']}",
                              f"run `{quotes_command(workspace, 'studio stop')}` first")
        try:
            with _stops_raise():
                _wait_until_answers(current["url"], wait_s, Path(current["log_file"]))
                ensure_token(current["url"], Path(current["token_file"]), Path(current["password_file"]),
                             quotes_command(workspace, "studio start"))
        except KeyboardInterrupt as e:
            raise StartInterrupted("the Label Studio server that already ran keeps running; run the command again "
                                   "to check its token", signal_of(e)) from None
        lock_down(home)
        return server_status(workspace)
    exe = label_studio_bin()
    if not exe.exists():
        raise StudioError(f"Label Studio is not installed ({exe} is missing)", "run `make install-studio`")
    moved_from = None
    if port is None:
        port = current.get("port")
        if not port or port_busy(port):
            moved_from, port = port, free_port()
    elif port_busy(port):
        raise StudioError(f"port {port} on {HOST} is busy", "pick another --port, or leave it out to use a free one")
    password_file = _secret_file(home / "password", lambda: secrets.token_urlsafe(18))
    token_file = home / "token"
    data_dir = home / "data"
    data_dir.mkdir(mode=0o700, exist_ok=True)
    log_file = home / "server.log"
    with _stops_raise():
        if not (data_dir / "label_studio.sqlite3").exists():
            try:
                _copy_atomic(migrated_template(exe), data_dir / "label_studio.sqlite3")
            except (OSError, subprocess.CalledProcessError):
                pass  # the server migrates its own database then (slower)
        if not log_file.exists():
            log_file.touch(mode=0o600)
        lock_down(home)
        env = _server_env(data_dir)
        env.update({"LABEL_STUDIO_USERNAME": ADMIN_EMAIL, "LABEL_STUDIO_PASSWORD": password_file.read_text().strip()})
        cmd = [str(exe), "start", "--no-browser", "--internal-host", HOST, "--port", str(port),
               "--data-dir", str(data_dir.resolve()), "--log-level", "WARNING"]
        url = f"http://{HOST}:{port}"
        info = ServerInfo(url=url, port=port, pid=None, email=ADMIN_EMAIL,
                          password_file=str(password_file.resolve()), token_file=str(token_file.resolve()),
                          log_file=str(log_file.resolve()), started=True, moved_from=moved_from)
        urls = [u for u in [*(current.get("urls") or []), current.get("url")] if u and u != url]
        proc = None
        try:
            with open(log_file, "ab") as log:
                proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        env=env, cwd=str(home), start_new_session=True, umask=0o077)
            info.pid = proc.pid
            _record(workspace, info, urls)
            _wait_until_answers(url, wait_s, log_file, proc)
            fault("studio:answers")  # the admin user exists, its token not yet
            ensure_token(url, token_file, password_file, quotes_command(workspace, "studio start"))
        except BaseException as e:
            if proc is not None:
                kill_group(proc.pid)
                info.pid = None
                with _no_interrupts():
                    _record(workspace, info, urls)
                if isinstance(e, KeyboardInterrupt):
                    raise StartInterrupted("the Label Studio server it was starting is stopped: none runs; run the "
                                           "command again to start it", signal_of(e)) from None
            raise
    lock_down(home)
    info.answers = info.token_works = True
    return info


def _record(workspace: Any, info: ServerInfo, urls: list[str]) -> None:
    """``server.json``: the server's URL and port (the next start takes the same), pid, files, and the
    URLs it had before (``urls``: push and pull state stays the local server's under any port)."""
    keep = ("url", "port", "pid", "email", "password_file", "token_file", "log_file")
    write_json(studio_dir(workspace) / "server.json", {**{k: getattr(info, k) for k in keep}, "urls": urls})


def stop_server(workspace: Any, wait_s: float = 20.0) -> bool:
    """Stop the server ``start_server`` started (its process group); False if none ran. A start under
    way is waited for, then its server stopped."""
    with workspace_lock(workspace, "studio"):
        home = studio_dir(workspace)
        info = _info(workspace)
        pid = info.get("pid")
        if not pid_alive(pid):
            return False
        kill_group(pid, wait_s)
        write_json(home / "server.json", {**info, "pid": None})
        return True


def status_line(workspace: Any, info: ServerInfo) -> str:
    """``quotes studio status`` in words: whether the server answers, its project, its token file (never
    the token), and what to run next when something is missing."""
    if not info.answers:
        running = " (its process runs: still starting?)" if info.pid else ""
        return (f"{info.url}: not answering{running}; `{quotes_command(workspace, 'studio start')}` starts it; "
                f"token file {info.token_file}")
    if not info.token_works:
        return (f"{info.url}: answers, but its API token file {info.token_file} is missing or no longer works; "
                f"`{quotes_command(workspace, 'studio start')}` sets it up again")
    project = (f"project {info.project_id}" if info.project_id is not None
               else f"no project yet (`{quotes_command(workspace, 'push')}` creates it)")
    return f"{info.url}: answers; {project}; token file {info.token_file}"


def server_status(workspace: Any) -> ServerInfo:
    """The local server's URL, whether it answers, its project id and token file (never the token)."""
    from builder.annotate.client import state_dir
    from builder.annotate.project import same_project_server

    info = _info(workspace)
    if not info:
        raise StudioError("no local Label Studio server was started in this workspace",
                          f"run `{quotes_command(workspace, 'studio start')}`")
    token_file = Path(info["token_file"])
    token = token_file.read_text().strip() if token_file.exists() else None
    project = read_json(state_dir(workspace) / "project.json", {}) or {}
    pid = info.get("pid") if pid_alive(info.get("pid")) else None
    up = bool(pid) and answers(info["url"])
    return ServerInfo(url=info["url"], port=info["port"], pid=pid, email=info["email"],
                      password_file=info["password_file"], token_file=info["token_file"], log_file=info["log_file"],
                      answers=up, token_works=up and bool(token) and answers(info["url"], token, timeout=30.0),
                      project_id=project.get("project_id")
                      if same_project_server(workspace, project.get("url"), info["url"]) else None)
