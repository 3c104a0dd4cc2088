"""A compiled scoring plan for the common pipeline shape, checked against the node path.

Most published pipelines are one shape: Web Service Input -> zero or more
Apply Transformation (fitted numeric transforms such as a scaler) -> Score
Model (a scikit-learn style model on numeric features) -> Web Service
Output. For those, building a one-row pandas table and running four nodes
costs several times the prediction itself. ``CompiledScoring`` does the same
arithmetic on one float matrix:

- the request values as parsed once for both paths
  (``studio.serve.schema.RequestTable.block``: JSON numbers and numeric
  strings alike), in schema order, as a (columns x rows) array whose
  transpose is the (rows x columns) matrix — the memory layout pandas gives
  the nodes, so BLAS sums in the same order and the scores agree to the bit;
- each transform applied to its columns, as Apply Transformation does;
- the model's predictions through ``nodes.models.scoring.predict_scores``, as Score Model;
- the answer columns Web Service Output chose, as plain JSON values.

It is an optimisation only, never a second meaning: ``compile`` builds it
only when every per-request node is one it understands, then scores check
rows (the manifest's example and variations of it) both ways and keeps the
plan only if every answer is identical. At request time it takes the
requests whose parsed table holds exactly its columns (the required
numeric ones, checked finite by the parser) and no optional column, and
no global parameters; anything else returns None and the caller runs the
node path, which answers or raises exactly as before. A value that a
transform turns infinite is refused as the node path refuses it
(``schema.raise_if_infinite``).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import sklearn

from nodes.contract import CompiledStep
from nodes.errors import StudioError
from nodes.models.scoring import predict_scores
from nodes.values import Model, Transform
from studio.serve.schema import (
    RequestTable,
    classic_types,
    frame_to_rows,
    raise_if_infinite,
    records_to_frame,
    table_from_records,
)

if TYPE_CHECKING:
    from studio.serve.scoring import ScoringPipeline

log = logging.getLogger("axon.serve")

_FLOAT_DTYPES = {"float64", "float32"}
_INT_DTYPES = {"int64", "int32"}
_CHECK_ROWS = 32


@dataclass(frozen=True)
class _Output:
    name: str
    score: bool  # True: a score column; False: an input column passed through unchanged
    index: int  # the input column's position in the schema (pass-through columns)


class CompiledScoring:
    """Scores records with numpy and the fitted objects; see the module docstring."""

    def __init__(self, columns: list[str], integer: list[bool],
                 transforms: list[tuple[np.ndarray | slice, Transform, str]],
                 features: np.ndarray | slice,
                 model: Model, outputs: list[_Output], types: list[str]) -> None:
        self.columns = columns
        self.integer = integer
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
        transforms: list[tuple[np.ndarray | slice, Transform, str]] = []
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
            indices = _index([position[c] for c in transform.columns])
            transforms.append((indices, transform, step.node.label))
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
        features = _index([position[c] for c in model.feature_columns])
        # Which columns Web Service Output answers with: ask the node path.
        try:
            answer = pipeline.score(_frame(pipeline, [pipeline.example])).frame
        except StudioError as error:
            raise _NotCompilable(f"the nodes cannot score the example row: {error}") from None
        score_names = set(predict_scores(model, np.zeros((1, len(model.feature_columns)))))
        outputs = []
        for name in answer.columns:
            if name in score_names:
                outputs.append(_Output(name, True, -1))
            elif name in position and name not in changed:
                outputs.append(_Output(name, False, position[name]))
            else:
                raise _NotCompilable(f"the answer column '{name}' is neither a score nor an "
                                     "unchanged input column")
        return cls(columns, [e["dtype"] in _INT_DTYPES for e in schema], transforms, features,
                   model, outputs, classic_types(answer))

    def _check(self, pipeline: ScoringPipeline) -> str | None:
        """None when the plan answers the check rows exactly as the node path does."""
        rows = _check_records(pipeline.example, self.columns, self.integer)
        # The same rows as classic clients send them: numbers in strings.
        as_text = [{k: repr(v) for k, v in record.items()} for record in rows]
        for records in ([pipeline.example], rows, as_text):
            try:
                expected = pipeline.score(_frame(pipeline, records)).frame
            except StudioError:
                if records is not rows:
                    continue  # a variation the nodes refuse: the example alone decides
                return "cannot score the example row"
            try:
                got = self.rows(_table(pipeline, records))
            except StudioError:
                return "refused the check rows"
            if got is None:
                return "refused the check rows"
            # As JSON text: 5 and 5.0 are equal in Python, not on the wire.
            if (list(expected.columns) != self.output_columns
                    or json.dumps(got) != json.dumps(frame_to_rows(expected))):
                return "answered differently from the nodes"
        return None

    # -- scoring --------------------------------------------------------------------
    def rows(self, table: RequestTable) -> list[list[Any]] | None:
        """Answer rows (plain JSON values, in ``output_columns`` order) for the
        parsed request, or None when it needs the node path."""
        if table.optional_present or table.block_names != self.columns:
            return None
        # Every value the fitted objects get is checked finite here (by the parser, then
        # after each transform): scikit-learn's own checks of the same would only repeat
        # them, at a tenth of a request's time (its configuration is per thread).
        with sklearn.config_context(assume_finite=True):
            matrix_t = table.block.copy() if self.transforms else table.block  # cols x rows
            for indices, transform, label in self.transforms:
                with np.errstate(all="ignore"):  # an overflow is refused just below
                    matrix_t[indices] = transform.transformer.transform(matrix_t[indices].T).T
                raise_if_infinite(matrix_t, self.columns, label,
                                  lambda name, row: table.columns[name][row], table.first_row)
            features_t = matrix_t[self.features]
            if not np.isfinite(features_t).all():
                return None  # a transform made a value missing: Score Model decides
            scores = predict_scores(self.model, features_t.T)
        answer = [_plain(scores[o.name]) if o.score
                  else table.columns[self.columns[o.index]].tolist()
                  for o in self.outputs]
        return [list(row) for row in zip(*answer, strict=True)]


class _NotCompilable(Exception):
    pass


def _index(positions: list[int]) -> np.ndarray | slice:
    """Rows of the (columns x rows) matrix: a slice when they are consecutive (a view,
    no copy: the common case, a transform or a model over every column in order)."""
    if positions and positions == list(range(positions[0], positions[0] + len(positions))):
        return slice(positions[0], positions[0] + len(positions))
    return np.array(positions, dtype=np.intp)


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


def _table(pipeline: ScoringPipeline, records: list[dict[str, Any]]) -> RequestTable:
    return table_from_records(records, pipeline.schema, pipeline.unknown_columns)


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
