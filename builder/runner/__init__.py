"""The runner layer: the only code that builds and runs datatrove pipelines.

``executors`` makes a local, Slurm or Ray executor for a list of steps (and the steps the
runner adds: rank-sharded row reader, clean-up of failed attempts, progress, time probes);
``stages`` runs a list of stages as one resumable run with an id, completion markers and
stats. Stages call it; it calls only the workspace layer below it.
"""
from builder.lazy import lazy_exports

_EXPORTS = {
    "builder.runner.executors": ["ExecutorError", "RankShardedRows", "executor_for", "incomplete_ranks",
                                 "make_executor", "quiet_logs", "run_settings"],
    "builder.runner.stages": ["RunIncomplete", "RunSpec", "Stage", "StageProgress", "logging_dir", "new_run_id",
                              "run_stages", "stages_complete"],
}
__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
