"""Repeating a stored run: its workflow rebuilt exactly as it ran.

``studio run --from-run RUN`` and the app's "open this run's parameters"
both call :func:`workflow_from_run`. The store keeps the document as it
ran (with ``--set`` overrides and ``--seed`` applied), so the rebuilt
workflow gives the same cache keys, hence the same results, even when the
file has since been edited or moved. Trust is never stored: a rebuilt
workflow that holds code-running nodes needs the trust step again.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from studio.runs.store import RunStore, RunStoreError, StoredRun
from studio.workflow import Workflow, WorkflowFileError, loads

#: The node type a DataFrame bound in the Python API stands in (studio.api); its
#: data lives only in the process that ran it, so such a run cannot be repeated here.
BOUND_DATAFRAME_TYPE = "python_dataframe"


@dataclass
class RepeatedRun:
    """A stored run's workflow, ready to run again.

    ``workflow_path`` is the file the run came from when it still exists
    (relative paths and write permissions start there), else None.
    """

    workflow: Workflow
    workflow_path: Path | None
    run: StoredRun


def workflow_from_run(reference: str, *, runs_dir: str | os.PathLike[str] | None = None,
                      store: RunStore | None = None) -> RepeatedRun:
    """The workflow of the stored run ``reference`` (an id, a unique start of
    one, ``latest`` or ``latest~N``). Raises UnknownRunError or RunStoreError."""
    run = (store or RunStore(runs_dir)).resolve(reference)
    return RepeatedRun(rebuild_workflow(run), _existing(run.workflow_path), run)


def rebuild_workflow(run: StoredRun) -> Workflow:
    """The workflow document of ``run``, checked against the digest stored beside it."""
    if hashlib.sha256(run.document.encode()).hexdigest() != run.workflow_sha256:
        raise RunStoreError(f"the stored workflow of run {run.run_id} does not match its "
                            "digest (the store was edited or damaged).",
                            fix="Run the workflow file again instead.")
    if f'"type_id": "{BOUND_DATAFRAME_TYPE}"' in run.document:
        raise RunStoreError(f"run {run.run_id} read pandas DataFrames handed to studio.run "
                            "in Python; they are not stored, so it cannot be repeated from "
                            "the store.", fix="Run it again from Python with the same data=.")
    try:
        workflow = loads(run.document, source=f"run {run.run_id}")
    except WorkflowFileError as error:
        raise RunStoreError(f"the workflow of run {run.run_id} cannot be loaded any more: "
                            f"{error}", fix="Install the node types it used (a plugin?), "
                                            "or run the workflow file again.") from None
    workflow.info.seed = run.seed
    return workflow


def _existing(path: str) -> Path | None:
    if not path:
        return None
    candidate = Path(path)
    return candidate if candidate.is_file() else None
