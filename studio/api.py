"""The Python API: run workflows from scripts and notebooks.

    import studio

    workflow = studio.load("examples/housing_regression.axon.json")
    result = studio.run(workflow, data={"dataset": frame}, set={"split.fraction": 0.8})
    result.table("score")            # a pandas DataFrame
    result.metrics("evaluate")       # {"mae": 3.19, ...}

``run`` uses the same engine, cache keys, run records and run store as
``studio run``: results of unchanged nodes are reused within the process
(or across processes with ``cache="disk"``, the cache of ``studio run
--disk-cache``), and every run is kept in the run store (``studio runs
list``). A DataFrame bound to a dataset node replaces that node for the
run; its digest is the node's cache key and the dataset's lineage. See
docs/python-api.md.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from nodes.context import DatasetRead, RunContext
from nodes.contract import ScoringRole
from nodes.errors import StudioError
from nodes.node import Node
from nodes.params import StringParam
from nodes.ports import TABLE, Output
from nodes.registry import NodeRegistry
from nodes.values import Metrics, Table, json_safe
from studio.engine import DiskCache, Engine, MemoryCache, RunRecord
from studio.runs.repeat import BOUND_DATAFRAME_TYPE
from studio.runs.store import StoredRun
from studio.workflow import NodeInstance, Workflow, load_workflow

__all__ = ["RunResult", "Workflow", "load", "run"]


class ApiError(StudioError):
    """A mistake in a call of the Python API (a bad node name, binding or option)."""


def load(path: str | os.PathLike[str]) -> Workflow:
    """Read a workflow file (``*.axon.json``); raises WorkflowFileError listing every problem."""
    return load_workflow(path)


# -- DataFrames bound to dataset nodes ---------------------------------------------

#: digest -> the table bound in a run in progress (removed when the run ends).
_BOUND: dict[str, Table] = {}
_BOUND_LOCK = threading.Lock()


class BoundDataFrame(Node):
    """A pandas DataFrame handed to ``studio.run(data=...)`` (Python API only).

    Output 'data': the DataFrame as a table. It stands in for the dataset
    node it was bound to, for one run; its digest (of the values and the
    column roles) is its cache key and the dataset's lineage. It is never
    saved in a workflow file.
    """

    type_id = BOUND_DATAFRAME_TYPE
    title = "DataFrame (Python)"
    category = "Data"
    scoring_role = ScoringRole.TRAINING_ONLY

    class Outputs:
        data = Output(TABLE, help="The DataFrame handed to studio.run.")

    digest = StringParam("", allow_empty=False, help="The digest of the bound table.")
    name = StringParam("", help="Where the DataFrame came from (the node it stands in for).")

    @classmethod
    def source_digest(cls, params: Mapping[str, Any]) -> str | None:
        return str(params.get("digest") or "") or None

    def run(self, ctx: RunContext) -> dict[str, Any]:
        with _BOUND_LOCK:
            table = _BOUND.get(self.digest)
        if table is None:
            raise ApiError(f"'{self.label}': its DataFrame is no longer bound.",
                           fix="Pass it again with studio.run(..., data={...}).")
        ctx.record_dataset(DatasetRead(name=self.name or self.label, sha256=self.digest,
                                       source="pandas DataFrame (Python API)",
                                       rows=len(table.frame), columns=len(table.frame.columns)))
        return {"data": table}


_REGISTRIES: dict[int, NodeRegistry] = {}


def _with_bound_type(registry: NodeRegistry) -> NodeRegistry:
    """``registry`` plus BoundDataFrame (built once per registry)."""
    if BOUND_DATAFRAME_TYPE in registry:
        return registry
    key = id(registry)
    if key not in _REGISTRIES:
        overlay = NodeRegistry(registry.all())
        overlay.register(BoundDataFrame)
        _REGISTRIES[key] = overlay
    return _REGISTRIES[key]


def _roles_for(workflow: Workflow, node: NodeInstance, frame: pd.DataFrame) -> dict[str, str]:
    """The roles the replaced node would have given: its label column (a
    'label_column' parameter, or a sample dataset's label and id columns)."""
    roles: dict[str, str] = {}
    label = node.params.get("label_column")
    if node.type_id == "sample_dataset":
        from nodes.data.datasets import dataset_info

        info = dataset_info(node.params["dataset"])
        label = info["label"]
        roles.update(dict.fromkeys(info.get("id_columns", []), "id"))
    if label:
        roles[label] = "label"
    return {c: r for c, r in roles.items() if c in frame.columns}


def _bind(workflow: Workflow, data: Mapping[str, Any]) -> tuple[Workflow, list[str]]:
    """A copy of ``workflow`` whose named dataset nodes read the given tables."""
    bound = workflow.copy()
    bound.registry = _with_bound_type(workflow.registry)
    digests = []
    for name, value in data.items():
        node = _node(bound, name)
        node_type = bound.node_type(node.id)
        if node_type.inputs or list(node_type.outputs) != ["data"]:
            raise ApiError(f"data={{{name!r}: ...}}: '{bound.label(node.id)}' is not a dataset "
                           "node (a DataFrame replaces a node with no inputs and one output "
                           "'data').", fix="Bind the DataFrame to a Sample Dataset or Import "
                                           "Data node.")
        if isinstance(value, Table):
            table = value
        elif isinstance(value, pd.DataFrame):
            table = Table(value, _roles_for(bound, node, value))
        else:
            raise ApiError(f"data={{{name!r}: ...}} is a {type(value).__name__}, not a pandas "
                           "DataFrame.", fix="Pass a DataFrame (or a nodes.Table with roles).")
        digest = table.digest()
        with _BOUND_LOCK:
            _BOUND[digest] = table
        digests.append(digest)
        bound.nodes[node.id] = NodeInstance(
            node.id, BOUND_DATAFRAME_TYPE, BoundDataFrame.version,
            {"digest": digest, "name": bound.label(node.id)}, node.position, node.title,
            node.comment)
    return bound, digests


def _node(workflow: Workflow, name: str) -> NodeInstance:
    try:
        return workflow.find_node(name)
    except StudioError as error:
        raise ApiError(error.message, fix=error.fix) from None


# -- running -----------------------------------------------------------------------

_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def _engine(cache: Any) -> tuple[Engine, bool]:
    """The shared engine for ``cache`` (None: in memory; "disk" or a folder: on disk;
    False: no cache), and whether to use the cache."""
    if cache is False:
        return Engine(cache=MemoryCache(max_entries=64)), False
    if cache is None or cache == "memory":
        key, make = "memory", MemoryCache
    elif cache == "disk":
        key, make = "disk", DiskCache
    elif isinstance(cache, (str, os.PathLike)):
        folder = Path(cache).expanduser().resolve()
        key, make = f"disk:{folder}", lambda: DiskCache(folder)
    else:
        raise ApiError(f"cache={cache!r} is not a cache.",
                       fix="Use None (in memory), 'disk', a folder, or False (no cache).")
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = Engine(cache=make())
        return _ENGINES[key], True


def run(workflow: Workflow | str | os.PathLike[str], *, data: Mapping[str, Any] | None = None,
        set: Mapping[str, Any] | None = None, seed: int | None = None,  # noqa: A002
        targets: Iterable[str] | None = None, trust: bool = False, cache: Any = None,
        record: bool = True, runs_dir: str | os.PathLike[str] | None = None,
        mlflow: str | None = None) -> RunResult:
    """Run a workflow (or a workflow file) and return its results.

    ``data`` binds DataFrames to dataset nodes by id or title; ``set`` sets
    parameters for this run ({"split.fraction": 0.8}: node id or title, a
    dot, the parameter); ``seed`` is the workflow seed; ``targets`` runs only
    those nodes and what they need; ``trust=True`` is the trust step for
    nodes that run code stored in the workflow. ``cache``: None (in this
    process), "disk" (``studio run --disk-cache``'s folder), a folder, or
    False (recompute everything). ``record=False`` keeps the run out of the
    run store (``runs_dir`` chooses another store); ``mlflow`` logs it to
    MLflow as ``studio run --mlflow`` does.

    The workflow passed in is not changed. Raises WorkflowInvalidError
    (nothing ran), or ApiError for a bad argument; a node that fails does
    not raise: see ``RunResult.status`` and ``RunResult.raise_for_status()``.
    """
    path = None
    if not isinstance(workflow, Workflow):
        path = Path(workflow)
        workflow = load(path)
    prepared = workflow.copy()
    overrides = []
    for name, value in (set or {}).items():
        node_name, dot, parameter = str(name).rpartition(".")
        if not dot:
            raise ApiError(f"set={{{name!r}: ...}} is not 'NODE.PARAMETER'.",
                           fix="For example set={'split.fraction': 0.8}.")
        node = _node(prepared, node_name)
        param = prepared.node_type(node.id).parameters.get(parameter)
        if param is not None and getattr(param, "code", False):
            raise ApiError(f"set={{{name!r}: ...}}: '{parameter}' is code the node runs; code "
                           "is never set from outside the workflow.",
                           fix="Edit the workflow, read the code, and run with trust=True.")
        prepared.set_param(node.id, parameter, value)
        overrides.append(f"{name}={json.dumps(json_safe(value))}")
    if seed is not None:
        prepared.info.seed = int(seed)
    bound_digests: list[str] = []
    if data:
        prepared, bound_digests = _bind(prepared, data)
    engine, use_cache = _engine(cache)
    try:
        run_record = engine.run(prepared, targets=targets, use_cache=use_cache, trusted=trust,
                                workflow_path=path.resolve() if path else None)
        stored = None
        if record:
            from studio.runs import record_run

            stored = record_run(run_record, prepared, overrides=overrides, workflow_path=path,
                                engine=engine, runs_dir=runs_dir, mlflow_uri=mlflow,
                                source="api")
    finally:
        with _BOUND_LOCK:
            for digest in bound_digests:
                _BOUND.pop(digest, None)
    return RunResult(run_record, prepared, engine, stored)


@dataclass
class RunResult:
    """What ``studio.run`` returns: the record, and each node's outputs on demand.

    Tables come back as pandas DataFrames, metrics as dicts of numbers;
    ``value`` gives the raw value (a Model, a Metrics with its curves...).
    Nodes are named by id or title.
    """

    record: RunRecord
    workflow: Workflow
    engine: Engine = field(repr=False)
    stored: StoredRun | None = None
    _values: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def status(self) -> str:
        """'succeeded', 'failed' or 'cancelled'."""
        return self.record.status

    @property
    def succeeded(self) -> bool:
        return self.record.status == "succeeded"

    def raise_for_status(self) -> RunResult:
        """Raise ApiError naming the failed nodes and their errors, unless the run succeeded."""
        if not self.succeeded:
            failed = "; ".join(f"'{n.title}': {n.error}" for n in self.record.nodes.values()
                               if n.state == "failed")
            raise ApiError(f"run {self.run_id} {self.status}: {failed or self.record.error}",
                           fix="Fix the failing node and run again.")
        return self

    def _node_id(self, node: str) -> str:
        node_id = _node(self.workflow, node).id
        if node_id not in self.record.nodes:
            raise ApiError(f"'{node}' was not part of this run (see its targets).")
        return node_id

    def values(self, node: str) -> dict[str, Any]:
        """Every output of ``node`` as the engine holds it (Table, Model, Metrics...)."""
        node_id = self._node_id(node)
        if node_id not in self._values:
            node_record = self.record.nodes[node_id]
            if node_record.state not in ("done", "cached"):
                raise ApiError(f"'{node_record.title}' has no outputs: it is "
                               f"{node_record.state}"
                               + (f" ({node_record.error})" if node_record.error else "") + ".",
                               fix="See result.record for what happened.")
            entry = self.engine.fetch(node_record.cache_key) if node_record.cache_key else None
            if entry is None:
                raise ApiError(f"the outputs of '{node_record.title}' are no longer cached.",
                               fix="Run again (unchanged nodes are quick), or use "
                                   "cache='disk'.")
            self._values[node_id] = dict(entry.outputs)
        return self._values[node_id]

    def value(self, node: str, port: str | None = None) -> Any:
        """One output of ``node`` (``port`` may be left out when it has one output)."""
        values = self.values(node)
        if port is None:
            if len(values) != 1:
                raise ApiError(f"'{node}' has outputs {', '.join(values)}; say which.",
                               fix=f"e.g. result.value({node!r}, {next(iter(values))!r})")
            return next(iter(values.values()))
        if port not in values:
            raise ApiError(f"'{node}' has no output {port!r} (it has {', '.join(values)}).")
        return values[port]

    def outputs(self, node: str) -> dict[str, Any]:
        """Every output of ``node``: tables as DataFrames, metrics as dicts, others as is."""
        return {port: _plain(value) for port, value in self.values(node).items()}

    def table(self, node: str, port: str | None = None) -> pd.DataFrame:
        """A table output of ``node`` as a pandas DataFrame (``port``: which one, when
        the node has several; default: its only table)."""
        if port is None:
            tables = [p for p, v in self.values(node).items() if isinstance(v, Table)]
            if len(tables) != 1:
                raise ApiError(f"'{node}' has {len(tables)} table outputs "
                               f"({', '.join(tables) or 'none'}); say which.",
                               fix="e.g. result.table('split', 'train')")
            port = tables[0]
        value = self.value(node, port)
        if not isinstance(value, Table):
            raise ApiError(f"output {port!r} of '{node}' is a {type(value).__name__}, "
                           "not a table.")
        return value.frame

    def metrics(self, node: str | None = None) -> dict[str, Any]:
        """The metrics of ``node`` ({name: number}); without ``node``, of every
        Evaluate node as {"node.port": {name: number}} (as ``studio run --json``)."""
        if node is not None:
            found = [v for v in self.values(node).values() if isinstance(v, Metrics)]
            if not found:
                raise ApiError(f"'{node}' has no metrics output.")
            return json_safe(found[0].scalars)
        result = {}
        for node_id, node_record in self.record.nodes.items():
            if any(info.get("kind") == Metrics.kind for info in node_record.outputs.values()):
                for port, value in self.values(node_id).items():
                    if isinstance(value, Metrics):
                        result[f"{node_id}.{port}"] = json_safe(value.scalars)
        return result


def _plain(value: Any) -> Any:
    if isinstance(value, Table):
        return value.frame
    if isinstance(value, Metrics):
        return json_safe(value.scalars)
    return value
