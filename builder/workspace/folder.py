"""The workspace folder: where every stage's files live, and the only writer of them.

    documents/<batch>/<rank>.parquet       ingested documents (schemas/document.json)
    proposals/<batch>/<rank>.parquet       proposer output (schemas/proposal.json)
    annotations/<pull>.parquet             pulled annotations (schemas/annotation.json)
    rejects.jsonl                          every input that was not ingested, and why
    state/                                 indexes, marks, locks and run statistics
"""
from __future__ import annotations

import contextlib
import shlex
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def quotes_command(workspace: Workspace | str | None, command: str) -> str:
    """``quotes <command>`` for ``workspace``, as a hint to copy: with ``-w <its path>`` unless it is
    the default ``workspace`` folder (or None) (a hint without it would act on another workspace), and with
    ``--config <file>`` when the command was given one (``Workspace.settings_file``). Every hint
    that names a command builds it here."""
    path = str(getattr(workspace, "path", workspace or "workspace"))
    line = f"quotes {command}"
    if path.rstrip("/") not in ("workspace", "./workspace"):
        line += f" -w {shlex.quote(path)}"
    settings_file = getattr(workspace, "settings_file", None)
    if settings_file:
        line += f" --config {shlex.quote(str(settings_file))}"
    return line


# What `quotes ingest`, `propose`, `run`, `pull` and `studio start` make in a workspace: a local folder
# holding none of them is not one (a -w that names some other folder).
WORKSPACE_ENTRIES = ("documents", "proposals", "annotations", "state", "studio", "rejects.jsonl")


class Workspace:
    """The embedded store: stage outputs as rank-named Parquet shards under one folder.

    documents/<batch>/<rank>.parquet       ingested documents (schemas/document.json)
    proposals/<batch>/<rank>.parquet       proposer output (schemas/proposal.json)
    annotations/<pull>.parquet             pulled annotations (schemas/annotation.json)
    rejects.jsonl                          every input that was not ingested, and why
    state/                                 indexes, marks and run statistics
    """

    def __init__(self, path: str | Path = "workspace", settings_file: str | Path | None = None):
        self.path = str(path)
        self.settings_file = str(settings_file) if settings_file else None  # the --config given, for hints

    def __repr__(self) -> str:
        return f"Workspace({self.path!r})"

    def sub(self, *parts: str) -> str:
        return "/".join([self.path.rstrip("/"), *parts])

    @property
    def documents(self) -> str:
        return self.sub("documents")

    @property
    def proposals(self) -> str:
        return self.sub("proposals")

    @property
    def annotations(self) -> str:
        return self.sub("annotations")

    @property
    def state(self) -> str:
        return self.sub("state")

    @property
    def rejects(self) -> str:
        return self.sub("rejects.jsonl")

    def folder(self):
        """The workspace as a datatrove ``DataFolder`` (fsspec: local, s3://, hf://, memory://, ...)."""
        from datatrove.io import get_datafolder

        return get_datafolder(self.path)

    def is_local(self) -> bool:
        return "://" not in self.path or self.path.startswith("file://")

    def read_text(self, name: str) -> str | None:
        """A workspace file's text, or None if there is none."""
        df = self.folder()
        if not df.exists(name):
            return None
        with df.open(name, "rt", encoding="utf-8") as fh:
            return fh.read()

    def write_text(self, name: str, text: str) -> None:
        """Replace a workspace file's text atomically (local: temp file + fsync + rename; object stores
        publish a whole object on close)."""
        self.write_bytes(name, text.encode("utf-8"))

    def write_bytes(self, name: str, data: bytes) -> None:
        if self.is_local():
            from builder.workspace.atomic import write_atomic

            write_atomic(self.local() / name, data)
            return
        with self.folder().open(name, "wb") as fh:
            fh.write(data)

    def remove(self, name: str) -> None:
        """Delete a workspace file or folder (recursively); nothing if it is not there."""
        df = self.folder()
        if df.exists(name):
            df.rm(name, recursive=True)

    @contextlib.contextmanager
    def local_file(self, name: str) -> Iterator[Path]:
        """A real path for a workspace file that a library needs on disk (SQLite).

        Local workspace: the file itself. Elsewhere: a scratch copy, written back only when the
        block ends without an error (one writer at a time: the single-task steps that use it).
        """
        if self.is_local():
            path = self.local() / name
            path.parent.mkdir(parents=True, exist_ok=True)
            yield path
            return
        df = self.folder()
        with tempfile.TemporaryDirectory(prefix="quotes-") as tmp:
            path = Path(tmp) / Path(name).name
            if df.exists(name):
                with df.open(name, "rb") as src, path.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
            yield path
            if path.exists():
                with path.open("rb") as src, df.open(name, "wb") as dst:
                    shutil.copyfileobj(src, dst)

    def missing(self) -> str | None:
        """Why this workspace cannot be read, or None: a local folder that does not exist (a misspelled
        ``-w``), or one that is not a workspace (none of ``WORKSPACE_ENTRIES`` in it: ``-w docs``).
        Object-store workspaces have no folders to check."""
        if not self.is_local():
            return None
        folder = Path(self.path.removeprefix("file://"))
        if folder.is_dir() and any((folder / entry).exists() for entry in WORKSPACE_ENTRIES):
            return None
        where = "" if folder.is_absolute() else f" ({folder.absolute()})"
        if folder.is_dir():
            what = ("is a folder but not a workspace (it holds none of "
                    f"{', '.join(e if '.' in e else e + '/' for e in WORKSPACE_ENTRIES)})")
        else:
            what = "is not a folder" if folder.exists() else "does not exist"
        ingest = quotes_command(self, "ingest PATH...")
        return (f"no workspace at {self.path}{where}: it {what}. Check -w/--workspace (or [workspace] path in "
                f"quotes.toml); `{ingest}` creates a workspace")

    def local(self) -> Path:
        """The workspace as a local path (for the parts that need one, e.g. SQLite)."""
        if "://" in self.path and not self.path.startswith("file://"):
            raise ValueError(f"{self.path} is not a local folder")
        p = Path(self.path.removeprefix("file://"))
        p.mkdir(parents=True, exist_ok=True)
        return p
