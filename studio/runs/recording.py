"""Keeping a finished run: what ``studio run``, the app and the Python API call.

    stored = record_run(record, workflow, overrides=["split.fraction=0.8"],
                        workflow_path=path, engine=engine)

``workflow`` is the workflow as it ran (``--set`` overrides and ``--seed``
applied); its document is kept so the run can be repeated exactly
(:func:`workflow_from_run`). Metrics are read from the run's outputs,
either given (``outputs``: node id -> cache entry or {port: value}) or
otherwise fetched from ``engine`` (before ``engine.close()`` for a Dask executor,
which keeps outputs on its workers).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nodes.values import Metrics, json_safe
from studio.engine.record import RunRecord
from studio.runs.store import RunStore, StoredRun
from studio.workflow import Workflow, dumps

#: Where a run was started from (the store's ``source`` column).
SOURCES = ("cli", "gui", "api")


def record_run(record: RunRecord, workflow: Workflow, *, overrides: Sequence[str] = (),
               workflow_path: str | os.PathLike[str] | None = None,
               outputs: Mapping[str, Any] | None = None, engine: Any = None,
               runs_dir: str | os.PathLike[str] | None = None, mlflow_uri: str | None = None,
               source: str = "cli", from_run: str | None = None,
               store: RunStore | None = None) -> StoredRun:
    """Keep a finished run in the run store (and send it to MLflow when
    ``mlflow_uri`` is given); return what was stored.

    Raises RunStoreError when the store cannot be written and
    MlflowLoggingError when MLflow refuses the run (it is stored locally
    first, so nothing is lost).
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    values = _OutputValues(record, outputs, engine)
    document = dumps(workflow)
    path = workflow_path if workflow_path is not None else record.workflow.get("path") or ""
    stored = StoredRun(
        run_id=record.run_id, workflow_name=workflow.info.name or _stem(path),
        workflow_path=str(Path(path).expanduser().resolve()) if path else "",
        workflow_sha256=hashlib.sha256(document.encode()).hexdigest(),
        status=record.status, started=record.started, finished=record.finished,
        duration_s=record.duration_s, seed=int(record.seed), source=source,
        from_run=from_run, overrides=[str(o) for o in overrides], document=document,
        record=record.to_dict(), metrics=values.metrics())
    store = store or RunStore(runs_dir)
    store.add(stored)
    if mlflow_uri:
        from studio.runs.mlflow_log import log_run

        stored.mlflow = log_run(stored, mlflow_uri, values.value)
        store.set_mlflow(stored.run_id, stored.mlflow)
    return stored


class _OutputValues:
    """A run's output values: those given, else fetched from the engine on demand
    (one port at a time, so nothing is brought in that is not needed)."""

    def __init__(self, record: RunRecord, outputs: Mapping[str, Any] | None,
                 engine: Any) -> None:
        self.record = record
        self.outputs = outputs or {}
        self.engine = engine

    def value(self, node_id: str, port: str) -> Any:
        """One output value, or None when the run has none (failed, lost)."""
        node = self.record.nodes.get(node_id)
        if node is None or node.state not in ("done", "cached"):
            return None
        given = self.outputs.get(node_id)
        if given is not None:
            given = getattr(given, "outputs", given)
            if port in given:
                return given[port]
        if self.engine is None or not node.cache_key:
            return None
        try:
            entry = self.engine.fetch(node.cache_key, [port])
        except Exception:  # a lost Dask worker, a closed executor: that value is not kept
            return None
        return None if entry is None else entry.outputs.get(port)

    def metrics(self) -> dict[str, dict[str, float | None]]:
        """Every Metrics output's scalars: {"node.port": {name: value}} (NaN as None)."""
        metrics = {}
        for node_id, node in self.record.nodes.items():
            for port, info in node.outputs.items():
                if info.get("kind") != Metrics.kind:
                    continue
                value = self.value(node_id, port)
                if isinstance(value, Metrics):
                    metrics[f"{node_id}.{port}"] = json_safe(value.scalars)
        return metrics


def _stem(path: str | os.PathLike[str]) -> str:
    return Path(str(path)).name.removesuffix(".json").removesuffix(".axon") if path else ""
