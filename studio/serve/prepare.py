"""Prepare for publishing: derive the scoring pipeline from a trained workflow.

    scoring = prepare_scoring_workflow(workflow, engine)

The result is itself a workflow (open it, inspect it, save it):

- Web Service Input marks where request rows enter, Web Service Output
  where the answer leaves. When the user placed them, the pipeline is what
  lies between them; otherwise Input goes where the rows reaching Score
  Model left the training-only part (a split, a dataset) and Output after
  Score Model.
- Every value that reaches the pipeline from outside it (the trained model,
  fitted transforms) is taken from the engine's last run of the workflow
  (run now if needed; unchanged nodes are cache hits), saved in a safe
  format and loaded by a Trained Model / Fitted Transform node that checks
  its lineage digest.
- A node on the path that fits a transformation on the rows it gets (e.g.
  Normalize Data) is replaced by Apply Transformation with the transform it
  fitted in training: requests are transformed, never refitted on.
- Training and evaluation branches are left out.

What each node is in a service comes only from its declared scoring role
(``Node.scoring_role_for``, see nodes/contract.py): row-wise nodes run per
request, fitted nodes are replaced by their fitted transform, training-only
nodes end the scoring path, and a path through a node that must not run in
a service, or whose role is undeclared, is refused naming the node and the
fix. No node type is known here by its id.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from nodes.contract import CompiledStep, ScoringRole, ServiceBoundary
from nodes.node import Node
from nodes.ports import MODEL, TABLE, TRANSFORM
from nodes.registry import NodeRegistry
from nodes.values import Table, json_safe, save_value, value_digest
from studio.engine import Engine
from studio.engine.graph import build_graph
from studio.serve.errors import PrepareError
from studio.workflow import Workflow, WorkflowInvalidError, dumps

# -- what the service needs of the catalog, found by declaration -----------------


def boundary_type(registry: NodeRegistry, boundary: ServiceBoundary) -> type[Node]:
    """The node type that marks where requests enter (INPUT) or answers leave (OUTPUT)."""
    return _one(registry, lambda t: t.service_boundary is boundary,
                f"a node type with service_boundary {boundary.name}")


def stored_value_type(registry: NodeRegistry, kind: str) -> type[Node] | None:
    """The node type that loads a stored value of ``kind`` ("model", "transform")."""
    found = [t for t in registry.all() if t.scoring_role is ScoringRole.FROZEN_VALUE
             and t.loads_stored_kind == kind]
    return found[0] if len(found) == 1 else None


def apply_transform_type(registry: NodeRegistry) -> type[Node]:
    """The node type that applies a fitted transform, which replaces a fitting node."""
    return _one(registry, lambda t: t.compiled_step is CompiledStep.APPLY_TRANSFORM,
                "a node type with compiled_step APPLY_TRANSFORM")


def _one(registry: NodeRegistry, test: Any, what: str) -> type[Node]:
    found = [t for t in registry.all() if test(t)]
    if len(found) != 1:
        raise PrepareError(f"the installed node types hold {len(found)} of {what}, not one.",
                           fix="Check the installed plugins.")
    return found[0]


def is_boundary(workflow: Workflow, node_id: str, boundary: ServiceBoundary) -> bool:
    return workflow.node_type(node_id).service_boundary is boundary


def boundary_nodes(workflow: Workflow, boundary: ServiceBoundary) -> list[str]:
    return [n for n in workflow.nodes if is_boundary(workflow, n, boundary)]


def stored_value_nodes(workflow: Workflow) -> list[str]:
    """The nodes that load a value fixed at export (trained models, fitted transforms)."""
    return [n for n in workflow.nodes if role_of(workflow, n) is ScoringRole.FROZEN_VALUE]


def role_of(workflow: Workflow, node_id: str) -> ScoringRole:
    return workflow.node_type(node_id).scoring_role_for(workflow.nodes[node_id].params)


def role_refusal(workflow: Workflow, node_id: str, role: ScoringRole,
                 where: str) -> PrepareError:
    """Why a node of ``role`` cannot be where a service would run it per request."""
    label = workflow.label(node_id)
    if role is ScoringRole.TRAINING_ONLY:
        return PrepareError(f"'{label}' is for training only (it learns from, samples or "
                            f"evaluates whole tables), so it cannot run on request rows {where}.",
                            fix="Move it out of the scoring path, or place Web Service Input "
                                "after it.")
    if role is ScoringRole.NOT_IN_SERVICE:
        return PrepareError(f"'{label}' must not run inside a web service (it writes files, "
                            f"runs stored code or simulates hardware), and it sits {where}.",
                            fix="Remove it from the scoring path, or place Web Service Input "
                                "after it.")
    if role is ScoringRole.FITTED:
        return PrepareError(f"'{label}' fits on the rows it gets, and {where} it would fit on "
                            "each request's rows.",
                            fix="Prepare the service from the training workflow, so the "
                                "transform fitted in training is applied.")
    return PrepareError(f"'{label}' does not declare how it behaves in a web service (its "
                        f"scoring_role), so it cannot run {where}.",
                        fix="Declare scoring_role on its node type (see docs/node-api.md), "
                            "or place Web Service Input after it.")


def prepare_scoring_workflow(workflow: Workflow, engine: Engine, *,
                             artifact_dir: str | Path | None = None,
                             trusted: bool = False) -> Workflow:
    """The scoring pipeline of a trained ``workflow`` (see the module docstring).

    Fitted values are saved under ``artifact_dir`` (default: a new temporary
    folder); ``export_bundle`` copies them into the bundle. Raises
    PrepareError when the workflow has no single scoring path, when the
    training run fails, or when it would run code stored in the workflow
    that was not trusted (``trusted`` is the explicit trust step).
    """
    plan = _find_path(workflow)
    constants = _constant_edges(workflow, plan["path"])
    targets = sorted(({e.source for e in constants} | set(plan["fitting"])
                      | {plan["entry_source"]}) - {None})
    try:
        record = engine.run(workflow, targets=targets, trusted=trusted) if targets else None
    except WorkflowInvalidError as error:
        raise PrepareError(f"the training workflow cannot run: {error}",
                           fix="Fix the problems listed, then prepare again.") from None
    if record is not None and record.status != "succeeded":
        failed = [f"'{n.title}': {n.error}" for n in record.nodes.values() if n.error]
        raise PrepareError("the training workflow did not run to the end, so there are no "
                           "fitted models to publish: " + "; ".join(failed),
                           fix="Fix the failing node and prepare again.")

    folder = Path(artifact_dir) if artifact_dir else Path(tempfile.mkdtemp(prefix="axon-scoring-"))
    folder.mkdir(parents=True, exist_ok=True)
    scoring = Workflow(workflow.registry)
    scoring.info.name = f"{workflow.info.name or 'Workflow'} (scoring)"
    scoring.info.description = (f"Scoring pipeline prepared from '{workflow.info.name}'. "
                                + workflow.info.description).strip()
    scoring.info.seed = workflow.info.seed
    apply_type = apply_transform_type(workflow.registry)

    entry_table = _entry_table(workflow, engine, plan)
    artifacts: list[dict[str, Any]] = []
    path, fitting = plan["path"], plan["fitting"]
    for node_id in nx.topological_sort(build_graph(workflow)):
        if node_id not in path:
            continue
        node = workflow.nodes[node_id]
        if node_id in fitting:
            scoring.add_node(apply_type.type_id, position=node.position, node_id=node_id,
                             title=f"{workflow.label(node_id)} (fitted in training)")
        else:
            scoring.add_node(node.type_id, node.params, position=node.position, node_id=node_id,
                             title=node.title, comment=node.comment)
    if plan["input"] is None:
        input_type = boundary_type(workflow.registry, ServiceBoundary.INPUT)
        plan["input"] = scoring.add_node(
            input_type.type_id, node_id=_free_id(scoring, input_type.type_id),
            position=_near(workflow, plan["entry_target"], -120)).id
    if plan["output"] is None:
        output_type = boundary_type(workflow.registry, ServiceBoundary.OUTPUT)
        plan["output"] = scoring.add_node(
            output_type.type_id, node_id=_free_id(scoring, output_type.type_id),
            position=_near(workflow, plan["score"], 120)).id

    for edge in workflow.edges:
        if edge.source in path and edge.target in path and edge.target != plan["input"]:
            if edge.source in fitting and edge.source_port == fitting[edge.source]:
                continue  # wired from the stored transform below
            port = (_port_of(apply_type, TABLE, outputs=True) if edge.source in fitting
                    else edge.source_port)
            target_port = (_port_of(apply_type, TABLE) if edge.target in fitting
                           else edge.target_port)
            scoring.connect(edge.source, port, edge.target, target_port)
    input_type, output_type = scoring.node_type(plan["input"]), scoring.node_type(plan["output"])
    if not plan["placed_input"]:
        entry_port = (_port_of(apply_type, TABLE) if plan["entry_target"] in fitting
                      else plan["entry_port"])
        scoring.connect(plan["input"], _port_of(input_type, TABLE, outputs=True),
                        plan["entry_target"], entry_port)
    if not plan["placed_output"]:
        scoring.connect(plan["score"], plan["score_port"], plan["output"],
                        _port_of(output_type, TABLE))

    lineage_models = {(m["node"], m["port"]): m
                      for m in (record.lineage["models"] if record else [])}
    stored: dict[tuple[str, str], str] = {}

    def store(source: str, source_port: str, near: str) -> str:
        if (source, source_port) in stored:
            return stored[(source, source_port)]
        value = engine.outputs(workflow, source)[source_port]
        stored_type = stored_value_type(workflow.registry, getattr(value, "kind", ""))
        if stored_type is None:
            raise PrepareError(
                f"the scoring path gets a {type(value).__name__} from "
                f"'{workflow.label(source)}' (output '{source_port}'); only trained models "
                "and fitted transforms can be carried into a published pipeline.",
                fix="Move that node into the scoring path, or compute the value upstream of "
                    "Web Service Input.")
        stored_id = _free_id(scoring, f"{source}_{source_port}")
        save_value(value, folder / stored_id)
        recorded = lineage_models.get((source, source_port), {})
        digest = recorded.get("sha256") or value_digest(value)
        scoring.add_node(stored_type.type_id, {"path": str((folder / stored_id).resolve()),
                                                "sha256": digest},
                         node_id=stored_id, position=_near(workflow, near, 0, -200),
                         title=f"{workflow.label(source)} ({source_port})")
        artifacts.append({"node": stored_id, "kind": value.kind, "source_node": source,
                          "source_port": source_port, "sha256": digest,
                          "trained_on": recorded.get("trained_on", [])})
        stored[(source, source_port)] = stored_id
        return stored_id

    for edge in constants:
        if edge.target in fitting:
            continue  # a replaced fitting node needs only its fitted transform
        stored_id = store(edge.source, edge.source_port, edge.target)
        port = next(iter(workflow.registry.get(scoring.nodes[stored_id].type_id).outputs))
        scoring.connect(stored_id, port, edge.target, edge.target_port)
    for fitting_id, transform_port in fitting.items():
        stored_id = store(fitting_id, transform_port, fitting_id)
        stored_port = next(iter(scoring.node_type(stored_id).outputs))
        scoring.connect(stored_id, stored_port, fitting_id, _port_of(apply_type, TRANSFORM))
        for edge in workflow.outgoing(fitting_id):
            if edge.source_port == transform_port and edge.target in path:
                scoring.connect(stored_id, stored_port, edge.target, edge.target_port)

    input_node = scoring.nodes[plan["input"]]
    if not input_node.params["schema"]:
        required = _named_columns(engine, workflow, artifacts)
        scoring.set_param(input_node.id, "schema", input_schema(entry_table, required))
    check_global_parameters(scoring)
    datasets = record.lineage["datasets"] if record else []
    example = _example_record(entry_table, input_node.params["schema"])
    scoring.info.extra["service"] = {
        "source_workflow": {"name": workflow.info.name,
                            "sha256": hashlib.sha256(dumps(workflow).encode()).hexdigest()},
        "training_run": record.run_id if record else None,
        "lineage": {"datasets": json_safe(datasets), "models": artifacts},
        "environment": {k: v for k, v in (record.environment if record else {}).items()
                        if k != "executable"},
        "example": example,
    }
    return scoring


# -- finding the scoring path -------------------------------------------------

def _find_path(workflow: Workflow) -> dict[str, Any]:
    inputs = boundary_nodes(workflow, ServiceBoundary.INPUT)
    outputs = boundary_nodes(workflow, ServiceBoundary.OUTPUT)
    if len(inputs) > 1 or len(outputs) > 1:
        raise PrepareError("the workflow has more than one Web Service Input or Output.",
                           fix="Keep one of each.")
    if inputs and outputs:
        return _placed_path(workflow, inputs[0], outputs[0])
    if inputs or outputs:
        raise PrepareError("the workflow has a Web Service "
                           f"{'Input' if inputs else 'Output'} but no "
                           f"{'Output' if inputs else 'Input'}.",
                           fix="Place both, or neither (they are then placed at Score Model).")
    return _derived_path(workflow)


def _placed_path(workflow: Workflow, input_id: str, output_id: str) -> dict[str, Any]:
    graph = build_graph(workflow)
    if output_id not in nx.descendants(graph, input_id):
        raise PrepareError("Web Service Output is not downstream of Web Service Input.",
                           fix="Wire the scoring path from Input to Output.")
    path = (nx.descendants(graph, input_id) & nx.ancestors(graph, output_id)) | {
        input_id, output_id}
    fitting = {}
    for node_id in nx.topological_sort(graph):
        if node_id not in path:
            continue
        role = role_of(workflow, node_id)
        if role is ScoringRole.FITTED:
            fitting[node_id] = workflow.node_type(node_id).fitted_transform_port
        elif role is not ScoringRole.ROW_WISE:
            raise role_refusal(workflow, node_id, role,
                               "between Web Service Input and Web Service Output")
    edge = workflow.input_edge(input_id, _port_of(workflow.node_type(input_id), TABLE))
    return {"path": path, "fitting": fitting, "input": input_id, "output": output_id,
            "placed_input": True, "placed_output": True, "score": None, "score_port": None,
            "entry_source": edge.source if edge else None,
            "entry_source_port": edge.source_port if edge else None,
            "entry_target": input_id, "entry_port": edge.target_port if edge else None}


def _derived_path(workflow: Workflow) -> dict[str, Any]:
    # A scorer takes a model and rows and gives rows, and runs per request (a
    # device simulation beside Score Model does not; Training History takes
    # only a model).
    scorers = [n for n in workflow.nodes
               if any(p.type is MODEL for p in workflow.node_type(n).inputs.values())
               and any(p.type is TABLE for p in workflow.node_type(n).inputs.values())
               and any(p.type is TABLE for p in workflow.node_type(n).outputs.values())
               and role_of(workflow, n) is ScoringRole.ROW_WISE]
    if len(scorers) != 1:
        found = ", ".join(f"'{workflow.label(n)}'" for n in scorers) or "none"
        raise PrepareError(f"cannot tell where requests should be scored: the workflow "
                           f"needs exactly one Score Model (found {found}).",
                           fix="Place Web Service Input and Output to mark the scoring path.")
    score = scorers[0]
    score_type = workflow.node_type(score)
    score_port = next(n for n, p in score_type.outputs.items() if p.type is TABLE)
    path = {score}
    fitting: dict[str, str] = {}
    node_id, port = score, _table_input(workflow, score)
    while True:
        edge = workflow.input_edge(node_id, port)
        if edge is None:
            raise PrepareError(f"input '{port}' of '{workflow.label(node_id)}' is not "
                               "connected, so the request rows have no way in.",
                               fix="Connect it, or place Web Service Input there.")
        role = role_of(workflow, edge.source)
        if role is ScoringRole.TRAINING_ONLY:
            break  # requests enter where the rows leave the training-only part
        if role not in (ScoringRole.ROW_WISE, ScoringRole.FITTED):
            raise role_refusal(workflow, edge.source, role,
                               f"between the training rows and '{workflow.label(score)}'")
        next_port = _table_input(workflow, edge.source)
        if next_port is None:
            raise PrepareError(f"'{workflow.label(edge.source)}' takes several tables, so "
                               "the request rows cannot be traced through it.",
                               fix="Place Web Service Input after it.")
        if role is ScoringRole.FITTED:
            fitting[edge.source] = workflow.node_type(edge.source).fitted_transform_port
        path.add(edge.source)
        node_id, port = edge.source, next_port
    return {"path": path, "fitting": fitting, "input": None, "output": None,
            "placed_input": False, "placed_output": False, "score": score,
            "score_port": score_port, "entry_source": edge.source,
            "entry_source_port": edge.source_port, "entry_target": node_id, "entry_port": port}


def _port_of(node_type: type[Node], port_type: Any, *, outputs: bool = False) -> str:
    """The (single) input, or output, of ``node_type`` of ``port_type``."""
    ports = node_type.outputs if outputs else node_type.inputs
    names = [n for n, p in ports.items() if p.type is port_type]
    if len(names) != 1:
        raise PrepareError(f"'{node_type.title}' has {len(names)} {port_type.name} "
                           f"{'outputs' if outputs else 'inputs'}, not one.",
                           fix="Check the installed node types.")
    return names[0]


def _table_input(workflow: Workflow, node_id: str) -> str | None:
    ports = [n for n, p in workflow.node_type(node_id).inputs.items() if p.type is TABLE]
    return ports[0] if len(ports) == 1 else None


def _constant_edges(workflow: Workflow, path: set[str]) -> list[Any]:
    """Wires into the path from outside it, other than the request rows' way in."""
    edges = []
    for edge in workflow.edges:
        if edge.target in path and edge.source not in path:
            target_type = workflow.node_type(edge.target)
            if target_type.inputs[edge.target_port].type is TABLE:
                continue  # the rows: replaced by the request
            edges.append(edge)
    return edges


# -- schema ---------------------------------------------------------------------

def _entry_table(workflow: Workflow, engine: Engine, plan: dict[str, Any]) -> Table | None:
    if plan["entry_source"] is None:
        return None
    outputs = engine.outputs(workflow, plan["entry_source"])
    value = outputs.get(plan["entry_source_port"]) if outputs else None
    return value if isinstance(value, Table) else None


def input_schema(table: Table | None, required: list[str]) -> list[dict[str, Any]]:
    """Web Service Input's schema for the rows ``table`` stands for.

    A column is required when a fitted model or transform on the path names
    it (``required``); without such names, every feature column is.
    """
    if table is None:
        raise PrepareError("the rows reaching the scoring path are unknown, so the request "
                           "schema cannot be derived.",
                           fix="Fill in Web Service Input's 'schema', or wire a table into it.")
    schema = []
    for column, dtype in table.frame.dtypes.items():
        role = table.role(column)
        needed = column in required if required else role == "feature"
        kind = str(dtype)
        if kind not in ("float64", "float32", "int64", "int32", "bool", "category"):
            kind = "object"
        schema.append({"name": column, "dtype": kind, "required": needed,
                       "role": role if role != "score" else "ignore"})
    return schema


def _named_columns(engine: Engine, workflow: Workflow,
                   artifacts: list[dict[str, Any]]) -> list[str]:
    names: list[str] = []
    for artifact in artifacts:
        value = engine.outputs(workflow, artifact["source_node"])[artifact["source_port"]]
        names.extend(getattr(value, "feature_columns", None) or getattr(value, "columns", []))
    return list(dict.fromkeys(names))


def _example_record(table: Table | None, schema: list[dict[str, Any]]) -> dict[str, Any]:
    """A synthetic request row for the docs, the README and the compiled plan's check.

    Never a training row (the bundle and its OpenAPI document are shown to
    clients): each number is its column's median rounded to three
    significant digits, each category its most frequent value, and free text
    a placeholder.
    """
    if table is None or not len(table.frame):
        return {e["name"]: (0 if e["dtype"] != "object" else "") for e in schema
                if e["required"]}
    example: dict[str, Any] = {}
    for entry in schema:
        name = entry["name"]
        if not entry["required"] or name not in table.frame.columns:
            continue
        column = table.frame[name].dropna()
        if pd.api.types.is_bool_dtype(column.dtype):
            example[name] = bool(column.mode().iloc[0]) if len(column) else False
        elif pd.api.types.is_numeric_dtype(column.dtype):
            median = float(column.median()) if len(column) else 0.0
            if pd.api.types.is_integer_dtype(column.dtype):
                example[name] = int(round(median))
            else:
                example[name] = float(f"{median:.3g}")
        elif len(column) and column.nunique() <= max(20, len(column) // 20):
            example[name] = json_safe(column.mode().iloc[0])  # a category, not a record
        else:
            example[name] = "example text"
    return example


def check_global_parameters(scoring: Workflow) -> None:
    """Each 'node_id.parameter' of Web Service Input names a per-request node's
    parameter, and never one that runs as code: a request may tune a node, it
    can never hand the service code to run."""
    input_id = boundary_nodes(scoring, ServiceBoundary.INPUT)[0]
    input_node = scoring.nodes[input_id]
    graph = build_graph(scoring)
    per_request = nx.descendants(graph, input_id) | {input_id}
    for name in input_node.params["global_parameters"]:
        node_id, _, parameter = name.partition(".")
        param = (scoring.node_type(node_id).parameters.get(parameter)
                 if node_id in per_request else None)
        if param is None:
            raise PrepareError(
                f"global parameter '{name}' does not name a parameter of a node on the "
                "scoring path.",
                fix="Use 'node_id.parameter' of a node between Web Service Input and Output.")
        if getattr(param, "code", False) or scoring.node_type(node_id).needs_trust:
            raise PrepareError(
                f"global parameter '{name}' would let a request set code that the service "
                "runs.", fix="Remove it from Web Service Input's 'global_parameters'.")


# -- layout helpers ---------------------------------------------------------------

def _free_id(workflow: Workflow, wanted: str) -> str:
    base = "".join(c if c.isalnum() or c in "_-" else "_" for c in wanted) or "node"
    if base[0].isdigit():
        base = f"n_{base}"
    candidate, index = base, 2
    while candidate in workflow.nodes:
        candidate = f"{base}_{index}"
        index += 1
    return candidate


def _near(workflow: Workflow, node_id: str | None, dy: float, dx: float = 0.0
          ) -> tuple[float, float]:
    if node_id is None or node_id not in workflow.nodes:
        return (0.0, 0.0)
    x, y = workflow.nodes[node_id].position
    return (x + dx, y + dy)
