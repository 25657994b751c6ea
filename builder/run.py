"""``quotes run``: ingest and propose as datatrove pipelines on a local, Slurm or Ray executor.

The stages run through ``builder.runner`` (run ids, relaunch, completion markers, stats);
this module wires the real ingest and propose pipelines into it and prints the stats.
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer

from builder.options import Config, WorkspaceOpt
from builder.workspace.folder import quotes_command
from builder.runner.stages import (  # noqa: F401  (re-exported: tests and benches import them from here)
    RUN_VERSION, RunIncomplete, RunSpec, Stage, StageFailed, StageProgress, _folder, load_spec, logging_dir,
    new_run_id, resolve_spec, run_folder, run_stages, save_spec, stage_step_stats, stage_steps, stages_complete,
    watch_progress, write_stats,
)


def quote_counts(rows) -> dict[str, int]:
    """Proposal rows -> proposals, errors and quotes by type."""
    counts: Counter[str] = Counter()
    for row in rows:
        counts["proposals"] += 1
        counts["proposal_errors"] += bool(row.get("error"))
        for region in row.get("regions") or []:
            if region["label"] == "Quote":
                counts[f"quotes_{region.get('quote_type') or 'untyped'}"] += 1
    return dict(counts)


def reject_counts(rows) -> dict[str, int]:
    """Reject rows -> count per ``stage:reason``."""
    return dict(Counter(f"{r.get('stage', '?')}:{r.get('reason', '?')}" for r in rows))


def rejects_since(path: str, offset: int) -> tuple[list[dict[str, Any]], int]:
    """Reject rows appended to ``path`` after byte ``offset``, and the new end offset."""
    from datatrove.io import get_datafolder

    parent, _, name = path.rpartition("/")
    df = get_datafolder(parent or ".")
    if not df.exists(name):
        return [], 0
    with df.open(name, "rb") as fh:
        fh.seek(offset)
        data = fh.read()
    rows = [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
    return rows, offset + len(data)


def rejects_size(path: str) -> int:
    """Current size of the rejects file in bytes (0 if there is none)."""
    from datatrove.io import get_datafolder

    parent, _, name = path.rpartition("/")
    df = get_datafolder(parent or ".")
    return int(df.size(name)) if df.exists(name) else 0


def ingest_counts(summary: dict[str, Any] | None) -> dict[str, Any]:
    """Documents in/out and rejects by reason from ingest's ``summary.json`` (empty without one)."""
    if not summary:
        return {}
    rejected = {f"ingest:{reason}": n for reason, n in (summary.get("rejected") or {}).items()}
    if summary.get("duplicates"):
        rejected["ingest:duplicate"] = summary["duplicates"]
    records_in = (summary.get("ingested", 0) + summary.get("unchanged", 0) + summary.get("duplicates", 0)
                  + sum((summary.get("rejected") or {}).values()))
    return {"input_files": summary.get("inputs"), "documents_in": records_in, "documents_out": summary.get("ingested"),
            "already_ingested": summary.get("unchanged", 0), "near_duplicates": summary.get("near_duplicates", 0),
            "rejected": rejected}


def summarize(spec: RunSpec, stages: list[Stage], ws, walls: dict[str, float], rejects: list[dict[str, Any]],
              outputs: dict[str, str], ingest_summary: dict[str, Any] | None = None) -> dict[str, Any]:
    """The run's statistics: documents in/out, rejects by reason, quotes by type, time per step."""
    from builder.store import read_rows

    per_stage = []
    for stage in stages:
        per_stage.append({"stage": stage.name, "tasks": stage.tasks, "wall_seconds": round(walls.get(stage.name, 0.0), 3),
                          "steps": stage_step_stats(logging_dir(ws, spec.run_id, stage.name))})
    quotes = quote_counts(read_rows(outputs["proposals"], columns=["regions", "error"])) if "proposals" in outputs else {}
    counts = ingest_counts(ingest_summary)
    if not counts and "documents" in outputs and any(s.name == "dedupe" for s in stages):
        out = sum(1 for _ in read_rows(outputs["documents"], columns=["doc_id"]))
        counts = {"documents_in": None, "documents_out": out}
    if not counts and "proposals" in outputs:  # propose only: documents its reader read -> proposals written
        steps = next((s["steps"] for s in per_stage if s["stage"] == "propose"), [])
        metrics = [step.get("metrics") or {} for step in steps]
        counts = {"documents_in": metrics[0].get("documents", 0) if metrics else None,
                  "documents_out": quotes.get("proposals", 0),
                  "already_proposed": sum(m.get("already_proposed", 0) for m in metrics[1:])}
    rejected = dict(counts.pop("rejected", {}))
    for key, n in reject_counts(r for r in rejects if r.get("stage") != "ingest" or not ingest_summary).items():
        rejected[key] = rejected.get(key, 0) + n
    return {
        "run_id": spec.run_id, "version": spec.version, "executor": spec.executor, "tasks": spec.tasks,
        "workers": spec.workers, "inputs": spec.paths, "documents_in": None, "documents_out": None,
        **counts, "rejected": rejected, "quotes": quotes, "stages": per_stage,
    }



# --- the real pipeline -----------------------------------------------------------------


def pipeline_stages(paths: list[str], ws, cfg: dict[str, Any], spec: RunSpec, model=None,
                    progress: bool = False) -> list[Stage]:
    """ingest extract (``tasks`` ranks over input files) -> dedupe (1 task) -> propose (``tasks`` ranks).

    Propose reads the workspace documents sharded by row (``RankShardedRows``), not by file:
    dedupe writes one documents shard per run, which file sharding would give to rank 0 only.
    """
    from builder.propose.pipeline import propose_pipeline
    from builder.store import count_rows

    outputs = run_outputs(ws, spec.run_id)
    stages = []
    if paths:
        from builder.ingest.pipeline import dedupe_pipeline, extract_pipeline, staging_folder

        extract = extract_pipeline(paths, ws, cfg, spec.run_id, progress=progress)
        inputs = len(getattr(extract[0], "inputs", []) or [])
        staged = staging_folder(ws, spec.run_id)
        stages.append(Stage("extract", extract, spec.tasks, [staged]))
        stages.append(Stage("dedupe", dedupe_pipeline(ws, cfg, spec.run_id, progress=progress, inputs=inputs), 1,
                            [outputs["documents"]], expected=lambda: count_rows(staged)))
    propose = propose_pipeline(ws, cfg, spec.run_id, model=model)
    stages.append(Stage("propose", propose, spec.tasks, [outputs["proposals"]],
                        expected=lambda: count_rows(ws.documents)))
    return stages


def run_outputs(ws, run_id: str) -> dict[str, str]:
    """The folders a run writes its rows into."""
    return {"documents": ws.sub("documents", run_id), "proposals": ws.sub("proposals", run_id)}


def read_ingest_summary(ws, run_id: str) -> dict[str, Any] | None:
    """Ingest's ``state/ingest/<run_id>/summary.json`` (written by its dedupe step), if any."""
    df = _folder(ws.sub("state", "ingest", run_id))
    if not df.exists("summary.json"):
        return None
    with df.open("summary.json", "rt") as fh:
        return json.load(fh)


def run_workspace(paths: list[str | Path] | None, ws, cfg: dict[str, Any], *, executor: str | None = None,
                  tasks: int | None = None, workers: int | None = None, run_id: str | None = None,
                  stages: list[Stage] | None = None, outputs: dict[str, str] | None = None,
                  on_progress: Callable[[StageProgress], None] | None = None, progress: bool = False,
                  quiet: bool = False) -> dict[str, Any]:
    """Run (or relaunch) ingest + propose on ``paths``; the merged stats (also in stats.json).

    ``stages``/``outputs`` replace the real pipeline (tests, other pipelines). On Slurm the
    jobs are submitted and ``{"submitted": True, ...}`` comes back; relaunch with the same
    ``run_id`` once they finished to get the stats. ``on_progress``: see ``run_stages``;
    ``progress`` turns on ingest's own per-rank progress bars (rich) (one line per rank; off by default).
    """
    from builder.runner.executors import KINDS, run_settings

    settings = run_settings(cfg)
    saved = load_spec(ws, run_id) if run_id else None  # a relaunch: what was not given comes from run.json
    defaults = asdict(saved) if saved else settings
    asked = RunSpec(run_id=run_id or new_run_id(), executor=executor or defaults["executor"],
                    tasks=tasks or defaults["tasks"], workers=workers if workers is not None else defaults["workers"],
                    paths=[str(p) for p in paths or []], rejects_offset=rejects_size(ws.rejects))
    if asked.executor not in KINDS:
        raise ValueError(f"unknown executor {asked.executor!r}: use one of {', '.join(KINDS)}")
    spec = resolve_spec(ws, asked)
    save_spec(ws, spec)
    if stages is None:
        stages = pipeline_stages(spec.paths, ws, cfg, spec, progress=progress)
        outputs = run_outputs(ws, spec.run_id)
    from builder.workspace.lock import workspace_locks

    with workspace_locks(ws, *(["ingest"] if spec.paths else []), "propose"):
        if spec.paths:
            from builder.ingest.pipeline import remove_stale_runs

            remove_stale_runs(ws, keep=spec.run_id)
        walls = run_stages(stages, ws, cfg, spec, on_progress=on_progress, quiet=quiet)
    if spec.executor == "slurm" and not stages_complete(ws, spec.run_id, stages):
        return {"run_id": spec.run_id, "submitted": True, "executor": "slurm"}
    rejects, _ = rejects_since(ws.rejects, spec.rejects_offset)
    stats = summarize(spec, stages, ws, walls, rejects, outputs or {}, read_ingest_summary(ws, spec.run_id))
    stats["stats_path"] = write_stats(ws, spec.run_id, stats)
    return stats


# --- printing --------------------------------------------------------------------------


def stats_table(stats: dict[str, Any]):
    """A rich renderable of the run statistics."""
    from rich.console import Group
    from rich.table import Table

    head = Table(title=f"run {stats['run_id']} ({stats['executor']}, {stats['tasks']} tasks)", show_header=False)
    for key in ("input_files", "documents_in", "documents_out", "already_ingested", "near_duplicates",
                "already_proposed"):
        if key in stats:
            head.add_row(key.replace("_", " "), str(stats[key]))
    for reason, n in sorted(stats.get("rejected", {}).items()):
        head.add_row(f"rejected {reason}", str(n))
    for kind, n in sorted(stats.get("quotes", {}).items()):
        head.add_row(kind.replace("_", " "), str(n))
    steps = Table(title="time per step")
    for col in ("stage", "step", "seconds", "wall s (stage)"):
        steps.add_column(col)
    for stage in stats.get("stages", []):
        for i, step in enumerate(stage["steps"] or [{"step": "-", "seconds": 0.0}]):
            steps.add_row(stage["stage"] if i == 0 else "", step["step"], f"{step['seconds']:.2f}",
                          f"{stage['wall_seconds']:.2f}" if i == 0 else "")
    return Group(head, steps)


def run(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Inputs to ingest first (files, folders, globs); "
                                                               "none: propose the workspace's documents")] = None,
    executor: Annotated[Optional[str], typer.Option("--executor", "-e", help="local, slurm or ray "
                                                    "(default: quotes.toml run.executor, else local)")] = None,
    tasks: Annotated[Optional[int], typer.Option("--tasks", "-t", min=1, help="Ranks (output shards) per stage")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", help="Ranks running at once (-1: all)")] = None,
    run_id: Annotated[Optional[str], typer.Option("--run-id", help="Relaunch this run: only unfinished ranks run")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show datatrove's logs (always kept under "
                                                                  "state/runs/<run_id>/logs/)")] = False,
    workspace: WorkspaceOpt = None,
    config: Config = None,
) -> None:
    """Ingest then propose as datatrove pipelines on a local, Slurm or Ray executor; print the run's stats."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from rich.markup import escape

    from builder.runner.executors import ExecutorError, quiet_logs
    from builder.options import settings

    console = Console(file=sys.__stderr__ if not verbose else None, stderr=True)
    cfg, ws = settings(config, workspace, existing=not paths)   # no inputs: it proposes the workspace's
    missing = [str(p) for p in paths or [] if "*" not in str(p) and not p.exists()]
    if missing:
        raise typer.BadParameter(f"{', '.join(missing)} not found: pass existing files or folders", param_hint="PATHS")
    run_id = run_id or new_run_id()
    relaunch = escape(quotes_command(ws, f"run --run-id {run_id}"))
    console.print(f"run [bold]{run_id}[/] (relaunch after a crash: `{relaunch}`)")
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("docs"), TimeElapsedColumn(), console=console, transient=False) as progress:
        bars: dict[str, Any] = {}

        def on_progress(state: StageProgress) -> None:
            label = f"{state.index + 1}/{state.of} {state.stage:<8} ranks {state.ranks_done}/{state.tasks}"
            if state.stage not in bars:
                bars[state.stage] = progress.add_task(label, total=state.total)
            total = state.documents if state.finished and state.total is None else state.total
            progress.update(bars[state.stage], description=label, completed=state.documents, total=total)

        try:
            with quiet_logs(not verbose):
                stats = run_workspace(paths, ws, cfg, executor=executor, tasks=tasks, workers=workers,
                                      run_id=run_id, on_progress=on_progress, quiet=not verbose)
        except (StageFailed, ExecutorError, ValueError, ImportError, FileNotFoundError) as err:
            console.print("[red]error:[/]", escape(str(err)))
            raise typer.Exit(1)
    if stats.get("submitted"):
        merge = escape(quotes_command(ws, f"run --executor slurm --run-id {stats['run_id']}"))
        console.print(f"submitted run {stats['run_id']} to Slurm; once its jobs finished, run `{merge}` to merge and "
                      "print its stats")
        return
    Console().print(stats_table(stats))
    console.print(f"stats: {stats['stats_path']}")
