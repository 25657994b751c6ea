"""The ingest stage: readers, normalization, rejects, dedupe, clustering, idempotence."""
from __future__ import annotations

import copy
import hashlib
import io
import json
import random
import unicodedata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from builder.config import DEFAULTS, Workspace
from builder.ingest import (INGEST_VERSION, Extracted, doc_id_of, expand_paths, ingest, iter_records,
                            normalize_text, read_jsonl, read_warc)
from builder.schema import fields
from builder.store import read_rows

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
WORDS = ("council budget river school clinic harbour minister market railway library farmer festival "
         "museum police weather bridge hospital election tunnel airport factory orchard village court "
         "teacher union station ferry garden parliament reporter museum theatre").split()


def cfg(**ingest_opts):
    c = copy.deepcopy(DEFAULTS)
    c["ingest"].update(ingest_opts)
    return c


def story(seed: int, paragraphs: int = 6) -> str:
    """An invented news story with direct quotes (typographic marks), different for each seed."""
    rnd = random.Random(seed)
    out = [f"{rnd.choice(WORDS).title()} {rnd.choice(WORDS)} plans spark debate in {rnd.choice(WORDS).title()}ton"]
    for _ in range(paragraphs):
        words = " ".join(rnd.choice(WORDS) for _ in range(25))
        quote = " ".join(rnd.choice(WORDS) for _ in range(10))
        out.append(f"The {words}.\n\n“{quote.capitalize()},” said {rnd.choice(WORDS).title()} Smith.")
    return "\n\n".join(out)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def page(title: str, body: str, site: str = "The Example Times", nav: str = "Home Sport Lifestyle Horoscopes") -> str:
    paras = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
    links = "".join(f'<li><a href="/{w.lower()}">{w}</a></li>' for w in nav.split())
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title} | {site}</title>'
            f'<meta property="og:title" content="{title}"><meta property="og:site_name" content="{site}">'
            f'<meta property="og:url" content="https://example.com/{abs(hash(title)) % 997}">'
            f'<meta property="article:published_time" content="2026-02-03T10:00:00Z"></head><body>'
            f'<nav><ul>{links}</ul></nav><div class="promo">Subscribe to our newsletter today for offers!</div>'
            f'<article><h1>{title}</h1>{paras}</article><footer>Copyright {site}. Privacy policy.</footer>'
            f'</body></html>')


def docs(ws) -> list[dict]:
    return list(read_rows(Workspace(ws).documents))


def rejects(ws) -> list[dict]:
    path = Path(ws) / "rejects.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def snapshot(folder: Path) -> dict[str, str]:
    """Every workspace file's hash, but the locks (who held which lock last is not data)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "locks" not in p.relative_to(folder).parts}


# ------------------------------------------------------------------ normalization

def test_normalize_keeps_quotes_and_tidies_whitespace():
    raw = "\ufeff  Title\r\n\r\n\r\n\r\nShe said \u201cno\u201d \u2014 it\u2019s \"fine\", it's  over.   \r\n" \
          "  \u2022 kept indent\u00a0here\n\n\n\ncafe\u0301\u200b end\t\n"
    text = normalize_text(raw)
    assert text == ("Title\n\nShe said \u201cno\u201d \u2014 it\u2019s \"fine\", it's over.\n"
                    "  \u2022 kept indent\u00a0here\n\ncaf\u00e9 end")
    assert unicodedata.is_normalized("NFC", text)
    assert normalize_text(text) == text


def test_doc_id_is_a_stable_hash_of_the_normalized_text():
    assert doc_id_of("abc") == doc_id_of("abc") != doc_id_of("abd")
    assert len(doc_id_of("abc")) == 16


@pytest.mark.skipif(not (SHARED / "samples").is_dir(), reason="../shared is absent")
def test_shared_sample_texts_are_unchanged_by_normalization():
    for path in sorted((SHARED / "samples").glob("*.txt")):
        text = path.read_bytes().decode("utf-8")
        assert normalize_text(text) == text, path.name


# ------------------------------------------------------------------ readers

def test_expand_paths_folders_globs_missing_and_unsupported(tmp_path):
    write(tmp_path / "a" / "one.txt", "x")
    write(tmp_path / "a" / "deep" / "two.html", "x")
    write(tmp_path / "a" / ".hidden.txt", "x")
    write(tmp_path / "a" / "notes.md", "x")
    write(tmp_path / "b" / "three.jsonl", "x")
    items = expand_paths([tmp_path / "a", str(tmp_path / "b" / "*.jsonl"), tmp_path / "a" / "one.txt",
                          tmp_path / "nope.txt", str(tmp_path / "c" / "*.txt")])
    by_name = {Path(i.path).name: i.problem for i in items}
    assert by_name == {"two.html": None, "notes.md": "unsupported_format", "one.txt": None,
                       "three.jsonl": None, "nope.txt": "not_found", "*.txt": "not_found"}
    assert [i.index for i in items] == list(range(len(items)))


def test_read_jsonl_with_configured_field_names(tmp_path):
    src = write(tmp_path / "r.jsonl", "\n".join([
        json.dumps({"body": story(1), "headline": "H1", "outlet": "Wire", "when": "2026-01-02", "link": "u"}),
        "",
        json.dumps({"body": story(2)}),
    ]))
    c = cfg(text_field="body", fields={"title": "headline", "publisher": "outlet", "date": "when", "url": "link"})
    raws = list(read_jsonl(str(src), c))
    assert [r.position for r in raws] == [1, 3]
    assert raws[0].meta == {"title": "H1", "publisher": "Wire", "date": "2026-01-02", "url": "u"}
    assert raws[1].meta == {"title": None, "publisher": None, "date": None, "url": None}


def test_self_written_html_yields_body_title_publisher_without_navigation(tmp_path):
    body = story(3)
    write(tmp_path / "p.html", page("Harbour plans spark debate", body))
    [doc] = list(iter_records([tmp_path], cfg()))
    assert isinstance(doc, Extracted)
    assert doc.title == "Harbour plans spark debate"
    assert doc.publisher == "The Example Times"
    assert doc.date == "2026-02-03"
    assert doc.url.startswith("https://example.com/")
    assert "said" in doc.text and "“" in doc.text
    assert body.split("\n\n")[1][:80] in doc.text
    for furniture in ("Sport", "Lifestyle", "Horoscopes", "newsletter", "Privacy policy"):
        assert furniture not in doc.text


def make_warc(path: Path, pages: list[tuple[str, str, str]]) -> Path:
    """A gzipped WARC of (url, content type, body) responses, each preceded by a request record."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, ctype, body in pages:
            req = writer.create_warc_record(url, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n"))
            writer.write_record(req)
            headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body.encode()),
                                                          http_headers=headers))
    return path


def test_read_warc_html_responses_with_positions(tmp_path):
    warc = make_warc(tmp_path / "crawl.warc.gz", [
        ("https://news.example.org/a", "text/html; charset=utf-8", page("Story A", story(4))),
        ("https://news.example.org/logo.png", "image/png", "PNG"),
    ])
    records = list(read_warc(str(warc), cfg()))
    assert [type(r).__name__ for r in records] == ["Raw", "Reject"]
    assert records[0].position == 2 and records[0].meta["url"] == "https://news.example.org/a"
    assert records[1].reason == "not_html" and records[1].position == 4
    [doc, rej] = list(iter_records([warc], cfg()))
    assert doc.source_format == "warc" and doc.title == "Story A" and doc.url == "https://news.example.org/a"


# ------------------------------------------------------------------ every reject reason

def reject_inputs(tmp_path: Path) -> Path:
    """A folder with one input for each reject reason (and one good article)."""
    d = tmp_path / "in"
    write(d / "good.txt", story(10))
    rnd = random.Random(0)
    write(d / "binary.txt", bytes(rnd.randrange(256) for _ in range(3000)))
    write(d / "big.txt", "word " * 3000)
    write(d / "short.txt", "Too short to be an article.")
    write(d / "blank.txt", " \n\n\t \n")
    write(d / "notes.md", "# not an article")
    write(d / "empty_page.html", "<html><head><title>x</title></head><body></body></html>")
    write(d / "records.jsonl", "\n".join([json.dumps({"text": story(11)}), "{not json", json.dumps({"body": "x"}),
                                           json.dumps(["a list"])]))
    write(d / "broken.warc", b"WARC/1.0\r\nthis is not a warc record at all\r\n\r\n")
    write(d / "nothing.warc.gz", b"")
    return d


def test_every_reject_reason_is_listed_with_source_position_and_hint(tmp_path):
    d = reject_inputs(tmp_path)
    ws = tmp_path / "ws"
    summary = ingest([d, tmp_path / "missing.html"], ws, cfg(max_bytes=10_000), progress=False)
    rows = rejects(ws)
    got = {(Path(r["source"]).name, r["position"], r["reason"]) for r in rows}
    assert got == {
        ("binary.txt", None, "undecodable"), ("big.txt", None, "too_large"), ("short.txt", None, "too_short"),
        ("blank.txt", None, "empty"), ("notes.md", None, "unsupported_format"),
        ("empty_page.html", None, "no_main_text"), ("records.jsonl", 2, "malformed_json"),
        ("records.jsonl", 3, "missing_text"), ("records.jsonl", 4, "malformed_json"),
        ("broken.warc", 1, "malformed_warc"), ("missing.html", None, "not_found"), ("nothing.warc.gz", None, "empty"),
    }
    names = [f["name"] for f in fields("Reject")]
    for r in rows:
        assert list(r) == names and r["stage"] == "ingest" and r["hint"]
    assert summary.ingested == 2 and summary.total_rejected == len(rows) == summary.newly_listed
    assert summary.rejected["malformed_json"] == 2
    assert {Path(r["source"]).name for r in docs(ws)} == {"good.txt", "records.jsonl"}


# ------------------------------------------------------------------ the stage end to end

def test_documents_rows_and_duplicates(tmp_path):
    text = story(20)
    write(tmp_path / "in" / "a.txt", text)
    write(tmp_path / "in" / "b.txt", "\n\n" + text.replace("\n", "\r\n") + "  \n")  # same after normalization
    write(tmp_path / "in" / "c.jsonl", json.dumps({"text": story(21), "title": "T", "publisher": "P"}) + "\n")
    ws = tmp_path / "ws"
    summary = ingest([tmp_path / "in"], ws, cfg(), progress=False)
    rows = docs(ws)
    assert (summary.ingested, summary.duplicates) == (2, 1)
    assert [f["name"] for f in fields("Document")] == list(rows[0])
    a = next(r for r in rows if r["source"].endswith("a.txt"))
    assert a["text"] == normalize_text(text) and a["doc_id"] == doc_id_of(a["text"]) == a["cluster_id"]
    assert a["ingest_version"] == INGEST_VERSION and a["source_format"] == "txt" and a["source_position"] is None
    c = next(r for r in rows if r["source"].endswith("c.jsonl"))
    assert (c["title"], c["publisher"], c["source_position"]) == ("T", "P", 1)
    [dup] = rejects(ws)
    assert dup["reason"] == "duplicate" and dup["source"].endswith("b.txt") and a["doc_id"] in dup["detail"]
    assert list((ws / "documents").glob("*/00000.parquet")) and not list((ws / "state" / "ingest").glob("2*"))


def test_reingest_changes_nothing_and_new_inputs_add_only_new_documents(tmp_path):
    d = reject_inputs(tmp_path)
    write(d / "copy.txt", story(10))  # a duplicate of good.txt
    ws = tmp_path / "ws"
    first = ingest([d], ws, cfg(max_bytes=10_000), progress=False)
    before, listed = snapshot(ws), rejects(ws)
    again = ingest([d], ws, cfg(max_bytes=10_000), progress=False)
    assert snapshot(ws) == before
    assert (again.ingested, again.unchanged, again.newly_listed, again.batch) == (0, first.ingested, 0, None)

    write(tmp_path / "more" / "new.txt", story(30))
    more = ingest([d, tmp_path / "more"], ws, cfg(max_bytes=10_000), progress=False)
    assert more.ingested == 1 and more.newly_listed == 0
    after = docs(ws)
    assert len(after) == first.ingested + 1
    assert len({r["doc_id"] for r in after}) == len(after)
    assert [r["source"] for r in after if r["source"].endswith("new.txt")]
    assert rejects(ws) == listed  # each problem listed once
    assert len([r for r in listed if r["reason"] == "duplicate"]) == 1


def test_near_duplicates_share_a_cluster(tmp_path):
    body = story(40, paragraphs=10)
    write(tmp_path / "in" / "wire.html", page("Mayor backs harbour plan", body, site="Wire One"))
    syndicated = page("Mayor backs harbour plan - Daily Post", body + "\n\nCorrection: an earlier version "
                      "misspelled a name.\n\nShare this story with your friends.", site="Daily Post",
                      nav="News Opinion Culture Travel Jobs")
    write(tmp_path / "in" / "post.html", syndicated)
    write(tmp_path / "in" / "other.txt", story(41, paragraphs=10))
    ws = tmp_path / "ws"
    summary = ingest([tmp_path / "in"], ws, cfg(), progress=False)
    rows = {Path(r["source"]).name: r for r in docs(ws)}
    assert summary.ingested == 3 and summary.near_duplicates == 1
    assert rows["wire.html"]["doc_id"] != rows["post.html"]["doc_id"]
    assert rows["wire.html"]["cluster_id"] == rows["post.html"]["cluster_id"]
    assert rows["other.txt"]["cluster_id"] == rows["other.txt"]["doc_id"] != rows["wire.html"]["cluster_id"]

    # a later run clusters against the documents already in the workspace
    write(tmp_path / "later" / "reprint.txt", body + "\n\nThis story first appeared in Wire One.")
    ingest([tmp_path / "later"], ws, cfg(), progress=False)
    reprint = next(r for r in docs(ws) if r["source"].endswith("reprint.txt"))
    assert reprint["cluster_id"] == rows["wire.html"]["cluster_id"]


def test_output_does_not_depend_on_the_number_of_tasks(tmp_path):
    for i in range(5):
        write(tmp_path / "in" / f"{i}.txt", story(50 + i))
    write(tmp_path / "in" / "dup.txt", story(50))
    write(tmp_path / "in" / "r.jsonl", "\n".join(json.dumps({"text": story(60 + i)}) for i in range(3)))
    results = []
    for tasks, workers in ((1, 1), (3, 2)):
        ws = tmp_path / f"ws{tasks}"
        ingest([tmp_path / "in"], ws, cfg(), tasks=tasks, workers=workers, progress=False)
        results.append(([{k: v for k, v in r.items()} for r in docs(ws)], rejects(ws)))
    assert results[0] == results[1]


def test_extract_pipeline_ranks_are_deterministic_and_cover_all_inputs(tmp_path):
    from builder.ingest.pipeline import extract_pipeline, staged_rows, staging_folder

    for i in range(4):
        write(tmp_path / "in" / f"{i}.txt", story(70 + i))
    write(tmp_path / "in" / "x.md", "?")
    staged = []
    for attempt in range(2):
        run_id = f"run{attempt}"
        for rank in range(2):
            steps = extract_pipeline([tmp_path / "in"], tmp_path / "ws", cfg(), run_id)
            data = None
            for step in steps:
                data = step(data, rank, 2)
            for _ in data:
                pass
        staged.append(list(staged_rows(staging_folder(tmp_path / "ws", run_id))))
    assert staged[0] == staged[1]
    assert [r["input_index"] for r in staged[0]] == list(range(5))
    assert [r["kind"] for r in staged[0]].count("reject") == 1


@pytest.mark.skipif(not (SHARED / "samples" / "html").is_dir(), reason="../shared is absent")
def test_shared_html_samples_yield_body_title_publisher_without_navigation(tmp_path):
    summary = ingest([SHARED / "samples"], tmp_path / "ws", cfg(), progress=False)
    rows = {Path(r["source"]).name: r for r in docs(tmp_path / "ws")}
    assert summary.ingested == 6
    expect = {
        "10_zimbabwe-coup-telegraph.html": ("The Telegraph", "Zimbabwe coup", "under house arrest",
                                            ["Subscribe - 30 days free"]),
        "11_tunisia-attack-wapo.html": ("Washington Post", "instability fears", "Gunmen opened fire",
                                        ["Sign Up", "Newsletter (daily)", "[Read:"]),
        "12_obama-guns-bbc.html": ("BBC News", "gun laws", "common sense gun safety laws",
                                   ["Get news alerts", "Skip to content", "From the section"]),
    }
    for name, (publisher, title, body, furniture) in expect.items():
        row = rows[name]
        assert row["publisher"] == publisher and title in row["title"] and body in row["text"]
        for f in furniture:
            assert f not in row["text"], (name, f)
    for path in (SHARED / "samples").glob("*.txt"):
        assert rows[path.name]["text"] == path.read_text(encoding="utf-8")


def test_cli_ingest_prints_summary(tmp_path):
    from builder.cli import app

    write(tmp_path / "in" / "a.txt", story(80))
    write(tmp_path / "in" / "b.txt", "tiny")
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "in"), "-w", str(tmp_path / "ws"), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "ingested" in result.output and "too_short" in result.output and "documents" in result.output


def test_lost_index_is_rebuilt_from_the_workspace(tmp_path):
    d = reject_inputs(tmp_path)
    ws = tmp_path / "ws"
    ingest([d], ws, cfg(max_bytes=10_000), progress=False)
    (ws / "state" / "ingest" / "index.sqlite").unlink()
    before = {k: v for k, v in snapshot(ws).items() if not k.startswith("state/")}
    again = ingest([d], ws, cfg(max_bytes=10_000), progress=False)
    assert (again.ingested, again.newly_listed) == (0, 0)
    assert {k: v for k, v in snapshot(ws).items() if not k.startswith("state/")} == before


def test_an_extractor_failure_is_a_reject_and_the_run_goes_on(tmp_path, monkeypatch):
    import builder.ingest.pipeline as pipeline

    real = pipeline.extract

    def flaky(raw, c):
        if raw.source.endswith("bad.txt"):
            raise RuntimeError("boom")
        return real(raw, c)

    monkeypatch.setattr(pipeline, "extract", flaky)
    write(tmp_path / "in" / "bad.txt", story(90))
    write(tmp_path / "in" / "good.txt", story(91))
    summary = ingest([tmp_path / "in"], tmp_path / "ws", cfg(), progress=False)
    assert summary.ingested == 1 and summary.rejected == {"extract_error": 1}
    [row] = rejects(tmp_path / "ws")
    assert row["reason"] == "extract_error" and "boom" in row["detail"] and row["hint"]


def test_non_utf8_text_is_decoded_with_charset_detection_keeping_typographic_quotes(tmp_path):
    text = (Path(__file__).resolve().parents[1] / "examples" / "harbour_bridge.txt").read_text(encoding="utf-8")
    write(tmp_path / "cp1252.txt", text.encode("cp1252"))
    write(tmp_path / "utf16.txt", text.encode("utf-16"))
    got = list(iter_records([tmp_path], cfg()))
    assert [r.text for r in got] == [normalize_text(text)] * 2
    assert "“We cannot ask residents" in got[0].text


def test_examples_folder_ingests_every_format(tmp_path):
    examples = Path(__file__).resolve().parents[1] / "examples"
    summary = ingest([examples], tmp_path / "ws", cfg(), progress=False)
    rows = docs(tmp_path / "ws")
    assert summary.ingested == len(rows) >= 5 and summary.total_rejected == 0
    assert {r["source_format"] for r in rows} == {"txt", "jsonl", "html"}
    html = next(r for r in rows if r["source_format"] == "html")
    assert html["publisher"] and html["title"] and "“" in html["text"] and "Sign up" not in html["text"]


def test_a_failed_task_raises_and_adds_nothing(tmp_path, monkeypatch):
    import builder.ingest.pipeline as pipeline

    def broken(self, data, rank=0, world_size=1):
        raise OSError("disk full")
        yield

    write(tmp_path / "in" / "a.txt", story(95))
    monkeypatch.setattr(pipeline.Sign, "run", broken)
    with pytest.raises(pipeline.IngestFailed, match="extract rank"):
        ingest([tmp_path / "in"], tmp_path / "ws", cfg(), progress=False)
    assert docs(tmp_path / "ws") == [] and rejects(tmp_path / "ws") == []
    monkeypatch.undo()
    assert ingest([tmp_path / "in"], tmp_path / "ws", cfg(), progress=False).ingested == 1


def test_publisher_of_a_plain_text_page_comes_from_its_own_furniture():
    from builder.ingest.text import publisher_from_text

    page = ("Officials met on Monday. " * 5 + "\nSubscribe: unlimited access to Dailyplanet.com\n"
            "Send tips to news@dailyplanet.com. The Daily Planet newsroom.")
    assert publisher_from_text(page) == "Daily Planet"
    assert publisher_from_text("Write to me at someone@example.com. Officials met on Monday.") is None
    from builder.ingest import Raw, extract

    extracted = extract(Raw("a.txt", "txt", None, page), cfg())
    assert extracted.publisher == "Daily Planet"


def test_ingest_into_a_workspace_that_is_not_a_local_folder(tmp_path):
    """Any fsspec URL datatrove accepts: here memory:// (one task, in this process)."""
    import uuid

    from builder.store import read_rows

    write(tmp_path / "in" / "a.txt", story(1))
    write(tmp_path / "in" / "empty.txt", "")
    url = f"memory://quotes-test-{uuid.uuid4().hex}/ws"
    first = ingest([tmp_path / "in"], url, cfg(), progress=False)
    again = ingest([tmp_path / "in"], url, cfg(), progress=False)
    assert (first.ingested, again.ingested, again.unchanged) == (1, 0, 1)
    ws = Workspace(url)
    assert [r["doc_id"] for r in read_rows(ws.documents, columns=["doc_id"])] == [doc_id_of(normalize_text(story(1)))]
    rejects = [json.loads(line) for line in ws.read_text("rejects.jsonl").splitlines()]
    assert [r["reason"] for r in rejects] == ["empty"]  # listed once, not again on the re-run
    assert ws.folder().exists("state/ingest/index.sqlite")
