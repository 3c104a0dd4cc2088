"""Small trained networks for the hardware tests (trained once per session)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier

from nodes.data.datasets import SampleDataset
from nodes.hardware.base import Scorer
from nodes.models.classifiers import NeuralNetwork
from nodes.models.network import DenseNetwork, dense_network
from nodes.models.train_score import TrainModel
from nodes.testing import run_node
from nodes.transform.split import SplitData
from nodes.values import Model, Table


@pytest.fixture(scope="session")
def iris_split() -> dict[str, Table]:
    data = run_node(SampleDataset, {"dataset": "iris"})["data"]
    return run_node(SplitData, {"fraction": 0.6, "seed": 3, "stratify": True}, data=data)


@pytest.fixture(scope="session")
def iris_model(iris_split) -> Model:
    """A ReLU MLP (one hidden layer of 16) trained by the Neural Network + Train Model nodes."""
    learner = run_node(NeuralNetwork, {"hidden_layers": [16], "max_iterations": 2000,
                                       "learning_rate": 0.01, "seed": 0})["learner"]
    return run_node(TrainModel, {}, learner=learner, data=iris_split["train"])["model"]


@pytest.fixture(scope="session")
def iris_rows(iris_split, iris_model) -> tuple[np.ndarray, np.ndarray]:
    test = iris_split["test"].frame
    return test[iris_model.feature_columns].to_numpy(dtype=float), test["species"].to_numpy()


@pytest.fixture(scope="session")
def iris_network(iris_model) -> DenseNetwork:
    return dense_network(iris_model)


@pytest.fixture
def iris_scorer(iris_network, iris_rows) -> Scorer:
    X, labels = iris_rows
    return Scorer(iris_network, iris_network.forward(X), labels)


@pytest.fixture(scope="session")
def offset_task() -> tuple[DenseNetwork, np.ndarray, np.ndarray]:
    """A network whose biases matter: features far from zero, a threshold task.

    Drift scales the analog products down but not the digital biases, so it
    moves the decision boundary.
    """
    rng = np.random.default_rng(0)
    X = rng.uniform(0.0, 1.0, (600, 4)) + 2.0
    y = (X[:, 0] + X[:, 1] - X[:, 2] > 2.5).astype(int)
    model = MLPClassifier((8,), max_iter=2000, random_state=0).fit(X[:400], y[:400])
    return dense_network(model), X[400:], y[400:]
