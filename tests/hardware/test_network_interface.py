"""nodes.models.network: a trained network's dense layers, checked against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from nodes.errors import NodeInputError
from nodes.models.network import DenseLayer, DenseNetwork, dense_network

RNG = np.random.default_rng(1)
X = RNG.normal(size=(120, 5)) * [1, 3, 10, 0.5, 2] + [0, 5, -20, 1, 0]
Y3 = np.digitize(X[:, 0] + 0.1 * X[:, 2], [-1.5, -0.5])


def test_mlp_classifier_probabilities_and_predictions_match_scikit_learn():
    model = MLPClassifier((7, 5), activation="tanh", max_iter=300, random_state=0).fit(X, Y3)
    network = dense_network(model)
    assert [layer.activation for layer in network.layers] == ["tanh", "tanh", "softmax"]
    assert [layer.shape for layer in network.layers] == [(5, 7), (7, 5), (5, 3)]
    np.testing.assert_allclose(network.predict_proba(X), model.predict_proba(X), atol=1e-12)
    np.testing.assert_array_equal(network.predict(X), model.predict(X))
    assert network.macs_per_sample == 5 * 7 + 7 * 5 + 5 * 3


def test_two_classes_end_in_one_sigmoid_unit_and_scalers_fold_into_the_first_layer():
    labels = np.where(X[:, 1] > 5, "yes", "no")
    pipeline = make_pipeline(StandardScaler(), MinMaxScaler(),
                             MLPClassifier((6,), max_iter=500, random_state=0)).fit(X, labels)
    network = dense_network(pipeline)
    assert network.layers[-1].activation == "sigmoid" and network.n_outputs == 1
    np.testing.assert_allclose(network.predict_proba(X), pipeline.predict_proba(X), atol=1e-10)
    np.testing.assert_array_equal(network.predict(X), pipeline.predict(X))


def test_mlp_regressor_matches():
    target = X @ [1.0, -2.0, 0.1, 3.0, 0.0]
    model = MLPRegressor(hidden_layer_sizes=(8,), max_iter=300, random_state=0).fit(X, target)
    network = dense_network(model)
    assert network.task == "regression" and network.layers[-1].activation == "identity"
    np.testing.assert_allclose(network.predict(X), model.predict(X), atol=1e-10)


def test_a_model_value_supplies_feature_names_and_classes(iris_model, iris_rows):
    network = dense_network(iris_model)
    assert network.feature_names == iris_model.feature_columns
    assert list(network.classes) == list(iris_model.classes)
    X_iris, _ = iris_rows
    np.testing.assert_array_equal(network.predict(X_iris),
                                  iris_model.estimator.predict(X_iris))


class _OwnNetwork:
    """An estimator that describes itself, as the Keras wrapper does."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def to_dense_network(self) -> DenseNetwork:
        if self.fail:
            raise ValueError("layer 'conv2d' (Conv2D) is not a Dense layer")
        layer = DenseLayer(np.eye(2), np.zeros(2), "softmax")
        return DenseNetwork([layer], ["a", "b"], "classification", [0, 1])


def test_objects_with_to_dense_network_are_used_and_their_errors_reported():
    network = dense_network(_OwnNetwork())
    assert network.layers[0].name == "dense_1" and network.classes == [0, 1]
    with pytest.raises(NodeInputError, match="conv2d"):
        dense_network(_OwnNetwork(fail=True), node="Run on SpiNNaker")


@pytest.mark.parametrize(("estimator", "named"), [
    (LogisticRegression().fit(X, Y3), "LogisticRegression"),
    (make_pipeline(PCA(2), MLPClassifier((3,), max_iter=50, random_state=0)).fit(X, Y3), "PCA"),
    (MLPRegressor(hidden_layer_sizes=(3,), loss="poisson", max_iter=50,
                  random_state=0).fit(X, np.abs(X[:, 0])), "'exp'"),
    (MLPClassifier((3,)), "not trained"),
])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_unsupported_estimators_are_named(estimator, named):
    with pytest.raises(NodeInputError, match=named) as error:
        dense_network(estimator, node="Run on PCM")
    assert error.value.node == "Run on PCM" and error.value.port == "model"
