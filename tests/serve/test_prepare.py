"""Prepare for publishing: the scoring pipeline derived from the example workflows."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from nodes.models.train_score import SCORED_LABELS, SCORED_PROBABILITIES
from studio.engine import Engine, build_graph
from studio.serve import PrepareError, ScoringPipeline, prepare_scoring_workflow
from studio.serve.schema import frame_to_records, records_to_frame
from studio.workflow import dumps, load_workflow, loads

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_scoring_pipeline_replaces_training_by_fitted_values(breast_cancer):
    scoring = breast_cancer.scoring
    types = sorted(n.type_id for n in scoring.nodes.values())
    assert types == ["apply_transformation", "fitted_transform", "score_model",
                     "trained_model", "web_service_input", "web_service_output"]
    order = [scoring.nodes[n].type_id for n in nx.topological_sort(build_graph(scoring))
             if scoring.nodes[n].type_id.startswith(("web", "apply", "score"))]
    assert order == ["web_service_input", "apply_transformation", "score_model",
                     "web_service_output"]
    # The stored values are exactly the ones the training run recorded in its lineage.
    record = breast_cancer.engine.run(breast_cancer.workflow)
    recorded = {(m["node"], m["port"]): m["sha256"] for m in record.lineage["models"]}
    stored = {n.id: n.params["sha256"] for n in scoring.nodes.values()
              if n.type_id in ("trained_model", "fitted_transform")}
    assert stored == {"train_model": recorded[("train", "model")],
                      "normalize_transform": recorded[("normalize", "transform")]}
    lineage = scoring.info.extra["service"]["lineage"]
    assert {d["sha256"] for d in lineage["datasets"]} == {
        d["sha256"] for d in record.lineage["datasets"]}


def test_input_schema_comes_from_the_training_data(breast_cancer):
    schema = breast_cancer.scoring.nodes["web_service_input"].params["schema"]
    model = breast_cancer.output("train", "model")
    required = [e["name"] for e in schema if e["required"]]
    assert required == model.feature_columns
    label = next(e for e in schema if e["name"] == "diagnosis")
    assert label == {"name": "diagnosis", "dtype": "object", "required": False, "role": "label"}


def test_scoring_workflow_round_trips_through_the_file_format(breast_cancer):
    text = dumps(breast_cancer.scoring)
    assert dumps(loads(text)) == text


def test_compiled_pipeline_equals_an_engine_run_of_the_scoring_workflow(breast_cancer,
                                                                        tmp_path):
    """The per-request plan gives what the engine gives on the same scoring workflow."""
    rows = breast_cancer.test_rows().frame.drop(columns=["diagnosis"]).head(40)
    csv = tmp_path / "rows.csv"
    rows.to_csv(csv, index=False)
    workflow = breast_cancer.scoring.copy()
    workflow.add_node("import_csv", {"path": str(csv)}, node_id="rows")
    workflow.connect("rows", "data", "web_service_input", "data")
    with Engine(jobs=1) as engine:
        assert engine.run(workflow).status == "succeeded"
        by_engine = engine.outputs(workflow, "web_service_output")["data"].frame
    pipeline = ScoringPipeline(breast_cancer.scoring)
    schema = pipeline.schema
    compiled = pipeline.score(records_to_frame(frame_to_records(pd.read_csv(csv)), schema))
    pd.testing.assert_frame_equal(compiled.frame, by_engine)


def test_compiled_pipeline_matches_score_model_in_the_app(housing):
    pipeline = ScoringPipeline(housing.scoring)
    rows = housing.test_rows().frame
    answer = pipeline.score(rows.drop(columns=["MEDV"])).frame
    scored = housing.output("score", "scored").frame
    assert list(answer.columns) == [SCORED_LABELS]
    np.testing.assert_array_equal(answer[SCORED_LABELS].to_numpy(),
                                  scored[SCORED_LABELS].to_numpy())


def test_placed_web_service_nodes_choose_the_path_and_the_output_columns():
    workflow = load_workflow(EXAMPLES / "breast_cancer_classification.axon.json")
    workflow.add_node("web_service_input", node_id="ws_in")
    workflow.add_node("web_service_output", {"columns": [SCORED_PROBABILITIES]},
                      node_id="ws_out")
    edge = workflow.input_edge("apply_normalization", "data")
    workflow.disconnect(edge)
    workflow.connect("split", "test", "ws_in", "data")
    workflow.connect("ws_in", "data", "apply_normalization", "data")
    workflow.connect("score", "scored", "ws_out", "data")
    with Engine(jobs=1) as engine:
        assert engine.run(workflow).status == "succeeded"
        scoring = prepare_scoring_workflow(workflow, engine)
        scored = engine.outputs(workflow, "score")["scored"].frame
        rows = engine.outputs(workflow, "split")["test"].frame
    assert {"ws_in", "ws_out", "apply_normalization", "score"} <= set(scoring.nodes)
    assert "evaluate" not in scoring.nodes and "split" not in scoring.nodes
    answer = ScoringPipeline(scoring).score(rows.drop(columns=["diagnosis"])).frame
    assert list(answer.columns) == [SCORED_PROBABILITIES]
    np.testing.assert_array_equal(answer[SCORED_PROBABILITIES].to_numpy(),
                                  scored[SCORED_PROBABILITIES].to_numpy())


def test_a_fitting_node_on_the_path_is_applied_not_refitted():
    """Normalize Data right before Score Model becomes Apply Transformation."""
    workflow = load_workflow(EXAMPLES / "housing_regression.axon.json")
    workflow.add_node("normalize_data", node_id="renormalize")
    workflow.disconnect(workflow.input_edge("score", "data"))
    workflow.connect("apply_normalization", "data", "renormalize", "data")
    workflow.connect("renormalize", "data", "score", "data")
    with Engine(jobs=1) as engine:
        assert engine.run(workflow).status == "succeeded"
        scoring = prepare_scoring_workflow(workflow, engine)
        rows = engine.outputs(workflow, "split")["test"].frame
        scored = engine.outputs(workflow, "score")["scored"].frame
    assert scoring.nodes["renormalize"].type_id == "apply_transformation"
    one_row = ScoringPipeline(scoring).score(rows.drop(columns=["MEDV"]).head(1)).frame
    # Refitting on one row would give all-zero features; the fitted transform does not.
    assert one_row[SCORED_LABELS].iloc[0] == pytest.approx(scored[SCORED_LABELS].iloc[0],
                                                           rel=1e-12)


def test_a_workflow_without_score_model_is_refused_with_the_fix():
    workflow = load_workflow(EXAMPLES / "housing_regression.axon.json")
    workflow.remove_node("evaluate")
    workflow.remove_node("score")
    with Engine(jobs=1) as engine, pytest.raises(PrepareError, match="exactly one Score Model"):
        prepare_scoring_workflow(workflow, engine)
