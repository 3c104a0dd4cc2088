"""Learners: untrained models with their settings, to feed Train Model."""

from __future__ import annotations

from typing import Any

from nodes.context import RunContext
from nodes.contract import Randomness, ScoringRole
from nodes.node import Node
from nodes.params import BoolParam, ChoiceParam, FloatParam, IntParam, SeedParam
from nodes.ports import LEARNER, Output
from nodes.values import Learner


class LinearRegression(Node):
    """A linear regression model: predicts a number as a weighted sum of the features.

    Output 'learner': the untrained model; connect it to Train Model.

    'ordinary_least_squares' fits the weights that minimise the squared
    error (scikit-learn's LinearRegression; 'l2_weight' is not used).
    'ridge' adds 'l2_weight' times the squared weights to the error
    (scikit-learn's Ridge with alpha = l2_weight), which keeps weights
    small when features are correlated.
    """

    type_id = "linear_regression"
    imports = ("sklearn.linear_model",)
    version = 1
    title = "Linear Regression"
    category = "Models"
    scoring_role = ScoringRole.TRAINING_ONLY

    class Outputs:
        learner = Output(LEARNER, help="The untrained regression model.")

    solution = ChoiceParam("ordinary_least_squares", ["ordinary_least_squares", "ridge"],
                           help="How the weights are found.")
    l2_weight = FloatParam(0.001, minimum=0.0,
                           help="Ridge penalty on squared weights (alpha); ridge only.")
    fit_intercept = BoolParam(True, help="Fit a constant term; off: the line passes through 0.")

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from sklearn.linear_model import LinearRegression as SklearnLinearRegression
        from sklearn.linear_model import Ridge

        if self.solution == "ridge":
            estimator = Ridge(alpha=self.l2_weight, fit_intercept=self.fit_intercept)
        else:
            estimator = SklearnLinearRegression(fit_intercept=self.fit_intercept)
        return {"learner": Learner(estimator, task="regression", name=self.title)}


class LogisticRegression(Node):
    """A logistic regression model: predicts a class (two or more) with probabilities.

    Output 'learner': the untrained model; connect it to Train Model.

    It is scikit-learn's LogisticRegression (lbfgs solver, L2 penalty).
    'regularization_strength' is scikit-learn's C, the inverse of the L2
    weight: smaller values mean stronger regularization. Training stops
    after 'max_iterations' or when the improvement falls below
    'tolerance'. Unscaled features may need more iterations; Normalize Data
    first helps. 'seed' is scikit-learn's random_state (the lbfgs solver is
    deterministic, so it only matters for solvers that shuffle).
    """

    type_id = "logistic_regression"
    imports = ("sklearn.linear_model",)
    version = 1
    title = "Logistic Regression"
    category = "Models"
    scoring_role = ScoringRole.TRAINING_ONLY
    aliases = ("Two-Class Logistic Regression", "Multiclass Logistic Regression")
    randomness = Randomness()

    class Outputs:
        learner = Output(LEARNER, help="The untrained classification model.")

    regularization_strength = FloatParam(
        1.0, minimum=0.0, exclusive_minimum=True,
        help="scikit-learn's C = 1 / L2 weight; smaller is stronger regularization.")
    max_iterations = IntParam(1000, minimum=1, help="Most solver iterations.")
    tolerance = FloatParam(1e-4, minimum=0.0, exclusive_minimum=True,
                           help="Stop when the improvement is below this.")
    seed = SeedParam(advanced=True, help="Random seed (random_state).")

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression

        estimator = SklearnLogisticRegression(C=self.regularization_strength,
                                              max_iter=self.max_iterations,
                                              tol=self.tolerance, random_state=self.seed)
        return {"learner": Learner(estimator, task="classification", name=self.title)}
