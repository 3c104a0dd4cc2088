"""The catalog's example workflows run headless and their key metrics fall in stated ranges.

Each example was built with the studio.workflow API and saved with save_workflow;
loading and saving it again must give the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.engine import Engine
from studio.workflow import load_workflow
from studio.workflow.fileformat import dumps

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: file -> (Evaluate node, {metric: (low, high)}) — the ranges are what a correct
#: pipeline gives on these real data with these seeds, with room for library updates.
EXPECTED = {
    "classification_two_models": ("evaluate", {
        "accuracy": (0.95, 1.0), "auc": (0.98, 1.0),            # logistic regression
        "accuracy (2)": (0.90, 1.0), "auc (2)": (0.95, 1.0)}),  # boosted decision tree
    "diabetes_regression": ("evaluate", {
        "r2": (0.30, 0.65), "mae": (35.0, 55.0),                # decision forest
        "r2 (2)": (0.30, 0.65)}),                               # Bayesian linear regression
    "iris_clustering": ("evaluate", {
        "silhouette": (0.40, 0.55), "adjusted_rand_index": (0.55, 0.75), "clusters": (3, 3)}),
    "text_classification": ("evaluate", {"accuracy": (0.87, 0.95), "auc": (0.94, 0.99)}),
    "hyperparameter_sweep": ("evaluate", {"accuracy": (0.88, 1.0)}),
    "recommender": ("evaluate_ranking", {
        "ndcg_at_10": (0.15, 0.45), "precision_at_10": (0.10, 0.30)}),
}


@pytest.fixture(scope="module")
def engine():
    with Engine(jobs=2) as running:
        yield running


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_round_trips_byte_for_byte(name):
    path = EXAMPLES / f"{name}.axon.json"
    assert dumps(load_workflow(path)) == path.read_text()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_and_its_key_metrics_are_in_range(name, engine):
    workflow = load_workflow(EXAMPLES / f"{name}.axon.json")
    record = engine.run(workflow, trusted=False)
    assert record.status == "succeeded"
    node, ranges = EXPECTED[name]
    scalars = engine.outputs(workflow, node)["metrics"].scalars
    for metric, (low, high) in ranges.items():
        assert low <= scalars[metric] <= high, f"{name}: {metric} = {scalars[metric]}"


def test_recommender_rating_error_beats_predicting_the_mean(engine):
    workflow = load_workflow(EXAMPLES / "recommender.axon.json")
    engine.run(workflow, trusted=False)
    scalars = engine.outputs(workflow, "evaluate_ratings")["metrics"].scalars
    # relative_squared_error < 1 means better than the test mean; the synthetic
    # table's noise (sd 0.5 before rounding) bounds how low RMSE can go
    assert 0.3 <= scalars["relative_squared_error"] <= 0.7
    assert 0.5 <= scalars["rmse"] <= 0.8
