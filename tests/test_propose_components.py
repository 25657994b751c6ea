"""The quote components as spaCy ``Pipe``s: saved with ``nlp.to_disk`` and read back by
``spacy.load`` (lexicons included), and failures handed to the error handler."""
from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path

import pytest
import spacy

from builder.propose.components import QuoteAttribution, SpeakerResolver, record_failure
from builder.propose.lexicons import LEXICON_DIR

GOLD_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "gold"
CUE = "invent"  # a cue verb no lexicon has: only the saved lexicons know it
TEXTS = [
    "The minister invented that the talks had stalled over funding, officials said on Monday.\n",
    "\"We are not going to accept this deal as it stands,\" John Kirby told BBC News.\n\n"
    "\"It is a bad day,\" he said, \"and it will get worse before it gets better.\"\n",
]


def _gold_texts() -> list[tuple[str, str, str | None]]:
    from builder.evaluate.gold import load_gold

    if not GOLD_DIR.is_dir():
        return []
    return [(g.doc_id, g.text, g.publisher) for g in load_gold(sorted(GOLD_DIR.glob("*.json")))]


def _proposals(nlp, items: list[tuple[str, str, str | None]]) -> list[dict]:
    from builder.propose.core import propose_docs

    return [asdict(p) for p in propose_docs(nlp, [(i, t) for i, t, _ in items],
                                            publishers={i: p for i, _, p in items})]


def test_saved_pipeline_keeps_lexicons_and_settings_and_proposes_the_same(tmp_path):
    from builder.propose import load_pipeline

    lexicons = tmp_path / "lexicons"
    shutil.copytree(LEXICON_DIR, lexicons)
    with (lexicons / "cue_verbs.txt").open("a", encoding="utf-8") as f:
        f.write(f"\n{CUE}\n")
    nlp = load_pipeline(cfg={"propose": {"lexicon_dir": str(lexicons), "resolver": "heuristic"}})
    items = _gold_texts() + [(f"t{i}", t, None) for i, t in enumerate(TEXTS)]
    before = _proposals(nlp, items)
    assert any(r["text"] == "invented" and r["label"] == "Cue" for r in before[-2]["regions"])

    nlp.to_disk(tmp_path / "model")
    shutil.rmtree(lexicons)  # the saved pipeline must not need the folder it was configured with
    loaded = spacy.load(tmp_path / "model")
    assert loaded.pipe_names == nlp.pipe_names
    rules = loaded.get_pipe("quotes_attribution")
    assert isinstance(rules, QuoteAttribution) and rules.scope == "speech"
    assert (tmp_path / "model" / "quotes_attribution" / "lexicons" / "cue_verbs.txt").is_file()
    assert isinstance(loaded.get_pipe("quotes_resolver"), SpeakerResolver)
    assert _proposals(loaded, items) == before

    loaded.to_disk(tmp_path / "model")  # saving over its own folder keeps the lexicons
    assert CUE in (tmp_path / "model" / "quotes_attribution" / "lexicons" / "cue_verbs.txt").read_text()


def test_broad_scope_is_kept_by_the_config(tmp_path):
    from builder.propose import load_pipeline

    nlp = load_pipeline(scope="broad")
    nlp.to_disk(tmp_path / "model")
    assert spacy.load(tmp_path / "model").get_pipe("quotes_attribution").lexicons.broad


@pytest.fixture
def failing_nlp(monkeypatch):
    """A blank pipeline with the quote components, whose rules fail on a text with BOOM."""
    import builder.propose.components as components

    def find_quotes(doc, lexicons, **kwargs):
        if "BOOM" in doc.text:
            raise ValueError("synthetic failure")
        return []

    monkeypatch.setattr(components, "find_quotes", find_quotes)
    nlp = spacy.blank("en")
    nlp.add_pipe("quotes_attribution")
    nlp.add_pipe("quotes_resolver")
    return nlp


def test_a_failure_raises_by_default(failing_nlp):
    with pytest.raises(ValueError, match="synthetic failure"):
        failing_nlp("BOOM, he said.")
    with pytest.raises(ValueError, match="synthetic failure"):
        list(failing_nlp.pipe(["fine", "BOOM"]))


def test_the_error_handler_set_with_nlp_set_error_handler_gets_the_failure(failing_nlp):
    calls = []

    def handler(name, proc, docs, error):
        calls.append((name, type(proc).__name__, [d.text for d in docs], str(error)))

    failing_nlp.set_error_handler(handler)
    docs = list(failing_nlp.pipe(["fine", "BOOM, he said.", "also fine"]))
    assert [d.text for d in docs] == ["fine", "BOOM, he said.", "also fine"]  # nothing dropped
    assert calls == [("quotes_attribution", "QuoteAttribution", ["BOOM, he said."], "synthetic failure")]
    assert docs[1]._.quote_records == [] and list(docs[1].spans.get("quotes", [])) == []

    failing_nlp.set_error_handler(record_failure)
    doc = failing_nlp("BOOM again")
    assert doc._.quote_error == "quotes_attribution: ValueError: synthetic failure"
    assert failing_nlp("fine")._.quote_error is None


def test_record_failure_reraises_other_components_errors():
    doc = spacy.blank("en")("text")
    with pytest.raises(KeyError):
        record_failure("parser", object(), [doc], KeyError("not ours"))
    assert doc._.quote_error is None
