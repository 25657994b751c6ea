from __future__ import annotations

import typer

from builder.options import Config, WorkspaceOpt

export_app = typer.Typer(help="Write a versioned Hugging Face dataset folder.", invoke_without_command=True)


@export_app.callback()
def export(ctx: typer.Context, workspace: WorkspaceOpt = None, config: Config = None) -> None:
    """Export the workspace as exports/<name>/<version>/."""
    if ctx.invoked_subcommand is None:
        raise typer.Exit("export: not implemented yet")
