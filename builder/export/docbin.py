"""The ``tokens`` config as spaCy ``DocBin`` files (``quotes export --format spacy``), as
Prodigy's ``data-to-spacy`` writes them: one ``spacy/<split>.spacy`` per split, one ``Doc``
per window, ``doc.ents`` from the combined ``tags`` and ``doc.spans["quotes"|"speakers"|
"cues"|"outlets"]`` from the per-label tags. ``quotes train`` builds its training docs with
the same ``doc_of_row``.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from builder.config import EXPORT_FORMATS
from builder.export.rows import TAG_NAMES, TAGGED_LABELS

SPAN_KEYS = {label: f"{label.lower()}s" for label in TAGGED_LABELS}   # Quote -> "quotes"
FORMATS = EXPORT_FORMATS   # the formats besides Parquet ([export] formats; builder.config lists them)


def spans_of_tags(tags: list[int]) -> list[tuple[int, int, str]]:
    """``(first, last + 1, LABEL)`` token ranges of a combined BIO id sequence (``TAG_NAMES``);
    an I without its B starts a span."""
    out: list[tuple[int, int, str]] = []
    cur: list[Any] | None = None
    for i, t in enumerate(tags):
        name = TAG_NAMES[t]
        if name == "O":
            cur = None
            continue
        prefix, label = name.split("-", 1)
        if prefix == "B" or cur is None or cur[2] != label:
            cur = [i, i + 1, label]
            out.append(cur)  # type: ignore[arg-type]
        else:
            cur[1] = i + 1
    return [tuple(s) for s in out]  # type: ignore[misc]


def _label_spans(tags: list[int], label: str) -> list[tuple[int, int]]:
    """Token ranges of one label's BIO ids (0 O, 1 B, 2 I)."""
    out, start = [], None
    for i, t in enumerate(list(tags) + [0]):
        if start is not None and t != 2:
            out.append((start, i))
            start = None
        if t == 1 or (t == 2 and start is None):
            start = i
    return out


def doc_of_row(vocab, row: dict[str, Any]):
    """A spaCy ``Doc`` of one ``tokens`` row: its tokens (a space where the text had whitespace),
    entities from ``tags``, per-label spans; ``doc.user_data`` keeps doc_id, window and offsets."""
    from spacy.tokens import Doc, Span

    starts, ends = row["token_starts"], row["token_ends"]
    spaces = [ends[i] < starts[i + 1] for i in range(len(starts) - 1)] + [False]
    doc = Doc(vocab, words=list(row["tokens"]), spaces=spaces)
    doc.ents = [Span(doc, a, b, label=label) for a, b, label in spans_of_tags(row["tags"])]
    for label, key in SPAN_KEYS.items():
        doc.spans[key] = [Span(doc, a, b, label=label.upper())
                          for a, b in _label_spans(row[f"{label.lower()}_tags"], label)]
    doc.user_data.update({"doc_id": row["doc_id"], "window": row["window"], "start": row["start"],
                          "token_starts": list(starts)})
    return doc


def write_docbins(dataset: Path, rows_by_split: dict[str, Iterable[dict[str, Any]]]) -> dict[str, int]:
    """Write ``dataset/spacy/<split>.spacy`` for every split with rows; returns docs per split."""
    import spacy
    from spacy.tokens import DocBin

    vocab = spacy.blank("en").vocab
    out_dir = dataset / "spacy"
    out_dir.mkdir(exist_ok=True)
    counts = {}
    for split, rows in rows_by_split.items():
        db = DocBin(store_user_data=True)
        for row in rows:
            db.add(doc_of_row(vocab, row))
        if len(db):
            db.to_disk(out_dir / f"{split}.spacy")
            counts[split] = len(db)
    return counts


def docbins_from_parquet(dataset: Path, splits: Iterable[str]) -> dict[str, int]:
    """DocBins of the ``tokens`` Parquet files already written in ``dataset``."""
    import pyarrow.parquet as pq

    from builder.export.writer import data_file

    def rows(split: str):
        path = dataset / data_file("tokens", split)
        if path.exists():
            for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
                yield from batch.to_pylist()

    return write_docbins(dataset, {split: rows(split) for split in splits})
