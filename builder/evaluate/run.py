"""The edges of ``quotes eval``: running the proposer on gold texts, rich tables, files."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from builder.evaluate.gold import GoldDoc, PredDoc, Problem, predictions_from_proposals
from builder.evaluate.scoring import LEVELS, Figures, Report


class ProposerMissing(RuntimeError):
    """``builder.propose.propose_texts`` is not available."""


def _with_scope(cfg: dict[str, Any], scope: str | None) -> dict[str, Any]:
    if not scope:
        return cfg
    return {**cfg, "propose": {**(cfg.get("propose") or {}), "scope": scope}}


def _trained_scope_note(cfg: dict[str, Any], scope: str | None) -> str | None:
    try:
        from builder.propose.core import trained_scope_note
    except ImportError:   # a proposer without our trained folders (propose_texts alone)
        return None
    return trained_scope_note(cfg, scope)


def seen_in_training(cfg: dict[str, Any], gold_docs: list[GoldDoc]) -> list[Problem]:
    """A warning per split of the trained model (``[propose] trained``) that held some of the gold
    texts: figures on them are not held out."""
    try:
        from builder.propose.core import trained_meta
    except ImportError:
        return []
    from builder.workspace.shards import doc_id_of

    meta = trained_meta(cfg) or {}
    out = []
    for split, ids in ((meta.get("quotes") or {}).get("text_ids") or {}).items():
        seen = sum(doc_id_of(g.text) in set(ids) for g in gold_docs)
        if seen:
            out.append(Problem(str(cfg["propose"]["trained"]),
                               f"{seen} of the {len(gold_docs)} gold document(s) were in its {split} split",
                               "its figures on them are not held out: score it on documents it did not learn from"))
    return out


def propose_gold(gold_docs: list[GoldDoc], cfg: dict[str, Any],
                 problems: list[Problem] | None = None, scope: str | None = "auto") -> dict[str, PredDoc]:
    """Run the proposer (``builder.propose.propose_texts``) on the gold texts.

    ``scope="auto"`` proposes each document with the notion of attribution its gold follows
    (``GoldDoc.scope``: "broad" for PolNeAR, which also attributes thoughts and intentions;
    the configured ``[propose] scope`` for our scheme); "speech"/"broad" force one for all;
    None keeps the configuration. Proposals that carry an ``error`` predict nothing and are
    listed in ``problems``.
    """
    try:
        from builder.propose import propose_texts
    except ImportError as exc:
        raise ProposerMissing(
            "the proposer (builder.propose.propose_texts) is not available yet: "
            "pass --pred tasks.json (Label Studio tasks with predictions) instead") from exc
    if problems is not None:
        problems += seen_in_training(cfg, gold_docs)
    groups: dict[str | None, list[GoldDoc]] = {}
    ours = (cfg.get("propose") or {}).get("scope") or "speech"   # a trained proposer's own scope is no default
    for g in gold_docs:
        groups.setdefault((g.scope or ours) if scope == "auto" else scope, []).append(g)
    proposals = []
    for doc_scope, docs in groups.items():
        note = _trained_scope_note(cfg, doc_scope)
        if note and problems is not None:
            problems.append(Problem(str(cfg["propose"]["trained"]),
                                    f"{len(docs)} gold document(s) scored in scope {doc_scope!r}", note))
        kwargs = {"publishers": [g.publisher for g in docs]} if any(g.publisher for g in docs) else {}
        proposals += list(propose_texts([g.text for g in docs], [g.doc_id for g in docs], _with_scope(cfg, doc_scope),
                                        **kwargs))
    for p in proposals:
        error = p.get("error") if isinstance(p, dict) else getattr(p, "error", None)
        if error and problems is not None:
            doc_id = p.get("doc_id") if isinstance(p, dict) else p.doc_id
            problems.append(Problem(doc_id, "proposer_error", "see the proposer's rejects; scored as predicting nothing", error))
    return predictions_from_proposals(proposals, {g.doc_id: g.text for g in gold_docs})


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def _frac(right: int, total: int) -> str:
    return f"{_pct(right / total if total else None)} ({right}/{total})"


def _prf(p: float | None, r: float | None, f: float | None) -> str:
    return f"{_pct(p)} / {_pct(r)} / {_pct(f)}"


def _doc_rows(report: Report, per_doc: bool) -> list[tuple[str, Figures, bool]]:
    rows = [(doc_id, f, False) for doc_id, f in report.per_doc.items()] if per_doc else []
    return rows + [(f"overall ({report.overall.docs} docs)", report.overall, True)]


def figures_table(report: Report, per_doc: bool = True):
    """Quote precision / recall / F1 at overlap 0.3, 0.8 and exact, per document and overall."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"quotes: precision / recall / F1 in % ({report.scorer_version}, cue lemmas: {report.cue_lemmas})")
    table.add_column("document", overflow="fold", max_width=40)
    table.add_column("gold", justify="right")
    table.add_column("pred", justify="right")
    for lv in LEVELS:
        table.add_column(f"@{lv}", justify="right", no_wrap=True)
    for name, f, total in _doc_rows(report, per_doc):
        if total and per_doc:
            table.add_section()
        table.add_row(escape(name), str(f.gold_quotes), str(f.pred_quotes),
                      *[_prf(f.precision(lv), f.recall(lv), f.f1(lv)) for lv in LEVELS],
                      style="bold" if total else None)
    return table


def attributes_table(report: Report, per_doc: bool = True):
    """Speaker, cue and type accuracy among quotes matched at 0.3; outlet P/R/F1."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="among quotes matched at 0.3: accuracy in % (right/total); outlets")
    table.add_column("document", overflow="fold", max_width=40)
    for name in ("speaker", "cue", "type"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("outlet P / R / F1", justify="right", no_wrap=True)
    for name, f, total in _doc_rows(report, per_doc):
        if total and per_doc:
            table.add_section()
        table.add_row(escape(name), _frac(f.speaker_right, f.speaker_total), _frac(f.cue_right, f.cue_total),
                      _frac(f.type_right, f.type_total),
                      _prf(f.outlet_precision, f.outlet_recall, f.outlet_f1) + f" ({f.outlet_gold} gold)",
                      style="bold" if total else None)
    return table


def strict_table(report: Report):
    """Exact span P/R/F1 per role (PolNeAR-style), beside the published BERT-CRF figures."""
    from rich.table import Table

    from builder.evaluate.strict import PUBLISHED, PUBLISHED_NAME, ROLES

    table = Table(title="strict: exact span match per role (word tokens at the same offsets, punctuation "
                        "and a leading \"that\" ignored), in %")
    for col in ("role", "gold", "pred", "right", "P / R / F1", f"F1 of {PUBLISHED_NAME}"):
        table.add_column(col, justify="left" if col == "role" else "right", no_wrap=True)
    for role in ROLES:
        c = report.strict.roles[role]
        table.add_row(role, str(c.gold), str(c.pred), str(c.right), _prf(c.precision(), c.recall(), c.f1()),
                      _pct(PUBLISHED[role]))
    return table


def calibration_table(report: Report):
    from rich.table import Table

    who = ", ".join(report.proposers) or "the predictions"
    table = Table(title=f"confidence calibration of {who}: share right per score bin "
                        "(right = matched at 0.3 with the right speaker)")
    table.add_column("score bin")
    table.add_column("count", justify="right")
    table.add_column("right", justify="right")
    table.add_column("precision", justify="right")
    last = len(report.calibration) - 1
    for i, b in enumerate(report.calibration):
        table.add_row(f"[{b.low:.1f}, {b.high:.1f}{']' if i == last else ')'}", str(b.count), str(b.right),
                      _pct(b.precision))
    return table


def errors_table(report: Report, limit: int | None = None):
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="misses, false alarms and wrong attributes (matching at 0.3)")
    for col in ("document", "kind", "span", "text", "gold", "proposed"):
        table.add_column(col, overflow="fold")
    for e in report.errors[:limit]:
        table.add_row(*map(escape, (e.doc_id, e.kind, f"{e.start}-{e.end}", e.text, e.gold or "", e.pred or "")))
    return table


def render(report: Report, console: Any = None, *, per_doc: bool = True, errors: bool = False) -> None:
    """Print the figures (per document and overall), calibration, problems and optionally errors."""
    from rich.console import Console
    from rich.markup import escape

    console = console or Console()
    console.print(figures_table(report, per_doc=per_doc))
    console.print(attributes_table(report, per_doc=per_doc))
    console.print(strict_table(report))
    if report.outlet_set is not None:
        o = report.outlet_set
        console.print(f"[bold]outlet set: outlet recall {_frac(o.found, o.cases)}[/] (attributions whose source is a "
                      f"news outlet; quote found at 0.3 in {_frac(o.quote_found, o.cases)})")
        if errors:
            for doc_id, outlet, start in o.misses:
                console.print(escape(f"  outlet set miss: {doc_id} @{start}: {outlet}"))
    console.print(calibration_table(report))
    right, count = report.high_confidence
    console.print(f"[bold]precision of proposals scored >= 0.8: {_frac(right, count)}[/]"
                  + (f"; {report.unscored} proposal(s) without a score" if report.unscored else ""))
    if errors:
        console.print(errors_table(report))
    for p in report.problems:
        console.print("[yellow]warning[/]: " + escape(f"{p.source}: {p.reason}"
                                                      + (f" ({p.detail})" if p.detail else "") + f" — {p.hint}"))


def write_errors(report: Report, path: str | Path) -> None:
    """The error listing as JSON lines (one ``Error`` per line)."""
    with Path(path).open("w", encoding="utf-8") as fh:
        for e in report.errors:
            fh.write(json.dumps(asdict(e), ensure_ascii=False) + "\n")


def write_json(report: Report, path: str | Path) -> None:
    Path(path).write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
