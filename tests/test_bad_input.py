"""Bad input gets a clear answer: truncated WARCs, non-regular files, legacy encodings, odd metadata,
exit codes, and rejects listed once however often a command runs."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from builder.ingest import ingest, iter_records, read_jsonl, read_warc
from builder.ingest.readers import Extracted, expand_paths
from builder.schema import Reject as Rejected
from tests.test_ingest import cfg, story, write

QUOTES = str(Path(sys.executable).with_name("quotes"))


def gz_warc(pages: int, gzip: bool = True) -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gzip)
    for i in range(pages):
        html = f"<html><body><article><p>{story(i)}</p></article></body></html>".encode()
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.0")
        writer.write_record(writer.create_warc_record(f"http://example.org/{i}", "response",
                                                      payload=io.BytesIO(html), http_headers=headers))
    return buf.getvalue()


@pytest.mark.parametrize("sixth", range(1, 7))
def test_truncated_warc_gz_is_a_malformed_warc_reject_with_the_position_reached(tmp_path, sixth):
    data = gz_warc(3)
    cut = len(data) * sixth // 6 - (1 if sixth == 6 else 0)  # the last cut drops only the final byte
    path = write(tmp_path / "cut.warc.gz", data[:cut])
    records = list(read_warc(str(path), cfg()))
    assert isinstance(records[-1], Rejected) and records[-1].reason == "malformed_warc", records
    whole = len(records) - 1
    assert records[-1].position == whole + 1 and f"after {whole} whole record(s)" in records[-1].detail
    assert "byte" in records[-1].detail
    assert [r.position for r in records[:-1]] == list(range(1, whole + 1))
    intact = write(tmp_path / "whole.warc.gz", data)
    assert all(not isinstance(r, Rejected) for r in read_warc(str(intact), cfg()))


@pytest.mark.parametrize("cut", [0.1, 0.45, 0.8])
def test_truncated_plain_warc_is_a_malformed_warc_reject(tmp_path, cut):
    data = gz_warc(3, gzip=False)
    path = write(tmp_path / "cut.warc", data[:int(len(data) * cut)])
    records = list(read_warc(str(path), cfg()))
    assert records[-1].reason == "malformed_warc" and "cut short" in records[-1].detail
    assert records[-1].position == len(records) and all(not isinstance(r, Rejected) for r in records[:-1])


def test_fifo_and_dangling_link_are_rejected_without_being_opened(tmp_path):
    folder = tmp_path / "in"
    write(folder / "good.txt", story(1))
    os.mkfifo(folder / "pipe.txt")
    os.symlink(folder / "gone.txt", folder / "dangling.txt")
    lone_fifo = tmp_path / "lone.txt"
    os.mkfifo(lone_fifo)
    problems = {Path(i.path).name: i.problem for i in expand_paths([folder, lone_fifo])}
    assert problems == {"good.txt": None, "pipe.txt": "not_a_file", "dangling.txt": "dangling_link",
                        "lone.txt": "not_a_file"}
    # on the command line too: the run ends (a FIFO opened for reading would block it), exit 0
    r = subprocess.run([QUOTES, "ingest", str(folder), str(lone_fifo), "-w", str(tmp_path / "ws"), "--no-progress"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = [json.loads(x) for x in (tmp_path / "ws" / "rejects.jsonl").read_text().splitlines()]
    assert sorted(r["reason"] for r in rows) == ["dangling_link", "not_a_file", "not_a_file"]
    assert all(r["hint"] for r in rows)


def test_latin1_text_is_decoded_never_stored_as_mojibake(tmp_path):
    text = ("Le Café résumé du maire a été présenté à la façade naïve, dit-il. " * 5).strip()
    write(tmp_path / "latin1.txt", text.encode("latin-1"))
    german = ("Es ist schön, sagte der Bürgermeister über die Straße und die Brücke. " * 5).strip()
    write(tmp_path / "german.txt", german.encode("latin-1"))
    write(tmp_path / "binary.txt", bytes(range(256)) * 4)
    got = {Path(r.source).name: r for r in iter_records([tmp_path], cfg())}
    assert got["latin1.txt"].text == text and "Café résumé" in got["latin1.txt"].text
    assert got["german.txt"].text == german
    assert isinstance(got["binary.txt"], Rejected) and got["binary.txt"].reason == "undecodable"


def test_non_string_jsonl_metadata_is_a_reject_row(tmp_path):
    body = story(3)
    path = write(tmp_path / "feed.jsonl", "\n".join(json.dumps(r) for r in [
        {"text": body, "title": {"main": "A title"}},
        {"text": story(4), "title": "Fine", "date": 2024},
        {"text": story(5), "publisher": ["A", "B"]},
    ]) + "\n")
    records = list(read_jsonl(str(path), cfg()))
    assert [type(r).__name__ for r in records] == ["Reject", "Raw", "Reject"]
    assert records[0].reason == "bad_metadata" and "'title' is a JSON dict" in records[0].detail
    assert records[1].meta["date"] == "2024" and records[1].meta["title"] == "Fine"
    assert records[2].position == 3 and "'publisher'" in records[2].detail


def run_quotes(args, cwd):
    return subprocess.run([QUOTES, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_every_input_failed_exits_nonzero_partial_failure_exits_zero(tmp_path):
    r = run_quotes(["ingest", "missing.txt", "--no-progress"], tmp_path)
    assert r.returncode == 1 and "not_found" in r.stdout and "Traceback" not in r.stderr
    write(tmp_path / "good.txt", story(7))
    r = run_quotes(["ingest", "good.txt", "missing.txt", "--no-progress"], tmp_path)
    assert r.returncode == 0 and "not_found" in r.stdout
    r = run_quotes(["ingest", "good.txt", "--no-progress"], tmp_path)  # already there: not a failure
    assert r.returncode == 0
    r = run_quotes(["propose", "nosuch.txt", "-o", "t.json"], tmp_path)
    assert r.returncode == 1 and "every input failed" in r.stderr and not (tmp_path / "t.json").exists()


def test_rerunning_a_command_lists_each_reject_once(tmp_path):
    for _ in range(2):
        assert run_quotes(["propose", "nosuch.txt", "-o", "t.json"], tmp_path).returncode == 1
        write(tmp_path / "tiny.txt", "too short")
        ingest([tmp_path / "tiny.txt", tmp_path / "nope.txt"], tmp_path / "workspace", cfg(), progress=False)
    rows = [json.loads(x) for x in (tmp_path / "workspace" / "rejects.jsonl").read_text().splitlines()]
    keys = [(r["stage"], r["source"], r["position"], r["reason"]) for r in rows]
    assert len(keys) == len(set(keys)) == 3
    assert {k[0] for k in keys} == {"propose", "ingest"}


def test_reject_rows_are_appended_once(tmp_path):
    from dataclasses import replace

    from builder.config import Workspace
    from builder.schema import Reject
    from builder.workspace.rejects import write_rejects

    ws = Workspace(tmp_path)
    row = Reject(stage="propose", source="d1", reason="component_failed", hint="h", detail="x")
    assert write_rejects(ws, [row, replace(row)]) == 1
    assert write_rejects(ws, [row, replace(row, source="d2")]) == 1
    assert len((tmp_path / "rejects.jsonl").read_text().splitlines()) == 2
    with pytest.raises(TypeError):  # stages hand typed records to the one writer, never dicts
        write_rejects(ws, [{"stage": "propose", "source": "d3", "reason": "x"}])
