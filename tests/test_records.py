"""builder.records: one conversion per type, shared by the stages (pure; no server, no pipeline)."""
from __future__ import annotations

import dataclasses

from builder.records import (Annotation, Proposal, Region, Relation, annotation_row, as_row, choose, from_row,
                             prediction, regions_from_results, resolve_annotations, results_from_regions, task,
                             task_of, task_score)
from builder.records.scores import confidence, least_quote_score

TEXT = '"We will reopen the bridge," Mayor Lena Okafor said.'
REGIONS = [Region(id="q1", label="Quote", start=1, end=26, text=TEXT[1:26], quote_type="direct", score=0.81234),
           Region(id="s2", label="Speaker", start=28, end=45, text=TEXT[28:45], quote_type=None, score=0.5),
           Region(id="c3", label="Cue", start=46, end=50, text=TEXT[46:50], quote_type=None, score=None)]
RELATIONS = [Relation(from_id="q1", to_id="s2", label="said_by"), Relation(from_id="q1", to_id="c3", label="cue")]


def test_from_row_inverts_as_row_with_nested_records():
    prop = Proposal(doc_id="d", model_version="m", regions=REGIONS, relations=RELATIONS, error=None)
    row = as_row(prop)
    assert isinstance(row["regions"][0], dict)
    back = from_row(Proposal, row)
    assert back == prop and isinstance(back.regions[0], Region)
    assert from_row("Proposal", back) is back  # a record stays as it is


def test_result_lists_round_trip_and_scores_are_rounded_once():
    results = results_from_regions(REGIONS, RELATIONS)
    assert [r["score"] for r in results if r["type"] == "labels" and "score" in r] == [0.8123, 0.5]
    regions, relations = regions_from_results(results, TEXT)
    assert relations == RELATIONS
    assert [(g.id, g.label, g.start, g.end, g.quote_type) for g in regions] == \
        [(g.id, g.label, g.start, g.end, g.quote_type) for g in REGIONS]
    assert confidence(0.81236) == 0.8124 and least_quote_score(REGIONS) == 0.81234 and least_quote_score([]) is None


def test_one_prediction_for_a_record_a_row_a_push_task_and_a_propose_task():
    prop = Proposal(doc_id="d", model_version="m", regions=REGIONS, relations=RELATIONS, error=None)
    pred = prediction(prop)
    assert pred == prediction(as_row(prop))
    assert pred["score"] == task_score(REGIONS) == 0.8123
    doc = {"doc_id": "d", "text": TEXT, "publisher": "P", "title": None, "url": None, "date": "2026-01-01"}
    assert task(doc, [prop]) == task_of(prop, TEXT, {"publisher": "P"})
    assert list(task(doc, [])["data"]) == ["text", "doc_id", "publisher", "title", "url"]


def test_annotation_row_is_an_annotation_record():
    results = results_from_regions(REGIONS, RELATIONS)
    t = {"id": 7, "data": {"text": TEXT, "doc_id": "d"}}
    ann = {"id": 3, "result": results, "completed_by": 1, "updated_at": "2026-01-01T00:00:01Z", "parent_prediction": 9}
    row = annotation_row(t, ann, {1: "a@x"}, {9: "m"})
    rec = from_row(Annotation, row)
    assert (rec.annotator, rec.task_id, rec.prediction_model_version, rec.regions[0].label) == ("a@x", 7, "m", "Quote")
    assert sorted(row) == sorted(f.name for f in dataclasses.fields(Annotation))


def test_the_choice_rule_is_one_for_stored_rows_and_any_annotation_like_record():
    def row(aid, updated, **kw):
        return {"doc_id": "d", "task_id": 1, "annotation_id": aid, "annotator": f"a{aid}", "created_at": updated,
                "updated_at": updated, "lead_time": None, "was_cancelled": False, "ground_truth": False,
                "deleted": False, "prediction_model_version": None, "regions": [], "relations": [], **kw}

    rows = [row(1, "2026-01-02"), row(2, "2026-01-03", was_cancelled=True), row(3, "2026-01-01", ground_truth=True),
            row(4, "2026-01-04")]
    assert resolve_annotations(rows)["d"].annotation_id == 3
    assert choose(from_row(Annotation, r) for r in rows).annotation_id == 3
    assert choose(from_row(Annotation, r) for r in rows if r["annotation_id"] != 3).annotation_id == 4
    assert choose([from_row(Annotation, rows[1])]) is None and choose([]) is None
    assert resolve_annotations(rows + [row(3, "2026-01-05", deleted=True)])["d"].annotation_id == 4
