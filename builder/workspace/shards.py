"""Workspace shards: schema-typed, rank-named Parquet shards read and written
through datatrove (so a workspace may be a local folder or any fsspec URL).

Stages pass datatrove ``Document``s (``id``, ``text``, ``metadata``) between steps;
``record_writer("Proposal", folder)`` writes the row named by a schema record from
``{"doc_id": doc.id, "text": doc.text, **doc.metadata}``, with the schema's exact
pyarrow types. ``read_rows`` streams rows back in a fixed order (sorted files,
file order within), batch by batch, never a whole table in memory.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from builder.schema import arrow_schema, fields
from builder.workspace.errors import WorkspaceError


def row_of(record: str, doc: Any) -> dict[str, Any]:
    """The ``record`` row carried by datatrove document ``doc``."""
    row = {"doc_id": doc.id, "text": doc.text, **doc.metadata}
    return {f["name"]: row.get(f["name"]) for f in fields(record)}


class CorruptShard(WorkspaceError):
    """A Parquet shard that cannot be read back as written (no footer, a wrong page checksum, a
    ``doc_id`` that is not its text's hash). It has been moved aside (``<name>.damaged``); the
    message names it and says how to rebuild its rows."""

    def __init__(self, path: str, reason: str, moved_to: str | None = None):
        self.path, self.reason, self.moved_to = path, reason, moved_to
        where = f"; moved aside to {moved_to}" if moved_to else ""
        super().__init__(f"damaged shard {path}: {reason}{where}. Its rows are no longer read: run the stage that "
                         "wrote it again (`quotes ingest` on the same inputs for documents/, `quotes propose` for "
                         "proposals/, `quotes pull` for annotations/) to rebuild them")


DAMAGED_SUFFIX = ".damaged"
READ_ERRORS = (pa.ArrowException, OSError, ValueError, EOFError, NotImplementedError)  # what a damaged file raises
WRITE_OPTIONS: dict[str, Any] = {"write_page_checksum": True}  # every shard we write carries page checksums


def quarantine(folder: Any, name: str, reason: str) -> CorruptShard:
    """Move shard ``name`` of ``folder`` aside (``<name>.damaged``) and say so; the error to raise."""
    from datatrove.io import get_datafolder

    df = get_datafolder(folder)
    path = f"{str(folder).rstrip('/')}/{name}"
    moved = None
    try:
        df.mv(name, name + DAMAGED_SUFFIX)
        moved = path + DAMAGED_SUFFIX
    except OSError:  # already moved by another reader, or a read-only store: report it in place
        pass
    return CorruptShard(path, reason, moved)


def open_shard(fh: Any) -> pq.ParquetFile:
    """A shard opened for streaming reads with page checksums verified (no read-ahead: memory stays flat)."""
    return pq.ParquetFile(fh, pre_buffer=False, page_checksum_verification=True)


RECORD_OF_FOLDER = {"documents": "Document", "proposals": "Proposal", "annotations": "Annotation"}


def record_of(folder: Any) -> str | None:
    """The schema record of the shards under a workspace folder (``documents``, ``proposals/<run>``...), if known."""
    parts = str(folder).rstrip("/").split("/")
    for part in parts[-2:]:
        if part in RECORD_OF_FOLDER:
            return RECORD_OF_FOLDER[part]
    return None


def check_footer(pf: pq.ParquetFile, record: str | None) -> None:
    """Raise ValueError when a footer contradicts itself or the record's schema (a flipped bit there)."""
    md = pf.metadata
    if sum(md.row_group(i).num_rows for i in range(md.num_row_groups)) != md.num_rows:
        raise ValueError("the row groups' row counts do not add up to the file's")
    if record is not None and not pf.schema_arrow.remove_metadata().equals(arrow_schema(record)):
        raise ValueError(f"its schema is not the {record} schema")


def iter_shard_batches(folder: Any, name: str, *, columns: list[str] | None = None, batch_size: int = 1024,
                       record: str | None = None):
    """Record batches of shard ``name`` of ``folder``, checked: page checksums, the footer's row counts
    and (``record``, else guessed from the folder) its schema. A damaged shard is moved aside and
    raises ``CorruptShard`` naming it."""
    from datatrove.io import get_datafolder

    df = get_datafolder(folder)
    record = record or record_of(folder)
    try:
        with df.open(name, "rb") as fh:
            pf = open_shard(fh)
            check_footer(pf, record)
            cols = [c for c in columns if c in pf.schema_arrow.names] if columns else None
            seen = 0
            for batch in pf.iter_batches(batch_size=batch_size, columns=cols, use_threads=False):
                seen += batch.num_rows
                yield batch
            if seen != pf.metadata.num_rows:
                raise ValueError(f"{seen} rows read where the footer says {pf.metadata.num_rows}")
    except READ_ERRORS as err:
        if isinstance(err, FileNotFoundError):
            raise
        raise quarantine(folder, name, f"{type(err).__name__}: {err}") from None


class ShardWriter:
    """Mixin for datatrove's ``ParquetWriter``: each file is written as ``<name>.part`` with page
    checksums and renamed to ``<name>`` only once closed (fsynced first on a local disk), so a reader
    never sees a half-written shard and a killed writer leaves only a ``.part`` file nobody reads."""

    def _write(self, document: dict, file_handler, filename: str):
        import pyarrow as pa

        if filename not in self._writers:
            self._writers[filename] = pq.ParquetWriter(
                file_handler, schema=self.schema if self.schema is not None else pa.RecordBatch.from_pylist(
                    [document]).schema, compression=self.compression,
                use_content_defined_chunking=self.use_content_defined_chunking,
                write_page_index=self.write_page_index, **WRITE_OPTIONS)
        self._batches[filename].append(document)
        if len(self._batches[filename]) == self.batch_size:
            self._write_batch(filename)

    fault_point = "shard"  # QUOTES_FAULT names: <fault_point>:before-publish and <fault_point>:after-publish

    def close_file(self, filename):
        super().close_file(filename)
        publish_part(self.output_folder, filename, self.fault_point)


def publish_part(df: Any, filename: str, point: str = "shard") -> None:
    """Rename the closed ``<name>.part`` of datafolder ``df`` to ``<name>`` (durably on a local disk)."""
    from builder.workspace.faults import fault

    final = filename.removesuffix(PART_SUFFIX)
    fault(f"{point}:before-publish")
    if getattr(df, "fs", None) is not None and "file" in (df.fs.protocol if isinstance(df.fs.protocol, tuple)
                                                          else (df.fs.protocol,)):
        from pathlib import Path

        from builder.workspace.atomic import publish

        publish(Path(df.resolve_paths(filename)), Path(df.resolve_paths(final)))
    else:
        df.mv(filename, final)
    fault(f"{point}:after-publish")


PART_SUFFIX = ".part"


def shard_writer(folder: Any, schema: Any, adapter: Any, filename: str = "${rank}.parquet", *,
                 fault_point: str = "shard", **kwargs):
    """A datatrove ``ParquetWriter`` of ``schema`` rows made by ``adapter(writer, doc)``, atomic per file
    (``ShardWriter``: ``.part`` until closed) and with page checksums."""
    from datatrove.pipeline.writers import ParquetWriter

    class AtomicParquetWriter(ShardWriter, ParquetWriter):
        pass

    kwargs["max_file_size"] = -1  # one file per rank: its name is known when it is published
    writer = AtomicParquetWriter(folder, output_filename=filename + PART_SUFFIX, adapter=adapter, schema=schema,
                                 use_content_defined_chunking=False, **kwargs)
    writer.fault_point = fault_point
    return writer


def record_writer(record: str, folder: Any, filename: str = "${rank}.parquet", *, fault_point: str = "shard",
                  **kwargs):
    """``shard_writer`` of ``record`` rows with the schema's types, from datatrove documents."""

    def adapter(_writer, doc):
        return row_of(record, doc)

    return shard_writer(folder, arrow_schema(record), adapter, filename, fault_point=fault_point, **kwargs)


def parquet_files(folder: Any) -> list[str]:
    """Every published ``*.parquet`` file under ``folder`` (recursive), sorted; [] if it does not exist."""
    from datatrove.io import get_datafolder

    df = get_datafolder(folder)
    if not df.exists(""):
        return []
    return sorted(f for f in df.list_files(recursive=True) if f.endswith(".parquet"))


def count_rows(folder: Any) -> int:
    """Rows in every Parquet shard under ``folder``, from the file footers (no data read)."""
    from datatrove.io import get_datafolder

    df = get_datafolder(folder)
    total = 0
    for name in parquet_files(folder):
        try:
            with df.open(name, "rb") as fh:
                total += pq.ParquetFile(fh).metadata.num_rows
        except READ_ERRORS as err:
            if isinstance(err, FileNotFoundError):
                raise
            raise quarantine(folder, name, f"{type(err).__name__}: {err}") from None
    return total


def doc_id_of(text: str) -> str:
    """Stable document id: the first 16 hex digits of the SHA-256 of the normalized text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def check_doc_ids(folder: Any, name: str, rows: list[dict[str, Any]]) -> None:
    """Raise ``CorruptShard`` (moving the shard aside) if a Document row's ``doc_id`` is not its text's hash."""
    for row in rows:
        if doc_id_of(row["text"] or "") != row["doc_id"]:
            raise quarantine(folder, name, f"document {row['doc_id']}'s text no longer hashes to its doc_id")


def read_rows(folder: Any, columns: list[str] | None = None, batch_size: int = 1024, *,
              check_ids: bool = False) -> Iterator[dict[str, Any]]:
    """Stream the rows of every Parquet shard under ``folder``, in a fixed order, checked: page checksums
    and footers; with ``check_ids`` (the export), each document's ``doc_id`` against its text's hash.
    A damaged shard raises ``CorruptShard`` naming it, after moving it aside."""
    for name in parquet_files(folder):
        for batch in iter_shard_batches(folder, name, columns=columns, batch_size=batch_size):
            rows = batch.to_pylist()
            if check_ids:
                check_doc_ids(folder, name, rows)
            yield from rows
