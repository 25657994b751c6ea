"""Scoring proposals against gold (../shared/gold/SCHEME.md § Scoring).

    from builder.evaluate import load_gold, load_predictions, score, render
    gold = load_gold(["../shared/gold"])            # or a brat folder: ../shared/polnear-dev
    report = score(gold, load_predictions("tasks.json"))   # or propose_gold(gold, cfg)
    report.overall.f1("0.3"), report.overall.speaker_accuracy, report.to_dict()
    render(report)                                   # rich tables
    report.strict.f1("content")                      # exact span F1 per role, PolNeAR-style
    strict_scores(gold, predictions).to_dict()       # the same alone, for a benchmark

``score`` also takes ``{doc_id: (regions, relations)}`` or ``{doc_id: Proposal}``.
Names are imported lazily so ``quotes --help`` stays instant.
"""
from builder.lazy import lazy_exports

_EXPORTS = {
    "builder.evaluate.gold": ["GoldDoc", "GoldError", "PredDoc", "Problem", "load_gold", "load_predictions",
                              "parse_brat", "predictions_from_proposals"],
    "builder.evaluate.scoring": ["BIN_EDGES", "LEVELS", "SCORER_VERSION", "Bin", "Error", "Figures", "Report",
                               "calibration", "gold_as_predictions", "score"],
    "builder.evaluate.run": ["ProposerMissing", "propose_gold", "render", "write_errors", "write_json"],
    "builder.evaluate.lemmas": ["CueLemmatizer"],
    "builder.evaluate.strict": ["ROLES", "StrictFigures", "role_spans", "strict_doc", "strict_scores"],
    "builder.evaluate.align": ["align", "remap"],
}
__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
