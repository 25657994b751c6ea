"""Crash-safe local writes: a file appears whole under its name or not at all.

``write_atomic`` writes a temporary sibling, fsyncs it, renames it over the name and
fsyncs the folder; ``publish`` does the last two steps for a file written elsewhere
(a Parquet shard); ``append_durable`` appends whole lines and fsyncs them, first cutting
off a last line that a killed writer left without its newline.
"""
from __future__ import annotations

import os
from pathlib import Path

TEMP_SUFFIX = ".part"  # a file being written: readers never list it; the next writer of its part removes it


def temp_name(path: Path) -> Path:
    """A temporary sibling of ``path`` unique to this process (two writers never share one)."""
    return path.with_name(f".{path.name}.{os.getpid()}{TEMP_SUFFIX}")


def fsync_path(path: Path | str) -> None:
    """fsync a file, or a folder (so that a rename inside it is durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(folder: Path | str) -> None:
    """fsync every file and folder under ``folder`` (before a folder is renamed into place)."""
    for dirpath, _dirs, files in os.walk(folder):
        for f in files:
            fsync_path(os.path.join(dirpath, f))
        fsync_path(dirpath)


def publish(tmp: Path, final: Path) -> None:
    """Make the fully written ``tmp`` durable, then give it its name ``final`` (atomic rename)."""
    fsync_path(tmp)
    os.replace(tmp, final)
    fsync_path(final.parent)


def publish_folder(built: Path, final: Path) -> None:
    """Give the fully written folder ``built`` its name ``final`` with one rename, after making it
    durable; never over another folder: ``FileExistsError`` when ``final`` exists (``OSError`` when
    one appears in between)."""
    fsync_tree(built)
    if final.exists():
        raise FileExistsError(str(final))
    os.rename(built, final)
    fsync_path(final.parent)


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` via a temp file + fsync + rename (crash-safe)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_path(path.parent)


def append_durable(path: Path, text: str) -> None:
    """Append whole lines to ``path`` and fsync them (callers hold the part's lock).

    A last line without its newline (a writer killed mid-append) is cut off first, so the
    file is always a sequence of whole lines."""
    if not text:
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        size = fh.seek(0, os.SEEK_END)
        if size:
            fh.seek(size - 1)
            if fh.read(1) != b"\n":
                fh.seek(0)
                data = fh.read()
                fh.truncate(data.rfind(b"\n") + 1)
        fh.seek(0, os.SEEK_END)
        fh.write(text.encode("utf-8") if text.endswith("\n") else (text + "\n").encode("utf-8"))
        fh.flush()
        os.fsync(fh.fileno())


def published_kind(folder: Path) -> str | None:
    """What ``folder`` is when it is something published that is never changed: a spaCy pipeline
    folder (``quotes train`` output or any other) or an export version (its manifest.json)."""
    import json

    if (folder / "meta.json").is_file() and (folder / "config.cfg").is_file():
        return "a spaCy pipeline folder"
    manifest = folder / "manifest.json"
    if manifest.is_file():
        try:
            if "export_version" in json.loads(manifest.read_text("utf-8")):
                return "an exported dataset version"
        except (OSError, ValueError, TypeError):
            return None   # some other manifest.json
    return None


def published_above(path: str | Path) -> tuple[Path, str] | None:
    """(the folder, what it is) of the nearest published folder (``published_kind``) that is
    ``path`` or holds it: nothing may be written there. None when there is none."""
    path = Path(os.path.abspath(Path(path).expanduser()))
    for folder in (path, *path.parents):
        what = published_kind(folder)
        if what:
            return folder, what
    return None
