"""The Label Studio client's retries are the SDK's own (``[studio] retries`` -> ``max_retries``):
checked against a real HTTP server that fails first, and a port where nothing listens."""
from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from builder.annotate.client import StudioError, connect
from builder.config import Workspace

pytestmark = pytest.mark.slow  # label-studio-sdk takes seconds to import; the retry waits about 1 s

TOKEN = "legacyTOKEN0123456789abcdef"


class Flaky(BaseHTTPRequestHandler):
    """``/api/current-user/whoami``: 503 for the first ``failures`` requests, then a user."""

    failures = 0
    seen: list[str] = []

    def do_GET(self):
        type(self).seen.append(self.headers.get("Authorization", ""))
        if len(self.seen) <= self.failures:
            code, body = 503, {"detail": "starting"}
        else:
            code, body = 200, {"id": 1, "email": "admin@example.org", "username": "admin"}
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky():
    Flaky.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_sdk_retries_a_failing_answer(tmp_path, flaky):
    Flaky.failures = 1
    studio = connect(Workspace(tmp_path), {"studio": {"retries": 1, "timeout": 10}}, url=flaky, token=TOKEN)
    assert studio.url == flaky and Flaky.seen == [f"Token {TOKEN}"] * 2  # one failure, one retry


def test_failures_past_the_retries_are_a_clear_error(tmp_path, flaky):
    Flaky.failures = 5
    with pytest.raises(StudioError) as e:
        connect(Workspace(tmp_path), {"studio": {"retries": 1, "timeout": 10}}, url=flaky, token=TOKEN)
    assert "did not answer token check (503" in str(e.value) and "studio status" in e.value.hint
    assert len(Flaky.seen) == 2 and TOKEN not in str(e.value)


def test_nothing_listening_is_a_clear_error(tmp_path):
    with socket.socket() as sock:  # a port that was free a moment ago
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StudioError) as e:
        connect(Workspace(tmp_path), {"studio": {"retries": 0, "timeout": 10}}, url=f"http://127.0.0.1:{port}",
                token=TOKEN)
    assert "did not answer token check (ConnectError" in str(e.value) and "studio status" in e.value.hint
