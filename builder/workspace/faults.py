"""Fault injection for the crash tests: ``QUOTES_FAULT=<point>:<action>`` makes the process
stop at a named write point, as a kill or the OOM killer would.

Point names contain colons (``ingest:documents:before-publish``); the action follows the last one.
Actions: ``KILL`` (SIGKILL itself), ``TERM`` (SIGTERM itself), ``EXIT`` (exit 99 without
clean-up) and ``SLEEP`` (sleep 60 s, for a test that kills it from outside). Several
points: comma-separated. Without the variable ``fault`` does nothing.
"""
from __future__ import annotations

import os
import signal
import time

ENV = "QUOTES_FAULT"


def fault(point: str) -> None:
    """Stop here if ``QUOTES_FAULT`` names ``point``."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    for item in spec.split(","):
        name, _, action = item.strip().rpartition(":")
        if name != point:
            continue
        action = action.upper() or "KILL"
        if action == "SLEEP":
            time.sleep(60)
        elif action == "EXIT":
            os._exit(99)
        else:
            os.kill(os.getpid(), signal.SIGTERM if action == "TERM" else signal.SIGKILL)
            time.sleep(5)  # the signal arrives
