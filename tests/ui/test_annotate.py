"""An annotator corrects proposals in Label Studio's editor, in Chromium, against a real server; the
commands (subprocesses) then carry exactly those corrections into the export."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from builder.annotate.server import token_auth
from builder.records.scheme import attributions
from builder.records.studio import regions_from_results
from builder.schema import Region, Relation
from .lsf import CHROMIUM, CHROMIUM_ARGS, ARTIFACTS, Actions, Editor

pytestmark = [pytest.mark.studio, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "samples"
SAMPLES = SHARED if any(SHARED.glob("*.txt")) else ROOT / "examples"  # as `make demo` chooses
QUOTES = str(Path(sys.executable).parent / "quotes")
TYPE_KEYS = {"direct": "d", "indirect": "i", "mixed": "m"}


def quotes(*args: str, env: dict) -> str:
    """Run ``quotes`` from the test's empty folder (tests/conftest.py): a ``quotes.toml`` a user
    left in the repo does not count."""
    r = subprocess.run([QUOTES, *args], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"quotes {' '.join(args)}:\n{r.stdout}\n{r.stderr}"
    return r.stdout


@pytest.fixture(scope="module")
def project(studio_server, tmp_path_factory):
    """Sample articles ingested, proposed and pushed with the CLI into a fresh workspace."""
    server_ws, info = studio_server
    ws = tmp_path_factory.mktemp("ui-ws")
    token = Path(info.token_file).read_text().strip()
    env = {**os.environ, "QUOTES_STUDIO_TOKEN": token}
    quotes("ingest", str(SAMPLES), "-w", str(ws), env=env)
    quotes("propose", "-w", str(ws), env=env)
    quotes("push", "-w", str(ws), "--url", info.url, env=env)
    api = httpx.Client(auth=token_auth(info.url, token), timeout=60, follow_redirects=True)  # token exchanged
    pid = next(p["id"] for p in api.get(f"{info.url}/api/projects").json()["results"]
               if p["title"] == "Quote attribution")
    tasks = api.get(f"{info.url}/api/tasks", params={"project": pid, "fields": "all", "page_size": 100}).json()
    tasks = tasks["tasks"] if isinstance(tasks, dict) else tasks
    invite = api.get(f"{info.url}/api/invite").json()["invite_url"]
    return {"ws": ws, "env": env, "url": info.url, "api": api, "pid": pid, "tasks": tasks, "invite": invite}


@pytest.fixture(scope="module")
def editor(project):
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: `make test` installs it (apt-get install chromium chromium-driver)")
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                                   headless=True, viewport={"width": 1400, "height": 1000})
        ctx.set_default_timeout(60_000)
        ed = Editor(ctx.new_page(), project["url"])
        ed.signup(project["invite"], "annotator@quotes.local", "annotator-pass-1")
        yield ed
        ctx.close()


# -- the document model the test keeps beside the editor ----------------------------------

class Doc:
    def __init__(self, task: dict):
        self.task, self.text = task, task["data"]["text"]
        self.regions, self.relations = regions_from_results(task["predictions"][0]["result"], self.text)

    def by_label(self, label: str) -> list[Region]:
        return [g for g in self.regions if g.label == label]

    def target(self, quote: Region, label: str) -> Region | None:
        ids = [r.to_id for r in self.relations if r.from_id == quote.id and r.label == label]
        return next((g for g in self.regions if ids and g.id == ids[-1]), None)

    def free_char(self, g: Region) -> int | None:
        """A character only ``g`` covers (where a click selects ``g``), near its middle."""
        free = [i for i in range(g.start, g.end) if not self.text[i].isspace()
                and not any(o is not g and o.start <= i < o.end for o in self.regions)]
        return free[len(free) // 2] if free else None

    def delete(self, g: Region) -> None:
        self.regions.remove(g)
        self.relations = [r for r in self.relations if g.id not in (r.from_id, r.to_id)]

    def link(self, a: Region, b: Region, label: str) -> None:
        self.relations = [r for r in self.relations if not (r.from_id == a.id and r.label == label)]
        self.relations.append(Relation(from_id=a.id, to_id=b.id, label=label))

    def gap(self, words: int) -> list[tuple[int, int]]:
        """``words`` consecutive words on one line that no region touches."""
        import re

        for line in re.finditer(r"[^\n]+", self.text):
            spans = [(m.start() + line.start(), m.end() + line.start()) for m in re.finditer(r"[A-Za-z]+", line.group())]
            run = []
            for s, e in spans:
                if any(g.start < e + 1 and s - 1 < g.end for g in self.regions):
                    run = []
                    continue
                run.append((s, e))
                if len(run) == words:
                    return run
        raise AssertionError("no region-free stretch of text")


def canon(regions: list[Region], relations: list[Relation]):
    """Regions and relations by span, not by id (new regions get Label Studio's ids)."""
    span = {g.id: (g.label, g.start, g.end) for g in regions}
    return (sorted((g.label, g.start, g.end, g.quote_type) for g in regions),
            sorted((r.label, span[r.from_id], span[r.to_id]) for r in relations))


def stored(annotation: dict, doc: Doc):
    return canon(*regions_from_results(annotation["result"], doc.text))


def same(got, want) -> None:
    """Equal region and relation lists, or an error naming what is missing and what is extra."""
    for part, g, w in zip(("regions", "relations"), got, want):
        assert g == w, f"{part}: missing {sorted(set(w) - set(g))}, extra {sorted(set(g) - set(w))}"


def rows_of(doc: Doc) -> list[tuple]:
    keys = ("quote_start", "quote_end", "quote_type", "speaker_start", "speaker_end", "speaker_name",
            "cue_start", "cue_end", "outlet_start", "outlet_end")
    rows = attributions(doc.task["data"]["doc_id"], doc.regions, doc.relations, publisher=None,
                        origin="annotated", model_version=None)
    return sorted(tuple(getattr(a, k) for k in keys) for a in rows)


def exported(folder: Path, doc_id: str) -> list[tuple]:
    import datasets

    ds = datasets.load_dataset(str(folder), "attributions")
    keys = ("quote_start", "quote_end", "quote_type", "speaker_start", "speaker_end", "speaker_name",
            "cue_start", "cue_end", "outlet_start", "outlet_end")
    return sorted(tuple(r[k] for k in keys) for split in ds.values() for r in split if r["doc_id"] == doc_id)


# -- the corrections, each as an annotator makes it ------------------------------------------

def select(ed: Editor, doc: Doc, g: Region) -> None:
    """Click ``g`` unless it is selected already (a click on a selected region deselects it)."""
    if ed.selected != g.id:
        ed.click_char(doc.free_char(g))
        ed.selected = g.id


def deselect(ed: Editor) -> None:
    if ed.selected:
        ed.key("u")
        ed.selected = None


def delete_quote(ed: Editor, doc: Doc, q: Region) -> None:
    ed.actions.current = "delete_region"
    select(ed, doc, q)
    ed.key("Backspace")
    ed.selected = None
    doc.delete(q)


def set_type(ed: Editor, doc: Doc, q: Region, new_type: str) -> None:
    ed.actions.current = "change_type"
    select(ed, doc, q)
    ed.key(TYPE_KEYS[new_type])
    doc.regions[doc.regions.index(q)] = replace(q, quote_type=new_type)


def link(ed: Editor, doc: Doc, a: Region, b: Region, label: str) -> None:
    select(ed, doc, a)
    ed.key("Alt+r")
    ed.click_char(doc.free_char(b))
    ed.selected = None  # the relation is drawn; nothing stays selected
    doc.link(a, b, label)


def relink_speaker(ed: Editor, doc: Doc, q: Region, speaker: Region) -> None:
    ed.actions.current = "relink"
    link(ed, doc, q, speaker, "said_by")


def mark(ed: Editor, doc: Doc, label: str, start: int, end: int, quote_type: str | None = None) -> Region:
    """A new region: label hotkey, drag; a Quote then gets its type (click it, type key)."""
    deselect(ed)
    ed.key(label[0].lower())
    assert ed.drag(start, end) == doc.text[start:end]
    g = Region(id=f"new{len(doc.regions)}", label=label, start=start, end=end, text=doc.text[start:end],
               quote_type=None, score=None)
    doc.regions.append(g)
    if quote_type:
        doc.regions[-1] = g = replace(g, quote_type=quote_type)
        select(ed, doc, g)
        ed.key(TYPE_KEYS[quote_type])
    return g


def move_start(ed: Editor, doc: Doc, q: Region, new_start: int) -> tuple[Region, int]:
    """A boundary moves by marking the region again: delete, mark, type, links back."""
    ed.actions.current = "move_region"
    links = [(r.label, next(g for g in doc.regions if g.id == r.to_id)) for r in doc.relations if r.from_id == q.id]
    select(ed, doc, q)
    ed.key("Backspace")
    ed.selected = None
    doc.delete(q)
    ed.actions.current = "move_region"
    new = mark(ed, doc, "Quote", new_start, q.end, q.quote_type)
    for label, target in links:
        link(ed, doc, new, target, label)
    return new, len(links)


def add_quote(ed: Editor, doc: Doc) -> Region:
    """A missed quote with its speaker and cue, in a stretch of text no region touches."""
    ed.actions.current = "add_region"
    words = doc.gap(7)
    speaker = mark(ed, doc, "Speaker", *words[0])
    cue = mark(ed, doc, "Cue", *words[1])
    q = mark(ed, doc, "Quote", words[3][0], words[6][1], "indirect")
    ed.actions.current = "add_relation"
    link(ed, doc, q, speaker, "said_by")
    link(ed, doc, q, cue, "cue")
    return q


def check_costs(by: dict, moved_links: int) -> None:
    """The UI actions bench/effort.py charges per edit are the ones this test just needed."""
    c = json.loads((ROOT / "bench" / "ui_actions.json").read_text())
    assert by["accept"] == by["submit"] == c["submit"]
    assert by["delete_region"] == c["delete_region"] and by["change_type"] == c["change_type"]
    assert by["relink"] == c["retarget_relation"]
    assert by["add_region"] == 3 * c["add_region"] + c["set_new_quote_type"]  # Speaker, Cue, typed Quote
    assert by["add_relation"] <= 2 * c["add_relation"]
    assert by["move_region"] <= (c["delete_region"] + c["add_region"] + c["set_new_quote_type"]
                                 + moved_links * c["add_relation"])


def pick_task(tasks: list[dict]) -> tuple[dict, dict]:
    """(task to accept, task to correct): the two with most quotes; the first gets the corrections."""
    def n_quotes(t):
        return sum(1 for r in t["predictions"][0]["result"] if r.get("type") == "labels"
                   and r["value"]["labels"] == ["Quote"])

    ranked = sorted((t for t in tasks if t["predictions"]), key=lambda t: (-n_quotes(t), t["id"]))
    assert n_quotes(ranked[0]) >= 4, "the samples should hold an article with at least 4 proposed quotes"
    return ranked[1], ranked[0]


def test_accept_and_correct_then_pull_and_export_carry_exactly_that(project, editor, tmp_path):
    ed = editor
    accept_task, fix_task = pick_task(project["tasks"])
    accept, fix = Doc(accept_task), Doc(fix_task)

    # 1. accept the proposals unchanged
    ed.open_task(project["pid"], accept_task["id"])
    ed.actions.current = "look"  # a quote selected: its type beside the text (docs/annotate.png)
    select(ed, accept, next(q for q in accept.by_label("Quote") if accept.free_char(q) is not None))
    ed.page.wait_for_selector("text=Quote type")
    ed.shot("task-view")
    deselect(ed)
    ed.actions.current = "accept"
    ann = ed.submit()
    same(stored(ann, accept), canon(accept.regions, accept.relations))

    # 2. correct another task
    ed.open_task(project["pid"], fix_task["id"])
    quotes_ = [q for q in fix.by_label("Quote") if fix.free_char(q) is not None]
    speakers = [s for s in fix.by_label("Speaker") if fix.free_char(s) is not None]
    relinkable = [q for q in quotes_ if fix.target(q, "said_by")
                  and any(s.id != fix.target(q, "said_by").id for s in speakers)]
    q_relink = relinkable[0]
    q_move = next(q for q in quotes_ if q is not q_relink and len(fix.text[q.start:q.end].split()) >= 3)
    q_type = next(q for q in quotes_ if q not in (q_relink, q_move))
    q_del = next(q for q in quotes_ if q not in (q_relink, q_move, q_type))

    deleted_at = fix.free_char(q_del)
    with ed.page.expect_response(lambda r: "/drafts" in r.url and r.request.method == "POST" and r.status < 300):
        delete_quote(ed, fix, q_del)  # Label Studio saves the draft by itself ...
    ed.open_task(project["pid"], fix_task["id"])
    assert not ed.highlighted(deleted_at)  # ... and a reload keeps it
    first_space = fix.text.index(" ", q_move.start)
    moved, moved_links = move_start(ed, fix, q_move, first_space + 1)
    new_type = "mixed" if q_type.quote_type != "mixed" else "direct"
    set_type(ed, fix, q_type, new_type)
    new_speaker = next(s for s in speakers if s.id != fix.target(q_relink, "said_by").id)
    relink_speaker(ed, fix, q_relink, new_speaker)
    added = add_quote(ed, fix)
    ed.shot("task-corrected")
    ed.actions.current = "submit"
    ann = ed.submit()
    same(stored(ann, fix), canon(fix.regions, fix.relations))

    # 3. a reload shows the stored annotation
    ed.open_task(project["pid"], fix_task["id"])
    ed.page.wait_for_selector("[data-testid=bottombar-update-button]")
    assert ed.highlighted(fix.free_char(added)) and not ed.highlighted(moved.start - 2)
    ed.shot("task-reloaded")
    ed.actions.save(ARTIFACTS / "actions.json")
    check_costs(ed.actions.by_edit, moved_links)

    # 4. the commands carry exactly these corrections
    ws, env = project["ws"], project["env"]
    out = quotes("pull", "-w", str(ws), "--url", project["url"], env=env)
    assert "rejects" not in out, out
    quotes("export", "--version", "1.0.0", "-w", str(ws), "--exports-dir", str(tmp_path / "exports"), env=env)
    folder = tmp_path / "exports" / "quotes" / "1.0.0"
    for doc in (accept, fix):
        assert exported(folder, doc.task["data"]["doc_id"]) == rows_of(doc)


def test_submit_on_every_pushed_sample_task_is_pulled_back(project, editor):
    from builder.annotate.pull import latest_rows
    from builder.config import Workspace

    ed = editor
    # the annotator's task list opens on the lowest task score first, and the project says so
    api, url, pid = project["api"], project["url"], project["pid"]
    ed.page.goto(f"{url}/projects/{pid}/data")
    ed.page.wait_for_selector("text=Lowest confidence first")
    ed.shot("data-manager")
    view = next(v for v in api.get(f"{url}/api/dm/views", params={"project": pid}).json()
                if v["data"].get("title") == "Lowest confidence first")
    listed = api.get(f"{url}/api/tasks", params={"view": view["id"], "project": pid, "fields": "all"}).json()["tasks"]
    scores = [t["predictions"][0]["score"] for t in listed]
    assert scores == sorted(scores) and len(set(scores)) > 1
    assert api.get(f"{url}/api/projects/{pid}").json()["sampling"] == "Uncertainty sampling"
    for task in project["tasks"]:
        ed.open_task(project["pid"], task["id"])
        if ed.page.locator("[data-testid=bottombar-submit-button]").count():  # not yet annotated by the test before
            doc = Doc(task) if task["predictions"] else None
            ann = ed.submit()
            if doc:
                same(stored(ann, doc), canon(doc.regions, doc.relations))  # the proposals, accepted
    ed.shot("last-task")
    quotes("pull", "-w", str(project["ws"]), "--url", project["url"], env=project["env"])
    pulled = {r["task_id"] for r in latest_rows(Workspace(project["ws"])).values() if not r["deleted"]}
    assert pulled == {t["id"] for t in project["tasks"]}
