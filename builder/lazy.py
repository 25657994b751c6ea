"""Package names imported on first use, so that ``quotes --help`` stays instant."""
from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_exports(package: str, exports: dict[str, list[str]]) -> tuple[Callable[[str], Any], list[str]]:
    """A module ``__getattr__`` and ``__all__`` for ``package``, whose public names live in the
    modules ``exports`` lists them under (``{"builder.ingest.pipeline": ["ingest"], ...}``)."""
    where = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name in where:
            return getattr(import_module(where[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__, sorted(where)
