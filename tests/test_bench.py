"""The benchmarks run and measure what they claim (smoke runs; no timing thresholds)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_peak_is_the_childs_own_not_its_parents():
    """A child's ru_maxrss starts at its parent's RSS at fork; bench/peak.py must not report that."""
    ballast = bytearray(300 * 2**20)  # 300 MiB resident in this (parent) process
    ballast[::4096] = b"\1" * len(range(0, len(ballast), 4096))
    code = ("import json, resource, sys; sys.path.insert(0, sys.argv[1]); from peak import peak_rss_mib; "
            "print(json.dumps([peak_rss_mib(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]))")
    out = subprocess.run([sys.executable, "-c", code, str(BENCH)], capture_output=True, text=True, check=True)
    own, inherited = json.loads(out.stdout)
    del ballast
    assert own < 150, own
    if sys.platform.startswith("linux"):
        assert inherited > 300  # the artefact peak_rss_mib avoids


@pytest.mark.slow
def test_scale_bench_smoke():
    out = subprocess.run([sys.executable, str(BENCH / "scale.py"), "--sizes", "40,80", "--throughput-docs", "40"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    for line in ("speed-up 2 vs 1 workers", "per-article cost 80 vs 40", "peak memory 80 vs 40"):
        assert line in out.stdout, out.stdout


def test_effort_counts_edits_and_their_ui_actions():
    sys.path.insert(0, str(BENCH))
    from effort import COSTS, edits

    from builder.schema import Region, Relation

    text = "Ann said the bridge opens in May and Bob agreed."

    def reg(id_, label, words, quote_type=None):
        s = text.index(words)
        return Region(id=id_, label=label, start=s, end=s + len(words), text=words, quote_type=quote_type, score=None)

    gold = [reg("q", "Quote", "the bridge opens in May", "indirect"), reg("s", "Speaker", "Ann"), reg("c", "Cue", "said")]
    gold_rel = [Relation(from_id="q", to_id="s", label="said_by"), Relation(from_id="q", to_id="c", label="cue")]
    pred = [reg("p", "Quote", "the bridge opens in May", "direct"), reg("b", "Speaker", "Bob"), reg("k", "Cue", "said")]
    pred_rel = [Relation(from_id="p", to_id="b", label="said_by"), Relation(from_id="p", to_id="k", label="cue")]
    ops = edits(gold, gold_rel, pred, pred_rel)
    assert {k: v for k, v in ops.items() if v} == {"type_changed": 1, "region_deleted": 1, "region_added": 1,
                                                   "relation_added": 1, "actions": ops["actions"]}
    assert ops["actions"] == (COSTS["submit"] + COSTS["change_type"] + COSTS["delete_region"] + COSTS["add_region"]
                              + COSTS["add_relation"])
    assert edits(gold, gold_rel, gold, gold_rel)["actions"] == COSTS["submit"]  # a right proposal: Submit
    scratch = edits(gold, gold_rel, [], [])
    assert scratch["region_added"] == 3 and scratch["relation_added"] == 2


@pytest.mark.slow
def test_effort_bench_smoke():
    if not (BENCH.parent.parent / "shared" / "gold").is_dir():
        pytest.skip("no ../shared/gold")
    out = subprocess.run([sys.executable, str(BENCH / "effort.py"), "--polnear", ""],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "actions/article" in out.stdout and "ratio" in out.stdout, out.stdout


def _brat_corpus(folder: Path, n: int) -> Path:
    """``n`` invented articles in PolNeAR's brat layout (text/NAME.txt, attributions/NAME_x.ann)."""
    (folder / "text").mkdir(parents=True)
    (folder / "attributions").mkdir()
    for k in range(n):
        text = f"Mayor Lee{k} said the road would reopen in May. The council said it would vote on the plan.\n"
        (folder / "text" / f"a{k}.txt").write_text(text, encoding="utf-8")
        second = text.index("The council")
        spans = [("Source", f"Mayor Lee{k}", 0), ("Cue", "said", 0), ("Content", "the road would reopen in May", 0),
                 ("Source", "The council", second), ("Cue", "said", second), ("Content", "it would vote on the plan", second)]
        lines = []
        for tid, (label, needle, after) in enumerate(spans, start=1):
            s = text.index(needle, after)
            lines.append(f"T{tid}\t{label} {s} {s + len(needle)}\t{needle}")
        lines += ["E1\tAttribution:T2 Source:T1 Cue:T2 Content:T3", "E2\tAttribution:T5 Source:T4 Cue:T5 Content:T6"]
        (folder / "attributions" / f"a{k}_x.ann").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.mark.slow
def test_refiners_cv_bench_smoke(tmp_path):
    train, dev = _brat_corpus(tmp_path / "train", 6), _brat_corpus(tmp_path / "dev", 2)
    out = subprocess.run([sys.executable, str(BENCH / "refiners_cv.py"), "--train", str(train), "--dev", str(dev),
                          "--folds", "2", "--cache", str(tmp_path / "cache")], capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "fold 2/2 (3 articles fitted, 3 held out" in out.stdout, out.stdout
    for row in ("held-out rules", "held-out hybrid", "dev rules", "dev hybrid"):
        assert row in out.stdout.split("strict exact F1")[-1], out.stdout
    inside = subprocess.run([sys.executable, str(BENCH / "refiners_cv.py"), "--cache", str(BENCH / "cache")],
                            capture_output=True, text=True, timeout=120)
    assert inside.returncode != 0 and "outside the repository" in inside.stderr
    missing = subprocess.run([sys.executable, str(BENCH / "refiners_cv.py"), "--train", str(tmp_path / "nope"),
                              "--cache", str(tmp_path / "cache")], capture_output=True, text=True, timeout=300)
    assert missing.returncode == 1 and "not a brat corpus" in missing.stderr and "Traceback" not in missing.stderr
