"""Every classification and regression learner: Train Model + Score Model give the
same numbers as the scikit-learn estimator called directly with the same seed."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import (
    calibration,
    ensemble,
    linear_model,
    multiclass,
    naive_bayes,
    neighbors,
    neural_network,
    svm,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from nodes.errors import NodeInputError, ParameterError
from nodes.models import classifiers as c
from nodes.models import regressors as r
from nodes.models.train_score import SCORED_LABELS, SCORED_PROBABILITIES, ScoreModel, TrainModel
from nodes.testing import run_node
from nodes.values import Table, load_value, save_value
from tests.nodes.conftest import load_sample

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def scaled(name: str, rows: int | None = None) -> tuple[Table, Table]:
    """The dataset with z-scored features, split into the first 70% and the rest."""
    table = load_sample(name)
    frame = table.frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    if rows:
        frame = frame.iloc[:rows]
    features = table.feature_columns
    frame[features] = StandardScaler().fit_transform(frame[features])
    cut = int(len(frame) * 0.7)
    return (table.with_frame(frame.iloc[:cut].reset_index(drop=True)),
            table.with_frame(frame.iloc[cut:].reset_index(drop=True)))


CLASSIFIERS = [
    (c.NeuralNetwork, {"hidden_layers": [16, 8], "max_iterations": 60, "seed": 4},
     neural_network.MLPClassifier(hidden_layer_sizes=(16, 8), max_iter=60, random_state=4)),
    (c.NeuralNetwork, {"hidden_layers": [10], "activation": "tanh", "solver": "lbfgs",
                       "l2_alpha": 0.01, "max_iterations": 80, "seed": 0},
     neural_network.MLPClassifier(hidden_layer_sizes=(10,), activation="tanh", solver="lbfgs",
                                  alpha=0.01, max_iter=80, random_state=0)),
    (c.DecisionForest, {"trees": 15, "max_depth": 4, "seed": 2},
     ensemble.RandomForestClassifier(n_estimators=15, max_depth=4, random_state=2)),
    (c.BoostedDecisionTree, {"trees": 20, "learning_rate": 0.2, "seed": 1},
     ensemble.GradientBoostingClassifier(n_estimators=20, learning_rate=0.2, random_state=1)),
    (c.SupportVectorMachine, {"kernel": "linear", "cost": 0.5},
     calibration.CalibratedClassifierCV(svm.SVC(kernel="linear", C=0.5), method="sigmoid",
                                        ensemble=False)),
    (c.KNearestNeighbours, {"k": 7, "weights": "distance"},
     neighbors.KNeighborsClassifier(n_neighbors=7, weights="distance")),
    (c.NaiveBayes, {}, naive_bayes.GaussianNB()),
    (c.AveragedPerceptron, {"max_iterations": 5, "seed": 9},
     linear_model.SGDClassifier(loss="perceptron", penalty=None, learning_rate="constant",
                                eta0=1.0, max_iter=5, tol=None, average=True, random_state=9)),
]


@pytest.mark.parametrize(("node_type", "params", "reference"), CLASSIFIERS,
                         ids=lambda v: getattr(v, "type_id", None))
def test_classifiers_match_scikit_learn(node_type, params, reference):
    train, test = scaled("breast_cancer")
    learner = run_node(node_type, params)["learner"]
    assert learner.task == "classification"
    model = run_node(TrainModel, learner=learner, data=train)["model"]
    scored = run_node(ScoreModel, model=model, data=test)["scored"].frame
    X, y = train.frame[train.feature_columns].to_numpy(), train.frame["diagnosis"].to_numpy()
    X_test = test.frame[test.feature_columns].to_numpy()
    reference.fit(X, y)
    assert scored[SCORED_LABELS].tolist() == reference.predict(X_test).tolist()
    if hasattr(reference, "predict_proba"):
        np.testing.assert_allclose(scored[SCORED_PROBABILITIES],
                                   reference.predict_proba(X_test)[:, 1])
    else:
        assert SCORED_PROBABILITIES not in scored.columns
    assert (scored[SCORED_LABELS] == test.frame["diagnosis"]).mean() > 0.85


def test_one_vs_all_wraps_a_two_class_learner_for_three_classes():
    train, test = scaled("iris")
    inner = run_node(c.AveragedPerceptron, {"seed": 1})["learner"]
    learner = run_node(c.OneVsAllMulticlass, learner=inner)["learner"]
    model = run_node(TrainModel, learner=learner, data=train)["model"]
    scored = run_node(ScoreModel, model=model, data=test)["scored"].frame
    reference = multiclass.OneVsRestClassifier(linear_model.SGDClassifier(
        loss="perceptron", penalty=None, learning_rate="constant", eta0=1.0, max_iter=10,
        tol=None, average=True, random_state=1))
    reference.fit(train.frame[train.feature_columns].to_numpy(), train.frame["species"])
    assert scored[SCORED_LABELS].tolist() == reference.predict(
        test.frame[test.feature_columns].to_numpy()).tolist()
    assert len(model.classes) == 3


def test_one_vs_all_refuses_a_regression_learner():
    with pytest.raises(NodeInputError, match="regression learner"):
        run_node(c.OneVsAllMulticlass, learner=run_node(r.PoissonRegression)["learner"])


def test_naive_bayes_distributions():
    assert type(run_node(c.NaiveBayes, {"distribution": "multinomial", "smoothing": 0.5})[
        "learner"].estimator) is naive_bayes.MultinomialNB
    estimator = run_node(c.NaiveBayes, {"distribution": "bernoulli"})["learner"].estimator
    assert type(estimator) is naive_bayes.BernoulliNB and estimator.alpha == 1.0


REGRESSORS = [
    (r.NeuralNetworkRegression, {"hidden_layers": [20], "solver": "lbfgs", "max_iterations": 200,
                                 "seed": 5},
     neural_network.MLPRegressor(hidden_layer_sizes=(20,), solver="lbfgs", max_iter=200,
                                 random_state=5)),
    (r.BayesianLinearRegression, {}, linear_model.BayesianRidge()),
    (r.DecisionForestRegression, {"trees": 15, "seed": 2},
     ensemble.RandomForestRegressor(n_estimators=15, random_state=2)),
    (r.BoostedDecisionTreeRegression, {"trees": 30, "max_depth": 2, "seed": 1},
     ensemble.GradientBoostingRegressor(n_estimators=30, max_depth=2, random_state=1)),
    (r.PoissonRegression, {"l2_weight": 0.1},
     linear_model.PoissonRegressor(alpha=0.1)),
]


@pytest.mark.parametrize(("node_type", "params", "reference"), REGRESSORS,
                         ids=lambda v: getattr(v, "type_id", None))
def test_regressors_match_scikit_learn(node_type, params, reference):
    train, test = scaled("boston_housing")
    learner = run_node(node_type, params)["learner"]
    assert learner.task == "regression"
    model = run_node(TrainModel, learner=learner, data=train)["model"]
    scored = run_node(ScoreModel, model=model, data=test)["scored"].frame
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference.fit(train.frame[train.feature_columns].to_numpy(), train.frame["MEDV"])
    expected = reference.predict(test.frame[test.feature_columns].to_numpy())
    np.testing.assert_allclose(scored[SCORED_LABELS], expected, rtol=1e-10)
    r2 = 1 - ((scored[SCORED_LABELS] - test.frame["MEDV"]) ** 2).sum() / (
        (test.frame["MEDV"] - test.frame["MEDV"].mean()) ** 2).sum()
    assert r2 > 0.6


@pytest.mark.parametrize(("node_type", "params", "name"), [
    (c.NeuralNetwork, {"hidden_layers": []}, "'hidden_layers'"),
    (c.NeuralNetwork, {"hidden_layers": [10, 0]}, r"'hidden_layers\[1\]'"),
    (c.NeuralNetwork, {"activation": "softmax"}, "'activation'"),
    (r.NeuralNetworkRegression, {"learning_rate": 0}, "'learning_rate'"),
    (c.DecisionForest, {"trees": 0}, "'trees'"),
    (c.KNearestNeighbours, {"k": 0}, "'k'"),
    (c.SupportVectorMachine, {"cost": -1}, "'cost'"),
    (r.PoissonRegression, {"l2_weight": -1}, "'l2_weight'"),
])
def test_bad_parameters_are_named(node_type, params, name):
    with pytest.raises(ParameterError, match=name):
        node_type(params)


def test_poisson_regression_refuses_negative_labels_with_a_clear_error():
    train, _ = scaled("boston_housing")
    frame = train.frame.copy()
    frame["MEDV"] = frame["MEDV"] - 30
    with pytest.raises(NodeInputError, match="cannot be trained"):
        run_node(TrainModel, learner=run_node(r.PoissonRegression)["learner"],
                 data=train.with_frame(frame))


@pytest.mark.parametrize(("node_type", "params"), [
    (c.SupportVectorMachine, {}), (c.NeuralNetwork, {"max_iterations": 20}),
    (c.NeuralNetwork, {"max_iterations": 20, "solver": "sgd"}), (c.AveragedPerceptron, {}),
    (c.BoostedDecisionTree, {"trees": 5}),
])
def test_trained_models_are_stored_and_loaded_safely(node_type, params, tmp_path):
    train, test = scaled("breast_cancer", rows=200)
    model = run_node(TrainModel, learner=run_node(node_type, params)["learner"],
                     data=train)["model"]
    kind = save_value(model, tmp_path / "model")
    again = load_value(kind, tmp_path / "model")
    first = run_node(ScoreModel, model=model, data=test)["scored"].frame
    second = run_node(ScoreModel, model=again, data=test)["scored"].frame
    assert first.equals(second) and again.digest() == model.digest()
