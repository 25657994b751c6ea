"""Workspace shards: schema-typed, rank-named Parquet shards read and written
through datatrove (so a workspace may be a local folder or any fsspec URL).

Stages pass datatrove ``Document``s (``id``, ``text``, ``metadata``) between steps;
``record_writer("Proposal", folder)`` writes the row named by a schema record from
``{"doc_id": doc.id, "text": doc.text, **doc.metadata}``, with the schema's exact
pyarrow types. ``read_rows`` streams rows back in a fixed order (sorted files,
file order within), batch by batch, never a whole table in memory.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow.parquet as pq

from builder.schema import arrow_schema, fields


def row_of(record: str, doc: Any) -> dict[str, Any]:
    """The ``record`` row carried by datatrove document ``doc``."""
    row = {"doc_id": doc.id, "text": doc.text, **doc.metadata}
    return {f["name"]: row.get(f["name"]) for f in fields(record)}


def record_writer(record: str, folder: Any, filename: str = "${rank}.parquet", **kwargs):
    """A datatrove ``ParquetWriter`` that writes ``record`` rows with the schema's types."""
    from datatrove.pipeline.writers import ParquetWriter

    def adapter(_writer, doc):
        return row_of(record, doc)

    return ParquetWriter(
        folder, output_filename=filename, adapter=adapter, schema=arrow_schema(record),
        use_content_defined_chunking=False, **kwargs,
    )


def parquet_files(folder: Any) -> list[str]:
    """Every ``*.parquet`` file under ``folder`` (recursive), sorted; [] if it does not exist."""
    from datatrove.io import get_datafolder

    df = get_datafolder(folder)
    if not df.exists(""):
        return []
    return sorted(f for f in df.list_files(recursive=True) if f.endswith(".parquet"))


def count_rows(folder: Any) -> int:
    """Rows in every Parquet shard under ``folder``, from the file footers (no data read)."""
    import pyarrow.parquet as pq
    from datatrove.io import get_datafolder

    df = get_datafolder(folder)
    total = 0
    for name in parquet_files(folder):
        with df.open(name, "rb") as fh:
            total += pq.ParquetFile(fh).metadata.num_rows
    return total


def read_rows(folder: Any, columns: list[str] | None = None, batch_size: int = 1024) -> Iterator[dict[str, Any]]:
    """Stream the rows of every Parquet shard under ``folder``, in a fixed order."""
    from datatrove.io import get_datafolder

    df = get_datafolder(folder)
    for name in parquet_files(folder):
        with df.open(name, "rb") as fh:
            pf = pq.ParquetFile(fh, pre_buffer=False)  # no read-ahead: memory stays flat
            cols = [c for c in columns if c in pf.schema_arrow.names] if columns else None
            for batch in pf.iter_batches(batch_size=batch_size, columns=cols, use_threads=False):
                yield from batch.to_pylist()
