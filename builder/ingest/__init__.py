"""Stage 1: inputs (txt, JSONL, HTML, WARC) -> clean, deduplicated Documents.

``ingest(paths, workspace, cfg)`` runs the stage; the readers (``read_txt``, ``read_jsonl``,
``read_html``, ``read_warc``, ``read_path``, ``iter_records``) are reusable on their own.
Names are imported lazily so ``quotes --help`` stays instant.
"""
from builder.lazy import lazy_exports

_EXPORTS = {
    "builder.ingest.pipeline": ["IngestSummary", "dedupe_pipeline", "extract_pipeline", "ingest"],
    "builder.ingest.readers": ["Extracted", "Raw", "expand_paths", "extract", "iter_records",
                               "read_html", "read_jsonl", "read_path", "read_txt", "read_warc", "rejected"],
    "builder.ingest.text": ["INGEST_VERSION", "doc_id_of", "normalize_text"],
}
__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
