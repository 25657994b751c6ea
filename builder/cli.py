"""The ``quotes`` command line: thin. Each stage keeps its commands in
``builder/<stage>/commands.py``; they parse arguments and call library functions
that the tests call too. Heavy imports happen inside the commands, so ``--help``
stays instant.
"""
from __future__ import annotations

import typer

from builder.annotate import commands as annotate_cmds
from builder.evaluate import commands as evaluate_cmds
from builder.export import commands as export_cmds
from builder.ingest import commands as ingest_cmds
from builder.propose import commands as propose_cmds
from builder.train import commands as train_cmds
from builder import demo as demo_cmds
from builder import run as run_cmds

app = typer.Typer(
    name="quotes",
    help="Quote attribution dataset builder: ingest -> propose -> annotate (Label Studio) -> export -> train "
         "(the next proposer).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Data flows one way; the verbs are listed in that order.
app.command("ingest")(ingest_cmds.ingest)
app.command("propose")(propose_cmds.propose)
app.command("eval")(evaluate_cmds.evaluate)
app.add_typer(annotate_cmds.studio_app, name="studio")
app.command("push")(annotate_cmds.push)
app.command("pull")(annotate_cmds.pull)
app.command("agreement")(annotate_cmds.agreement)
app.add_typer(export_cmds.export_app, name="export")
app.command("train")(train_cmds.train)
app.command("run")(run_cmds.run)
app.command("demo")(demo_cmds.demo)


def main() -> None:
    from builder.workspace.errors import WorkspaceError

    try:
        app()
    except WorkspaceError as err:  # a damaged shard, a busy workspace: the message says what to do
        typer.echo(f"error: {err}", err=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
