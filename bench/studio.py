"""Label Studio round-trip benchmark, measured side by side in one run against one real server.

    .venv/bin/python bench/studio.py                 # 5,000 tasks, 50 changed
    .venv/bin/python bench/studio.py --tasks 1000 --changed 20

1. push throughput: ``quotes push`` (reads the workspace shards, builds predictions, keeps the
   resumable doc_id -> task map) against a bare SDK bulk import of the same, prebuilt task
   payloads with the same batch size (run before and after the push; their mean is the
   baseline). Prints tasks/s and the ratio push / bare (target >= 0.8).
2. incremental pull: after ``--changed`` of the tasks got an annotation, the time of ``quotes
   pull`` against a full JSON export of the project (``/api/projects/<id>/export``, all tasks).
   Prints both and the ratio (target <= 0.1).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from builder.annotate import connect, pull, push, start_server, stop_server  # noqa: E402
from builder.annotate.project import labeling_config  # noqa: E402
from builder.annotate.push import proposed_documents, task_payload  # noqa: E402
from builder.config import Workspace  # noqa: E402
from tests.studio.data import synthetic, write_workspace  # noqa: E402


def bare_import(studio, payloads: list[dict], batch: int, title: str) -> float:
    """Seconds for a plain SDK bulk import of ``payloads`` into a new project."""
    c = studio.client
    project = c.projects.create(title=title, label_config=labeling_config())
    t0 = time.perf_counter()
    for i in range(0, len(payloads), batch):
        c.projects.import_tasks(project.id, request=payloads[i:i + batch], return_task_ids=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=5000)
    ap.add_argument("--changed", type=int, default=50)
    ap.add_argument("--batch", type=int, default=500)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-studio-") as tmp:
        ws = Workspace(tmp)
        print("starting Label Studio ...", flush=True)
        info = start_server(ws)
        try:
            cfg = {"studio": {"url": info.url, "project_title": "bench push", "batch_size": args.batch}}
            write_workspace(Path(tmp), synthetic(args.tasks))
            studio = connect(ws, cfg)
            docs, props, _ = proposed_documents(ws)
            payloads = [task_payload(docs[d], props[d]) for d in docs]
            bare1 = bare_import(studio, payloads, args.batch, "bench bare 1")
            t0 = time.perf_counter()
            s = push(ws, cfg, client=studio, progress=False)
            ours = time.perf_counter() - t0
            bare2 = bare_import(studio, payloads, args.batch, "bench bare 2")
            assert s.tasks_created == args.tasks
            bare = (bare1 + bare2) / 2
            print(f"push   {args.tasks} tasks: quotes push {args.tasks / ours:8.1f} tasks/s ({ours:.2f}s); "
                  f"bare SDK import {args.tasks / bare:8.1f} tasks/s ({bare1:.2f}s, {bare2:.2f}s)")
            print(f"push throughput ratio (push / bare): {bare / ours:.2f}  (target >= 0.8)")

            c = studio.client
            t0 = time.perf_counter()
            first = pull(ws, cfg, client=studio)
            full_pull = time.perf_counter() - t0
            ids = sorted(t.id for t in c.tasks.list(project=s.project_id, include="id", page_size=1000))
            step = max(1, len(ids) // args.changed)
            for tid in ids[::step][:args.changed]:
                c.annotations.create(id=tid, result=[], lead_time=1.0)
            t0 = time.perf_counter()
            inc = pull(ws, cfg, client=studio)
            incremental = time.perf_counter() - t0
            t0 = time.perf_counter()
            size = sum(len(b) for b in c.projects.exports.download_sync(s.project_id, export_type="JSON",
                                                                          download_all_tasks=True))
            export = time.perf_counter() - t0
            assert inc.rows_written == args.changed, inc
            print(f"pull   first full pull {full_pull:.2f}s ({first.tasks_fetched} tasks); incremental pull after "
                  f"{args.changed} changed {incremental:.2f}s ({inc.tasks_fetched} tasks); full JSON export "
                  f"{export:.2f}s ({size / 1e6:.1f} MB)")
            print(f"incremental pull / full export: {incremental / export:.3f}  (target <= 0.1)")
        finally:
            stop_server(ws)


if __name__ == "__main__":
    main()
