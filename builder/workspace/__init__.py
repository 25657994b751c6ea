"""The workspace layer: the only code that reads or writes workspace files.

``Workspace`` names the folders (documents, proposals, annotations, state) and writes files
atomically; ``shards`` reads and writes schema-typed Parquet shards. Stages and the runner
go through this package; it imports only the schema and the libraries below it.
"""
from builder.lazy import lazy_exports

_EXPORTS = {
    "builder.workspace.errors": ["WorkspaceError"],
    "builder.workspace.folder": ["Workspace"],
    "builder.workspace.lock": ["WorkspaceBusy", "workspace_lock", "workspace_locks"],
    "builder.workspace.rejects": ["ListRejects", "listed_rows", "write_rejects"],
    "builder.workspace.shards": ["CorruptShard", "count_rows", "doc_id_of", "parquet_files", "read_rows",
                                 "record_writer", "row_of", "shard_writer"],
}
__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
