"""``manifest.json``: what a version holds and what it was built from."""
from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import builder
from builder.config import Workspace

MANIFEST = "manifest.json"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_entries(folder: Path) -> dict[str, dict[str, Any]]:
    """Every file of the dataset folder (but the manifest): sha256 and size in bytes."""
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST):
        out[path.relative_to(folder).as_posix()] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    return out


def workspace_location(path: str) -> str:
    """Where a workspace is, written one way whatever folder a command ran from: a local folder as its
    absolute path, links resolved (``workspace`` run from ``/p`` and ``../p/workspace`` run from
    ``/q`` are one folder, ``/p/workspace``); a relative one is read from the current folder; a
    URL (``s3://...``) as it is."""
    if "://" in path and not path.startswith("file://"):
        return path
    return str(Path(path.removeprefix("file://")).expanduser().resolve())


def shown_name(path: str) -> str:
    """What a manifest shows of a workspace: a local folder's own name (``/home/ann/p/workspace`` and
    ``../p/workspace`` both ``workspace``), never the folders above it; a URL as it is."""
    if "://" in path and not path.startswith("file://"):
        return path
    return Path(workspace_location(path)).name


def location_key(path: str) -> str:
    """A hash of ``workspace_location(path)``: the manifest tells two workspaces apart without publishing
    the folder names of the machine that exported (a home directory, a user name)."""
    return hashlib.sha256(workspace_location(path).encode()).hexdigest()[:16]


def workspace_state(ws: Workspace) -> dict[str, Any]:
    """The workspace's ``shown_name`` and ``location_key``, its input shards (path relative to the
    workspace, size) and one hash of that list."""
    from datatrove.io import get_datafolder

    from builder.store import parquet_files

    shards: dict[str, list[dict[str, Any]]] = {}
    for part in ("documents", "proposals", "annotations"):
        folder = getattr(ws, part)
        df = get_datafolder(folder)
        shards[part] = [{"path": f"{part}/{name}", "bytes": int(df.size(name))} for name in parquet_files(folder)]
    fingerprint = hashlib.sha256(json.dumps(shards, sort_keys=True).encode()).hexdigest()
    return {"path": shown_name(ws.path), "location": location_key(ws.path), "fingerprint": fingerprint,
            "shards": shards}


def last_pull(ws: Workspace) -> str | None:
    """When annotations were last pulled from Label Studio: the newest ``pull-*.json`` mark
    file under ``state/studio/`` (the pull stage rewrites it on every pull), else a
    ``*pull*`` time recorded in a JSON file there; None when nothing was pulled."""
    try:
        folder = Path(ws.state.removeprefix("file://")) / "studio"
    except ValueError:
        return None
    if not folder.is_dir():
        return None
    marks = [p for p in folder.glob("pull-*.json") if p.is_file()]
    if marks:
        newest = max(p.stat().st_mtime for p in marks)
        return datetime.fromtimestamp(newest, timezone.utc).isoformat(timespec="seconds")
    times: list[str] = []
    for path in folder.rglob("*.json"):
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            times += [v for k, v in data.items() if "pull" in k.lower() and isinstance(v, str)]
    return max(times) if times else None


def code_version() -> dict[str, Any]:
    """``builder.__version__`` and the git commit of the checkout it runs from, if any."""
    repo = Path(builder.__file__).resolve().parent.parent
    commit = dirty = None
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip() or None
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                                    capture_output=True, text=True, timeout=10).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return {"builder": builder.__version__, "git_commit": commit, "git_dirty": dirty}


def verify_manifest(folder: Path) -> list[str]:
    """Problems of a published version against its ``manifest.json`` (empty: every file is there, with
    the size and sha256 the manifest lists, and no file is there that it does not list)."""
    path = folder / MANIFEST
    if not path.is_file():
        return [f"{path} is missing"]
    try:
        listed = json.loads(path.read_text("utf-8"))["files"]
    except (ValueError, KeyError, TypeError) as exc:
        return [f"{path} cannot be read ({type(exc).__name__}: {exc})"]
    problems = []
    present = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST}
    for name, entry in sorted(listed.items()):
        file = present.get(name)
        if file is None:
            problems.append(f"{name}: missing")
        elif file.stat().st_size != entry.get("bytes"):
            problems.append(f"{name}: {file.stat().st_size} bytes, the manifest says {entry.get('bytes')}")
        elif sha256_file(file) != entry.get("sha256"):
            problems.append(f"{name}: sha256 differs from the manifest's")
    problems += [f"{name}: not in the manifest" for name in sorted(set(present) - set(listed))]
    return problems


def write_manifest(folder: Path, info: dict[str, Any]) -> Path:
    manifest = {**info, "files": file_entries(folder)}
    path = folder / MANIFEST
    path.write_text(json.dumps(manifest, indent=2, sort_keys=False, ensure_ascii=False) + "\n", "utf-8")
    return path
