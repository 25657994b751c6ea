"""The workspace layer's one failure type: ``WorkspaceError`` (the CLI prints its message, no traceback)."""
from __future__ import annotations


class WorkspaceError(RuntimeError):
    """A workspace problem whose message says what happened and what to do next."""
