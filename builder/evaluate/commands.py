"""Scoring proposals against gold (../shared/gold/SCHEME.md § Scoring)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from builder.options import Config


def evaluate(
    gold: Annotated[Optional[list[Path]], typer.Option("--gold", help="Gold: Label Studio JSON files/folders or brat folders (text/ + attributions/); repeatable, and more paths may follow it (--gold A B)")] = None,
    more_gold: Annotated[Optional[list[Path]], typer.Argument(help="More gold paths (as after --gold)", show_default=False)] = None,
    pred: Annotated[Optional[Path], typer.Option("--pred", help="Predicted Label Studio tasks JSON (predictions[0].result); default: run the proposer on the gold texts")] = None,
    self_check: Annotated[bool, typer.Option("--self", help="Score the gold against itself (sanity check: 100 everywhere)")] = False,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write every figure, the calibration and the errors here as JSON")] = None,
    errors: Annotated[bool, typer.Option("--errors", help="Print the misses, false alarms and wrong speakers/cues/types")] = False,
    errors_out: Annotated[Optional[Path], typer.Option("--errors-file", help="Write the error listing here as JSON lines")] = None,
    per_doc: Annotated[bool, typer.Option("--per-doc/--overall-only", help="Show the per-document rows")] = True,
    scope: Annotated[str, typer.Option("--scope", help="Proposer scope: auto (each gold's own notion: broad for brat/PolNeAR, "
                                       "which also attributes thoughts and intentions; [propose] scope for ours), speech or broad")] = "auto",
    outlet_set: Annotated[bool, typer.Option("--outlet-set", help="Score only the gold attributions whose source is a news outlet "
                                             "(for gold without an outlet role, e.g. PolNeAR) and print outlet recall on them")] = False,
    spacy_lemmas: Annotated[bool, typer.Option("--spacy/--no-spacy", help="Cue lemmas with spaCy (else a rule lemmatizer)")] = True,
    config: Config = None,
) -> None:
    """Score proposals against gold: quote P/R/F1 at overlap 0.3, 0.8 and exact; speaker, cue
    and type accuracy; outlet P/R/F1; strict exact span F1 per role (PolNeAR-style); confidence
    calibration."""
    from rich.console import Console
    from rich.markup import escape

    from builder.evaluate import GoldError, load_gold, load_predictions, score
    from builder.evaluate.lemmas import CueLemmatizer
    from builder.evaluate.run import ProposerMissing, propose_gold, render, write_errors, write_json
    from builder.evaluate.scoring import gold_as_predictions
    from builder.options import settings

    console = Console(width=None if sys.stdout.isatty() else max(120, Console().width))
    problems: list = []
    if scope not in ("auto", "speech", "broad"):
        console.print(f"[red]error[/]: --scope {escape(repr(scope))}: use auto, speech or broad")
        raise typer.Exit(2)
    gold = list(gold or []) + list(more_gold or [])
    if not gold:
        console.print("[red]error[/]: no gold given: pass --gold PATH [PATH...] (Label Studio JSON or brat folders)")
        raise typer.Exit(2)
    try:
        gold_docs = load_gold(gold, problems)
        if not gold_docs:
            raise GoldError("no gold documents found in " + ", ".join(map(str, gold)))
        cases = None
        if outlet_set:
            from builder.evaluate.outlets import outlet_cases

            cases = outlet_cases(gold_docs)
            with_cases = {c.doc_id for c in cases}
            gold_docs = [g for g in gold_docs if g.doc_id in with_cases]
            if not gold_docs:
                raise GoldError("no attribution in the gold has a news outlet as its source; drop --outlet-set")
        if self_check:
            predictions = gold_as_predictions(gold_docs)
        elif pred is not None:
            predictions = load_predictions(pred, problems)
        else:
            cfg, _ = settings(config)
            with console.status(f"proposing quotes for {len(gold_docs)} gold document(s)"):
                try:
                    predictions = propose_gold(gold_docs, cfg, problems, scope=scope)
                except ProposerMissing:
                    raise
                except Exception as exc:  # the proposer is another stage: report, don't crash
                    raise ProposerMissing(f"the proposer failed ({type(exc).__name__}: {exc}); "
                                          "fix it, or pass --pred tasks.json") from exc
    except (GoldError, ProposerMissing) as exc:
        console.print(f"[red]error[/]: {escape(str(exc))}")
        raise typer.Exit(2)
    report = score(gold_docs, predictions, problems=problems, lemmatizer=CueLemmatizer(use_spacy=spacy_lemmas),
                   progress=True)
    if cases is not None:
        from builder.evaluate.align import align
        from builder.evaluate.outlets import outlet_recall

        aligned = {g.doc_id: p for g, p in zip(gold_docs, align(gold_docs, predictions, []))}
        report.outlet_set = outlet_recall(cases, aligned)
    render(report, console, per_doc=per_doc, errors=errors)
    if json_out:
        write_json(report, json_out)
        console.print(f"figures written to [bold]{json_out}[/]")
    if errors_out:
        write_errors(report, errors_out)
        console.print(f"{len(report.errors)} error row(s) written to [bold]{errors_out}[/]")
