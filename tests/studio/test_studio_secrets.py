"""Secrets against a real Label Studio: personal access token, folder modes, no token in any output."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.test_secrets import KNOWN, files_containing, run_quotes

pytestmark = pytest.mark.studio


def test_local_server_uses_a_personal_access_token_and_keeps_its_files_private(studio_server):
    ws, info = studio_server
    token = Path(info.token_file).read_text().strip()
    assert token.count(".") == 2  # a JWT: the personal access token, not a legacy token
    home = Path(ws.path) / "studio"
    for path in [home, *home.rglob("*")]:
        if path.is_symlink():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    db = (home / "data" / "label_studio.sqlite3").read_bytes()
    assert token.encode() not in db  # the database keeps the token without its signature
    assert token.encode() not in (home / "server.log").read_bytes()


def test_token_auth_exchanges_the_personal_access_token_and_refreshes_it(studio_server):
    import httpx

    from builder.annotate.server import token_auth

    ws, info = studio_server
    auth = token_auth(info.url, Path(info.token_file).read_text().strip())
    assert httpx.get(f"{info.url}/api/current-user/whoami", auth=auth, timeout=30).status_code == 200
    auth.header = {"Authorization": "Bearer an.expired.access"}  # what an access token becomes after minutes
    assert httpx.get(f"{info.url}/api/current-user/whoami", auth=auth, timeout=30).status_code == 200


def test_wrong_known_token_never_printed_nor_logged(studio_server, tmp_path):
    ws, info = studio_server
    outputs = []
    (tmp_path / "ws" / "documents").mkdir(parents=True)   # an empty workspace (push and pull refuse a folder
    # that does not exist or is not a workspace)
    for command in ("push", "pull"):
        for token in (KNOWN, f"{KNOWN}  ", "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9." + KNOWN):  # legacy, blanks, expired JWT
            r = run_quotes([command, "-w", str(tmp_path / "ws"), "--url", info.url], tmp_path, token)
            outputs.append(r.stdout + r.stderr)
            assert r.returncode == 1 and "Traceback" not in r.stderr and "token" in r.stderr, r.stderr
    assert KNOWN not in "\n".join(outputs)
    assert files_containing(tmp_path, KNOWN) == []
    assert KNOWN.encode() not in Path(info.log_file).read_bytes()
    assert os.environ.get("QUOTES_STUDIO_TOKEN") != KNOWN
