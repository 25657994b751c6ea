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
