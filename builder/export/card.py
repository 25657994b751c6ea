"""The dataset card (``README.md``): YAML front matter the Hub and ``datasets`` read,
and a body saying what a row is, how it was made and what is known to be wrong."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
TEMPLATE = Path(__file__).with_name("card_template.md")  # jinja2, rendered by huggingface_hub's DatasetCard


def field_rows(record: str) -> list[list[str]]:
    """Every field of ``record``: name, type and meaning, from its schema."""
    def kind(t: Any) -> str:
        if isinstance(t, dict) and "class_label" in t:
            return "ClassLabel(" + ", ".join(t["class_label"]) + ")"
        if isinstance(t, dict):
            return f"list of {kind(t['list'])}"
        return str(t)
    return [[f"`{f['name']}`", kind(f["type"]) + (" (nullable)" if f.get("nullable") else ""),
             f["description"].replace("|", "\\|")] for f in load(record)["fields"]]


def template_values(s: CardStats) -> dict[str, Any]:
    """What the card's body shows, as plain values for ``card_template.md``."""
    splits = list(s.ratios)
    types = sorted({t for per in s.quotes_by_type.values() for t in per})
    top = sorted(s.quotes_by_publisher.items(), key=lambda kv: (-kv[1], kv[0]))
    return {
        "s": s,
        "export_version": EXPORT_VERSION,
        "row_configs": [{"name": c, "version": load(r)["version"], "meaning": ROW_MEANING[c], "fields": field_rows(r)}
                        for c, r in CONFIG_RECORDS.items()],
        "splits": splits,
        "size_rows": [[c] + [s.counts[c].get(sp, 0) for sp in splits] for c in CONFIG_RECORDS],
        "split_rows": [["quotes", *[s.quotes_by_split.get(sp, 0) for sp in splits]],
                       ["speakers", *[s.speakers_by_split.get(sp, 0) for sp in splits]]],
        "tag_names": TAG_NAMES,
        "pipelines": sorted({v.split("+", 1)[1] for v in s.model_versions if "+" in v}),
        "code_list": lambda items: ", ".join(f"`{v}`" for v in items),
        "origins": ", ".join(f"{k} {v}" for k, v in sorted(s.docs_by_origin.items())),
        "types": types,
        "type_rows": [[o] + [s.quotes_by_type[o].get(t, 0) for t in types] for o in sorted(s.quotes_by_type)],
        "publisher_rows": [[p, n] for p, n in top[:25]],
        "more_publishers": max(len(top) - 25, 0),
        "ratios": ", ".join(f"{k} {v:.2f}" for k, v in s.ratios.items()),
        "citation_key": s.name.replace("-", "_") + "_" + s.version.replace(".", "_"),
    }


def dataset_card(s: CardStats):
    """The card as a ``huggingface_hub.DatasetCard``: ``front_matter`` as its ``DatasetCardData``,
    the body rendered from ``card_template.md``."""
    from huggingface_hub import DatasetCard, DatasetCardData

    return DatasetCard.from_template(DatasetCardData(**front_matter(s)), template_path=str(TEMPLATE),
                                     **template_values(s))


def render(s: CardStats) -> str:
    """The card's text (``README.md``)."""
    return str(dataset_card(s)).rstrip("\n") + "\n"
