"""Every third-party module that ``builder/`` imports (at the top or inside a function) is
declared in pyproject.toml, as a dependency or in an extra: import names are mapped to their
distributions with ``importlib.metadata.packages_distributions``."""
from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    return {_normal(re.match(r"[A-Za-z0-9._-]+", r).group()) for r in requirements}


def _imported() -> dict[str, set[str]]:
    """Top-level module -> the files of builder/ that import it (relative imports left out)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "builder").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_imported_third_party_module_is_declared():
    declared, distributions = _declared(), packages_distributions()
    missing = {}
    for module, files in _imported().items():
        if module in sys.stdlib_module_names or module == "builder":
            continue
        candidates = {_normal(d) for d in distributions.get(module, [module])}  # not installed: its own name
        if not candidates & declared:
            missing[module] = (sorted(candidates), sorted(files))
    assert not missing, f"imported by builder/ but not declared in pyproject.toml: {missing}"


def test_the_walk_sees_lazy_imports():
    imported = _imported()
    assert "builder/annotate/project.py" in imported["markdown_it"]  # imported inside a function
    assert "ray" in imported  # an extra ([ray]), not installed by `make install`
