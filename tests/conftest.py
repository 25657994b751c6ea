"""Fixtures shared by tests/studio and tests/ui: one real Label Studio server per session."""
from __future__ import annotations

import pytest

from builder.annotate.server import label_studio_bin


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
