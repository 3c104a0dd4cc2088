"""Linear Regression and Logistic Regression learners."""

from __future__ import annotations

import pytest
from sklearn import linear_model

from nodes.context import derive_seed
from nodes.errors import ParameterError
from nodes.models.learners import LinearRegression, LogisticRegression
from nodes.testing import run_node
from nodes.values import Learner


def test_linear_regression_defaults_to_ordinary_least_squares():
    learner = run_node(LinearRegression)["learner"]
    assert isinstance(learner, Learner)
    assert (learner.task, learner.name) == ("regression", "Linear Regression")
    assert type(learner.estimator) is linear_model.LinearRegression
    assert learner.estimator.get_params() == linear_model.LinearRegression().get_params()


def test_linear_regression_ridge_uses_l2_weight_as_alpha():
    learner = run_node(LinearRegression, {"solution": "ridge", "l2_weight": 2.5,
                                          "fit_intercept": False})["learner"]
    assert type(learner.estimator) is linear_model.Ridge
    assert learner.estimator.get_params() == linear_model.Ridge(
        alpha=2.5, fit_intercept=False).get_params()


def test_logistic_regression_maps_its_parameters():
    learner = run_node(LogisticRegression, {"regularization_strength": 0.3, "max_iterations": 50,
                                            "tolerance": 1e-6, "seed": 7})["learner"]
    assert (learner.task, learner.name) == ("classification", "Logistic Regression")
    assert learner.estimator.get_params() == linear_model.LogisticRegression(
        C=0.3, max_iter=50, tol=1e-6, random_state=7).get_params()


def test_logistic_regression_defaults():
    # The seed is left to inherit: the harness's run seed 0, derived for its node id.
    estimator = run_node(LogisticRegression)["learner"].estimator
    assert (estimator.C, estimator.max_iter, estimator.tol, estimator.random_state) == (
        1.0, 1000, 1e-4, derive_seed(0, "node"))


@pytest.mark.parametrize(("node_type", "params", "name"), [
    (LinearRegression, {"solution": "lasso"}, "'solution'"),
    (LinearRegression, {"l2_weight": -0.1}, "'l2_weight'"),
    (LinearRegression, {"fit_intercept": "sometimes"}, "'fit_intercept'"),
    (LogisticRegression, {"regularization_strength": 0}, "'regularization_strength'"),
    (LogisticRegression, {"regularization_strength": float("inf")}, "'regularization_strength'"),
    (LogisticRegression, {"max_iterations": 0}, "'max_iterations'"),
    (LogisticRegression, {"tolerance": 0}, "'tolerance'"),
    (LogisticRegression, {"seed": -3}, "'seed'"),
    (LogisticRegression, {"C": 1.0}, "'C'"),
])
def test_bad_parameters_are_named(node_type, params, name):
    with pytest.raises(ParameterError, match=name):
        node_type(params)
