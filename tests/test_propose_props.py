"""Robustness of the proposer: odd marks, empty and huge documents, odd Unicode never crash it,
and every region it proposes lies inside the text with ``text[start:end] == region.text``."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder.propose.marks import quoted_spans

PIECES = ["\"", "“", "”", "«", "»", "„", "'", "‘", "’", " ", "\n", "\n\n", ".", ",", ":", "—",
          "he said", "said", "told", "according to", "The minister", "John Smith", "that", "BBC News",
          "we will win", "Kirby", "PENCE: ", "Mr. Lopez: ", "and warned against", "after the vote he would", "é", "\u200b", "\u00a0", "🙂", "\r\n", "\t", "ﬁ", "𝔘", "\u0301"]

texts = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)), max_size=40).map("".join)


@pytest.fixture(scope="module")
def nlp():
    from builder.propose import load_pipeline
    return load_pipeline()


def check(prop, text):
    ids = [r.id for r in prop.regions]
    assert len(ids) == len(set(ids))
    for r in prop.regions:
        assert 0 <= r.start < r.end <= len(text)
        assert text[r.start:r.end] == r.text
    ends = set(ids)
    assert all(rel.from_id in ends and rel.to_id in ends for rel in prop.relations)


@settings(max_examples=200, deadline=None)
@given(texts)
def test_marks_never_crash_and_stay_inside(text):
    for q in quoted_spans(text):
        assert 0 <= q.open < q.start < q.end <= len(text) and q.start <= q.end


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(texts, min_size=1, max_size=4))
def test_proposer_never_crashes_and_regions_are_slices(nlp, batch):
    from builder.propose import propose_texts
    props = propose_texts(batch, nlp=nlp)
    assert len(props) == len(batch)
    for prop, text in zip(props, batch):
        assert prop.error is None, prop.error
        check(prop, text)


BROAD_PIECES = PIECES + ["wants to", "criticized the plan", "polls show", "Jane Doe: ", "― Jane Doe", "is expected to",
                        "her claim that", "accused him of", "was praised by", "she thinks", "added:\n\n"]
broad_texts = st.lists(st.one_of(st.sampled_from(BROAD_PIECES), st.text(max_size=8)), max_size=40).map("".join)


@pytest.fixture(scope="module")
def broad_nlp():
    from builder.propose import load_pipeline
    return load_pipeline(scope="broad")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(broad_texts, min_size=1, max_size=4))
def test_broad_scope_never_crashes_and_regions_are_slices(broad_nlp, batch):
    from builder.propose import propose_texts
    for prop, text in zip(propose_texts(batch, nlp=broad_nlp), batch):
        assert prop.error is None, prop.error
        check(prop, text)


def test_empty_and_whitespace_documents(nlp):
    from builder.propose import propose_texts
    props = propose_texts(["", " ", "\n\n", "\""], nlp=nlp)
    assert all(p.error is None and p.regions == [] for p in props)


def test_huge_document(nlp):
    from builder.propose import propose_texts
    para = "\"We will not give up on this plan, whatever happens,\" the minister told reporters on Monday.\n\n"
    text = para * 300
    [prop] = propose_texts([text], nlp=nlp)
    check(prop, text)
    assert sum(r.label == "Quote" for r in prop.regions) == 300


def test_document_over_the_model_limit_is_recorded_not_raised():
    from builder.propose import load_pipeline, propose_texts
    small = load_pipeline()
    small.max_length = 500
    props = propose_texts(["short, he said.", "x" * 1000, "also short"], nlp=small)
    assert props[1].error and props[1].regions == []
    assert props[0].error is None and props[2].error is None
