"""Predictions of a trained model as Score Model's columns: the one place that computes them.

Score Model, Cross-Validate Model and the web service's compiled plan all
call :func:`predict_scores`, so a prediction means the same everywhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nodes.values import Model

SCORED_LABELS = "Scored Labels"
SCORED_PROBABILITIES = "Scored Probabilities"
ANOMALY_SCORE = "Anomaly Score"


def predict_scores(model: Model, X: Any) -> dict[str, np.ndarray]:
    """The score columns for the feature matrix ``X`` (rows in the model's feature order):

    'Scored Labels' (the class, or the value for regression), and for
    classification with probabilities 'Scored Probabilities' (two classes:
    the positive, second class) or one 'Scored Probabilities_<class>' per
    class; anomaly detectors add their anomaly score.
    """
    estimator = model.estimator
    if model.task == "anomaly_detection":
        return anomaly_scores(estimator, X)
    scores = {SCORED_LABELS: estimator.predict(X)}
    if model.task == "classification" and hasattr(estimator, "predict_proba"):
        probabilities = estimator.predict_proba(X)
        classes = model.classes or list(estimator.classes_)
        if len(classes) == 2:
            scores[SCORED_PROBABILITIES] = probabilities[:, 1]
        else:
            for index, name in enumerate(classes):
                scores[f"{SCORED_PROBABILITIES}_{name}"] = probabilities[:, index]
    return scores


def anomaly_scores(estimator: Any, X: Any) -> dict[str, np.ndarray]:
    """Score Model's columns for an anomaly detector (see Train Anomaly Detection Model)."""
    from sklearn.ensemble import IsolationForest as SklearnIsolationForest

    scores = {SCORED_LABELS: (estimator.predict(X) == -1).astype(np.int64),
              ANOMALY_SCORE: -estimator.decision_function(X)}
    if isinstance(estimator, SklearnIsolationForest):
        scores[SCORED_PROBABILITIES] = -estimator.score_samples(X)
    return scores
