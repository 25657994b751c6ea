"""Rule passes registered by name and scope, so that finding quotes is a loop over them.

A pass is a pure function ``(ctx, directs) -> list[Found]`` over the parsed document
(``extract.Context``) and its direct quotes; ``register`` records it under a versioned name
with the scope it belongs to ("speech": always; "broad": only with ``[propose] scope =
"broad"``, PolNeAR's wider notion of attribution). ``passes_for(scope)`` gives them in
registration order, importing the rule modules (``RULE_MODULES``) on first use, so that no
rule module imports another to run it.

    from builder.propose.rules import register

    @register("quotes.rules.my_pattern.v1", scope="broad")
    def my_pattern(ctx, directs): ...
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

from builder.config import SCOPES   # the scopes ([propose] scope) the settings allow

RULE_MODULES = ("builder.propose.extract", "builder.propose.broad")


@dataclass(frozen=True)
class RulePass:
    name: str
    scope: str  # speech | broad
    run: Callable[[Any, list], list]


PASSES: dict[str, RulePass] = {}


def register(name: str, scope: str = "speech") -> Callable:
    """Decorator: record a rule pass under ``name`` (a later registration replaces it)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}: use one of {', '.join(SCOPES)}")

    def wrap(fn: Callable) -> Callable:
        PASSES[name] = RulePass(name, scope, fn)
        return fn
    return wrap


def passes_for(scope: str) -> list[RulePass]:
    """The passes that run in ``scope`` ("broad" runs the speech passes too), in registration order."""
    for module in RULE_MODULES:
        importlib.import_module(module)
    return [p for p in PASSES.values() if p.scope == "speech" or scope == "broad"]
