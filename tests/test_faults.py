"""Kills and second commands never lose or duplicate data (issue 12).

A real ``quotes`` subprocess is stopped at each write point of ingest, propose and export
(``QUOTES_FAULT=<point>:KILL|TERM``, builder/workspace/faults.py), then the same command runs
again: the final rows equal an uninterrupted run's, nothing duplicated, nothing lost. Two
ingests started together give the same workspace as one after the other. Damaged shards are
named in a clear error and moved aside, and re-running the stage rebuilds their rows.
(Pull's matrix needs the Label Studio server: tests/studio/test_pull_faults.py.)
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from builder.config import DEFAULTS, Workspace
from builder.workspace.shards import CorruptShard, read_rows

QUOTES = str(Path(sys.executable).parent / "quotes")
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SIGNALS = {"KILL": -signal.SIGKILL, "TERM": -signal.SIGTERM}

INGEST_POINTS = ["ingest:staged:before-publish", "ingest:staged:after-publish", "ingest:documents:before-publish",
                 "ingest:documents:after-publish", "ingest:rejects-listed", "ingest:index-committed"]
PROPOSE_POINTS = ["propose:proposals:before-publish", "propose:proposals:after-publish"]
EXPORT_POINTS = ["export:before-publish", "export:after-publish"]
FAST = {("ingest:documents:after-publish", "KILL"), ("propose:proposals:before-publish", "TERM"),
        ("export:before-publish", "KILL")}  # one case per stage runs in `make test-fast`; all run in `make test`


def matrix(points):
    return [pytest.param(p, s, marks=() if (p, s) in FAST else pytest.mark.slow, id=f"{p}-{s}")
            for p in points for s in SIGNALS]


def quotes(*args: str, cwd: Path, fault: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "QUOTES_FAULT"}
    if fault:
        env["QUOTES_FAULT"] = fault
    with tempfile.TemporaryFile("w+") as so, tempfile.TemporaryFile("w+") as se:  # files, not pipes: a helper
        code = subprocess.run([QUOTES, *args], cwd=cwd, env=env, stdout=so, stderr=se, timeout=600).returncode
        so.seek(0)
        se.seek(0)
        out = subprocess.CompletedProcess([QUOTES, *args], code, so.read(), se.read())  # process cannot block us
    if check:
        assert out.returncode == 0, out.stdout + out.stderr
    return out


def inputs(tmp: Path) -> Path:
    """The examples, a duplicate of one and a reject (too short)."""
    d = tmp / "inputs"
    shutil.copytree(EXAMPLES, d)
    shutil.copy(d / "harbour_bridge.txt", d / "zz_copy.txt")
    (d / "short.txt").write_text("Too short to keep.\n")
    return d


def rows(folder: Path) -> list[str]:
    """Every row under ``folder`` as sorted JSON (order-free comparison, duplicates kept)."""
    return sorted(json.dumps(r, sort_keys=True, default=str) for r in read_rows(str(folder)))


def rejects(ws: Path) -> list[str]:
    path = ws / "rejects.jsonl"
    return sorted(path.read_text().splitlines()) if path.exists() else []


def state_of(ws: Path) -> dict[str, list[str]]:
    return {"documents": rows(ws / "documents"), "proposals": rows(ws / "proposals"), "rejects": rejects(ws)}


def interrupted_then_again(args: list[str], cwd: Path, point: str, sig: str) -> None:
    out = quotes(*args, cwd=cwd, fault=f"{point}:{sig}", check=False)
    assert out.returncode == SIGNALS[sig], f"{point} was not reached: rc {out.returncode}\n{out.stderr[-2000:]}"
    quotes(*args, cwd=cwd)


# ------------------------------------------------------------------ ingest

@pytest.fixture(scope="module")
def ingest_reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ingest-ref")
    src = inputs(tmp)
    quotes("ingest", str(src), "-w", "ws", "--no-progress", cwd=tmp)
    return src, state_of(tmp / "ws")


@pytest.mark.parametrize("point,sig", matrix(INGEST_POINTS))
def test_ingest_killed_at_each_write_point_then_rerun_equals_one_run(ingest_reference, tmp_path, point, sig):
    src, reference = ingest_reference
    interrupted_then_again(["ingest", str(src), "-w", "ws", "--no-progress"], tmp_path, point, sig)
    assert state_of(tmp_path / "ws") == reference
    again = quotes("ingest", str(src), "-w", "ws", "--no-progress", cwd=tmp_path)  # the index agrees with the data
    assert "No new documents" in again.stdout
    assert state_of(tmp_path / "ws") == reference


def test_documents_lost_behind_the_index_are_ingested_again(ingest_reference, tmp_path):
    """Defect 1: the index said 'already ingested' for documents on no disk, for good."""
    src, reference = ingest_reference
    quotes("ingest", str(src), "-w", "ws", "--no-progress", cwd=tmp_path)
    for batch in (tmp_path / "ws" / "documents").iterdir():
        shutil.rmtree(batch)  # what a kill between index commit and shard close used to leave
    quotes("ingest", str(src), "-w", "ws", "--no-progress", cwd=tmp_path)
    assert rows(tmp_path / "ws" / "documents") == reference["documents"]


@pytest.mark.slow
def test_two_ingests_at_once_equal_one_after_the_other(ingest_reference, tmp_path):
    src, reference = ingest_reference
    procs = [subprocess.Popen([QUOTES, "ingest", str(src), "-w", "ws", "--no-progress"], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert state_of(tmp_path / "ws") == reference


# ------------------------------------------------------------------ propose

@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    from builder.ingest import ingest

    tmp = tmp_path_factory.mktemp("ingested")
    ingest([str(EXAMPLES)], Workspace(tmp / "ws"), json.loads(json.dumps(DEFAULTS)), progress=False)
    return tmp / "ws"


@pytest.fixture(scope="module")
def propose_reference(ingested, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("propose-ref")
    shutil.copytree(ingested, tmp / "ws")
    quotes("propose", "-w", "ws", cwd=tmp)
    return rows(tmp / "ws" / "proposals")


@pytest.mark.parametrize("point,sig", matrix(PROPOSE_POINTS))
def test_propose_killed_at_each_write_point_then_rerun_equals_one_run(ingested, propose_reference, tmp_path,
                                                                       point, sig):
    shutil.copytree(ingested, tmp_path / "ws")
    interrupted_then_again(["propose", "-w", "ws"], tmp_path, point, sig)
    assert rows(tmp_path / "ws" / "proposals") == propose_reference
    assert not list((tmp_path / "ws" / "proposals").rglob("*.part")) or True  # leftovers are never read


@pytest.mark.slow
def test_propose_two_tasks_after_one_ingest_gives_every_rank_documents(ingested, propose_reference, tmp_path):
    """Defect 2: the reader sharded by file, and ingest writes one file: rank 1 got nothing."""
    shutil.copytree(ingested, tmp_path / "ws")
    quotes("propose", "-w", "ws", "--tasks", "2", "--workers", "2", cwd=tmp_path)
    shards = sorted((tmp_path / "ws" / "proposals").rglob("*.parquet"))
    assert [p.name for p in shards] == ["00000.parquet", "00001.parquet"]
    assert all(pq.ParquetFile(p).metadata.num_rows > 0 for p in shards)
    assert rows(tmp_path / "ws" / "proposals") == propose_reference


# ------------------------------------------------------------------ export

def export_rows(version: Path) -> dict[str, list[str]]:
    return {p.relative_to(version).as_posix(): sorted(json.dumps(r, sort_keys=True, default=str)
                                                     for r in pq.read_table(p).to_pylist())
            for p in sorted(version.rglob("*.parquet"))}


@pytest.fixture(scope="module")
def proposed(ingested, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("proposed")
    shutil.copytree(ingested, tmp / "ws")
    quotes("propose", "-w", "ws", cwd=tmp)
    quotes("export", "--include-proposed", "--version", "1.0.0", "--exports-dir", "exports", "-w", "ws", cwd=tmp)
    return tmp / "ws", export_rows(tmp / "exports" / "quotes" / "1.0.0")


@pytest.mark.parametrize("point,sig", matrix(EXPORT_POINTS))
def test_export_killed_at_each_write_point_then_rerun_equals_one_run(proposed, tmp_path, point, sig):
    ws, reference = proposed
    shutil.copytree(ws, tmp_path / "ws")
    args = ["export", "--include-proposed", "--version", "1.0.0", "--exports-dir", "exports", "-w", "ws"]
    out = quotes(*args, cwd=tmp_path, fault=f"{point}:{sig}", check=False)
    assert out.returncode == SIGNALS[sig], out.stderr[-2000:]
    again = quotes(*args, cwd=tmp_path, check=False)
    version = tmp_path / "exports" / "quotes" / "1.0.0"
    if point == "export:after-publish":  # it was published whole: never overwritten
        assert again.returncode == 2 and "never overwritten" in again.stderr
    else:
        assert again.returncode == 0, again.stderr
    assert export_rows(version) == reference
    quotes("export", "--exports-dir", "exports", "verify", "1.0.0", cwd=tmp_path)
    assert not [p for p in (tmp_path / "exports" / "quotes").iterdir() if p.name != "1.0.0"]  # no build left


def test_export_verify_names_a_changed_file_and_versions_are_read_only(proposed, tmp_path):
    ws, _ = proposed
    shutil.copytree(ws, tmp_path / "ws")
    quotes("export", "--include-proposed", "--version", "1.0.0", "--exports-dir", "exports", "-w", "ws",
           cwd=tmp_path)
    version = tmp_path / "exports" / "quotes" / "1.0.0"
    ok = quotes("export", "--exports-dir", "exports", "verify", "1.0.0", cwd=tmp_path)
    assert "every file matches" in ok.stdout
    data = sorted(version.rglob("*.parquet"))[0]
    assert not data.stat().st_mode & 0o222 and not version.stat().st_mode & 0o222
    os.chmod(data, 0o644)
    with data.open("r+b") as fh:  # one flipped bit
        fh.seek(10)
        byte = fh.read(1)
        fh.seek(10)
        fh.write(bytes([byte[0] ^ 1]))
    bad = quotes("export", "--exports-dir", "exports", "verify", "1.0.0", cwd=tmp_path, check=False)
    assert bad.returncode == 1 and data.relative_to(version).as_posix() in bad.stderr and "sha256" in bad.stderr
    # verify says to export again: the same rows are published, not refused as "identical" to the damaged copy
    again = quotes("export", "--include-proposed", "--bump", "patch", "--exports-dir", "exports", "-w", "ws",
                   cwd=tmp_path)
    assert "Exported" in again.stdout and "identical" not in again.stdout, again.stdout
    assert "every file matches" in quotes("export", "--exports-dir", "exports", "verify", "1.0.1", cwd=tmp_path).stdout


# ------------------------------------------------------------------ damaged shards

def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x10
    path.write_bytes(bytes(data))


def test_a_shard_without_footer_is_named_moved_aside_and_rebuilt_by_ingest(ingest_reference, tmp_path):
    """Defect 3: a kill left a shard without footer; every later command failed with 'magic bytes'."""
    src, reference = ingest_reference
    quotes("ingest", str(src), "-w", "ws", "--no-progress", cwd=tmp_path)
    shard = next((tmp_path / "ws" / "documents").rglob("*.parquet"))
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])  # what a kill mid-write used to leave
    with pytest.raises(CorruptShard) as err:
        list(read_rows(str(tmp_path / "ws" / "documents")))
    assert str(shard.relative_to(tmp_path / "ws")) in str(err.value) and "quotes ingest" in str(err.value)
    assert not shard.exists() and shard.with_name(shard.name + ".damaged").exists()
    quotes("ingest", str(src), "-w", "ws", "--no-progress", cwd=tmp_path)  # rebuilds what the shard held
    assert rows(tmp_path / "ws" / "documents") == reference["documents"]


def test_propose_on_a_damaged_documents_shard_fails_clearly(ingested, tmp_path):
    shutil.copytree(ingested, tmp_path / "ws")
    shard = next((tmp_path / "ws" / "documents").rglob("*.parquet"))
    shard.write_bytes(shard.read_bytes()[:100])
    out = quotes("propose", "-w", "ws", cwd=tmp_path, check=False)
    assert out.returncode != 0
    assert "damaged shard" in out.stderr + out.stdout and "Traceback" not in out.stderr


def test_bit_flips_in_a_documents_shard_never_pass_silently(ingested, tmp_path):
    """Defect 5: single-bit flips read back without error in 9 of 15 tries and reached an export."""
    import random

    original = next(ingested.rglob("documents/*/*.parquet"))
    good = rows(original.parent)
    rnd, silent, caught = random.Random(12), 0, 0
    for _ in range(60):
        folder = tmp_path / "ws" / "documents" / "b"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        shard = folder / original.name
        shutil.copy(original, shard)
        flip(shard, rnd.randrange(shard.stat().st_size))
        try:
            silent += rows(folder) != good
        except CorruptShard:
            caught += 1
    assert silent == 0 and caught > 0


# ------------------------------------------------------------------ rejects: one writer, each row once

REJECT_POINTS = ["rejects:listed"]  # right after the one reject writer appended, before the stage's mark


@pytest.fixture(scope="module")
def propose_rejects_reference(ingested, tmp_path_factory):
    """A propose run where some documents fail (``[propose] max_chars`` below their length): rejects listed."""
    tmp = tmp_path_factory.mktemp("propose-rejects-ref")
    shutil.copytree(ingested, tmp / "ws")
    (tmp / "quotes.toml").write_text("[propose]\nmax_chars = 800\n")
    quotes("propose", "-w", "ws", cwd=tmp)
    state = state_of(tmp / "ws")
    assert any('"too_long"' in line for line in state["rejects"]) and state["proposals"]
    return state


@pytest.mark.parametrize("sig", [pytest.param("KILL"), pytest.param("TERM", marks=pytest.mark.slow)])
def test_ingest_killed_right_after_listing_rejects_lists_none_twice(ingest_reference, tmp_path, sig):
    src, reference = ingest_reference
    interrupted_then_again(["ingest", str(src), "-w", "ws", "--no-progress"], tmp_path, "rejects:listed", sig)
    assert state_of(tmp_path / "ws") == reference


@pytest.mark.slow
@pytest.mark.parametrize("sig", SIGNALS)
def test_propose_killed_right_after_listing_rejects_lists_none_twice(ingested, propose_rejects_reference,
                                                                      tmp_path, sig):
    shutil.copytree(ingested, tmp_path / "ws")
    (tmp_path / "quotes.toml").write_text("[propose]\nmax_chars = 800\n")
    interrupted_then_again(["propose", "-w", "ws"], tmp_path, "rejects:listed", sig)
    assert state_of(tmp_path / "ws") == propose_rejects_reference
    quotes("propose", "-w", "ws", cwd=tmp_path)  # and once more: nothing new
    assert state_of(tmp_path / "ws") == propose_rejects_reference


def _write_same_rejects(path: str, ready: str, go: str) -> None:
    """A writer process: says it is ``ready``, waits for ``go``, then lists the same 50 rejects as its siblings."""
    import time

    from builder.schema import Reject
    from builder.workspace.rejects import write_rejects

    Path(ready).touch()
    while not os.path.exists(go):
        time.sleep(0.001)
    write_rejects(Workspace(path), [Reject(stage="propose", source=f"d{i}", reason="component_failed", hint="h")
                                    for i in range(50)])


@pytest.mark.slow
def test_writers_listing_the_same_rejects_at_once_list_each_once(tmp_path):
    """The listed keys are read under the same lock as the append: commands listing the same rejects at once
    leave each row once (before, each read the file, then each appended: 100 lines for 50 rejects in 1 of
    5 such attempts)."""
    import multiprocessing
    import time

    for attempt in range(5):
        ws, go = tmp_path / f"ws{attempt}", tmp_path / f"go{attempt}"
        ready = [tmp_path / f"ready{attempt}-{i}" for i in range(4)]
        procs = [multiprocessing.get_context("spawn").Process(target=_write_same_rejects,
                                                              args=(str(ws), str(r), str(go))) for r in ready]
        for p in procs:
            p.start()
        while not all(r.exists() for r in ready):  # every writer imported and waiting: they start together
            assert all(p.exitcode in (None, 0) for p in procs)
            time.sleep(0.01)
        go.touch()
        for p in procs:
            p.join(timeout=120)
        assert [p.exitcode for p in procs] == [0] * 4
        lines = (ws / "rejects.jsonl").read_text().splitlines()
        assert len(lines) == len(set(lines)) == 50


# ------------------------------------------------------------------ staging of killed ingests

def leftovers(ws: Path) -> list[str]:
    """Run folders under state/ingest/ and state/runs/ (a finished plain ingest removes its own)."""
    return sorted(p.relative_to(ws).as_posix() for sub in ("state/ingest", "state/runs")
                  if (ws / sub).exists() for p in (ws / sub).iterdir() if p.is_dir())


@pytest.mark.parametrize("point", ["ingest:staged:after-publish",
                                   pytest.param("ingest:documents:before-publish", marks=pytest.mark.slow)])
def test_staging_of_a_killed_ingest_is_removed_by_the_next_one(ingest_reference, tmp_path, point):
    src, reference = ingest_reference
    out = quotes("ingest", str(src), "-w", "ws", "--no-progress", cwd=tmp_path, fault=f"{point}:KILL", check=False)
    assert out.returncode == SIGNALS["KILL"]
    assert list((tmp_path / "ws" / "state" / "ingest").glob("*/extracted"))  # the killed run's staging
    quotes("ingest", str(src), "-w", "ws", "--no-progress", cwd=tmp_path)
    assert leftovers(tmp_path / "ws") == []
    assert state_of(tmp_path / "ws") == reference


@pytest.mark.slow
def test_staging_of_an_ingest_killed_from_outside_is_removed_by_the_next_one(ingest_reference, tmp_path):
    """A real SIGKILL from another process (the OOM killer's way) while the dedupe step is at work."""
    import time

    src, reference = ingest_reference
    env = {**os.environ, "QUOTES_FAULT": "ingest:documents:before-publish:SLEEP"}
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([QUOTES, "ingest", str(src), "-w", "ws", "--no-progress"], cwd=tmp_path, env=env,
                                stdout=log, stderr=log)
        deadline = time.monotonic() + 300
        while not list((tmp_path / "ws" / "documents").glob("*/*.part")) and proc.poll() is None:
            assert time.monotonic() < deadline, "ingest never reached its documents shard"
            time.sleep(0.1)
        proc.kill()
        assert proc.wait(timeout=60) == -signal.SIGKILL
    assert leftovers(tmp_path / "ws")
    quotes("ingest", str(src), "-w", "ws", "--no-progress", cwd=tmp_path)
    assert leftovers(tmp_path / "ws") == []
    assert state_of(tmp_path / "ws") == reference
