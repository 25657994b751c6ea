"""Stage 1: inputs (txt, JSONL, HTML, WARC) -> clean, deduplicated Documents."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from builder.options import Config, WorkspaceOpt


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files, folders (recursive) or globs: .txt .jsonl .html .warc(.gz)")],
    workspace: WorkspaceOpt = None,
    config: Config = None,
    tasks: Annotated[int, typer.Option(help="Shards of the extract step (inputs split by rank)")] = 1,
    workers: Annotated[int, typer.Option(help="Processes running those shards at once")] = 1,
    progress: Annotated[bool, typer.Option(help="Show progress bars")] = True,
) -> None:
    """Ingest articles into the workspace: clean text, stable ids, duplicates and rejects reported."""
    from rich.console import Console
    from rich.table import Table

    from builder.ingest import ingest as run_ingest
    from builder.options import settings

    cfg, ws = settings(config, workspace)
    console = Console()
    from builder.ingest.pipeline import IngestFailed

    try:
        summary = run_ingest([str(p) for p in paths], ws, cfg, tasks=tasks, workers=workers, progress=progress)
    except (IngestFailed, ValueError) as e:  # ValueError: a workspace that is not a local folder
        console.print(f"[bold red]ingest failed:[/] {e}")
        raise typer.Exit(1) from None

    table = Table(title=f"ingest: {summary.inputs} input file(s)")
    table.add_column("outcome")
    table.add_column("count", justify="right")
    table.add_row("ingested (new documents)", str(summary.ingested))
    table.add_row("  of which near-duplicates (joined a cluster)", str(summary.near_duplicates))
    table.add_row("already in the workspace", str(summary.unchanged))
    table.add_row("duplicates (same text as another document)", str(summary.duplicates))
    for reason, count in summary.rejected.items():
        table.add_row(f"rejected: {reason}", str(count))
    table.add_row("rejected in all", str(summary.total_rejected))
    console.print(table)
    if summary.batch:
        console.print(f"New documents: [bold]{ws.sub('documents', summary.batch)}/[/]")
    else:
        console.print("No new documents.")
    if summary.newly_listed:
        console.print(f"{summary.newly_listed} new reject/duplicate row(s) listed in [bold]{ws.rejects}[/] "
                      "(each with a hint on what to do).")
    elif summary.total_rejected or summary.duplicates:
        console.print(f"Rejects and duplicates were listed before, in {ws.rejects}.")
    if summary.all_failed:
        console.print("[bold red]ingest failed:[/] no input could be ingested (see the rejects above and "
                      f"{ws.rejects} for what to do)")
        raise typer.Exit(1)
