"""Peak resident memory of this process, as the benchmarks report it.

``ru_maxrss`` is wrong for a child started by ``subprocess``: Linux carries the high-water
mark across ``exec``, so a child reports at least the RSS its parent had when it forked
(a bench parent that built 50,000 rows shows up as the child's "peak"). ``VmHWM`` from
``/proc/self/status`` belongs to the current program image only; ``ru_maxrss`` remains
the fallback where there is no ``/proc`` (macOS reports it in bytes).
"""
from __future__ import annotations

import resource
import sys


def _status_mib(field: str) -> float | None:
    """A ``kB`` field of ``/proc/self/status`` (``VmHWM``, ``VmRSS``) in MiB; None without ``/proc``."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mib() -> float:
    """This process's peak resident set size in MiB, since its program started."""
    peak = _status_mib("VmHWM")
    if peak is not None:
        return peak
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def rss_mib() -> float:
    """This process's resident set size now, in MiB (NaN without ``/proc``)."""
    rss = _status_mib("VmRSS")
    return float("nan") if rss is None else rss
