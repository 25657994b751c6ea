"""Stage 5: train a proposer from an export (or a brat corpus) and use it as the next proposer.

``train_proposer(read_export(folder), "models/quotes/0.1.0")`` writes a spaCy pipeline folder
that ``spacy.load`` reads and ``[propose] proposer = "learned" | "hybrid"`` uses.
"""
from builder.lazy import lazy_exports

_EXPORTS = {
    "builder.train.data": ["Corpus", "TrainError", "read_brat", "read_export", "brat_rows"],
    "builder.train.trainer": ["LEARNED_PROPOSER", "TrainResult", "TrainSettings", "build_pipeline",
                              "check_output", "default_output", "format_strict", "train_proposer"],
}
__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
