"""Evaluate Model's threshold with numeric and text labels (a regression test)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from nodes.evaluate.evaluate import EvaluateModel
from nodes.testing import run_node
from nodes.values import Table

ROLES = {"y": "label", "Scored Labels": "score", "Scored Probabilities": "score"}


@pytest.mark.parametrize("labels", [(0, 1), ("benign", "malignant")])
def test_threshold_recomputes_predictions_for_any_label_type(labels):
    negative, positive = labels
    probability = np.array([0.1, 0.9, 0.4, 0.2, 0.35, 0.6])
    actual = np.array([negative, positive, positive, negative, positive, negative],
                      dtype=object if isinstance(negative, str) else int)
    frame = pd.DataFrame({"y": actual,
                          "Scored Labels": np.where(probability >= 0.5, positive, negative),
                          "Scored Probabilities": probability})
    metrics = run_node(EvaluateModel, {"threshold": 0.3}, scored=Table(frame, ROLES))["metrics"]
    expected = np.where(probability >= 0.3, positive, negative)
    assert metrics.scalars["accuracy"] == pytest.approx(skm.accuracy_score(actual, expected))
    assert metrics.scalars["recall"] == pytest.approx(
        skm.recall_score(actual, expected, pos_label=positive))
    assert metrics.scalars["accuracy"] != pytest.approx(
        skm.accuracy_score(actual, frame["Scored Labels"]))  # the threshold mattered


def test_regression_metrics_carry_the_residuals_for_a_residual_plot():
    rng = np.random.default_rng(0)
    actual = rng.normal(size=5000)
    predicted = actual + rng.normal(scale=0.1, size=5000)
    frame = pd.DataFrame({"y": actual, "Scored Labels": predicted})
    metrics = run_node(EvaluateModel, scored=Table(frame, {"y": "label",
                                                           "Scored Labels": "score"}))["metrics"]
    residuals = metrics.curves["residuals"]
    assert len(residuals) == 2000  # sampled evenly from 5,000 rows
    rows = np.linspace(0, 4999, 2000).round().astype(int)
    np.testing.assert_allclose(residuals["residual"], actual[rows] - predicted[rows])
    np.testing.assert_allclose(residuals["predicted"], predicted[rows])
