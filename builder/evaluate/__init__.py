"""Scoring proposals against gold (../shared/gold/SCHEME.md § Scoring).

    from builder.evaluate import load_gold, load_predictions, score, render
    gold = load_gold(["../shared/gold"])            # or a brat folder: ../shared/polnear-dev
    report = score(gold, load_predictions("tasks.json"))   # or propose_gold(gold, cfg)
    report.overall.f1("0.3"), report.overall.speaker_accuracy, report.to_dict()
    render(report)                                   # rich tables

``score`` also takes ``{doc_id: (regions, relations)}`` or ``{doc_id: Proposal}``.
"""
from builder.evaluate.gold import (
    GoldDoc, GoldError, PredDoc, Problem, load_gold, load_predictions, parse_brat,
    predictions_from_proposals,
)
from builder.evaluate.score import (
    BIN_EDGES, LEVELS, SCORER_VERSION, Bin, Error, Figures, Report, calibration,
    gold_as_predictions, score,
)
from builder.evaluate.run import propose_gold, render, write_errors

__all__ = [
    "BIN_EDGES", "LEVELS", "SCORER_VERSION", "Bin", "Error", "Figures", "GoldDoc", "GoldError",
    "PredDoc", "Problem", "Report", "calibration", "gold_as_predictions", "load_gold",
    "load_predictions", "parse_brat", "predictions_from_proposals", "propose_gold", "render",
    "score", "write_errors",
]
