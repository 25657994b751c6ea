"""Stage 3 commands: ``quotes studio start|stop|status``, ``push``, ``pull``, ``agreement``."""
from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Annotated, Optional

import typer

from builder.options import Config, WorkspaceOpt
from builder.workspace.folder import quotes_command

studio_app = typer.Typer(help="Run a local Label Studio server.", no_args_is_help=True)

UrlOpt = Annotated[Optional[str], typer.Option("--url", help="An existing Label Studio server "
                                               "(token from QUOTES_STUDIO_TOKEN or quotes.toml \\[studio] token)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON")]


@contextmanager
def clear_errors(interrupted: str | None = None):
    """Show StudioError (and its hint) without a traceback; exit 1. Ctrl-C (with ``interrupted``, what
    to say then, unless an interrupted server start says what it leaves running): that line; exit 130
    (143 for SIGTERM, 129 for SIGHUP: 128 + the signal, as a shell reports it)."""
    from builder.annotate.client import StudioError
    from builder.annotate.server import StartInterrupted, signal_of

    try:
        yield
    except StudioError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt as e:
        if interrupted is None:
            raise
        typer.echo(f"interrupted: {e if isinstance(e, StartInterrupted) else interrupted}", err=True)
        raise typer.Exit(128 + signal_of(e)) from None


def _settings(config, workspace, url=None):
    """Every command here works on an existing workspace (made by `quotes ingest`)."""
    from builder.options import settings

    cfg, ws = settings(config, workspace, existing=True)
    if url:
        cfg.setdefault("studio", {})["url"] = url
    return cfg, ws


@studio_app.command("start")
def start(workspace: WorkspaceOpt = None, config: Config = None,
          port: Annotated[Optional[int], typer.Option("--port", help="Port (busy is an error)",
                                                           show_default="the workspace's last one, else a free one")] = None) -> None:
    """Start a local Label Studio server (SQLite in workspace/studio/, 127.0.0.1 only)."""
    from builder.annotate.server import NOTHING_STARTED, start_server

    cfg, ws = _settings(config, workspace)
    with clear_errors(NOTHING_STARTED):
        info = start_server(ws, port=port, on_start=typer.echo)
    if info.moved_from:
        typer.echo(f"port {info.moved_from} (this workspace's) is taken: Label Studio now answers on port {info.port}; "
                   "give annotators the new URL")
    typer.echo(f"Label Studio {'answers' if info.started else 'already runs'} at {info.url}\n  log in as {info.email}; the password is in "
               f"{info.password_file}\n  API token file: {info.token_file}\n"
               f"  stop it with `{quotes_command(ws, 'studio stop')}`")


@studio_app.command("stop")
def stop(workspace: WorkspaceOpt = None, config: Config = None) -> None:
    """Stop the local Label Studio server of this workspace."""
    from builder.annotate.server import stop_server

    cfg, ws = _settings(config, workspace)
    typer.echo("stopped" if stop_server(ws) else "no local server was running")


@studio_app.command("status")
def status(workspace: WorkspaceOpt = None, config: Config = None, as_json: JsonOpt = False) -> None:
    """URL, whether it answers, project id and token file of the local server (never the token).

    Exit status: 0 when it answers, 1 when nothing answers (or none was started here), 2 without a workspace."""
    from builder.annotate.server import server_status, status_line

    cfg, ws = _settings(config, workspace)
    with clear_errors():
        info = server_status(ws)
    if as_json:
        typer.echo(json.dumps({"url": info.url, "answers": info.answers, "token_works": info.token_works,
                               "project_id": info.project_id,
                               "token_file": info.token_file, "pid": info.pid, "email": info.email,
                               "password_file": info.password_file}))
    else:
        typer.echo(status_line(ws, info))
    if not info.answers:
        raise typer.Exit(1)


def push(workspace: WorkspaceOpt = None, config: Config = None, url: UrlOpt = None,
         batch_size: Annotated[Optional[int], typer.Option(help="Tasks per import request")] = None,
         order: Annotated[str, typer.Option("--order", help="Import order of new tasks: workspace, or uncertainty "
                                            "(where proposers disagree or the model is least sure first)")] = "workspace") -> None:
    """Create or update the Label Studio project and import proposals as predictions."""
    from builder.annotate.order import ORDERS
    from builder.annotate.push import push as run_push

    if order not in ORDERS:
        raise typer.BadParameter(f"use one of {', '.join(ORDERS)}", param_hint="--order")
    cfg, ws = _settings(config, workspace, url)
    with clear_errors():
        s = run_push(ws, cfg, batch_size=batch_size, order=order)
    typer.echo(f"project {s.project_id} at {s.url}: {s.tasks_created} new tasks, {s.predictions_created} new "
               f"predictions, {s.tasks_known} tasks in all" + (f", {s.rejects} rejects" if s.rejects else ""))


def pull(workspace: WorkspaceOpt = None, config: Config = None, url: UrlOpt = None) -> None:
    """Fetch annotations changed since the last pull (resumable; never duplicates)."""
    from builder.annotate.pull import pull as run_pull

    cfg, ws = _settings(config, workspace, url)
    with clear_errors():
        s = run_pull(ws, cfg)
    typer.echo(f"{s.tasks_fetched} changed tasks, {s.rows_written} annotation rows "
               f"({s.tombstones} deletions) -> {s.file or 'nothing new'}"
               + (f"; {s.rejects} rejects in rejects.jsonl" if s.rejects else "")
               + (f" ({s.untyped} quotes without a type: pick one in Label Studio, pull again)" if s.untyped else ""))


def agreement(workspace: WorkspaceOpt = None, config: Config = None, as_json: JsonOpt = False) -> None:
    """Inter-annotator agreement and proposer precision against annotations."""
    from rich.console import Console
    from rich.table import Table

    from builder.annotate.agreement import agreement as report_of

    cfg, ws = _settings(config, workspace)
    report = report_of(ws)
    if as_json:
        typer.echo(json.dumps(report, indent=1))
        return
    con = Console()
    if not report["annotations"]:
        con.print(f"no annotations pulled yet: annotate the tasks in Label Studio, then run "
                  f"`{quotes_command(ws, 'pull')}`")
        return
    a = report["agreement"]
    con.print(f"{report['annotations']} annotations on {report['documents']} documents; "
              f"{a['tasks']} with 2+ annotators ({a['pairs']} pairs); token kappa {a['token_kappa']}")
    t = Table("item", "F1", "support", title="inter-annotator span/relation F1")
    for k, v in a["f1"].items():
        t.add_row(k, f"{v['f1']:.3f}", str(v["support"]))
    con.print(t)
    t = Table("proposer", "docs", "unchanged", "precision", "recall", "F1", title="proposer vs annotations")
    for v, e in report["proposer"].items():
        o = e.get("overall", {})
        t.add_row(v, str(e["documents"]), str(e["unchanged"]), f"{o.get('precision', 0):.3f}",
                  f"{o.get('recall', 0):.3f}", f"{o.get('f1', 0):.3f}")
    con.print(t)
