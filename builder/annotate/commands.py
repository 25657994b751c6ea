from __future__ import annotations

import typer

from builder.options import Config, WorkspaceOpt

studio_app = typer.Typer(help="Run a local Label Studio server.", no_args_is_help=True)


@studio_app.command("start")
def start(workspace: WorkspaceOpt = None, config: Config = None) -> None:
    """Start a local Label Studio server."""
    raise typer.Exit("studio start: not implemented yet")


def push(workspace: WorkspaceOpt = None, config: Config = None) -> None:
    """Create or update the Label Studio project and import proposals as predictions."""
    raise typer.Exit("push: not implemented yet")


def pull(workspace: WorkspaceOpt = None, config: Config = None) -> None:
    """Fetch annotations changed since the last pull."""
    raise typer.Exit("pull: not implemented yet")


def agreement(workspace: WorkspaceOpt = None, config: Config = None) -> None:
    """Inter-annotator agreement and proposer precision against annotations."""
    raise typer.Exit("agreement: not implemented yet")
