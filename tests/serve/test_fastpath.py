"""The compiled scoring plan: used for the common shape, identical to the nodes, never a
second meaning (anything unusual goes to the node path, which answers or refuses).
Requests are parsed once (``schema.table_from_records``); both paths take that table."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from nodes.models.train_score import SCORED_LABELS, SCORED_PROBABILITIES
from studio.engine import Engine
from studio.serve import RequestDataError, ScoringPipeline, prepare_scoring_workflow
from studio.serve.fastpath import CompiledScoring
from studio.serve.schema import (
    frame_to_records,
    frame_to_rows,
    records_to_frame,
    table_from_records,
    table_from_rows,
)
from studio.workflow import load_workflow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _node_answer(pipeline: ScoringPipeline, records: list[dict]) -> list[list]:
    frame = records_to_frame(records, pipeline.schema, pipeline.unknown_columns)
    return frame_to_rows(pipeline.score(frame).frame)


def _compiled(pipeline: ScoringPipeline, records: list[dict]) -> list[list] | None:
    return pipeline.compiled.rows(table_from_records(records, pipeline.schema,
                                                     pipeline.unknown_columns))


@pytest.mark.parametrize("name", ["breast_cancer", "housing"])
def test_the_example_pipelines_compile_and_answer_every_test_row_as_the_nodes(name, request):
    trained = request.getfixturevalue(name)
    pipeline = ScoringPipeline(trained.scoring)
    assert pipeline.compiled is not None and pipeline.scoring_note.startswith("a compiled")
    label = trained.output("train", "model").label_column
    records = frame_to_records(trained.test_rows().frame.drop(columns=[label]))
    expected = _node_answer(pipeline, records)
    # One request with every row, and single-row requests (the common case). A
    # row alone and the same row among others may differ in the last bit (BLAS
    # sums in another order); either way the plan gives what the nodes give.
    assert json.dumps(_compiled(pipeline, records)) == json.dumps(expected)
    for record in records[:25]:
        assert json.dumps(_compiled(pipeline, [record])) == json.dumps(
            _node_answer(pipeline, [record]))
    # And they equal Score Model's output in the training run, row for row.
    scored = trained.output("score", "scored").frame
    np.testing.assert_array_equal([row[0] for row in expected], scored[SCORED_LABELS])


def test_numeric_strings_take_the_compiled_plan_and_answer_as_the_nodes(breast_cancer):
    """Classic clients send numbers as strings: parsed once (Python's float), then the
    compiled plan answers them, to the bit what the nodes answer for the same text."""
    pipeline = ScoringPipeline(breast_cancer.scoring)
    label = breast_cancer.output("train", "model").label_column
    rows = frame_to_records(breast_cancer.test_rows().frame.drop(columns=[label]))
    as_text = [{k: repr(v) for k, v in r.items()} for r in rows]
    table = table_from_records(as_text, pipeline.schema, pipeline.unknown_columns)
    answer = pipeline.answer(table)
    assert answer.path == "compiled"
    assert json.dumps(answer.rows) == json.dumps(_node_answer(pipeline, as_text))
    assert json.dumps(answer.rows) == json.dumps(pipeline.answer(rows).rows)
    # The classic table form gives the same table, hence the same answer.
    names = list(as_text[0])
    classic = table_from_rows(names, [[r[n] for n in names] for r in as_text],
                              pipeline.schema, pipeline.unknown_columns)
    assert json.dumps(pipeline.answer(classic).rows) == json.dumps(answer.rows)


def test_records_that_could_fail_a_check_take_the_node_path(breast_cancer):
    pipeline = ScoringPipeline(breast_cancer.scoring)
    example = dict(pipeline.example)
    column = next(iter(example))
    with_label = {**example, "diagnosis": "benign"}  # an optional column, which nodes read
    assert _compiled(pipeline, [with_label]) is None
    assert _compiled(pipeline, [example, with_label]) is None
    assert pipeline.answer([with_label]).path == "nodes"
    # Values that no path may take are refused by the one parser, naming the column.
    for record in ({**example, column: None}, {**example, column: float("nan")},
                   {**example, column: True}, {**example, column: "large"},
                   {k: v for k, v in example.items() if k != column}):
        with pytest.raises(RequestDataError) as refused:
            pipeline.answer([record])
        assert refused.value.column == column and refused.value.row == 0
    with pytest.raises(RequestDataError, match="not an input") as refused:
        pipeline.answer([{**example, "colour": "red"}])
    assert refused.value.column == "colour"


def test_a_value_too_large_for_the_model_is_refused_by_both_paths_alike(breast_cancer):
    """1e308 is finite, but the scaler turns it into infinity: both paths refuse it with
    the same message naming the first such column (not a 500 from the model's checks)."""
    pipeline = ScoringPipeline(breast_cancer.scoring)
    huge = {k: 1e308 for k in pipeline.example}
    table = table_from_records([pipeline.example, huge], pipeline.schema)
    with pytest.raises(RequestDataError) as compiled:
        pipeline.compiled.rows(table)
    frame = records_to_frame([pipeline.example, huge], pipeline.schema)
    with pytest.raises(RequestDataError) as nodes:
        pipeline.score(frame)
    assert str(compiled.value) == str(nodes.value)
    assert compiled.value.row == 1 and compiled.value.column in pipeline.example
    assert "too large" in str(compiled.value)


def test_integer_columns_take_whole_floats_and_refuse_fractions_through_the_nodes(housing):
    pipeline = ScoringPipeline(housing.scoring)
    example = pipeline.example
    assert isinstance(example["RAD"], int)  # the example keeps the column's type
    as_float = {**example, "RAD": float(example["RAD"])}
    assert _compiled(pipeline, [as_float]) == _compiled(pipeline, [example])
    fraction = {**example, "RAD": example["RAD"] + 0.5}
    with pytest.raises(RequestDataError, match="not a whole number") as refused:
        pipeline.answer([fraction])
    assert refused.value.column == "RAD"


def test_a_plan_that_answers_differently_from_the_nodes_is_not_used(breast_cancer, caplog):
    pipeline = ScoringPipeline(breast_cancer.scoring)
    plan = CompiledScoring._build(pipeline)
    assert plan._check(pipeline) is None
    plan.features = np.arange(len(plan.columns))[::-1].copy()  # the model reads them reversed
    assert plan._check(pipeline) == "answered differently from the nodes"
    plan = CompiledScoring._build(pipeline)
    plan.transforms = []  # forgets the scaler
    assert plan._check(pipeline) == "answered differently from the nodes"


def test_other_shapes_use_the_node_path_and_say_why(caplog):
    """Text pipelines (a text column, vectorizer transforms) are not compiled."""
    workflow = load_workflow(EXAMPLES / "text_classification.axon.json")
    with Engine(jobs=1) as engine:
        assert engine.run(workflow).status == "succeeded"
        scoring = prepare_scoring_workflow(workflow, engine)
    with caplog.at_level(logging.INFO, logger="axon.serve"):
        pipeline = ScoringPipeline(scoring)
    assert pipeline.compiled is None
    assert pipeline.scoring_note.startswith("the nodes (") and "'text'" in pipeline.scoring_note
    assert pipeline.scoring_note[len("the nodes ("):-1] in caplog.text  # logged as well
    answer = pipeline.answer([pipeline.example])
    assert answer.columns[0] == SCORED_LABELS
    assert any(c.startswith(SCORED_PROBABILITIES) for c in answer.columns)


def test_global_parameters_use_the_node_path():
    """A request that sets a global parameter is scored by the nodes with that value."""
    workflow = load_workflow(EXAMPLES / "breast_cancer_classification.axon.json")
    with Engine(jobs=1) as engine:
        assert engine.run(workflow).status == "succeeded"
        scoring = prepare_scoring_workflow(workflow, engine)
    scoring.set_param("web_service_input", "global_parameters",
                      ["web_service_output.columns"])
    pipeline = ScoringPipeline(scoring)
    assert pipeline.compiled is None  # global parameters: not compiled at all
    plain = pipeline.answer([pipeline.example])
    labels = pipeline.answer([pipeline.example], {"web_service_output.columns": [SCORED_LABELS]})
    assert plain.columns == [SCORED_LABELS, SCORED_PROBABILITIES]
    assert labels.columns == [SCORED_LABELS] and labels.rows[0][0] == plain.rows[0][0]
