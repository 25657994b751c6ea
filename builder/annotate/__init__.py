"""Stage 3: the Label Studio round trip: push proposals as predictions, pull annotations.

Library API (the CLI and ``quotes demo`` call these): ``start_server``, ``stop_server``,
``server_status``, ``push``, ``pull``, ``agreement``, ``resolve_annotations``; errors are
``StudioError`` (with a ``hint``).
"""
from __future__ import annotations

from builder.annotate.agreement import agreement
from builder.annotate.client import StudioError, connect
from builder.annotate.pull import PullSummary, pull
from builder.annotate.push import PushSummary, push
from builder.annotate.server import ServerInfo, server_status, start_server, stop_server
from builder.records.choice import resolve_annotations

__all__ = ["StudioError", "ServerInfo", "PushSummary", "PullSummary", "connect", "start_server", "stop_server",
           "server_status", "push", "pull", "agreement", "resolve_annotations"]
