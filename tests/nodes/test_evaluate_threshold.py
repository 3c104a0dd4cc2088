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
