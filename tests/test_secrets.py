"""Tokens: stripped and checked, sent only to the server they belong to, never printed or stored.

Every failure path of push and pull runs as a subprocess with a known token; its output, the
workspace and the exports are then searched for the token (tests/studio/test_studio.py does
the same against a real Label Studio server, and also searches its log).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from builder.annotate.client import StudioError, clean_token, redact, resolve_token, same_server
from builder.config import Workspace

QUOTES = str(Path(sys.executable).with_name("quotes"))
KNOWN = "KNOWNtoken0123456789abcdefSECRET"


class NotStudio(BaseHTTPRequestHandler):
    """Answers every request, but not as Label Studio: /json/... with 200 ``{}``, the rest with a 404 page."""

    def _answer(self):
        if self.path.startswith("/json"):
            body, code, kind = b'{"hello": "world"}', 200, "application/json"
        else:
            body, code, kind = b"<html><body>Not Found</body></html>", 404, "text/html"
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = _answer

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def not_studio():
    server = ThreadingHTTPServer(("127.0.0.1", 0), NotStudio)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def run_quotes(args, cwd, token):
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUOTES_")}
    if token is not None:
        env["QUOTES_STUDIO_TOKEN"] = token
    return subprocess.run([QUOTES, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def files_containing(folder: Path, secret: str) -> list[str]:
    hits = []
    for path in folder.rglob("*"):
        if path.is_file() and secret.encode() in path.read_bytes():
            hits.append(str(path))
    return hits


def local_workspace(tmp_path: Path, url: str = "http://127.0.0.1:9") -> Path:
    """A workspace whose (stopped) local server is ``url`` with a token file holding a local secret."""
    ws = tmp_path / "workspace"
    studio = ws / "studio"
    studio.mkdir(parents=True)
    (studio / "token").write_text("LOCALadminTOKEN0123456789\n")
    (studio / "server.json").write_text(json.dumps({"url": url, "token_file": str(studio / "token"), "pid": None}))
    return ws


def test_tokens_are_stripped_and_checked():
    assert clean_token(f"  {KNOWN} \n", "env") == KNOWN
    for bad in (f"{KNOWN} x", f"{KNOWN}\nmore", "", "   ", f"{KNOWN}\x00", "tökén-with-umlauts"):
        with pytest.raises(StudioError) as e:
            clean_token(bad, "the QUOTES_STUDIO_TOKEN environment variable")
        assert KNOWN not in str(e.value) and "QUOTES_STUDIO_TOKEN" in str(e.value)
    assert KNOWN not in redact(f"Illegal header value b'Token {KNOWN} '", f"{KNOWN} ")


def test_local_token_is_only_for_the_local_server(tmp_path, monkeypatch):
    monkeypatch.delenv("QUOTES_STUDIO_TOKEN", raising=False)
    ws = Workspace(local_workspace(tmp_path, "http://127.0.0.1:8080"))
    assert resolve_token(ws, {}, "http://localhost:8080/") == "LOCALadminTOKEN0123456789"
    assert resolve_token(ws, {}) == "LOCALadminTOKEN0123456789"
    assert same_server("http://127.0.0.1:8080", "http://localhost:8080/")
    assert not same_server("http://127.0.0.1:8080", "http://127.0.0.1:8081")
    with pytest.raises(StudioError) as e:
        resolve_token(ws, {}, "http://elsewhere:8080")
    assert "QUOTES_STUDIO_TOKEN" in e.value.hint and "LOCALadmin" not in str(e.value)
    monkeypatch.setenv("QUOTES_STUDIO_TOKEN", f" {KNOWN}\n")
    assert resolve_token(ws, {}, "http://elsewhere:8080") == KNOWN


@pytest.mark.slow
def test_no_failure_path_prints_or_stores_the_token(tmp_path, not_studio):
    """push and pull, every way they can fail, with a known token: never in any output or file."""
    ws = local_workspace(tmp_path)
    (tmp_path / "exports").mkdir()
    outputs = []
    cases = [
        # (url, token, what the error must say)
        (not_studio, f"{KNOWN} ", "not as Label Studio"),          # trailing blank: stripped, then a 404 page
        (not_studio + "/json", KNOWN, "not as Label Studio"),      # 200 with JSON that is no user
        (not_studio, f"{KNOWN} inner", "blanks"),                  # a token no header can carry
        (not_studio, f"{KNOWN}\n{KNOWN}", "blanks"),
        ("http://127.0.0.1:9", KNOWN, "nothing answers"),          # nothing listens at the local server's URL
        ("http://elsewhere.invalid:8080", None, "QUOTES_STUDIO_TOKEN"),  # no token for another server
    ]
    for n, (url, token, expected) in enumerate(cases):
        for command in ("push", "pull") if n in (0, 5) else ("push",):
            cfg = tmp_path / "quotes.toml"
            cfg.write_text('[studio]\nretries = 0\ntimeout = 5\n')
            r = run_quotes([command, "-w", str(ws), "--url", url], tmp_path, token)
            outputs.append(r.stdout + r.stderr)
            assert r.returncode == 1, (command, url, r.stdout, r.stderr)
            assert "Traceback" not in r.stderr and expected in r.stdout + r.stderr, (command, url, r.stderr)
    everything = "\n".join(outputs)
    assert KNOWN not in everything and "LOCALadminTOKEN" not in everything
    assert files_containing(tmp_path, KNOWN) == []
