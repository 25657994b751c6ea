"""Stage 4: versioned, immutable Hugging Face dataset folders."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from builder.options import Config, WorkspaceOpt
from builder.workspace.folder import quotes_command

export_app = typer.Typer(
    help="Write a versioned Hugging Face dataset folder. Versions only go up: a --version below the latest one is "
         "refused (exit 2). An export identical to the latest version (the same data files) is not published: "
         "it says so, writes nothing and exits 0.",
    invoke_without_command=True)

Name = Annotated[Optional[str], typer.Option("--name", help="Dataset name", show_default="export.name, 'quotes'")]
ExportsDir = Annotated[Optional[Path], typer.Option("--exports-dir", help="Folder of datasets", show_default="export.exports_dir, 'exports'")]


@export_app.callback()
def export(
    ctx: typer.Context,
    version: Annotated[Optional[str], typer.Option("--version", help="Version to write, X.Y.Z, above the latest one (a version is never overwritten)")] = None,
    bump: Annotated[Optional[str], typer.Option("--bump", help="Write the latest version bumped: patch, minor or major")] = None,
    include_proposed: Annotated[Optional[bool], typer.Option("--include-proposed/--annotated-only", help="Add unreviewed proposals of unannotated documents as silver rows (origin=proposed)", show_default="export.include_proposed in quotes.toml, else what the latest version did")] = None,
    allow_shrink: Annotated[bool, typer.Option("--allow-shrink", help="Publish even when the new version has fewer documents than the latest one")] = False,
    name: Name = None,
    exports_dir: ExportsDir = None,
    formats: Annotated[Optional[list[str]], typer.Option("--format", help="Also write this format: spacy (DocBin files per split under spacy/); repeatable", show_default="export.formats")] = None,
    workspace: WorkspaceOpt = None,
    config: Config = None,
) -> None:
    """Export the workspace as exports/<name>/<version>/ (configs attributions, documents, tokens)."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = {"name": name, "exports_dir": exports_dir, "workspace": workspace, "config": config}
        return
    from builder.export import ExportError, export_dataset
    from builder.export.build import load_command
    from builder.export.versions import ExportUsageError, IdenticalToLatest
    from builder.options import settings

    cfg, ws = settings(config, workspace, existing=True)
    try:
        folder = export_dataset(ws, cfg, version=version, bump=bump, include_proposed=include_proposed,
                                name=name, exports_dir=exports_dir, formats=formats, allow_shrink=allow_shrink)
    except IdenticalToLatest as same:   # nothing new: not a failure
        typer.echo(str(same))
        typer.echo(f"Load it with: {load_command(same.folder)}")
        return
    except ExportError as exc:   # a wrong --version or --exports-dir is refused before anything is written
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2 if isinstance(exc, ExportUsageError) else 1)
    typer.echo(f"Exported {folder}")
    from builder.export.versions import version_notes

    for note in version_notes(folder):
        typer.echo(note)
    typer.echo(f"Load it with: {load_command(folder)}")


@export_app.command("diff")
def diff(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="Older version (X.Y.Z under exports/<name>/, or a folder)")],
    b: Annotated[str, typer.Argument(help="Newer version (X.Y.Z or a folder)")],
    limit: Annotated[int, typer.Option("--limit", help="Quotes listed per kind (0: all)")] = 50,
) -> None:
    """List quotes added, removed and changed between two versions (quotes whose only change is the
    proposer's model_version are counted in one line per old -> new pair)."""
    from builder.export import ExportError
    from builder.export.build import export_root
    from builder.export.diff import diff_lines, diff_versions, resolve_version
    from builder.options import settings

    opts = ctx.obj or {}
    cfg, _ws = settings(opts.get("config"), opts.get("workspace"))
    root = export_root(cfg, opts.get("name"), opts.get("exports_dir"))
    try:
        result = diff_versions(resolve_version(a, root), resolve_version(b, root))
    except ExportError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1)
    for line in diff_lines(result, a, b, limit):
        typer.echo(line)


@export_app.command("verify")
def verify(
    ctx: typer.Context,
    version: Annotated[str, typer.Argument(help="Version to check (X.Y.Z under exports/<name>/, or a folder)")],
) -> None:
    """Check a published version against its manifest: every file there, with its size and sha256."""
    from builder.export import ExportError
    from builder.export.build import export_root
    from builder.export.diff import resolve_version
    from builder.export.manifest import verify_manifest
    from builder.options import settings

    opts = ctx.obj or {}
    cfg, ws = settings(opts.get("config"), opts.get("workspace"))
    root = export_root(cfg, opts.get("name"), opts.get("exports_dir"))
    try:
        folder = resolve_version(version, root)
    except ExportError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1)
    problems = verify_manifest(folder)
    for problem in problems:
        typer.echo(f"damaged: {problem}", err=True)
    if problems:
        typer.echo(f"error: {folder} does not match its manifest ({len(problems)} problem(s)): export a new "
                   f"version from the workspace (`{quotes_command(ws, 'export --bump patch')}`)", err=True)
        raise typer.Exit(1)
    typer.echo(f"{folder}: every file matches manifest.json")
