"""A local Label Studio server (the ``.venv-studio`` virtualenv) with SQLite in the workspace.

``start_server`` creates an admin user non-interactively through environment variables
(LABEL_STUDIO_USERNAME / _PASSWORD / _USER_TOKEN), closes sign-up and turns off the update
check. The API token it keeps is a Label Studio 1.23 *personal access token* (a JWT refresh
token the SDK exchanges for short-lived access tokens): on the first start a one-time legacy
token, held only in the server's environment, creates the personal access token through the
API and legacy tokens are then switched off for the organisation, so the bootstrap token is
dead and never stored. The database keeps only the personal access token's header and
payload, never its signature. The password and token live in 0600 files under
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
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from builder.annotate.client import StudioError, clean_token, read_json, studio_dir, write_json
from builder.workspace.atomic import write_atomic

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


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:  # a zombie child of ours counts as dead
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        return True


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

    try:
        if token:
            headers = _auth_header(url, token, timeout)
            if headers is None:
                return False
            r = httpx.get(f"{url}/api/current-user/whoami", headers=headers, timeout=timeout, follow_redirects=True)
        else:
            r = httpx.get(f"{url}/health", timeout=timeout, follow_redirects=True)
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


def _personal_access_token(url: str, bootstrap: str, timeout: float = 30.0) -> str:
    """Create the admin's personal access token with the one-time legacy ``bootstrap`` token, then
    switch legacy tokens off for the organisation (the bootstrap token is dead afterwards)."""
    import httpx

    r = httpx.post(f"{url}/api/token/", headers={"Authorization": f"Token {bootstrap}"}, timeout=timeout)
    if r.status_code not in (200, 201):
        raise StudioError(f"could not create a personal access token on the local server ({r.status_code})",
                          "the server's database belongs to another token: stop the server, move "
                          "workspace/studio/ aside and run `quotes studio start` again")
    pat = clean_token(r.json().get("token"), "the local server")
    headers = _auth_header(url, pat, timeout)
    r = httpx.post(f"{url}/api/jwt/settings", headers=headers, timeout=timeout,
                      json={"api_tokens_enabled": True, "legacy_api_tokens_enabled": False})
    if r.status_code not in (200, 201):
        raise StudioError(f"could not switch legacy API tokens off on the local server ({r.status_code})",
                          "read the server log (`quotes studio status` names it)")
    return pat


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


def migrated_template(exe: Path) -> Path:
    """An empty, fully migrated Label Studio SQLite database, made once per installation and cached
    (``$XDG_CACHE_HOME/quotes``): a fresh workspace copies it instead of running every migration."""
    st = exe.resolve().stat()
    key = hashlib.sha1(f"{exe.resolve()}:{st.st_mtime_ns}".encode()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "quotes" / f"label-studio-{key}"
    db = cache / "label_studio.sqlite3"
    if db.exists():
        return db
    work = Path(tempfile.mkdtemp(prefix="ls-template-", dir=cache.parent if cache.parent.exists() else None))
    # any label-studio command applies the migrations first; `version` then exits without creating users
    subprocess.run([str(exe), "version", "--data-dir", str(work)], env=_server_env(work), cwd=str(work),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, check=True)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cache / f".{os.getpid()}.sqlite3"
    shutil.copyfile(work / "label_studio.sqlite3", tmp)
    os.replace(tmp, db)
    shutil.rmtree(work, ignore_errors=True)
    return db


def _info(workspace: Any) -> dict[str, Any]:
    return read_json(studio_dir(workspace) / "server.json", {}) or {}


def start_server(workspace: Any, port: int | None = None, wait_s: float = 300.0) -> ServerInfo:
    """Start Label Studio on 127.0.0.1 (a free port, or ``port``; busy is an error); wait until it answers."""
    home = studio_dir(workspace)
    current = _info(workspace)
    if current and _alive(current.get("pid")):
        if port in (None, current.get("port")):
            return server_status(workspace)
        raise StudioError(f"a Label Studio server of this workspace already runs on port {current['port']}",
                          "run `quotes studio stop` first")
    exe = label_studio_bin()
    if not exe.exists():
        raise StudioError(f"Label Studio is not installed ({exe} is missing)", "run `make install-studio`")
    if port is None:
        port = free_port()
    elif port_busy(port):
        raise StudioError(f"port {port} on {HOST} is busy", "pick another --port, or leave it out to use a free one")
    password_file = _secret_file(home / "password", lambda: secrets.token_urlsafe(18))
    token_file = home / "token"
    data_dir = home / "data"
    data_dir.mkdir(mode=0o700, exist_ok=True)
    log_file = home / "server.log"
    if not (data_dir / "label_studio.sqlite3").exists():
        try:
            shutil.copyfile(migrated_template(exe), data_dir / "label_studio.sqlite3")
        except (OSError, subprocess.CalledProcessError):
            pass  # the server migrates its own database then (slower)
    if not log_file.exists():
        log_file.touch(mode=0o600)
    lock_down(home)
    bootstrap = secrets.token_hex(20)  # used only if this start creates the admin user; never stored
    env = _server_env(data_dir)
    env.update({
        "LABEL_STUDIO_USERNAME": ADMIN_EMAIL,
        "LABEL_STUDIO_PASSWORD": password_file.read_text().strip(),
        "LABEL_STUDIO_USER_TOKEN": bootstrap,
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",  # read only when the organisation is created
    })
    cmd = [str(exe), "start", "--no-browser", "--internal-host", HOST, "--port", str(port),
           "--data-dir", str(data_dir.resolve()), "--log-level", "WARNING"]
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, cwd=str(home), start_new_session=True, umask=0o077)
    url = f"http://{HOST}:{port}"
    info = ServerInfo(url=url, port=port, pid=proc.pid, email=ADMIN_EMAIL, password_file=str(password_file.resolve()),
                      token_file=str(token_file.resolve()), log_file=str(log_file.resolve()))
    record = {k: v for k, v in asdict(info).items() if k not in ("answers", "project_id")}
    write_json(home / "server.json", record)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StudioError(f"Label Studio exited with code {proc.returncode} while starting",
                              f"read {log_file}")
        if answers(url):
            token = token_file.read_text().strip() if token_file.exists() else None
            works = bool(token) and answers(url, token)
            if not works or token.count(".") != 2:  # none yet, or a legacy token of an older workspace
                try:
                    pat = _personal_access_token(url, token if works else bootstrap)
                except StudioError:
                    if not works:
                        stop_server(workspace)
                        raise
                    pat = token  # the legacy token keeps working; upgrading it is not essential
                except BaseException:
                    stop_server(workspace)
                    raise
                write_atomic(token_file, pat.encode(), mode=0o600)
            lock_down(home)
            info.answers = True
            return info
        time.sleep(1.0)
    stop_server(workspace)
    raise StudioError(f"Label Studio did not answer within {wait_s:.0f}s", f"read {log_file}")


def stop_server(workspace: Any, wait_s: float = 20.0) -> bool:
    """Stop the server ``start_server`` started (its process group); False if none ran."""
    home = studio_dir(workspace)
    info = _info(workspace)
    pid = info.get("pid")
    if not _alive(pid):
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    if _alive(pid):
        os.killpg(pid, signal.SIGKILL)
    write_json(home / "server.json", {**info, "pid": None})
    return True


def server_status(workspace: Any) -> ServerInfo:
    """The local server's URL, whether it answers, its project id and token file (never the token)."""
    from builder.annotate.client import state_dir

    info = _info(workspace)
    if not info:
        raise StudioError("no local Label Studio server was started in this workspace", "run `quotes studio start`")
    token_file = Path(info["token_file"])
    token = token_file.read_text().strip() if token_file.exists() else None
    project = read_json(state_dir(workspace) / "project.json", {}) or {}
    pid = info.get("pid") if _alive(info.get("pid")) else None
    return ServerInfo(url=info["url"], port=info["port"], pid=pid, email=info["email"],
                      password_file=info["password_file"], token_file=info["token_file"], log_file=info["log_file"],
                      answers=bool(pid) and answers(info["url"], token),
                      project_id=project.get("project_id") if project.get("url") == info["url"] else None)
