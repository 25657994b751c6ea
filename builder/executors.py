"""Moved to ``builder.runner.executors`` (the runner layer); these names stay importable here."""
from builder.runner.executors import (  # noqa: F401
    KINDS, RUN_DEFAULTS, DiscardRankOutputs, ExecutorError, RankProgress, RankShardedRows,
    RankTolerantLocalExecutor, TimeProbe, executor_for, executor_options, incomplete_ranks, init_ray,
    make_executor, progress_of, quiet_logs, rank_shards, run_settings, with_probes,
)
