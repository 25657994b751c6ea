"""Training rows: the ``tokens`` windows of an export, or of a brat corpus converted through the
same export functions (``builder.export.rows.token_rows``) a user's export takes; and the whole
articles with their gold regions and relations (the export's ``documents`` config, or the brat
files), which the refiners of the rules' records learn from."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder.config import SPLITS   # train, validation, test: the export's splits
from builder.export.rows import Source, Tokenizer, token_rows
from builder.export.writer import data_file
from builder.schema import Region, Relation, class_id



class TrainError(ValueError):
    """Training input that cannot be used, with what to do about it."""


@dataclass
class Article:
    """One whole gold article: its text and publisher, gold regions and relations."""
    doc_id: str
    text: str
    regions: list[Region]
    relations: list[Relation]
    publisher: str | None = None


@dataclass
class Corpus:
    """Token windows and whole articles per split, and where they came from."""
    rows: dict[str, list[dict[str, Any]]]
    source: dict[str, Any] = field(default_factory=dict)   # export name/version/manifest hash, or brat folders
    scope: str = "speech"                                   # the notion of attribution the gold follows
    articles: dict[str, list[Article]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)       # input files left out: path, why, what to do


def read_export(folder: str | Path) -> Corpus:
    """The ``tokens`` config of an exported version (``exports/<name>/<version>``)."""
    import pyarrow.parquet as pq

    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise TrainError(f"{folder} has no manifest.json: give an exported version folder (quotes export)")
    manifest = json.loads(manifest_path.read_text("utf-8"))
    if not any((folder / data_file("tokens", split)).exists() for split in SPLITS):
        made = manifest.get("export_version") or "an unknown export step"
        raise TrainError(f"{folder} has no tokens config ({folder / 'tokens'} is missing; written by {made}): "
                         "export a new version from the same workspace with this quotes (quotes export --bump "
                         "minor) and train on that")
    rows, articles = {}, {}
    for split in SPLITS:
        path = folder / data_file("tokens", split)
        if path.exists():
            table = pq.read_table(path)
            if "tags" not in table.column_names:
                raise TrainError(f"{path} has no `tags` column: export again with this version of quotes")
            rows[split] = table.to_pylist()
        path = folder / data_file("documents", split)
        if path.exists():
            articles[split] = [article_of_row(row) for row in pq.read_table(path).to_pylist()]
    if not rows.get("train"):
        raise TrainError(f"{folder} has no tokens rows in its train split: annotate (or propose) more documents, "
                         "then export a new version")
    source = {"export": {"name": manifest.get("name"), "version": manifest.get("version"),
                         "manifest_sha256": hashlib.sha256(manifest_path.read_bytes()).hexdigest(),
                         "proposed_windows": {split: sum(_proposed(r) for r in split_rows)
                                              for split, split_rows in rows.items()}}}
    return Corpus(rows, source, articles=articles)


def _proposed(row: dict[str, Any]) -> bool:
    """The window is silver: an unreviewed proposal."""
    return row.get("origin") == class_id("TokenRow", "origin", "proposed")


def article_of_row(row: dict[str, Any]) -> Article:
    """An ``Article`` of a ``documents`` config row (its spans and relations)."""
    names = {"id", "label", "start", "end", "text", "quote_type", "score"}
    regions = [Region(**{k: v for k, v in g.items() if k in names}) for g in row.get("spans") or []]
    relations = [Relation(**{k: r[k] for k in ("from_id", "to_id", "label")}) for r in row.get("relations") or []]
    return Article(row["doc_id"], row["text"], regions, relations, row.get("publisher"))


def brat_articles(folder: str | Path, skipped: list[str] | None = None) -> list[Article]:
    """The gold articles of a brat corpus (PolNeAR layout: text/ + attributions/); a file that
    cannot be used is left out and said in ``skipped`` (its path, why, what to do)."""
    from builder.evaluate.gold import gold_from_brat, is_brat_folder

    folder = Path(folder)
    if not is_brat_folder(folder):
        raise TrainError(f"{folder} is not a brat corpus: it needs text/*.txt and attributions/*.ann")
    problems: list = []
    out = [Article(g.doc_id, g.text, g.regions, g.relations, g.publisher) for g in gold_from_brat(folder, problems)]
    said = [f"{p.source}: {p.reason}{f' ({p.detail})' if p.detail else ''}; {p.hint}" for p in problems]
    if not out:
        first = f" (first: {said[0]})" if said else ""
        raise TrainError(f"no annotated article in {folder}: it needs text/NAME.txt with attributions/"
                         f"NAME_<annotator>.ann beside it{first}")
    if skipped is not None:
        skipped += said
    return out


def article_rows(articles: list[Article], window_tokens: int = 256) -> list[dict[str, Any]]:
    """Token windows of gold articles, as an export makes them."""
    tokenize = Tokenizer()
    rows = []
    for a in articles:
        src = Source("annotated", a.regions, a.relations, None, [])
        rows += token_rows({"doc_id": a.doc_id, "text": a.text}, src, tokenize(a.text), window_tokens)
    return rows


def brat_rows(folder: str | Path, window_tokens: int = 256) -> list[dict[str, Any]]:
    """Token windows of a brat corpus (PolNeAR layout: text/ + attributions/)."""
    return article_rows(brat_articles(folder), window_tokens)


def read_brat(train: str | Path, dev: str | Path | None, test: str | Path | None = None,
              window_tokens: int = 256) -> Corpus:
    """A brat train folder (and dev, test ones) as a corpus; the broad scope is implied (PolNeAR)."""
    skipped: list[str] = []
    articles = {split: brat_articles(folder, skipped) for split, folder in (("train", train), ("validation", dev),
                                                                            ("test", test)) if folder}
    rows = {split: article_rows(arts, window_tokens) for split, arts in articles.items()}
    return Corpus(rows, {"brat": {k: str(Path(v).absolute()) for k, v in (("train", train), ("dev", dev), ("test", test)) if v}},
                  scope="broad", articles=articles, skipped=skipped)
