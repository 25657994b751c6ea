"""Records and their conversions: the layer every stage shares (stages import each other only
through it; import-linter checks this in ``make test``).

The records are derived from ``schemas/`` by ``builder.schema`` (``Document``, ``Region``,
``Relation``, ``Proposal``, ``Annotation``, ``Attribution``, ``Reject``); each conversion
between them and the outside is written once, here:

* ``builder.records.scheme``: the annotation scheme's names; regions -> linked quotes -> ``Attribution`` rows;
* ``builder.records.studio``: Label Studio result lists <-> regions and relations, proposals ->
  predictions and tasks, annotations -> ``Annotation`` rows;
* ``builder.records.choice``: which annotation of a document the export uses;
* ``builder.records.scores``: per-quote confidence and the task score;
* ``builder.records.agreement``: agreement between annotations.

Names are imported lazily so ``quotes --help`` stays instant.
"""
from builder.lazy import lazy_exports

_EXPORTS = {
    "builder.schema": ["Annotation", "Attribution", "Document", "Proposal", "Region", "Reject", "Relation",
                       "as_row", "from_row"],
    "builder.records.scheme": ["IMPLIED_RELATION", "LABELS", "QUOTE_TYPES", "RELATIONS", "RELATION_ENDS",
                               "LinkedQuote", "SchemeError", "attributions", "canonical", "linked_quotes", "quote_id"],
    "builder.records.studio": ["annotation_row", "prediction", "regions_from_results", "results_from_regions",
                               "task", "task_of"],
    "builder.records.choice": ["RESOLUTION", "choose", "is_live", "live", "resolve_annotations"],
    "builder.records.scores": ["confidence", "least_quote_score", "task_score"],
    "builder.records.agreement": ["annotator_agreement"],
}
__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
