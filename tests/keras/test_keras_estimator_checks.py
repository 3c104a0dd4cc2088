"""The Keras learner passes scikit-learn's estimator checks, as a classifier and a regressor.

``parametrize_with_checks`` runs every check scikit-learn has for the
installed version (API, input validation, pickling, training quality...) on
real networks trained with TensorFlow; no check is expected to fail, and
``xfail_strict`` would turn a listed failure that starts passing into an
error. The one skip, ``check_array_api_input``, is scikit-learn's own: it
runs only when ``SCIPY_ARRAY_API=1`` is set before SciPy is imported, and
the network declares no array-API support anyway (``array_api_support``
tag False; TensorFlow converts NumPy arrays itself).

The networks are small (8 units, 5 epochs of Adam at 0.03) so the module
takes one to two minutes, TensorFlow's import included; that is still enough
for the training-quality checks (accuracy > 0.83 on scikit-learn's blobs,
R² > 0.5 on its regression set: they reach about 0.93 and 0.8).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from nodes.errors import NodeInputError
from nodes.models.keras_network import KerasNetwork, NeuralNetworkKeras
from nodes.models.train_score import TrainModel
from nodes.testing import run_node
from nodes.values import Table

SMALL = {"layers": [{"type": "dense", "units": 8}], "epochs": 5, "optimizer": "adam",
         "learning_rate": 0.03}

#: Checks a network is known to fail, with the reason (none today).
EXPECTED_FAILURES: dict[str, dict[str, str]] = {"classification": {}, "regression": {}}


def _expected_failures(estimator: KerasNetwork) -> dict[str, str]:
    return EXPECTED_FAILURES[estimator.task]


@parametrize_with_checks([KerasNetwork(task="classification", **SMALL),
                          KerasNetwork(task="regression", **SMALL)],
                         expected_failed_checks=_expected_failures, xfail_strict=True)
def test_the_network_passes_scikit_learns_estimator_checks(estimator, check):
    check(estimator)


def test_a_regression_network_has_no_class_probabilities():
    assert hasattr(KerasNetwork(task="classification"), "predict_proba")
    assert not hasattr(KerasNetwork(task="regression"), "predict_proba")


def test_train_model_refuses_a_continuous_label_for_a_keras_classifier():
    rows = pd.DataFrame({"x": np.linspace(0, 1, 20), "price": np.linspace(10.5, 30.25, 20)})
    learner = run_node(NeuralNetworkKeras, {"task": "classification", **SMALL})["learner"]
    with pytest.raises(NodeInputError, match="continuous") as caught:
        run_node(TrainModel, {"label_column": "price"}, learner=learner,
                 data=Table(rows, {"x": "feature", "price": "label"}))
    assert caught.value.port == "data"


def test_the_network_checks_the_feature_names_it_was_trained_on():
    rows = pd.DataFrame({"a": np.arange(12.0), "b": np.arange(12.0) % 3})
    network = KerasNetwork(task="regression", **{**SMALL, "epochs": 1}).fit(rows, rows["a"])
    assert list(network.feature_names_in_) == ["a", "b"]
    with pytest.raises(ValueError, match="feature names should match"):
        network.predict(rows[["b", "a"]])
