"""A compiled scoring plan for the common pipeline shape, checked against the node path.

Most published pipelines are one shape: Web Service Input -> zero or more
Apply Transformation (fitted numeric transforms such as a scaler) -> Score
Model (a scikit-learn style model on numeric features) -> Web Service
Output. For those, building a one-row pandas table and running four nodes
costs several times the prediction itself. ``CompiledScoring`` does the same
arithmetic on one float matrix:

- the request values, in schema order, as a (columns x rows) array whose
  transpose is the (rows x columns) matrix — the memory layout pandas gives
  the nodes, so BLAS sums in the same order and the scores agree to the bit;
- each transform applied to its columns, as Apply Transformation does;
- the model's predictions through ``nodes.models.scoring.predict_scores``, as Score Model;
- the answer columns Web Service Output chose, as plain JSON values.

It is an optimisation only, never a second meaning: ``compile`` builds it
only when every per-request node is one it understands, then scores check
rows (the manifest's example and variations of it) both ways and keeps the
plan only if every answer is identical. At request time it takes only
records that cannot fail a node's check (every schema column present, a
finite JSON number, no global parameters); anything else returns None and
the caller runs the node path, which answers or raises exactly as before.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nodes.contract import CompiledStep
from nodes.errors import StudioError
from nodes.models.scoring import predict_scores
from nodes.values import Model, Transform
from studio.serve.schema import classic_types, frame_to_rows, records_to_frame

if TYPE_CHECKING:
    from studio.serve.scoring import ScoringPipeline

log = logging.getLogger("axon.serve")

_FLOAT_DTYPES = {"float64", "float32"}
_INT_DTYPES = {"int64", "int32"}
#: Integers beyond this are not exact as float64; such records take the node path.
_EXACT_INT = 2**53
_CHECK_ROWS = 32


@dataclass(frozen=True)
class _Output:
    name: str
    score: bool  # True: a score column; False: an input column passed through unchanged
    index: int  # the input column's position in the schema (pass-through columns)


class CompiledScoring:
    """Scores records with numpy and the fitted objects; see the module docstring."""

    def __init__(self, columns: list[str], integer: list[bool], optional: set[str],
                 reject_unknown: bool,
                 transforms: list[tuple[np.ndarray, Transform]], features: np.ndarray,
                 model: Model, outputs: list[_Output], types: list[str]) -> None:
        self.columns = columns
        self.integer = integer
        self.optional = optional
        self.reject_unknown = reject_unknown
        self.transforms = transforms
        self.features = features
        self.model = model
        self.outputs = outputs
        self.types = types  # the classic services' ColumnTypes of the answer

    @property
    def output_columns(self) -> list[str]:
        return [o.name for o in self.outputs]

    # -- building -----------------------------------------------------------------
    @classmethod
    def compile(cls, pipeline: ScoringPipeline) -> tuple[CompiledScoring | None, str]:
        """The plan for ``pipeline`` and a note saying which path scores and why;
        no plan when the pipeline has another shape or the plan's answers
        differ from the node path's (the note is logged too)."""
        try:
            plan = cls._build(pipeline)
            problem = plan._check(pipeline)
        except _NotCompilable as reason:
            note = f"the nodes ({reason})"
            log.info("scoring uses %s", note)
            return None, note
        except Exception:  # an optimisation must never stop a service from starting
            log.warning("scoring uses the nodes: compiling the plan failed", exc_info=True)
            return None, "the nodes (compiling the plan failed; see the log)"
        if problem:
            note = f"the nodes (the compiled plan {problem})"
            log.warning("scoring uses %s", note)
            return None, note
        return plan, "a compiled numpy plan, checked against the nodes"

    @classmethod
    def _build(cls, pipeline: ScoringPipeline) -> CompiledScoring:
        if pipeline.global_parameters:
            raise _NotCompilable("the service has global parameters")
        # Required columns must be numbers; optional ones (e.g. the label) are
        # taken only when absent and must not be read by any node.
        schema = [e for e in pipeline.schema if e["required"]]
        optional = {e["name"] for e in pipeline.schema if not e["required"]}
        columns = [entry["name"] for entry in schema]
        odd = [e["name"] for e in schema if e["dtype"] not in _FLOAT_DTYPES | _INT_DTYPES]
        if odd or not columns:
            raise _NotCompilable(f"required input columns that are not numbers: {odd}")
        position = {name: index for index, name in enumerate(columns)}
        steps = pipeline.steps
        if len(steps) < 3:
            raise _NotCompilable("no Score Model between Web Service Input and Output")
        middle, score, output = steps[1:-2], steps[-2], steps[-1]
        previous = (pipeline.input_id, "data")
        transforms: list[tuple[np.ndarray, Transform]] = []
        changed: set[str] = set()
        for step in middle:
            if type(step.node).compiled_step is not CompiledStep.APPLY_TRANSFORM:
                raise _NotCompilable(f"'{step.node.label}' is not Apply Transformation")
            transform = _constant(pipeline, step, "transform", previous)
            if not isinstance(transform, Transform) or not transform.numeric:
                raise _NotCompilable(f"'{step.node.label}' applies a non-numeric transform")
            unknown = [c for c in transform.columns if c not in position]
            if unknown:
                raise _NotCompilable(f"'{step.node.label}' reads columns {unknown}")
            indices = np.array([position[c] for c in transform.columns], dtype=np.intp)
            transforms.append((indices, transform))
            changed.update(transform.columns)
            previous = (step.node_id, "data")
        if type(score.node).compiled_step is not CompiledStep.SCORE:
            raise _NotCompilable(f"'{score.node.label}' is not Score Model")
        model = _constant(pipeline, score, "model", previous)
        if (not isinstance(model, Model) or model.task not in ("classification", "regression")
                or getattr(model.estimator, "reads_feature_frame", False)):
            raise _NotCompilable(f"'{score.node.label}' scores a model of another kind")
        unknown = [c for c in model.feature_columns if c not in position]
        if unknown:
            raise _NotCompilable(f"the model reads columns {unknown}")
        if output.inputs.get("data") != (score.node_id, "scored"):
            raise _NotCompilable("Web Service Output does not take Score Model's table")
        features = np.array([position[c] for c in model.feature_columns], dtype=np.intp)
        # Which columns Web Service Output answers with: ask the node path.
        try:
            answer = pipeline.score(_frame(pipeline, [pipeline.example])).frame
        except StudioError as error:
            raise _NotCompilable(f"the nodes cannot score the example row: {error}") from None
        score_names = set(predict_scores(model, np.zeros((1, len(features)))))
        outputs = []
        for name in answer.columns:
            if name in score_names:
                outputs.append(_Output(name, True, -1))
            elif name in position and name not in changed:
                outputs.append(_Output(name, False, position[name]))
            else:
                raise _NotCompilable(f"the answer column '{name}' is neither a score nor an "
                                     "unchanged input column")
        return cls(columns, [e["dtype"] in _INT_DTYPES for e in schema], optional,
                   pipeline.unknown_columns == "reject", transforms, features, model, outputs,
                   classic_types(answer))

    def _check(self, pipeline: ScoringPipeline) -> str | None:
        """None when the plan answers the check rows exactly as the node path does."""
        rows = _check_records(pipeline.example, self.columns, self.integer)
        for records in ([pipeline.example], rows):
            try:
                expected = pipeline.score(_frame(pipeline, records)).frame
            except StudioError:
                if records is rows:
                    continue  # a variation the nodes refuse: the example alone decides
                return "cannot score the example row"
            got = self.rows(records)
            if got is None:
                return "refused the check rows"
            # As JSON text: 5 and 5.0 are equal in Python, not on the wire.
            if (list(expected.columns) != self.output_columns
                    or json.dumps(got) != json.dumps(frame_to_rows(expected))):
                return "answered differently from the nodes"
        return None

    # -- scoring --------------------------------------------------------------------
    def rows(self, records: Any) -> list[list[Any]] | None:
        """Answer rows (plain JSON values, in ``output_columns`` order) for
        ``records``, or None when they need the node path."""
        values = self._values(records)
        if values is None:
            return None
        matrix_t = np.array(values, dtype=np.float64)  # columns x rows
        if not np.isfinite(matrix_t).all():
            return None
        for indices, transform in self.transforms:
            matrix_t[indices] = transform.transformer.transform(matrix_t[indices].T).T
        features_t = matrix_t[self.features]
        if not np.isfinite(features_t).all():
            return None  # Score Model refuses missing values: let it say so
        scores = predict_scores(self.model, features_t.T)
        answer = [_plain(scores[o.name]) if o.score
                  else list(map(int if self.integer[o.index] else float, values[o.index]))
                  for o in self.outputs]
        return [list(row) for row in zip(*answer, strict=True)]

    def _values(self, records: Any) -> list[list[Any]] | None:
        if type(records) is not list or not records:
            return None
        width = len(self.columns)
        for record in records:
            if type(record) is not dict:
                return None
            if len(record) != width and (self.reject_unknown
                                         or any(k in self.optional for k in record)):
                return None  # unknown or optional columns: the nodes check them
        try:
            values = [[record[name] for record in records] for name in self.columns]
        except KeyError:
            return None
        for column, integer in zip(values, self.integer, strict=True):
            for value in column:
                kind = type(value)
                if kind is float:
                    if integer and not value.is_integer():
                        return None  # the nodes say it is not a whole number
                elif kind is not int or abs(value) >= _EXACT_INT:
                    return None  # strings, booleans, null, huge integers: node path
        return values


class _NotCompilable(Exception):
    pass


def _constant(pipeline: ScoringPipeline, step: Any, port: str,
              previous: tuple[str, str]) -> Any:
    if set(step.inputs) != {port, "data"} or step.inputs["data"] != previous:
        raise _NotCompilable(f"'{step.node.label}' is not wired in a chain")
    source = step.inputs[port]
    if source not in pipeline.constants:
        raise _NotCompilable(f"'{step.node.label}' takes its {port} from the request path")
    return pipeline.constants[source]


def _frame(pipeline: ScoringPipeline, records: list[dict[str, Any]]) -> Any:
    return records_to_frame(records, pipeline.schema, pipeline.unknown_columns)


def _plain(array: np.ndarray) -> list[Any]:
    """JSON values of a score column, as ``frame_to_rows`` gives them."""
    values = array.tolist()  # numpy scalars -> Python int/float/str/bool
    if array.dtype.kind in "fc":
        return [None if not math.isfinite(v) else v for v in values]
    return values


def _check_records(example: dict[str, Any], columns: Sequence[str],
                   integer: Sequence[bool]) -> list[dict[str, Any]]:
    """Variations of the example row: each value scaled by a factor in [0.5, 1.5]
    (seeded), integers rounded; they exercise the plan on many rows at once."""
    generator = np.random.default_rng(20261128)
    factors = generator.uniform(0.5, 1.5, size=(_CHECK_ROWS, len(columns)))
    rows = []
    for row in factors:
        record = {}
        for name, is_int, factor in zip(columns, integer, row, strict=True):
            value = float(example.get(name, 0)) * float(factor)
            record[name] = round(value) if is_int else value
        rows.append(record)
    return rows
