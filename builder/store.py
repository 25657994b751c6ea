"""Moved to ``builder.workspace.shards`` (the workspace layer); these names stay importable here."""
from builder.workspace.shards import count_rows, parquet_files, read_rows, record_writer, row_of  # noqa: F401
