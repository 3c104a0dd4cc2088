"""Sending a stored run to MLflow: one MLflow run per workflow run.

``studio run --mlflow URI`` (and ``record_run(..., mlflow_uri=URI)``) logs:

- parameters: every node's parameters as ``<node id>.<parameter>`` (as it
  ran: an inherited seed is the seed used), plus ``seed`` and ``overrides``;
- metrics: every Evaluate / Cross-Validate scalar as
  ``<node id>.<port>.<metric>`` (characters MLflow refuses in a metric name,
  such as the brackets of ``precision[benign]``, become ``_``;
  ``metric_names.json`` maps them back);
- artifacts: ``run_record.json`` (durations, environment, lineage),
  ``lineage.json``, the workflow as it ran (``workflow.axon.json``), and
  every model and fitted transform in its safe format (skops files with
  their digests, under ``models/<node>.<port>/``: nothing is pickled);
- tags: the Axon Studio run id, the workflow file and digest, the status;
- nested runs: one child run per setting a Tune Model Hyperparameters node
  tried (its parameters, mean score, standard deviation and rank) and per
  fold of a Cross-Validate Model node (that fold's metrics).

MLflow is an optional extra (``pip install 'axon-studio[mlflow]'``) and is
imported only here. A plain folder or ``file:`` URI is a local file store;
MLflow 3 keeps that backend only when ``MLFLOW_ALLOW_FILE_STORE`` is set,
which is set for such URIs (asked for by the user, so no surprise);
``http(s)://`` tracking servers work too, and database URIs need the full
``mlflow`` package.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nodes.errors import StudioError
from nodes.values import Table, json_safe, save_value
from studio.runs.store import StoredRun

#: Node types whose output table lists sub-runs: type id -> (port, what a row is).
#: (A declaration on the node class would be better; these are the built-ins.)
NESTED_RUN_OUTPUTS: dict[str, tuple[str, str]] = {
    "tune_model_hyperparameters": ("sweep", "setting"),
    "cross_validate_model": ("results", "fold"),
}

_STATUS = {"succeeded": "FINISHED", "failed": "FAILED", "cancelled": "KILLED"}
_BAD_KEY = re.compile(r"[^A-Za-z0-9_\-. /]")
_PARAM_LIMIT = 6000


class MlflowLoggingError(StudioError):
    """MLflow is missing, or refused the run."""


def tracking_uri(uri: str) -> str:
    """``uri`` as MLflow's tracking URI: a plain folder becomes a ``file:`` URI."""
    text = str(uri).strip()
    if not text:
        raise MlflowLoggingError("--mlflow needs a tracking URI.",
                                 fix="Give a folder (a local file store), file:///path, or "
                                     "http://host:5000.")
    if "://" in text or text.startswith("file:"):
        return text
    return Path(text).expanduser().resolve().as_uri()


def _import_client() -> Any:
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise MlflowLoggingError("MLflow is not installed.",
                                 fix="pip install 'axon-studio[mlflow]' (the tracking client), "
                                     "then run again.") from None
    return MlflowClient


def log_run(stored: StoredRun, uri: str,
            value: Callable[[str, str], Any] | None = None) -> dict[str, Any]:
    """Log ``stored`` to the MLflow tracking store at ``uri``; ``value(node,
    port)`` gives output values (models, sweep tables), when available.
    Returns {"uri", "experiment_id", "run_id", "nested_run_ids"}."""
    uri = tracking_uri(uri)
    if uri.startswith("file:"):
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    client_type = _import_client()
    value = value or (lambda node, port: None)
    try:
        from mlflow.exceptions import MlflowException
    except ImportError:  # pragma: no cover - the client import above would have failed
        MlflowException = Exception  # noqa: N806
    try:
        return _log(client_type(tracking_uri=uri), uri, stored, value)
    except MlflowException as error:
        raise MlflowLoggingError(f"MLflow at {uri} refused run {stored.run_id}: "
                                 f"{_first_line(error)}",
                                 fix="Check the tracking URI (a folder, file:///path or "
                                     "http://host:port); the run is kept in the local run "
                                     "store, so 'studio runs show' still has it.") from None
    except (OSError, ImportError) as error:
        raise MlflowLoggingError(f"the run {stored.run_id} could not be logged to {uri}: "
                                 f"{error}", fix="Check the tracking URI and that it can be "
                                                 "written (database URIs need 'pip install "
                                                 "mlflow'); the run is kept in the local run "
                                                 "store, so 'studio runs show' still has "
                                                 "it.") from None


def _log(client: Any, uri: str, stored: StoredRun,
         value: Callable[[str, str], Any]) -> dict[str, Any]:
    from mlflow.entities import Metric, Param, RunTag

    name = stored.workflow_name or "Axon Studio"
    experiment = client.get_experiment_by_name(name)
    experiment_id = (experiment.experiment_id if experiment is not None
                     else client.create_experiment(name))
    tags = {"axon.run_id": stored.run_id, "axon.status": stored.status,
            "axon.source": stored.source, "axon.workflow_path": stored.workflow_path,
            "axon.workflow_sha256": stored.workflow_sha256,
            "axon.environment": stored.record.get("environment", {}).get("fingerprint", "")}
    if stored.from_run:
        tags["axon.from_run"] = stored.from_run
    run = client.create_run(experiment_id, run_name=f"{name} ({stored.run_id})", tags=tags)
    run_id = run.info.run_id
    now = int(time.time() * 1000)

    params = [Param("seed", str(stored.seed)),
              Param("overrides", _param_text(json.dumps(stored.overrides)))]
    for node_id, node_params in stored.params.items():
        for key, param_value in node_params.items():
            params.append(Param(f"{node_id}.{key}", _param_text(_as_text(param_value))))
    names: dict[str, str] = {}
    metrics = []
    for output, scalars in stored.metrics.items():
        for metric, number in scalars.items():
            if number is None or not math.isfinite(number):
                continue
            key = metric_key(f"{output}.{metric}")
            names[key] = f"{output}.{metric}"
            metrics.append(Metric(key, float(number), now, 0))
    durations = [(node_id, node.get("duration_s"))
                 for node_id, node in stored.record.get("nodes", {}).items()]
    for node_id, seconds in durations:
        if isinstance(seconds, (int, float)):
            metrics.append(Metric(metric_key(f"duration_s.{node_id}"), float(seconds), now, 0))
    if stored.duration_s is not None:
        metrics.append(Metric("duration_s", float(stored.duration_s), now, 0))
    for start in range(0, len(params), 100):
        client.log_batch(run_id, params=params[start:start + 100])
    for start in range(0, len(metrics), 1000):
        client.log_batch(run_id, metrics=metrics[start:start + 1000])

    client.log_dict(run_id, stored.record, "run_record.json")
    client.log_dict(run_id, stored.record.get("lineage", {}), "lineage.json")
    client.log_dict(run_id, names, "metric_names.json")
    client.log_text(run_id, stored.document, "workflow.axon.json")
    with tempfile.TemporaryDirectory(prefix="axon-mlflow-") as scratch:
        for model in stored.record.get("lineage", {}).get("models", []):
            fitted = value(model["node"], model["port"])
            if fitted is None:
                continue
            folder = Path(scratch) / f"{model['node']}.{model['port']}"
            try:
                save_value(fitted, folder)
            except TypeError:
                continue  # a value with no safe format is described in the lineage only
            client.log_artifacts(run_id, str(folder),
                                 artifact_path=f"models/{model['node']}.{model['port']}")

    nested = []
    for node_id, node in stored.record.get("nodes", {}).items():
        port_and_kind = NESTED_RUN_OUTPUTS.get(node.get("type_id", ""))
        if port_and_kind is None:
            continue
        table = value(node_id, port_and_kind[0])
        if isinstance(table, Table):
            nested += _log_nested(client, experiment_id, run_id, stored, node_id, node,
                                  table, port_and_kind[1], RunTag, Param, Metric, now)
    client.set_terminated(run_id, status=_STATUS.get(stored.status, "FAILED"))
    return {"uri": uri, "experiment_id": experiment_id, "run_id": run_id,
            "nested_run_ids": nested}


def _log_nested(client: Any, experiment_id: str, parent: str, stored: StoredRun,
                node_id: str, node: dict[str, Any], table: Table, kind: str,
                RunTag: Any, Param: Any, Metric: Any, now: int) -> list[str]:  # noqa: N803
    """One child run per row of a sweep (kind 'setting') or per fold ('fold')."""
    frame = table.frame
    if kind == "fold":
        rows = frame[frame["fold"].astype(str).str.isdigit()]
        param_columns = ["fold"]
    else:
        rows = frame
        metric_columns = [c for c in frame.columns if c == "rank" or c.endswith("_std")
                          or f"{c}_std" in frame.columns]
        param_columns = [c for c in frame.columns if c not in metric_columns]
    children = []
    # Records, not iterrows: a row Series would make the integer settings floats.
    for index, row in zip(rows.index, rows.to_dict("records"), strict=True):
        label = (f"fold {row['fold']}" if kind == "fold"
                 else ", ".join(f"{c}={_as_text(row[c])}" for c in param_columns))
        child = client.create_run(
            experiment_id, run_name=f"{node.get('title', node_id)}: {label}",
            tags={"mlflow.parentRunId": parent, "axon.run_id": stored.run_id,
                  "axon.node": node_id, f"axon.{kind}": str(index)})
        params = [Param(str(c), _param_text(_as_text(json_safe(row[c]))))
                  for c in param_columns]
        metrics = []
        for column in frame.columns:
            if column in param_columns:
                continue
            number = json_safe(row[column])
            if isinstance(number, (int, float)) and not isinstance(number, bool):
                metrics.append(Metric(metric_key(str(column)), float(number), now, 0))
        client.log_batch(child.info.run_id, params=params, metrics=metrics)
        client.set_terminated(child.info.run_id)
        children.append(child.info.run_id)
    return children


def metric_key(name: str) -> str:
    """``name`` with the characters MLflow refuses in a metric key replaced by '_'."""
    return _BAD_KEY.sub("_", name)


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _param_text(text: str) -> str:
    return text if len(text) <= _PARAM_LIMIT else text[:_PARAM_LIMIT - 1] + "…"


def _first_line(error: Exception) -> str:
    message = getattr(error, "message", None) or str(error)
    return str(message).strip().splitlines()[0] if str(message).strip() else type(error).__name__


__all__ = ["NESTED_RUN_OUTPUTS", "MlflowLoggingError", "log_run", "metric_key",
           "tracking_uri"]
