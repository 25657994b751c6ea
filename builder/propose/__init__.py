"""Stage 2: spaCy components that propose quotes, speakers, cues and outlets.

``load_pipeline()`` gives a spaCy pipeline with the ``quotes_attribution`` and
``quotes_resolver`` components added; ``propose_texts(texts, doc_ids, cfg)`` gives
``Proposal`` records; ``propose_workspace(workspace, cfg)`` runs the datatrove pipeline
over the workspace's documents; ``propose_files(paths, cfg)`` makes Label Studio tasks.
Names are imported lazily so ``quotes --help`` stays instant.
"""
from builder.lazy import lazy_exports

_EXPORTS = {
    "builder.propose.core": ["load_pipeline", "propose_docs", "propose_texts", "read_inputs",
                             "propose_files", "write_tasks"],
    "builder.propose.pipeline": ["ProposeStep", "propose_pipeline", "propose_workspace"],
    "builder.propose.records": ["PROPOSER", "model_version", "proposal_of", "regions_of", "task_of"],
    "builder.propose.extract": ["Found", "find_quotes"],
    "builder.propose.lexicons": ["Lexicons", "load_lexicons"],
    "builder.propose.resolve": ["HeuristicResolver", "RESOLVERS", "Resolver"],
}
__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
