"""Old import path of the annotation scheme, kept for callers outside the package: the scheme is
``builder.records.scheme``, its Label Studio conversions ``builder.records.studio`` and the task
score ``builder.records.scores``."""
from builder.records.scheme import (IMPLIED_RELATION, LABELS, QUOTE_TYPES, RELATION_ENDS, RELATIONS,  # noqa: F401
                                    LinkedQuote, SchemeError, attributions, canonical, linked_quotes, quote_id)
from builder.records.scores import task_score  # noqa: F401
from builder.records.studio import (LABEL_FROM_NAME, TO_NAME, TYPE_FROM_NAME, regions_from_results,  # noqa: F401
                                    results_from_regions)
