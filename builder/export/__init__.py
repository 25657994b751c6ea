"""Stage 4: versioned, immutable Hugging Face dataset folders.

``export_dataset(workspace, cfg, version=..., bump=...)`` writes
``exports/<name>/<version>/`` with three configs (``attributions``, ``documents``,
``tokens``), train/validation/test splits grouped by near-duplicate cluster, a dataset
card and ``manifest.json``; ``diff_versions(a, b)`` compares two versions' quotes.
"""
from builder.export.build import export_dataset
from builder.export.diff import VersionDiff, diff_versions
from builder.export.versions import ExportError
from builder.records.choice import choose as resolve_export_annotation  # the one rule (old name kept)

__all__ = ["export_dataset", "diff_versions", "VersionDiff", "resolve_export_annotation", "ExportError"]
