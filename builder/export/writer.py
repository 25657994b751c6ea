"""Streaming Parquet writers, one file per config and split, with row counts kept while
writing. Fixed writer options and row-group sizes: the same rows give the same bytes."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from builder.schema import arrow_schema, hf_features

CONFIG_RECORDS = {"attributions": "Attribution", "documents": "DocumentRow", "tokens": "TokenRow"}
ROWS_PER_GROUP = {"attributions": 5000, "documents": 500, "tokens": 500}
WRITER_OPTIONS = dict(compression="zstd", compression_level=3, use_dictionary=True, write_statistics=True,
                      version="2.6", data_page_version="1.0", use_compliant_nested_type=False)


def data_file(config: str, split: str) -> str:
    """Path of a split's Parquet file inside the dataset folder (Hub naming)."""
    return f"{config}/{split}-00000-of-00001.parquet"


def file_schema(record: str) -> pa.Schema:
    """The record's types as ``datasets`` lays them out (nullable fields, ``list<item>``),
    carrying its schema version and HF features, so ``load_dataset("parquet", ...)``
    restores ClassLabels without the card."""
    hf = hf_features(record).arrow_schema
    return hf.with_metadata({**(arrow_schema(record).metadata or {}), **(hf.metadata or {})})


class SplitWriter:
    """Rows of one config, appended per split, flushed in fixed-size row groups."""

    def __init__(self, folder: Path, config: str, splits: list[str]):
        self.config = config
        self.schema = file_schema(CONFIG_RECORDS[config])
        self.group = ROWS_PER_GROUP[config]
        self.counts = {s: 0 for s in splits}
        self.nbytes = {s: 0 for s in splits}  # in-memory arrow size, as the Hub's num_bytes
        self._buffers: dict[str, list[dict[str, Any]]] = {s: [] for s in splits}
        self._writers = {}
        for s in splits:
            path = folder / data_file(config, s)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._writers[s] = pq.ParquetWriter(str(path), self.schema, **WRITER_OPTIONS)

    def add(self, split: str, rows: list[dict[str, Any]]) -> None:
        buf = self._buffers[split]
        buf.extend(rows)
        self.counts[split] += len(rows)
        if len(buf) >= self.group:
            self._flush(split)

    def _flush(self, split: str) -> None:
        buf = self._buffers[split]
        while buf:
            chunk, buf[:] = buf[: self.group], buf[self.group:]
            self._write(split, chunk)
            if len(buf) < self.group:
                break

    def _write(self, split: str, rows: list[dict[str, Any]]) -> None:
        table = pa.Table.from_pylist(rows, schema=self.schema)
        self.nbytes[split] += table.nbytes
        self._writers[split].write_table(table)

    def close(self) -> None:
        for split, writer in self._writers.items():
            buf = self._buffers[split]
            while buf:
                chunk, buf[:] = buf[: self.group], buf[self.group:]
                self._write(split, chunk)
            writer.close()
