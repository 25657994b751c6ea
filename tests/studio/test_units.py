"""Unit tests of the round trip's pure parts (no server)."""
from __future__ import annotations

import socket
import xml.etree.ElementTree as ET

import pytest

from builder.annotate import StudioError, resolve_annotations
from builder.annotate.agreement import agreement_report
from builder.annotate.client import Studio, resolve_token
from builder.annotate.project import guidelines_html, labeling_config
from builder.annotate.pull import changes, write_rows
from builder.annotate.push import task_payload
from builder.config import Workspace
from builder.records.agreement import cohen_kappa, token_classes
from builder.records.scheme import LABELS, RELATIONS, SchemeError
from builder.records.scores import task_score
from builder.records.studio import prediction, regions_from_results
from .data import invented_results, proposal_row, synthetic

TEXT = synthetic(1)[0]["text"]


def region(id_, label, start, end, text=TEXT):
    return {"id": id_, "label": label, "start": start, "end": end, "text": text[start:end],
            "quote_type": "direct" if label == "Quote" else None, "score": None}


def row(aid, doc="d1", who="a@x", updated="2026-01-01T00:00:01Z", regions=(), **kw):
    base = {"doc_id": doc, "task_id": 1, "annotation_id": aid, "annotator": who, "created_at": updated,
            "updated_at": updated, "lead_time": 1.0, "was_cancelled": False, "ground_truth": False,
            "deleted": False, "prediction_model_version": "m1", "regions": list(regions), "relations": []}
    return {**base, **kw}


def test_labeling_config_matches_scheme():
    root = ET.fromstring(labeling_config())
    labels = root.find(".//Labels")
    assert labels.get("name") == "label" and labels.get("toName") == "text"
    assert sorted(x.get("value") for x in labels) == sorted(LABELS)
    assert sorted(x.get("value") for x in root.find(".//Relations")) == sorted(RELATIONS)
    choices = root.find(".//Choices")
    assert choices.get("name") == "quote_type" and choices.get("perRegion") == "true"
    html = guidelines_html()
    assert "<h1>" in html and "<li>" in html and "<strong>" in html and "**" not in html
    assert "<table>" in html and "Alt+R" in html  # the hotkeys table
    assert choices.get("required") is None  # required per-region choices block Submit on every region


def test_unlabelled_relations_get_the_label_their_ends_imply():
    text = '"Fine," she said.'
    res = [{"id": i, "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": s, "end": e, "text": text[s:e], "labels": [lab]}}
           for i, lab, s, e in [("q", "Quote", 1, 6), ("s", "Speaker", 8, 11), ("c", "Cue", 12, 16)]]
    res += [{"from_id": "s", "to_id": "q", "type": "relation", "direction": "right"},  # drawn backwards
            {"from_id": "q", "to_id": "c", "type": "relation", "direction": "right", "labels": []}]
    _, rels = regions_from_results(res, text)
    assert {(r.from_id, r.to_id, r.label) for r in rels} == {("q", "s", "said_by"), ("q", "c", "cue")}
    res.append({"id": "s2", "from_name": "label", "to_name": "text", "type": "labels",
                "value": {"start": 12, "end": 16, "text": "said", "labels": ["Speaker"]}})
    _, rels = regions_from_results(res + [{"from_id": "q", "to_id": "s2", "type": "relation"}], text)
    assert {(r.from_id, r.to_id, r.label) for r in rels} == {("q", "s2", "said_by"), ("q", "c", "cue")}  # re-linked
    res.pop()
    with pytest.raises(SchemeError, match="imply none"):
        regions_from_results(res + [{"from_id": "s", "to_id": "c", "type": "relation"}], text)


def test_said_by_and_via_to_one_outlet_travel_as_one_label_studio_relation():
    from builder.records.studio import results_from_regions
    from builder.schema import Region, Relation

    text = "According to The Gazette, it rains."
    regions = [Region(id="q", label="Quote", start=26, end=34, text=text[26:34], quote_type="indirect", score=None),
               Region(id="o", label="Outlet", start=13, end=24, text=text[13:24], quote_type=None, score=None)]
    relations = [Relation(from_id="q", to_id="o", label="said_by"), Relation(from_id="q", to_id="o", label="via")]
    res = results_from_regions(regions, relations)
    assert [r["labels"] for r in res if r["type"] == "relation"] == [["said_by", "via"]]
    assert regions_from_results(res, text)[1] == relations


def test_task_score_is_one_definition_for_propose_and_push():
    from builder.propose.records import task_of
    from builder.schema import Proposal, Region

    regions = [Region(id="q1", label="Quote", start=0, end=3, text="abc", quote_type="direct", score=0.9),
               Region(id="q2", label="Quote", start=4, end=7, text="def", quote_type="direct", score=0.4),
               Region(id="s3", label="Speaker", start=8, end=9, text="g", quote_type=None, score=0.1)]
    assert task_score(regions) == 0.4 and task_score([]) == 0.0
    prop = Proposal(doc_id="d", model_version="m", regions=regions, relations=[], error=None)
    from builder.schema import as_row
    row_ = {"doc_id": "d", "model_version": "m", "regions": [as_row(g) for g in regions], "relations": [], "error": None}
    assert task_of(prop, "abc def g")["predictions"][0]["score"] == prediction(row_)["score"] == 0.4


def test_task_payload_carries_data_and_prediction():
    art = synthetic(1)[0]
    doc = {"doc_id": art["doc_id"], "text": art["text"], "publisher": "P", "title": "T", "url": "u"}
    p = task_payload(doc, {"m1": proposal_row(art["doc_id"], art["text"], art["results"], "m1")})
    assert p["data"] == {"text": art["text"], "doc_id": art["doc_id"], "publisher": "P", "title": "T", "url": "u"}
    assert p["predictions"][0]["model_version"] == "m1" and len(p["predictions"][0]["result"]) == 4


def test_resolve_prefers_ground_truth_then_latest_live():
    rows = [row(1, updated="2026-01-01T00:00:05Z"), row(2, updated="2026-01-01T00:00:09Z"),
            row(3, updated="2026-01-01T00:00:02Z", ground_truth=True),
            row(4, doc="d2", updated="2026-01-01T00:00:09Z", was_cancelled=True),
            row(5, doc="d2", updated="2026-01-01T00:00:01Z"),
            row(6, doc="d3"), row(6, doc="d3", deleted=True, updated="2026-01-01T00:00:03Z")]
    out = resolve_annotations(rows)
    assert out["d1"].annotation_id == 3 and out["d2"].annotation_id == 5 and "d3" not in out
    out = resolve_annotations(rows + [row(3, updated="2026-01-01T00:00:10Z", ground_truth=False)])
    assert out["d1"].annotation_id == 3  # latest row of 3 is no longer ground truth, but is the latest
    assert resolve_annotations(rows[:2])["d1"].annotation_id == 2


def task(tid, anns, text=TEXT):
    return {"id": tid, "data": {"text": text, "doc_id": f"doc{tid}"}, "updated_at": "2026-01-01T00:00:09Z",
            "predictions": [{"id": 7, "model_version": "m1"}], "annotations": anns}


def ann(aid, result, updated="2026-01-01T00:00:05Z", who=1, **kw):
    return {"id": aid, "result": result, "completed_by": who, "created_at": updated, "updated_at": updated,
            "lead_time": 2.0, "was_cancelled": False, "ground_truth": False, "parent_prediction": 7, **kw}


def test_changes_new_edited_deleted_and_off_scheme():
    good = invented_results(TEXT)
    bad = [{"id": "z", "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": 0, "end": 3, "text": "xyz", "labels": ["Quote"]}}]
    known = {10: row(10, doc="doc1", updated="2026-01-01T00:00:05Z"),
             11: row(11, doc="doc1", updated="2026-01-01T00:00:05Z")}
    known[11]["task_id"] = known[10]["task_id"] = 1
    tasks = [task(1, [ann(10, good), ann(12, good, who=2)]), task(2, [ann(13, bad)])]
    rows, rejects, tombs = changes(tasks, known, {1: "a@x", 2: "b@x"})
    ids = sorted((r["annotation_id"], r["deleted"]) for r in rows)
    assert ids == [(11, True), (12, False)] and tombs == 1
    assert rows[0]["annotator"] == "b@x" and rows[0]["prediction_model_version"] == "m1"
    assert [(r.stage, r.source, r.position) for r in rejects] == [("pull", "task 2", 13)]
    # edited annotation: new updated_at -> a new row
    rows, _, _ = changes([task(1, [ann(10, good, updated="2026-01-01T00:00:08Z"), ann(11, good)])], known, {})
    assert [r["annotation_id"] for r in rows] == [10]


def test_quote_without_type_is_a_reject_naming_task_and_region():
    untyped = [r for r in invented_results(TEXT) if r["type"] != "choices"]
    rows, rejects, _ = changes([task(3, [ann(20, untyped)])], {}, {})
    assert rows == [] and len(rejects) == 1
    r = rejects[0]
    assert (r.source, r.position, r.reason) == ("task 3", 20, "missing_quote_type")
    assert r.detail.startswith("region q1 ")


def test_write_rows_is_atomic(tmp_path):
    r = row(1, regions=[region("q", "Quote", 1, 5)])
    path = write_rows(tmp_path, 3, [r])
    assert path.name == "000003.parquet" and [p.name for p in tmp_path.iterdir()] == ["000003.parquet"]


def test_agreement_identical_and_different():
    q = region("q", "Quote", 1, 20)
    s = region("s", "Speaker", 22, 31)
    rows = [row(1, who="a", regions=[q, s]), row(2, who="b", regions=[q, s]),
            row(3, doc="d2", who="a", regions=[q]), row(4, doc="d2", who="b", regions=[s])]
    rep = agreement_report(rows, {"d1": TEXT, "d2": TEXT},
                           [{"doc_id": "d1", "model_version": "m1", "regions": [q], "relations": [], "error": None}])
    a = rep["agreement"]
    assert a["tasks"] == 2 and a["pairs"] == 2
    assert a["f1"]["Quote"]["f1"] == pytest.approx(2 / 3) or a["f1"]["Quote"]["f1"] == 0.6667
    assert rep["proposer"]["m1"]["overall"]["precision"] == 1.0 and rep["proposer"]["m1"]["overall"]["recall"] == 0.5
    assert cohen_kappa(list("aab"), list("aab")) == 1.0
    assert token_classes("x y z", [region("q", "Quote", 0, 5, "x y z"), region("s", "Speaker", 2, 3, "x y z")]) == \
        ["Quote", "Speaker", "Quote"]


def test_token_errors():
    from label_studio_sdk.core.api_error import ApiError

    def unauthorized():
        raise ApiError(status_code=401, headers={}, body={"detail": "Invalid token"})

    s = Studio(client=None, url="http://127.0.0.1:1")
    with pytest.raises(StudioError) as e:
        s.call(unauthorized)
    assert "token" in str(e.value) and "legacy" in e.value.hint


def test_no_token_is_an_error(tmp_path, monkeypatch):
    monkeypatch.delenv("QUOTES_STUDIO_TOKEN", raising=False)
    with pytest.raises(StudioError, match="no Label Studio API token"):
        resolve_token(Workspace(tmp_path), {"studio": {}})


def test_busy_port_is_an_error(tmp_path):
    from builder.annotate.server import label_studio_bin, start_server

    if not label_studio_bin().exists():
        pytest.skip("Label Studio not installed")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        with pytest.raises(StudioError, match="busy"):
            start_server(Workspace(tmp_path), port=sock.getsockname()[1])


def test_hints_name_the_workspace_unless_it_is_the_default():
    from builder.workspace.folder import quotes_command
    from builder.config import Workspace

    assert quotes_command(Workspace(), "studio stop") == "quotes studio stop"
    assert quotes_command(Workspace("ws3"), "studio stop") == "quotes studio stop -w ws3"
    assert quotes_command(Workspace("my ws"), "pull") == "quotes pull -w 'my ws'"


def test_local_server_state_files_keep_their_key_when_the_port_changes(tmp_path):
    import json

    from builder.annotate.project import _url_key, server_key, state_file
    from builder.config import Workspace

    ws = Workspace(tmp_path)
    (tmp_path / "studio").mkdir()
    (tmp_path / "studio" / "server.json").write_text(json.dumps(
        {"url": "http://127.0.0.1:6666", "urls": ["http://127.0.0.1:5555"]}))
    state = tmp_path / "state" / "studio"
    state.mkdir(parents=True)
    older = state / f"pull-{_url_key('http://127.0.0.1:5555')}-3.json"  # an older workspace's name for it
    older.write_text('{"mark": "2026-01-01T00:00:00Z"}')
    assert server_key("http://localhost:5555/", ws) == server_key("http://127.0.0.1:6666", ws) == "local"
    path = state_file(ws, "pull", "http://127.0.0.1:6666", 3)
    assert path.name == "pull-local-3.json" and json.loads(path.read_text())["mark"] and not older.exists()
    remote = state_file(ws, "pull", "https://studio.example.org", 3)
    assert remote.name == f"pull-{_url_key('https://studio.example.org')}-3.json"


def test_push_to_the_stopped_local_server_says_to_start_it(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from builder.annotate.server import free_port
    from tests.test_secrets import local_workspace

    ws = local_workspace(tmp_path, f"http://127.0.0.1:{free_port()}")  # stopped: nothing listens there
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUOTES_")}
    for command in ("push", "pull"):
        r = subprocess.run([str(Path(sys.executable).with_name("quotes")), command, "-w", str(ws)], cwd=tmp_path,
                           env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
        assert "local Label Studio server is not running" in r.stderr, r.stderr
        assert f"run `quotes studio start -w {ws}`" in r.stderr and "refused" not in r.stderr


def test_the_first_start_note_only_when_a_template_database_must_be_migrated(tmp_path, monkeypatch):
    from builder.annotate.server import _template_path, start_note
    from builder.config import Workspace

    fake = tmp_path / "label-studio"
    fake.write_text("#!/bin/sh\n")
    monkeypatch.setenv("QUOTES_LABEL_STUDIO", str(fake))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    ws = Workspace(tmp_path / "ws")
    assert "template database" in start_note(ws)
    template = _template_path(fake)
    template.parent.mkdir(parents=True)
    template.write_bytes(b"")
    assert start_note(ws) == "starting Label Studio..."


def test_ctrl_c_while_migrating_the_template_database_stops_the_migration(tmp_path):
    """The first start of an installation migrates a template database (minutes): Ctrl-C then stops
    that process too and leaves no half-made template or workspace database (a stand-in
    label-studio that only sleeps)."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    fake = tmp_path / "label-studio"
    fake.write_text(f"#!/bin/sh\necho $$ > {tmp_path / 'migrating'}\nexec sleep 600\n")
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUOTES_")}
    env.update(QUOTES_LABEL_STUDIO=str(fake), XDG_CACHE_HOME=str(tmp_path / "cache"))
    (tmp_path / "ws" / "documents").mkdir(parents=True)   # a workspace (`quotes studio start` refuses a folder
    # that does not exist or is not a workspace)
    from .data import as_from_a_terminal

    proc = subprocess.Popen([str(Path(sys.executable).with_name("quotes")), "studio", "start", "-w", "ws"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=as_from_a_terminal)
    marker = tmp_path / "migrating"
    deadline = time.monotonic() + 120  # a safety limit only
    while not (marker.exists() and marker.read_text().strip()):
        assert time.monotonic() < deadline and proc.poll() is None, "the migration never began"
        time.sleep(0.1)
    migrating = int(marker.read_text())
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err and "interrupted" in err, err
    assert "no Label Studio server was started" in err, err
    try:
        os.kill(migrating, 0)
        assert False, "the migration still runs"
    except ProcessLookupError:
        pass
    assert list((tmp_path / "cache" / "quotes").iterdir()) == []  # no half-made template
    assert not (tmp_path / "ws" / "studio" / "data" / "label_studio.sqlite3").exists()


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_ctrl_c_while_waiting_for_another_start_says_it_started_nothing(tmp_path, signame):
    """A second ``quotes studio start`` waits for the first one's lock, saying nothing about starting
    Label Studio while it waits (only the start that holds the lock starts one); Ctrl-C there, or SIGTERM,
    says that it started nothing and exits 128 + the signal (130, 143). The first start, here the test
    holding the lock, goes on."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from builder.config import Workspace
    from builder.workspace.lock import workspace_lock

    from .data import as_from_a_terminal

    (tmp_path / "ws" / "documents").mkdir(parents=True)   # a workspace
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUOTES_")}
    err_file = tmp_path / "err"
    with workspace_lock(Workspace(str(tmp_path / "ws")), "studio", on_wait=None), err_file.open("w") as err_out:
        proc = subprocess.Popen([str(Path(sys.executable).with_name("quotes")), "studio", "start", "-w", "ws"],
                                cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=err_out, text=True,
                                preexec_fn=as_from_a_terminal)
        deadline = time.monotonic() + 120  # a safety limit only
        while "waiting for the workspace's studio lock" not in err_file.read_text():
            assert time.monotonic() < deadline and proc.poll() is None, err_file.read_text()
            time.sleep(0.1)
        sig = getattr(signal, signame)
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=60)
    err = err_file.read_text()
    assert proc.returncode == 128 + sig and "Traceback" not in err, (proc.returncode, err)
    assert "starting Label Studio" not in out, out   # it never held the lock: it started nothing
    assert "was waiting for another start or stop of this workspace's server and started nothing" in err, err
    assert not (tmp_path / "ws" / "studio" / "server.json").exists()
