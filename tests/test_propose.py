"""The proposer: marks, spaCy components, Proposals, tasks JSON, workspace pipeline, CLI."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from builder.propose.marks import quoted_spans
from builder.records.studio import regions_from_results
from builder.schema import arrow_schema

ARTICLE = (
    "Officials Warn of Delays\n\n"
    "State Department spokesman John Kirby said on Monday that the talks had stalled over funding. "
    "\"We are not going to accept this deal as it stands,\" Kirby told BBC News.\n\n"
    "\"It is a bad day,\" he said, \"and it will get worse before it gets better.\"\n\n"
    "The ministry will present its budget next week, according to two senior officials.\n\n"
    "Jane Smith, a researcher at the institute, warned that prices could rise sharply this winter.\n"
)


@pytest.fixture(scope="module")
def nlp():
    from builder.propose import load_pipeline
    return load_pipeline()


def quotes_of(regions):
    return {r.text: r for r in regions if r.label == "Quote"}


# -- marks (no model) ---------------------------------------------------------------------

def test_quoted_spans_kinds_of_marks():
    text = 'A "straight one," B “curly one” C «guillemets» D „low high“ E.'
    inner = [text[q.start:q.end] for q in quoted_spans(text)]
    assert inner == ["straight one,", "curly one", "guillemets", "low high"]


def test_quoted_spans_multi_paragraph_and_unbalanced():
    text = "“First paragraph of a long quote.\n“Second one ends here.”\nAn unbalanced \" mark.\n"
    inner = [text[q.start:q.end] for q in quoted_spans(text)]
    assert inner == ["First paragraph of a long quote.", "Second one ends here."]


# -- the components on a real model --------------------------------------------------------

def test_components_write_spans_and_records(nlp):
    doc = nlp(ARTICLE)
    assert {"quotes", "cues", "speakers", "outlets"} <= set(doc.spans)
    assert doc._.quote_records
    assert all(s.label_ in {"direct", "indirect", "mixed"} for s in doc.spans["quotes"])


def test_proposal_regions_and_relations(nlp):
    from builder.propose import propose_texts
    [prop] = propose_texts([ARTICLE], ["a1"], nlp=nlp)
    assert prop.error is None and prop.model_version.startswith("quotes.proposer.v1+")
    by_id = {r.id: r for r in prop.regions}
    assert len(by_id) == len(prop.regions)
    for r in prop.regions:
        assert ARTICLE[r.start:r.end] == r.text and r.score is not None
    quotes = quotes_of(prop.regions)
    assert quotes["We are not going to accept this deal as it stands,"].quote_type == "direct"
    assert quotes["It is a bad day,"].quote_type == "direct"
    assert quotes["and it will get worse before it gets better."].quote_type == "direct"
    assert quotes["the talks had stalled over funding"].quote_type == "indirect"
    assert quotes["prices could rise sharply this winter"].quote_type == "indirect"
    assert "The ministry will present its budget next week" in quotes
    assert not any("Officials Warn" in q for q in quotes)  # headline
    links = {(r.from_id, r.label): r.to_id for r in prop.relations}
    refers = {r.from_id: r.to_id for r in prop.relations if r.label == "refers_to"}

    def canonical(quote_text):
        sid = links[(quotes[quote_text].id, "said_by")]
        return by_id[refers.get(sid, sid)].text

    assert canonical("We are not going to accept this deal as it stands,") == "John Kirby"
    assert canonical("It is a bad day,") == "John Kirby"
    assert canonical("prices could rise sharply this winter") == "Jane Smith"
    assert canonical("The ministry will present its budget next week") == "two senior officials"
    via = by_id[links[(quotes["We are not going to accept this deal as it stands,"].id, "via")]]
    assert via.label == "Outlet" and via.text == "BBC News"
    cue = by_id[links[(quotes["the talks had stalled over funding"].id, "cue")]]
    assert cue.text == "said"


def test_failing_document_is_recorded_and_the_run_goes_on(nlp, monkeypatch):
    import builder.propose.components as comp
    from builder.propose import propose_texts

    real = comp.find_quotes

    def boom(doc, lex, **kw):
        if "BOOM" in doc.text:
            raise ValueError("synthetic failure")
        return real(doc, lex, **kw)

    monkeypatch.setattr(comp, "find_quotes", boom)
    props = propose_texts([ARTICLE, "BOOM, he said.", ARTICLE], ["a", "b", "c"], nlp=nlp)
    assert [p.doc_id for p in props] == ["a", "b", "c"]
    assert props[1].error and "synthetic failure" in props[1].error and props[1].regions == []
    assert props[0].regions and props[2].regions and props[0].error is None


def test_tasks_round_trip_through_the_scheme(nlp):
    from builder.propose import propose_texts, task_of
    [prop] = propose_texts([ARTICLE], ["a1"], nlp=nlp)
    task = task_of(prop, ARTICLE, {"publisher": "Example News", "title": "t", "url": None})
    assert task["data"]["doc_id"] == "a1" and task["data"]["publisher"] == "Example News"
    pred = task["predictions"][0]
    regions, relations = regions_from_results(pred["result"], task["data"]["text"])
    assert len(regions) == len(prop.regions) and len(relations) == len(prop.relations)


# -- the workspace pipeline and the CLI ------------------------------------------------

def _write_documents(ws: Path, texts: dict[str, str], name: str) -> None:
    folder = ws / "documents" / "batch1"
    folder.mkdir(parents=True, exist_ok=True)
    schema = arrow_schema("Document")
    fill = {"string": "x", "int64": 0, "int32": 0}
    base = {f.name: (None if f.nullable else fill.get(str(f.type), "x")) for f in schema}
    rows = [base | {"doc_id": k, "text": v} for k, v in texts.items()]
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), folder / name)


def test_workspace_pipeline_is_deterministic_and_skips_done(tmp_path):
    from builder.propose import propose_workspace
    from builder.store import read_rows

    texts = {f"d{i}": ARTICLE.replace("Kirby", f"Kirby{i}") for i in range(4)}
    results = {}
    for tasks in (1, 2):
        ws = tmp_path / f"ws{tasks}"
        _write_documents(ws, dict(list(texts.items())[:2]), "a.parquet")
        _write_documents(ws, dict(list(texts.items())[2:]), "b.parquet")
        summary = propose_workspace(str(ws), {}, tasks=tasks, workers=1, progress=False)
        assert summary["proposed"] == 4 and summary["failed"] == 0
        rows = list(read_rows(str(ws / "proposals")))
        results[tasks] = sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)
        again = propose_workspace(str(ws), {}, tasks=tasks, workers=1, progress=False)
        assert again["proposed"] == 0 and again["already_proposed"] == 4   # said: a retrained model needs a new version
    assert results[1] == results[2]


def test_cli_writes_tasks(tmp_path, monkeypatch):
    from typer.testing import CliRunner
    from builder.cli import app

    src = tmp_path / "article.txt"
    src.write_text(ARTICLE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "tasks.json"
    result = CliRunner().invoke(app, ["propose", str(src), "-o", str(out), "-w", str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    tasks = json.loads(out.read_text())
    assert tasks[0]["data"]["text"].strip() == ARTICLE.strip()  # ingest readers tidy whitespace
    regions, _ = regions_from_results(tasks[0]["predictions"][0]["result"], tasks[0]["data"]["text"])
    assert any(r.label == "Quote" for r in regions)
    assert tasks[0]["predictions"][0]["model_version"].startswith("quotes.proposer.v1+")


def test_colon_intro_and_parenthetical_attribution(nlp):
    from builder.propose import propose_texts
    text = ("Intro line\n\nOn Monday, the senator made the following comment:\n\n"
            "\"Young people who left school early face an unemployment rate of 33 percent.\"\n\n"
            "Too often, the mayor said, the debate over parking is about cars alone.\n")
    [prop] = propose_texts([text], nlp=nlp)
    quotes = quotes_of(prop.regions)
    assert "Young people who left school early face an unemployment rate of 33 percent." in quotes
    assert any("the debate over parking is about cars alone" in q for q in quotes)


def test_broad_scope_adds_belief_verbs():
    from builder.propose import load_pipeline, propose_texts
    text = "Intro line\n\nThe governor believes that the budget will pass next month.\n"
    speech = propose_texts([text], nlp=load_pipeline(scope="speech"))[0]
    broad = propose_texts([text], nlp=load_pipeline(scope="broad"))[0]
    assert not quotes_of(speech.regions)
    assert "the budget will pass next month" in quotes_of(broad.regions)


def test_unknown_scope_is_a_clear_error():
    from builder.propose.lexicons import load_lexicons
    with pytest.raises(ValueError, match="unknown scope"):
        load_lexicons(None, "everything")


def test_interrupted_content_is_two_quotes(nlp):
    from builder.propose import propose_texts
    text = "Intro line\n\nThe new rules, the minister said on Tuesday, will cost farmers a great deal of money.\n"
    [prop] = propose_texts([text], nlp=nlp)
    quotes = quotes_of(prop.regions)
    assert "The new rules" in quotes
    assert any(q.startswith("will cost farmers") for q in quotes)
    assert not any("minister" in q for q in quotes)


BROAD_TEXT = ("Intro line\n\n"
              "The senator criticized the new tax plan in a long speech.\n\n"
              "The mayor wants to build a new stadium downtown.\n\n"
              "The governor told reporters.\n\n"
              "The union accused the company of breaking the contract.\n")


def test_broad_scope_objects_and_intentions():
    from builder.propose import load_pipeline, propose_texts
    broad = quotes_of(propose_texts([BROAD_TEXT], nlp=load_pipeline(scope="broad"))[0].regions)
    assert any(q.startswith("the new tax plan") for q in broad)
    assert any(q.startswith("to build a new stadium") for q in broad)
    assert "the company of breaking the contract" in broad  # "accused her of lying": "lying"
    assert not any("reporters" in q for q in broad)  # the hearer is not content
    speech = quotes_of(propose_texts([BROAD_TEXT], nlp=load_pipeline(scope="speech"))[0].regions)
    assert not speech  # stances and intentions are not speech


def test_broad_scope_scores_weak_patterns_lower():
    from builder.propose import load_pipeline, propose_texts
    text = "Intro line\n\nThe governor said that the budget will pass next month.\n\n" + BROAD_TEXT.split("\n\n", 1)[1]
    regions = propose_texts([text], nlp=load_pipeline(scope="broad"))[0].regions
    scores = {r.text: r.score for r in regions if r.label == "Quote"}
    said = scores["the budget will pass next month"]
    assert all(s < said for q, s in scores.items() if q != "the budget will pass next month")


def test_workspace_run_keeps_datatrove_logs_off_the_terminal(tmp_path, capfd):
    from builder.propose import propose_workspace

    _write_documents(tmp_path / "ws", {"d0": ARTICLE}, "a.parquet")
    summary = propose_workspace(str(tmp_path / "ws"), {}, progress=False)
    assert summary["proposed"] == 1
    err = capfd.readouterr().err
    assert "INFO" not in err and "datatrove" not in err.lower()


def test_quote_signed_with_a_dash_gets_its_speaker(nlp):
    from builder.propose import propose_texts
    for sign in (" \u2015 Maria Lopez", " \u2015\u00a0Maria Lopez."):
        text = "Readers respond\n\n\u201cThe new bridge has made my commute twice as long as it was.\u201d" + sign + "\n"
        [prop] = propose_texts([text], nlp=nlp)
        by_id = {r.id: r for r in prop.regions}
        quote = quotes_of(prop.regions)["The new bridge has made my commute twice as long as it was."]
        speaker = next(by_id[r.to_id] for r in prop.relations if r.from_id == quote.id and r.label == "said_by")
        assert speaker.text == "Maria Lopez"



def test_transcript_labels_name_the_speaker_and_stay_out_of_the_quote(nlp):
    from builder.propose import propose_texts
    text = ("The senator spoke to the host on Sunday.\n\n"
            "\u201cHOST: Will the budget pass before the holidays, in your view?\u201d\n\n"
            "\u201cMr. Lopez: It will pass, and it will pass with votes from both parties.\u201d\n\n"
            "\u201cLook: nobody in this town believes the budget will pass,\u201d the mayor said.\n")
    [prop] = propose_texts([text], nlp=nlp)
    by_id = {r.id: r for r in prop.regions}
    quotes = quotes_of(prop.regions)

    def speaker(quote: str) -> str:
        q = quotes[quote]
        return next(by_id[r.to_id].text for r in prop.relations if r.from_id == q.id and r.label == "said_by")
    assert speaker("Will the budget pass before the holidays, in your view?") == "HOST"
    assert speaker("It will pass, and it will pass with votes from both parties.") == "Mr. Lopez"
    assert speaker("Look: nobody in this town believes the budget will pass,") == "the mayor"  # a word, not a label


def test_content_clause_the_parser_hangs_on_the_cue_as_adverbial(nlp):
    from builder.propose import propose_texts
    text = ("The governor said after the vote he would not accept the deal.\n\n"
            "The coach said nothing when the players left.\n")
    [prop] = propose_texts([text], nlp=nlp)
    assert list(quotes_of(prop.regions)) == ["he would not accept the deal"]  # "when ..." is no content


def test_the_speakers_next_act_is_no_part_of_the_content(nlp):
    from builder.propose import propose_texts
    text = ("The senator said he would order a review of the computer defenses and warned against hackers.\n\n"
            "The mayor said the budget would pass and the schools would get more money.\n")
    [prop] = propose_texts([text], nlp=nlp)
    quotes = list(quotes_of(prop.regions))
    assert "he would order a review of the computer defenses" in quotes        # "and warned ...": the senator's act
    assert "the budget would pass and the schools would get more money" in quotes  # a conjunct with its own subject

BROAD_MORE = ("Intro line\n\n"
              "Senator Smith: The budget deal is a betrayal of working families.\n\n"
              "The mayor's plan to close the library angered residents.\n\n"
              "The measure is expected to pass easily.\n\n"
              "The new school calendar was criticized by the teachers union.\n")


def test_broad_scope_name_colon_lines_stance_nouns_and_sourceless_expectations():
    from builder.propose import load_pipeline, propose_texts
    broad = quotes_of(propose_texts([BROAD_MORE], nlp=load_pipeline(scope="broad"))[0].regions)
    assert "The budget deal is a betrayal of working families." in broad
    assert any(q.startswith("to close the library") for q in broad)
    assert "The measure" in broad and "to pass easily" in broad
    assert "The new school calendar" in broad  # passive: the subject is the content, the agent the source
    speech = quotes_of(propose_texts([BROAD_MORE], nlp=load_pipeline(scope="speech"))[0].regions)
    assert not speech


def test_reporting_verb_misparsed_as_noun_still_attributes(nlp):
    from builder.propose import propose_texts
    text = "Intro line\n\nBut Johnson claims that the tax cut will pay for itself.\n"
    [prop] = propose_texts([text], nlp=nlp)
    assert "the tax cut will pay for itself" in quotes_of(prop.regions)


def test_broad_scope_evidence_subjects_and_colon_blocks():
    from builder.propose import load_pipeline, propose_texts
    text = ("Intro line\n\n"
            "Recent polls show the challenger with a narrow lead in the state.\n\n"
            "The senator saw the report on Monday.\n\n"
            "The governor added:\n\n"
            "It is typical of the opposition to promise everything and deliver nothing.\n")
    broad = quotes_of(propose_texts([text], nlp=load_pipeline(scope="broad"))[0].regions)
    assert any(q.startswith("the challenger with a narrow lead") for q in broad)
    assert not any(q.startswith("the report") for q in broad)  # "saw X": perception, not a stance
    assert any(q.startswith("It is typical of the opposition") for q in broad)


def test_paragraph_opening_with_a_closing_mark_is_a_quote():
    text = "\u201dFear. I am truly afraid of what comes next.\u201d \u2015 Ann Lee\n"
    [q] = quoted_spans(text)
    assert text[q.start:q.end] == "Fear. I am truly afraid of what comes next."


def test_broad_scope_keeps_only_the_outer_of_nested_attributions():
    from builder.propose import load_pipeline, propose_texts
    text = "Intro line\n\nThe senator said she thinks the new bill will fail in the House.\n"
    broad = quotes_of(propose_texts([text], nlp=load_pipeline(scope="broad"))[0].regions)
    assert list(broad) == ["she thinks the new bill will fail in the House"]


def test_content_clause_headed_by_an_adjective(nlp):
    from builder.propose import propose_texts
    text = ("Intro line\n\nJane Smith says the senator\u2019s series of angry posts targeting the local union was "
            "\u201cunhinged, even for him.\u201d\n")
    [prop] = propose_texts([text], nlp=nlp)
    assert any(q.startswith("the senator\u2019s series of angry posts") for q in quotes_of(prop.regions))


def test_content_after_the_cue_wins_over_a_clause_before_it(nlp):
    from builder.propose import propose_texts
    text = ("Intro line\n\nThe talks stalled again on Monday: Democrats said they are increasingly worried "
            "the agency mishandled the audit.\n")
    quotes = quotes_of(propose_texts([text], nlp=nlp)[0].regions)
    assert "they are increasingly worried the agency mishandled the audit" in quotes
    assert "The talks stalled again on Monday" not in quotes


def test_broad_scope_direct_quote_prefers_a_speech_verb():
    from builder.propose import load_pipeline, propose_texts
    text = ("Intro line\n\nThe chairman said, in a speech that polls show was popular, "
            "\u201cWe will not accept this outcome under any circumstances.\u201d\n")
    [prop] = propose_texts([text], nlp=load_pipeline(scope="broad"))
    by_id = {r.id: r for r in prop.regions}
    quote = quotes_of(prop.regions)["We will not accept this outcome under any circumstances."]
    linked = {rel.label: by_id[rel.to_id].text for rel in prop.relations if rel.from_id == quote.id}
    assert linked["said_by"] == "The chairman" and linked["cue"] == "said"


def test_fronted_adverbial_before_the_cue_is_not_content(nlp):
    """"In an interview, X said:" — the phrase before the comma modifies the cue; it was not said."""
    doc = nlp("In a wide-ranging interview, the president also said:\n\nThe UK must stay in the EU.\n\n"
              "After the vote on Tuesday, the senator said the bill was dead.\n\n"
              "Prices will rise, the minister said.")
    contents = [s.text for s in doc.spans["quotes"]]
    assert "In a wide-ranging interview" not in contents
    assert "After the vote on Tuesday" not in contents
    assert {"the bill was dead", "Prices will rise"} <= set(contents)
    assert "The UK must stay in the EU" in contents  # the paragraph the colon introduces
