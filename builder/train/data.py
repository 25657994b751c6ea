"""Training rows: the ``tokens`` windows of an export, or of a brat corpus converted through the
same export functions (``builder.export.rows.token_rows``) a user's export takes."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder.export.rows import Source, Tokenizer, token_rows
from builder.export.writer import data_file

SPLITS = ("train", "validation", "test")


class TrainError(ValueError):
    """Training input that cannot be used, with what to do about it."""


@dataclass
class Corpus:
    """Token windows per split and where they came from."""
    rows: dict[str, list[dict[str, Any]]]
    source: dict[str, Any] = field(default_factory=dict)   # export name/version/manifest hash, or brat folders
    scope: str = "speech"                                   # the notion of attribution the gold follows


def read_export(folder: str | Path) -> Corpus:
    """The ``tokens`` config of an exported version (``exports/<name>/<version>``)."""
    import pyarrow.parquet as pq

    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise TrainError(f"{folder} has no manifest.json: give an exported version folder (quotes export)")
    manifest = json.loads(manifest_path.read_text("utf-8"))
    rows = {}
    for split in SPLITS:
        path = folder / data_file("tokens", split)
        if path.exists():
            table = pq.read_table(path)
            if "tags" not in table.column_names:
                raise TrainError(f"{path} has no `tags` column: export again with this version of quotes")
            rows[split] = table.to_pylist()
    if not rows.get("train"):
        raise TrainError(f"{folder} has no tokens rows in its train split: annotate more documents, export again")
    source = {"export": {"name": manifest.get("name"), "version": manifest.get("version"),
                         "manifest_sha256": hashlib.sha256(manifest_path.read_bytes()).hexdigest()}}
    return Corpus(rows, source)


def brat_rows(folder: str | Path, window_tokens: int = 256) -> list[dict[str, Any]]:
    """Token windows of a brat corpus (PolNeAR layout: text/ + attributions/)."""
    from builder.evaluate.gold import gold_from_brat, is_brat_folder

    folder = Path(folder)
    if not is_brat_folder(folder):
        raise TrainError(f"{folder} is not a brat corpus: it needs text/*.txt and attributions/*.ann")
    problems: list = []
    tokenize = Tokenizer()
    rows = []
    for g in gold_from_brat(folder, problems):
        src = Source("annotated", g.regions, g.relations, None, [g.annotator] if g.annotator else [])
        rows += token_rows({"doc_id": g.doc_id, "text": g.text}, src, tokenize(g.text), window_tokens)
    if not rows:
        raise TrainError(f"no annotated article in {folder}")
    return rows


def read_brat(train: str | Path, dev: str | Path | None, test: str | Path | None = None,
              window_tokens: int = 256) -> Corpus:
    """A brat train folder (and dev, test ones) as a corpus; the broad scope is implied (PolNeAR)."""
    rows = {"train": brat_rows(train, window_tokens)}
    if dev:
        rows["validation"] = brat_rows(dev, window_tokens)
    if test:
        rows["test"] = brat_rows(test, window_tokens)
    return Corpus(rows, {"brat": {k: str(v) for k, v in (("train", train), ("dev", dev), ("test", test)) if v}},
                  scope="broad")
