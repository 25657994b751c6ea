"""The proposer: marks, spaCy components, Proposals, tasks JSON, workspace pipeline, CLI."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from builder.propose.marks import quoted_spans
from builder.schema import arrow_schema
from builder.scheme import regions_from_results

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

    def boom(doc, lex):
        if "BOOM" in doc.text:
            raise ValueError("synthetic failure")
        return real(doc, lex)

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
        assert again["proposed"] == 0
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
            "Too often, Mr. Clarke said, the debate over coal is about jobs alone.\n")
    [prop] = propose_texts([text], nlp=nlp)
    quotes = quotes_of(prop.regions)
    assert "Young people who left school early face an unemployment rate of 33 percent." in quotes
    assert any("the debate over coal is about jobs alone" in q for q in quotes)


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
