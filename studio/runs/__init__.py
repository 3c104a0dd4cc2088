"""Run history (Qt-free): the local run store, comparing runs, repeating one, MLflow.

What the CLI, the app's Runs panel and the Python API use:

- :func:`record_run` keeps a finished run (and sends it to MLflow);
- :class:`RunStore` lists and finds stored runs (``list``, ``resolve``, ``get``);
- :func:`compare_runs` gives parameter changes and metric deltas of two runs;
- :func:`workflow_from_run` rebuilds the workflow a run ran, to run it again.

See docs/runs.md.
"""

from studio.runs.compare import MetricDelta, ParameterChange, RunComparison, compare_runs
from studio.runs.recording import record_run
from studio.runs.repeat import RepeatedRun, rebuild_workflow, workflow_from_run
from studio.runs.store import (
    RunStore,
    RunStoreError,
    StoredRun,
    UnknownRunError,
    default_runs_dir,
)

__all__ = [
    "MetricDelta", "ParameterChange", "RepeatedRun", "RunComparison", "RunStore",
    "RunStoreError", "StoredRun", "UnknownRunError", "compare_runs", "default_runs_dir",
    "rebuild_workflow", "record_run", "workflow_from_run",
]
