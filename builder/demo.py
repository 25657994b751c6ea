"""``quotes demo``: the whole pipeline on sample articles, through a local Label Studio."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from builder.options import Config, WorkspaceOpt

console = Console()


def _step(title: str) -> None:
    console.rule(f"[bold]{title}")


def demo(
    samples: Annotated[Path, typer.Argument(help="Folder of sample articles (.txt, .html, ...)")] = Path("examples"),
    workspace: WorkspaceOpt = None,
    config: Config = None,
    studio: Annotated[bool, typer.Option(help="Push to and pull from a local Label Studio it starts and stops")] = True,
) -> None:
    """The whole pipeline on sample articles: ingest, propose, Label Studio push/pull, export."""
    from builder.export import export_dataset
    from builder.export.build import load_command
    from builder.ingest import ingest
    from builder.options import settings
    from builder.propose import propose_workspace

    cfg, ws = settings(config, workspace)
    if not samples.exists():
        raise typer.BadParameter(f"{samples} does not exist: pass a folder of articles", param_hint="SAMPLES")

    _step(f"1/4 ingest {samples}")
    ingest([samples], ws, cfg)

    _step("2/4 propose")
    propose_workspace(ws, cfg)

    info = None
    if studio:
        _step("3/4 annotate: local Label Studio")
        from builder.annotate.commands import clear_errors

        with clear_errors("a Label Studio server the demo started is stopped (one that already ran keeps running); "
                          "run the demo again"):
            info = _studio_round_trip(ws, cfg)
    else:
        console.print("skipped Label Studio (--no-studio)")

    _step("4/4 export")
    from builder.export.versions import IdenticalToLatest, version_notes

    try:
        folder = export_dataset(ws, cfg, bump="patch" if _has_versions(cfg) else None,
                                version=None if _has_versions(cfg) else "0.1.0", include_proposed=True)
        notes = version_notes(Path(folder))
        folder = Path(folder).resolve()
        console.print(f"\n[bold green]Exported dataset:[/] {folder}", soft_wrap=True)
    except IdenticalToLatest as same:   # the same articles again: the latest version holds them already
        folder, notes = same.folder.resolve(), []
        console.print(f"\n{same}", soft_wrap=True, markup=False, highlight=False)
    for note in notes:
        console.print(note, soft_wrap=True, markup=False, highlight=False)
    console.print("Load it with:", soft_wrap=True)
    console.print(f"  {load_command(folder)}", soft_wrap=True, markup=False, highlight=False)
    if info is not None:
        console.print(soft_wrap=True)
        from builder.workspace.folder import quotes_command
        from builder.options import program

        def hint(command: str) -> str:   # runnable as printed: make demo does not activate .venv
            return program("quotes") + quotes_command(ws, command)[len("quotes"):]

        console.print(f"To annotate: [bold]{hint('studio start')}[/], open the URL it prints and log in "
                      f"as {info.email} (password in {info.password_file}); open the project, correct the proposals "
                      f"(guidelines: annotation/guidelines.md); then [bold]{hint('pull')}[/] and "
                      f"[bold]{hint('export --bump minor')}[/].", soft_wrap=True, highlight=False)


def _has_versions(cfg) -> bool:
    root = Path(cfg["export"]["exports_dir"]) / cfg["export"]["name"]
    return root.is_dir() and any(p.is_dir() and not p.name.startswith(".") for p in root.iterdir())


def _studio_round_trip(ws, cfg):
    from builder.annotate import pull, push, start_server, stop_server
    from builder.annotate.server import label_studio_bin

    if not label_studio_bin().exists():
        console.print("[yellow]no .venv-studio: skipping Label Studio (run `make install-studio`)[/]")
        return None
    from builder.annotate.server import start_note

    with console.status(start_note(ws) or "Label Studio already runs"):
        info = start_server(ws)
    if info.moved_from:
        console.print(f"port {info.moved_from} (this workspace's) is taken: Label Studio answers on port {info.port}")
    console.print(f"Label Studio answers at {info.url} (log in as {info.email}; password in {info.password_file})")
    try:  # a server that already ran (`quotes studio start`) is left running
        pushed = push(ws, cfg)
        console.print(f"pushed: project {pushed.project_id}, {pushed.tasks_created} new task(s), "
                      f"{pushed.predictions_created} new prediction(s), {pushed.tasks_known} task(s) in all")
        pulled = pull(ws, cfg)
        console.print(f"pulled: {pulled.tasks_fetched} changed task(s), {pulled.rows_written} annotation row(s)"
                      + (" (nobody has annotated yet: the export carries the proposals as silver rows)"
                         if not pulled.rows_written else ""))
    finally:
        if info.started:
            stop_server(ws)
            console.print("Label Studio stopped")
    return info
