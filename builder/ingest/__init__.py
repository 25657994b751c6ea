"""Stage 1: inputs (txt, JSONL, HTML, WARC) -> clean, deduplicated Documents."""
