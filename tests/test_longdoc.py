"""Long documents: proposed in windows (linear cost, right offsets), or rejected as too_long."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from builder.propose.windows import windows

QUOTES = str(Path(sys.executable).with_name("quotes"))
EXAMPLE = (Path(__file__).resolve().parents[1] / "examples" / "harbour_bridge.txt").read_text(encoding="utf-8")


def test_windows_cover_the_text_and_cut_at_paragraphs_sentences_then_blanks():
    text = "\n\n".join([EXAMPLE] * 4)
    ws = windows(text, 1200)
    assert "".join(w.text for w in ws) == text and all(len(w.text) <= 1200 for w in ws)
    assert all(text[w.start:w.start + len(w.text)] == w.text for w in ws)
    assert all(w.text.endswith("\n") for w in ws[:-1])  # paragraph breaks first
    one_paragraph = EXAMPLE.replace("\n", " ") * 3
    assert all(w.text.rstrip().endswith((".", "”", "\"")) for w in windows(one_paragraph, 700)[:-1])
    no_sentences = "word " * 1000
    assert all(len(w.text) <= 333 and w.text.endswith(" ") for w in windows(no_sentences, 333)[:-1])
    assert windows(EXAMPLE, len(EXAMPLE)) == windows(EXAMPLE)[:1] and len(windows(EXAMPLE)) == 1
    for size in (0, -5):   # -5 once looped forever (quotes.toml refuses less than 1,000: builder.config.MINIMUMS)
        with pytest.raises(ValueError, match="at least 1"):
            windows(EXAMPLE, size)


@pytest.fixture(scope="module")
def nlp():
    from builder.propose import load_pipeline

    return load_pipeline()


def test_a_text_longer_than_the_parser_takes_is_proposed_in_windows(nlp):
    from builder.propose import propose_texts

    text = "\n\n".join([EXAMPLE] * 6)
    nlp.max_length = 2000  # the parser refuses anything longer: every window must be shorter
    try:
        [whole] = propose_texts([EXAMPLE], nlp=nlp)
        [long] = propose_texts([text], cfg={"propose": {"window_chars": 1500}}, nlp=nlp)
    finally:
        nlp.max_length = 1_000_000
    assert long.error is None
    quotes = [r for r in long.regions if r.label == "Quote"]
    assert len(quotes) == 6 * sum(1 for r in whole.regions if r.label == "Quote")
    for r in long.regions:
        assert text[r.start:r.end] == r.text
    ids = [r.id for r in long.regions]
    assert len(ids) == len(set(ids)) and all({rel.from_id, rel.to_id} <= set(ids) for rel in long.relations)


def test_short_texts_are_proposed_exactly_as_before(nlp):
    from builder.propose import propose_texts

    a = propose_texts([EXAMPLE], cfg={"propose": {"window_chars": 10 * len(EXAMPLE)}}, nlp=nlp)
    b = propose_texts([EXAMPLE], cfg={"propose": {"window_chars": len(EXAMPLE)}}, nlp=nlp)
    assert a == b


def test_a_text_over_max_chars_is_a_too_long_reject(tmp_path):
    (tmp_path / "quotes.toml").write_text("[propose]\nmax_chars = 500\n")
    (tmp_path / "long.txt").write_text(EXAMPLE)
    r = subprocess.run([QUOTES, "propose", "long.txt", "-o", "t.json"], cwd=tmp_path, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 1, r.stdout + r.stderr
    [row] = [json.loads(x) for x in (tmp_path / "workspace" / "rejects.jsonl").read_text().splitlines()]
    assert row["reason"] == "too_long" and "max_chars 500" in row["detail"] and "max_chars" in row["hint"]
