"""Scoring request rows with a scoring workflow: the engine once, then a compiled plan.

``ScoringPipeline(workflow)`` splits the scoring workflow in two:

- the constant part (Trained Model, Fitted Transform and anything else that
  does not depend on the request) is run once by the engine, like any run,
  and its outputs are kept;
- the per-request part (Web Service Input, what lies between, Web Service
  Output) becomes a list of node instances in topological order, with their
  parameters validated once. ``score`` runs them with ``Node.execute`` — the
  same code the engine runs — wiring each node's inputs from the constants
  and the outputs of the nodes before it.

So a request is scored by exactly the node code of the app, without the
engine's per-run bookkeeping (cache keys, run records, thread hand-offs),
which would cost more than the prediction itself. Tests check that the
answers equal Score Model's output in the training workflow, row for row.

``answer(table)`` is what the server calls, with the request already
parsed and checked once (``studio.serve.schema.RequestTable``): for the
common pipeline shape (transforms, then Score Model) it uses a compiled
numpy plan (``studio.serve.fastpath``) that was checked against this node
path when the pipeline was built, and the nodes for anything else. Both
take the same parsed values, so a numeric string is read once, the same
way, whichever path answers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from nodes.context import RunContext, derive_seed
from nodes.contract import ScoringRole, ServiceBoundary
from nodes.errors import ParameterError, UntrustedCodeError
from nodes.node import Node
from nodes.values import Table
from studio.engine import Engine
from studio.engine.graph import build_graph
from studio.serve.errors import PrepareError, RequestDataError
from studio.serve.prepare import boundary_nodes, check_global_parameters, role_of, role_refusal
from studio.serve.schema import (
    RequestTable,
    classic_types,
    frame_to_rows,
    raise_if_infinite,
    table_from_records,
)
from studio.workflow import Workflow

log = logging.getLogger("axon.serve")


@dataclass
class _Step:
    node_id: str
    node: Node
    inputs: dict[str, tuple[str, str]]  # port -> (source node, source port)
    seed: int


@dataclass
class Answer:
    """The answer rows of a request: plain JSON values, one list per row."""

    columns: list[str]
    rows: list[list[Any]]
    types: list[str]  # the classic services' ColumnTypes (Numeric, Boolean, String)
    path: str = "nodes"  # which path scored it: "compiled" (the numpy plan) or "nodes"

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Answer:
        return cls(list(frame.columns), frame_to_rows(frame), classic_types(frame))

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def string_rows(self) -> list[list[str | None]]:
        return text_rows(self.rows)


def text_rows(rows: list[list[Any]]) -> list[list[str | None]]:
    """Rows of strings, as the classic services answered (floats in round-trip form)."""
    return [[text_value(v) for v in row] for row in rows]


def text_value(value: Any) -> str | None:
    """A value as the classic services answered it: text (floats in round-trip form), or
    None."""
    return None if value is None else (repr(value) if type(value) is float else str(value))


class ScoringPipeline:
    """A scoring workflow ready to answer requests (thread-safe)."""

    def __init__(self, workflow: Workflow, *, trusted: bool = False) -> None:
        """Check and load ``workflow``; ``trusted`` is the explicit trust step for
        nodes that run code stored in it (refused otherwise, before anything runs)."""
        self.workflow = workflow
        inputs = boundary_nodes(workflow, ServiceBoundary.INPUT)
        outputs = boundary_nodes(workflow, ServiceBoundary.OUTPUT)
        if len(inputs) != 1 or len(outputs) != 1:
            raise PrepareError("a scoring workflow needs exactly one Web Service Input and "
                               "one Web Service Output.",
                               fix="Prepare it from the training workflow again.")
        self.input_id, self.output_id = inputs[0], outputs[0]
        if trusted:
            workflow.trust()
        untrusted = workflow.untrusted_code_nodes()
        if untrusted:
            error = UntrustedCodeError(workflow.label(untrusted[0]))
            raise PrepareError(f"the scoring workflow would run code stored in it: "
                               f"{error.message}",
                               fix="Read the code; serve with --trust only if you trust it.")
        graph = build_graph(workflow)
        per_request = (nx.descendants(graph, self.input_id)
                       & nx.ancestors(graph, self.output_id)) | {self.input_id, self.output_id}
        for node_id in nx.topological_sort(graph.subgraph(per_request)):
            role = role_of(workflow, node_id)
            if role is not ScoringRole.ROW_WISE:
                raise role_refusal(workflow, node_id, role,
                                   "between Web Service Input and Web Service Output")
        constant_targets = sorted({e.source for e in workflow.edges
                                   if e.target in per_request and e.source not in per_request})
        for edge in workflow.incoming(self.input_id):
            constant_targets.remove(edge.source)  # sample rows wired in the app: not served
        check_global_parameters(workflow)
        self.constants: dict[tuple[str, str], Any] = {}
        if constant_targets:
            with Engine(jobs=1) as engine:
                record = engine.run(workflow, targets=constant_targets)  # trust checked above
                if record.status != "succeeded":
                    failed = [f"'{n.title}': {n.error}" for n in record.nodes.values()
                              if n.error]
                    raise PrepareError("the scoring pipeline's models could not be loaded: "
                                       + "; ".join(failed))
                for node_id in constant_targets:
                    for port, value in engine.outputs(workflow, node_id).items():
                        self.constants[(node_id, port)] = value
                self.load_record = record
        self.steps: list[_Step] = []
        for node_id in nx.topological_sort(graph):
            if node_id not in per_request:
                continue
            node = workflow.nodes[node_id]
            wiring = {e.target_port: (e.source, e.source_port) for e in workflow.incoming(node_id)
                      if node_id != self.input_id}
            self.steps.append(_Step(node_id, self._build(node_id, node.params), wiring,
                                    derive_seed(workflow.info.seed, node_id)))
        input_params = workflow.nodes[self.input_id].params
        self.schema: list[dict[str, Any]] = list(input_params["schema"])
        self.unknown_columns: str = input_params["unknown_columns"]
        self.global_parameters: list[str] = list(input_params["global_parameters"])
        service = workflow.info.extra.get("service") or {}
        self.example: dict[str, Any] | None = service.get("example") or None
        #: Required numeric inputs: finite in every request, and checked not to
        #: become infinite in a per-request node (a huge value may overflow).
        self.finite_columns = [e["name"] for e in self.schema if e["required"]
                               and e["dtype"] in ("float64", "float32", "int64", "int32")]
        self.compiled = None
        #: Which path scores plain records, and why (printed by ``studio serve``).
        self.scoring_note = "the nodes (the workflow has no example row to check a plan on)"
        if self.example:
            from studio.serve.fastpath import CompiledScoring

            self.compiled, self.scoring_note = CompiledScoring.compile(self)

    def _build(self, node_id: str, params: Mapping[str, Any]) -> Node:
        node_type = self.workflow.node_type(node_id)
        return node_type(params, label=self.workflow.label(node_id))

    def describe_global_parameters(self) -> list[dict[str, Any]]:
        """Name, default and description of each parameter a request may set."""
        described = []
        for name in self.global_parameters:
            node_id, _, parameter = name.partition(".")
            param = self.workflow.node_type(node_id).parameters[parameter]
            described.append({"name": name, "kind": param.kind, "help": param.help,
                              "default": self.workflow.nodes[node_id].params[parameter]})
        return described

    def _steps_for(self, global_parameters: Mapping[str, Any] | None) -> list[_Step]:
        if not global_parameters:
            return self.steps
        overrides: dict[str, dict[str, Any]] = {}
        for name, value in global_parameters.items():
            if name not in self.global_parameters:
                known = ", ".join(self.global_parameters) or "none"
                raise RequestDataError(f"unknown global parameter '{name}' (known: {known}).",
                                       fix="Send only the service's global parameters.")
            node_id, _, parameter = name.partition(".")
            overrides.setdefault(node_id, {})[parameter] = value
        steps = []
        for step in self.steps:
            if step.node_id in overrides:
                params = {**self.workflow.nodes[step.node_id].params, **overrides[step.node_id]}
                try:
                    node = self._build(step.node_id, params)
                except ParameterError as error:
                    raise RequestDataError(f"global parameter: {error.message}",
                                           fix=error.fix) from None
                if type(node).scoring_role_for(node.params) is not ScoringRole.ROW_WISE:
                    raise RequestDataError(
                        f"global parameters would make '{node.label}' fit on the request's "
                        "rows.", fix="Send values that keep it computing row by row.")
                step = _Step(step.node_id, node, step.inputs, step.seed)
            steps.append(step)
        return steps

    def answer(self, request: RequestTable | Any,
               global_parameters: Mapping[str, Any] | None = None) -> Answer:
        """The answer to a request: a parsed ``RequestTable``, or JSON records.

        Raises RequestDataError or the nodes' errors for rows that cannot be
        scored."""
        table = request if isinstance(request, RequestTable) else table_from_records(
            request, self.schema, self.unknown_columns)
        if self.compiled is not None and not global_parameters:
            try:
                rows = self.compiled.rows(table)
            except RequestDataError:
                raise
            except Exception:  # not expected after the check at start: say so, use the nodes
                log.exception("the compiled scoring plan failed; the nodes answer instead")
                rows = None
            if rows is not None:
                return Answer(self.compiled.output_columns, rows, self.compiled.types,
                              "compiled")
        frame = self.score(table.frame(), global_parameters, first_row=table.first_row).frame
        return Answer.from_frame(frame)

    def score(self, frame: pd.DataFrame,
              global_parameters: Mapping[str, Any] | None = None, *,
              first_row: int = 0) -> Table:
        """Run the per-request nodes on ``frame``; return Web Service Output's table.

        Raises StudioError subclasses (NodeInputError...) for rows the
        nodes refuse, as a run in the app would, and RequestDataError when
        a finite input value becomes infinite on the way (too large for the
        model: left alone, the model's own checks would fail with no column).
        """
        values: dict[tuple[str, str], Any] = dict(self.constants)
        values[("", "request")] = Table(frame)
        watched = [name for name in self.finite_columns if name in frame.columns]
        for step in self._steps_for(global_parameters):
            if step.node_id == self.input_id:
                inputs = {"data": values[("", "request")]}
            else:
                inputs = {port: values[source] for port, source in step.inputs.items()}
            context = RunContext(node_id=step.node_id, node_title=step.node.label,
                                 seed=step.seed, trusted=True)  # checked when loading
            # numpy's overflow warnings would reach the log for a client's value: the
            # infinities they announce are refused below instead (errstate is per thread).
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                outputs = step.node.execute(context, inputs)
            for port, value in outputs.items():
                values[(step.node_id, port)] = value
                if isinstance(value, Table) and step.node_id != self.output_id and watched:
                    present = [c for c in watched if c in value.frame.columns]
                    after = value.frame[present].to_numpy(dtype=np.float64, na_value=np.nan)
                    raise_if_infinite(after.T, present, step.node.label,
                                      lambda name, row: frame[name].iloc[row], first_row)
        return values[(self.output_id, "data")]

