"""The dataset card (``README.md``): YAML front matter the Hub and ``datasets`` read,
and a body saying what a row is, how it was made and what is known to be wrong."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from builder.export.rows import EXPORT_VERSION, TAG_NAMES
from builder.export.writer import CONFIG_RECORDS, data_file
from builder.schema import card_features, load

ROW_MEANING = {
    "attributions": "one quote: its text and offsets, type, speaker mention, canonical speaker name "
                    "(following `refers_to`), cue, outlet, the article's publisher, and where it came from "
                    "(`origin`, `model_version`, `annotator_ids`).",
    "documents": "one article: its full `text` with nested lists of `quotes` (as in `attributions`), every "
                 "labelled `spans` entry (Quote/Speaker/Cue/Outlet) and the `relations` between them.",
    "tokens": "one window of an article (a paragraph, or whole sentences of a longer one; at most "
              "`window_tokens` tokens) tokenized by spaCy's English tokenizer (whitespace tokens dropped), "
              "with its `doc_id`, window offsets, token offsets, one combined BIO `tags` sequence over "
              "Quote/Speaker/Cue/Outlet and four per-label BIO sequences (`ClassLabel`s) for sequence labelling.",
}


@dataclass
class CardStats:
    """Everything the card reports, gathered while writing."""
    name: str
    version: str
    counts: dict[str, dict[str, int]]                 # config -> split -> rows
    ratios: dict[str, float]
    seed: Any
    include_proposed: bool
    model_versions: list[str]
    nbytes: dict[str, dict[str, int]] = field(default_factory=dict)     # config -> split -> arrow bytes
    file_bytes: dict[str, int] = field(default_factory=dict)            # config -> Parquet bytes
    docs_by_origin: dict[str, int] = field(default_factory=dict)
    quotes_by_type: dict[str, dict[str, int]] = field(default_factory=dict)    # origin -> type -> n
    quotes_by_publisher: dict[str, int] = field(default_factory=dict)
    annotations_live: int = 0
    annotations_reviewed: int = 0
    annotators: int = 0
    agreement_docs: int = 0
    agreement_f1: float | None = None
    rejects: int = 0
    unannotated_left_out: int = 0
    license: str = "other"
    language: list[str] = field(default_factory=lambda: ["en"])
    quotes_by_split: dict[str, int] = field(default_factory=dict)
    speakers_by_split: dict[str, int] = field(default_factory=dict)   # distinct canonical speakers
    window_tokens: int = 256
    formats: list[str] = field(default_factory=list)
    year: int = 2026


def size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")):
        if n < limit:
            return label
    return "10M<n<100M"


def front_matter(s: CardStats) -> dict[str, Any]:
    configs, infos = [], []
    for config, record in CONFIG_RECORDS.items():
        splits = list(s.counts[config])
        if not splits:
            continue  # no rows at all: the body says so
        configs.append({"config_name": config, **({"default": True} if config == "attributions" else {}),
                        "data_files": [{"split": sp, "path": data_file(config, sp)} for sp in splits]})
        infos.append({"config_name": config, "features": card_features(record),
                      "splits": [{"name": sp, "num_bytes": s.nbytes.get(config, {}).get(sp, 0),
                                  "num_examples": s.counts[config][sp]} for sp in splits],
                      "download_size": s.file_bytes.get(config, 0),
                      "dataset_size": sum(s.nbytes.get(config, {}).values())})
    human = s.docs_by_origin.get("annotated", 0) > 0
    return {
        "pretty_name": f"{s.name} (quote attribution)",
        "license": s.license,
        **({"license_name": LICENSE_NAME} if s.license == "other" else {}),
        "language": s.language,
        "annotations_creators": (["expert-generated"] if human else []) + (["machine-generated"] if s.include_proposed else []),
        "language_creators": ["found"],
        "source_datasets": ["original"],
        "multilinguality": ["monolingual"],
        "task_categories": ["token-classification"],
        "tags": ["quote-attribution", "news", "reported-speech"],
        "size_categories": [size_category(sum(s.counts["attributions"].values()))],
        "configs": configs,
        "dataset_info": infos,
    }


LICENSE_NAME = "annotations as the dataset's owner licenses them; article texts remain their publishers'"

CITATION = """```bibtex
@misc{{{key},
  title        = {{{name} {version}: quote attribution in news articles}},
  note         = {{Built with the quotes dataset builder ({export_version})}},
  howpublished = {{Hugging Face dataset folder}},
  year         = {{{year}}}
}}
```"""


def field_table(record: str) -> str:
    """Every field of ``record``: name, type and meaning, from its schema."""
    def kind(t: Any) -> str:
        if isinstance(t, dict) and "class_label" in t:
            return "ClassLabel(" + ", ".join(t["class_label"]) + ")"
        if isinstance(t, dict):
            return f"list of {kind(t['list'])}"
        return str(t)
    return _table(["field", "type", "meaning"],
                  [[f"`{f['name']}`", kind(f["type"]) + (" (nullable)" if f.get("nullable") else ""),
                    f["description"].replace("|", "\\|")] for f in load(record)["fields"]])


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def body(s: CardStats) -> str:
    splits = list(s.ratios)
    size_rows = [[c] + [s.counts[c].get(sp, 0) for sp in splits] for c in CONFIG_RECORDS]
    types = sorted({t for per in s.quotes_by_type.values() for t in per})
    type_rows = [[o] + [s.quotes_by_type[o].get(t, 0) for t in types] for o in sorted(s.quotes_by_type)]
    top = sorted(s.quotes_by_publisher.items(), key=lambda kv: (-kv[1], kv[0]))
    pub_rows = [[p, n] for p, n in top[:25]]
    more = f"\n\n…and {len(top) - 25} more publishers." if len(top) > 25 else ""
    pipelines = sorted({v.split("+", 1)[1] for v in s.model_versions if "+" in v})
    agreement = (f"F1 of exact Quote spans between annotators {s.agreement_f1:.3f} (micro-averaged over pairs, "
                 f"as `quotes agreement` prints it) over {s.agreement_docs} "
                 f"document(s) annotated by more than one person" if s.agreement_f1 is not None
                 else "not known (no document has live annotations by two annotators)")
    ratio_text = ", ".join(f"{k} {v:.2f}" for k, v in s.ratios.items())
    fields_text = "\n\n".join(f"### {c} (`{load(r)['version']}`)\n\n{field_table(r)}" for c, r in CONFIG_RECORDS.items())
    docbin_text = ("`spacy/<split>.spacy` holds the same windows as spaCy `DocBin`s (`doc.ents` from `tags`, "
                   "`doc.spans` per label; `spacy train` reads them).\n" if "spacy" in s.formats else "")
    return f"""
# {s.name} {s.version}

Quote attribution in news articles: *who said what, through which cue and which media outlet*.
Built by the `quotes` dataset builder (`quotes export`, `{EXPORT_VERSION}`).

```python
import datasets
ds = datasets.load_dataset("path/to/{s.name}/{s.version}", "attributions")   # or "documents", "tokens"
```

## Configs: what a row is

{chr(10).join(f"- **{c}** (`{load(r)['version']}`): {ROW_MEANING[c]}" for c, r in CONFIG_RECORDS.items())}

Offsets are Python string offsets into the document text: `text[start:end]` is the span.
Splits without rows are left out of the configs (`datasets` cannot load an empty split).

{_table(["config"] + splits, size_rows)}

Quotes and distinct speakers (canonical names, case-insensitive) per split:

{_table(["", *splits], [["quotes", *[s.quotes_by_split.get(sp, 0) for sp in splits]], ["speakers", *[s.speakers_by_split.get(sp, 0) for sp in splits]]])}

## Fields

{fields_text}

## Training

The `tokens` config is ready for token classification: `tags` is one BIO sequence over
`{", ".join(TAG_NAMES)}` (where spans overlap, the span that starts first, the longer one at
equal starts, keeps the shared tokens; a span starting inside one already tagged is left out),
and rows are windows of at most {s.window_tokens} tokens, so 512-token recipes truncate nothing.
{docbin_text}`quotes train --export path/to/{s.name}/{s.version}` trains a spaCy proposer on it.

## How it was made

1. **Ingest**: articles (txt/JSONL/HTML/WARC) cleaned to NFC text, deduplicated, near-duplicates clustered (MinHash LSH) into `cluster_id`s.
2. **Propose**: spaCy heuristics proposed quotes, speakers, cues and outlets. Proposer version(s): {", ".join(f"`{v}`" for v in s.model_versions) or "none recorded"}; spaCy pipeline(s): {", ".join(f"`{p}`" for p in pipelines) or "unknown"}.
3. **Annotate**: proposals corrected in Label Studio. {s.annotations_live} live annotation(s) ({s.annotations_reviewed} reviewed as ground truth) by {s.annotators} annotator(s). Where a document has several, the reviewed one is used, else the latest. Agreement: {agreement}.
4. **Export**: {"annotated documents, plus unreviewed proposals as silver data (`origin = proposed`) for documents without an annotation" if s.include_proposed else "annotated documents only (`origin = annotated`)"}. Documents by origin: {", ".join(f"{k} {v}" for k, v in sorted(s.docs_by_origin.items())) or "none"}. Unannotated documents left out: {s.unannotated_left_out}. Inputs that could not be exported: {s.rejects} (listed in the workspace's `rejects.jsonl`).

## Quotes by type

{_table(["origin"] + types, type_rows) if type_rows else "No quotes."}

## Quotes by publisher

{_table(["publisher", "quotes"], pub_rows) if pub_rows else "No quotes."}{more}

## Splits

By document, grouped by the ingest `cluster_id`: every document of a near-duplicate cluster (a story and its syndicated copies) lands in the same split. A cluster's split is a seeded hash: `sha256(f"{{seed}}\\x00{{cluster_id}}")` mapped to [0, 1) and cut at the cumulative ratios ({ratio_text}; seed {s.seed}). No global state: adding documents never moves old clusters.

## Known limitations

- `origin = proposed` rows are unreviewed heuristic output (silver data): expect missed and wrong quotes and speakers.
- The `tokens` config uses spaCy's rule-based tokenizer; BIO tags cannot nest, so for overlapping spans of one label (a quote inside a quote) the outer span keeps the tokens.
- Every annotated quote has the `quote_type` its annotator chose: `quotes pull` does not store an annotation with an untyped Quote (it lists it in `rejects.jsonl`, reason `missing_quote_type`).
- Ratios are met in expectation only: splits are per cluster, so small datasets deviate from them.
- Article texts are copyrighted by their publishers; check the license before redistributing.

`manifest.json` lists every file's sha256, the row counts, the workspace state and the code version this was built from.

## Citation

{CITATION.format(key=s.name.replace("-", "_") + "_" + s.version.replace(".", "_"), name=s.name, version=s.version,
                 export_version=EXPORT_VERSION, year=s.year)}
"""


def render(s: CardStats) -> str:
    head = yaml.safe_dump(front_matter(s), sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{head}---\n{body(s)}"
