"""tests/ui: a screenshot of the page when a test fails (artifacts/ui/failed-<test>.png)."""
from __future__ import annotations

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    editor = item.funcargs.get("editor") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and editor is not None:
        try:
            editor.shot(f"failed-{item.name}")
        except Exception:  # noqa: BLE001 - a failed screenshot must not hide the failure
            pass
