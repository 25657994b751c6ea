"""Fixtures shared by all tests: each test runs from its own empty folder; tests/studio and
tests/ui share one real Label Studio server per session."""
from __future__ import annotations

import pytest

from builder.annotate.server import label_studio_bin


@pytest.fixture(scope="session", autouse=True)
def _empty_session_cwd(tmp_path_factory):
    """Run the tests from an empty folder: settings come from ``quotes.toml`` and the default
    workspace is ``workspace/``, both in the current folder, and a user's own (the README loop
    leaves both in the repository) must neither change what the tests see nor be written to.
    Session and module fixtures start here, each test in a folder of its own (``_empty_cwd``)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path_factory.mktemp("session-cwd"))
        yield


@pytest.fixture(autouse=True)
def _empty_cwd(_empty_session_cwd, tmp_path_factory, monkeypatch):
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


@pytest.fixture(scope="session")
def studio_server(tmp_path_factory):
    """(workspace, ServerInfo) of a server started once for the session (temp data dir, free port)
    and stopped after it."""
    if not label_studio_bin().exists():
        pytest.skip(f"Label Studio not installed ({label_studio_bin()} missing): run `make install-studio`")
    from builder.annotate import start_server, stop_server
    from builder.config import Workspace

    ws = Workspace(tmp_path_factory.mktemp("studio-ws"))
    info = start_server(ws)
    try:
        yield ws, info
    finally:
        stop_server(ws)
