"""Integration tests against a real Label Studio server (marked ``studio``)."""
from __future__ import annotations

import json
from types import SimpleNamespace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from builder.annotate import StudioError, agreement, connect, pull, push, resolve_annotations, server_status
from builder.annotate.pull import latest_rows
from builder.store import read_rows
from .data import articles, write_workspace

pytestmark = pytest.mark.studio


@pytest.fixture(scope="module")
def env(studio_server):
    ws, info = studio_server
    cfg = {"studio": {"url": info.url, "project_title": "quotes test", "retries": 1}}
    arts = articles()
    write_workspace(Path(ws.path), arts)
    studio = connect(ws, cfg)
    return {"ws": ws, "info": info, "cfg": cfg, "arts": arts, "studio": studio, "c": studio.client}


def tasks_of(env):
    pid = json.loads((Path(env["ws"].path) / "state/studio/project.json").read_text())["project_id"]
    tasks = env["c"].tasks.list(project=pid, fields="all")
    return pid, [SimpleNamespace(**t.model_dump(mode="json")) for t in tasks]


def by_doc(tasks):
    return {t.data["doc_id"]: t for t in tasks}


def test_push_creates_project_with_tasks_and_predictions(env):
    s = push(env["ws"], env["cfg"], progress=False)
    assert s.project_created and s.tasks_created == len(env["arts"]) == s.predictions_created
    project = env["c"].projects.get(s.project_id)
    assert 'name="quote_type"' in project.label_config and "guidelines" in project.expert_instruction.lower()
    pid, tasks = tasks_of(env)
    assert len(tasks) == len(env["arts"])
    for t in tasks:
        assert set(t.data) >= {"text", "doc_id", "publisher", "title", "url"}
        assert [p["model_version"] for p in t.predictions] == ["quotes.proposer.test+v1"]
        assert t.predictions[0]["result"]
    st = server_status(env["ws"])
    assert st.answers and st.project_id == pid and Path(st.token_file).read_text() not in json.dumps(st.__dict__)


def test_two_annotators_pull_edit_pull(env):
    c = env["c"]
    pid, tasks = tasks_of(env)
    docs = by_doc(tasks)
    first, other = docs[env["arts"][0]["doc_id"]], docs[env["arts"][-1]["doc_id"]]
    ann1 = c.users.create(email="ann1@quotes.local", username="ann1")
    ann2 = c.users.create(email="ann2@quotes.local", username="ann2")
    pred = other.predictions[0]
    c.annotations.create(id=other.id, result=pred["result"], completed_by=ann1.id, parent_prediction=pred["id"])
    pred = first.predictions[0]
    accepted = c.annotations.create(id=first.id, result=pred["result"], completed_by=ann1.id,
                                    lead_time=12.5, parent_prediction=pred["id"])
    dropped = [r["id"] for r in pred["result"] if r.get("type") == "labels"][-1]
    corrected_result = [r for r in pred["result"] if r.get("type") != "relation" and r.get("id") != dropped]
    corrected = c.annotations.create(id=first.id, result=corrected_result, completed_by=ann2.id,
                                     lead_time=30.0, parent_prediction=pred["id"])
    s = pull(env["ws"], env["cfg"])
    assert s.rows_written == 3 and s.rejects == 0
    rows = latest_rows(env["ws"])
    a, b = rows[accepted.id], rows[corrected.id]
    assert a["annotator"] == "ann1@quotes.local" and b["annotator"] == "ann2@quotes.local"
    assert a["prediction_model_version"] == "quotes.proposer.test+v1" and a["lead_time"] == 12.5
    assert len(a["regions"]) == len(b["regions"]) + 1 and not b["relations"]
    # edit one annotation: the next pull fetches only its task and stores only that row
    c.annotations.update(id=accepted.id, result=corrected_result)
    s2 = pull(env["ws"], env["cfg"])
    assert s2.tasks_fetched == 1 and s2.rows_written == 1
    assert len(latest_rows(env["ws"])[accepted.id]["regions"]) == len(b["regions"])
    assert pull(env["ws"], env["cfg"]).rows_written == 0
    # delete one: a tombstone; resolution drops it
    c.annotations.delete(id=corrected.id)
    s3 = pull(env["ws"], env["cfg"])
    assert s3.tombstones == 1
    resolved = resolve_annotations(read_rows(env["ws"].annotations))
    assert resolved[first.data["doc_id"]].annotation_id == accepted.id
    rep = agreement(env["ws"])
    assert "quotes.proposer.test+v1" in rep["proposer"]


def test_repush_no_duplicates_and_new_version_adds_predictions(env):
    ws, cfg = env["ws"], env["cfg"]
    pid, before = tasks_of(env)
    n_ann = sum(len(t.annotations) for t in before)
    assert push(ws, cfg, progress=False).tasks_created == 0
    # a crash between import and saving the map: the map is gone; push reconciles, no duplicates
    for f in (Path(ws.path) / "state/studio").glob("tasks-*.json"):
        f.unlink()
    s = push(ws, cfg, progress=False)
    assert s.reconciled and s.tasks_created == 0 and s.predictions_created == 0
    write_workspace(Path(ws.path), env["arts"], batch="b2", model="quotes.proposer.test+v2")
    s = push(ws, cfg, progress=False)
    assert s.tasks_created == 0 and s.predictions_created == len(env["arts"])
    _, after = tasks_of(env)
    assert len(after) == len(before) and sum(len(t.annotations) for t in after) == n_ann
    assert all(len(t.predictions) == 2 for t in after)
    assert pull(ws, cfg).rows_written == 0


def test_off_scheme_annotation_goes_to_rejects(env):
    pid, tasks = tasks_of(env)
    t = tasks[0]
    bad = [{"id": "x1", "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": 0, "end": 5, "text": "nope!", "labels": ["Quote"]}}]
    ann = env["c"].annotations.create(id=t.id, result=bad)
    s = pull(env["ws"], env["cfg"])
    assert s.rejects == 1 and ann.id not in latest_rows(env["ws"])
    rejects = [json.loads(x) for x in (Path(env["ws"].path) / "rejects.jsonl").read_text().splitlines()]
    assert any(r["stage"] == "pull" and r["source"] == f"task {t.id}" and r["position"] == ann.id for r in rejects)
    env["c"].annotations.delete(id=ann.id)


def test_untyped_quote_is_reported_by_the_pull_command_with_task_and_region(env):
    pid, tasks = tasks_of(env)
    t = tasks[0]
    text = t.data["text"]
    untyped = [{"id": "u1", "from_name": "label", "to_name": "text", "type": "labels",
                "value": {"start": 0, "end": 5, "text": text[:5], "labels": ["Quote"]}}]
    ann = env["c"].annotations.create(id=t.id, result=untyped)
    from builder.cli import app

    token = Path(env["info"].token_file).read_text().strip()
    out = CliRunner().invoke(app, ["pull", "-w", str(env["ws"].path), "--url", env["info"].url],
                             env={"QUOTES_STUDIO_TOKEN": token})
    assert out.exit_code == 0, out.output
    assert "1 quotes without a type" in out.output and ann.id not in latest_rows(env["ws"])
    rejects = [json.loads(x) for x in (Path(env["ws"].path) / "rejects.jsonl").read_text().splitlines()]
    assert any(r["reason"] == "missing_quote_type" and r["source"] == f"task {t.id}" and r["position"] == ann.id
               and r["detail"].startswith("region u1 0:5") for r in rejects)
    env["c"].annotations.delete(id=ann.id)


def test_wrong_token_and_deleted_project_are_clear_errors(env, monkeypatch, tmp_path):
    with pytest.raises(StudioError) as e:
        connect(env["ws"], env["cfg"], token="0123456789abcdef0123456789abcdef01234567")
    assert "token" in str(e.value) and "Personal Access Token" in e.value.hint
    monkeypatch.setenv("QUOTES_STUDIO_TOKEN", "not-a-valid-token")
    (tmp_path / "documents").mkdir()   # a workspace (push refuses a folder that is not one)
    from builder.cli import app

    r = CliRunner().invoke(app, ["push", "-w", str(tmp_path), "--url", env["info"].url])
    assert r.exit_code == 1 and "Traceback" not in r.output and "token" in r.output
    monkeypatch.delenv("QUOTES_STUDIO_TOKEN")
    ws2 = type(env["ws"])(tmp_path / "ws2")
    (Path(ws2.path) / "state/studio").mkdir(parents=True)
    (Path(ws2.path) / "state/studio/project.json").write_text(
        json.dumps({"url": env["info"].url, "project_id": 99999}))
    cfg = {**env["cfg"], "studio": {**env["cfg"]["studio"], "token": Path(env["info"].token_file).read_text()}}
    with pytest.raises(StudioError, match="404"):
        push(ws2, cfg, progress=False)


def test_push_dying_midway_resumes_without_duplicates(env, monkeypatch, tmp_path):
    from .data import synthetic

    ws = type(env["ws"])(tmp_path / "ws-resume")
    cfg = {"studio": {**env["cfg"]["studio"], "project_title": "quotes resume test",
                      "token": Path(env["info"].token_file).read_text()}}
    write_workspace(Path(ws.path), synthetic(5))
    c = env["c"]
    real = type(c.projects).import_tasks
    calls = []

    def dies_after_import(self, *a, **kw):  # the 2nd batch reaches the server, then the push dies
        out = real(self, *a, **kw)
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return out

    monkeypatch.setattr(type(c.projects), "import_tasks", dies_after_import)
    with pytest.raises(KeyboardInterrupt):
        push(ws, cfg, batch_size=2, progress=False)
    monkeypatch.setattr(type(c.projects), "import_tasks", real)
    s = push(ws, cfg, batch_size=2, progress=False)
    assert s.reconciled and s.tasks_created == 1 and s.tasks_known == 5
    assert len(list(c.tasks.list(project=s.project_id, include="id"))) == 5


def test_pull_killed_after_storing_before_mark_duplicates_nothing(env, monkeypatch):
    import sys

    pull_mod = sys.modules["builder.annotate.pull"]
    ws, cfg, c = env["ws"], env["cfg"], env["c"]
    pid, tasks = tasks_of(env)
    new = c.annotations.create(id=tasks[1].id, result=tasks[1].predictions[0]["result"])

    def no_mark(path, obj):
        raise KeyboardInterrupt  # killed right after the rows were stored

    monkeypatch.setattr(pull_mod, "write_json", no_mark)
    with pytest.raises(KeyboardInterrupt):
        pull(ws, cfg)
    monkeypatch.undo()
    stored = [r["annotation_id"] for r in read_rows(ws.annotations)]
    assert stored.count(new.id) == 1
    assert pull(ws, cfg).rows_written == 0
    assert [r["annotation_id"] for r in read_rows(ws.annotations)].count(new.id) == 1


def test_pull_interrupted_by_server_stop_loses_nothing(env, monkeypatch):
    """Last: stops and restarts the server."""
    import sys

    pull_mod = sys.modules["builder.annotate.pull"]  # the module (the package exports the function)
    from builder.annotate import start_server, stop_server

    ws, cfg, c = env["ws"], env["cfg"], env["c"]
    pid, tasks = tasks_of(env)
    t = tasks[-1]
    new = c.annotations.create(id=t.id, result=t.predictions[0]["result"])
    files = sorted((Path(ws.path) / "annotations").glob("*.parquet"))
    marks = {p: p.read_text() for p in (Path(ws.path) / "state/studio").glob("pull-*.json")}
    real_fetch = pull_mod.fetch_tasks

    def fetch_then_die(studio, project_id, since):
        stop_server(ws)  # the server goes away in the middle of the pull
        return real_fetch(studio, project_id, since)

    monkeypatch.setattr(pull_mod, "fetch_tasks", fetch_then_die)
    with pytest.raises(StudioError) as e:
        pull(ws, cfg, client=env["studio"])
    assert "did not answer" in str(e.value) and "studio status" in e.value.hint
    assert sorted((Path(ws.path) / "annotations").glob("*.parquet")) == files
    assert {p: p.read_text() for p in marks} == marks
    monkeypatch.setattr(pull_mod, "fetch_tasks", real_fetch)
    start_server(ws, port=env["info"].port)
    s = pull(ws, cfg)
    assert s.rows_written == 1 and new.id in latest_rows(ws)
    assert pull(ws, cfg).rows_written == 0
