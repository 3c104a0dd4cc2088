"""Regression learners on scikit-learn: untrained models for Train Model.

Each maps its parameters one to one onto the scikit-learn estimator named in
its help, so results equal that estimator's called directly with the same seed.
"""

from __future__ import annotations

from typing import Any

from nodes.context import RunContext
from nodes.contract import ScoringRole
from nodes.models.classifiers import (
    BoostedTreeParameters,
    DecisionForestParameters,
    NeuralNetworkParameters,
    mlp_settings,
)
from nodes.node import Node
from nodes.params import FloatParam, IntParam
from nodes.ports import LEARNER, Output
from nodes.values import Learner


class _Regressor(Node):
    """Shared declarations of the regression learners (not a node type)."""

    category = "Models"
    scoring_role = ScoringRole.TRAINING_ONLY

    class Outputs:
        learner = Output(LEARNER, help="The untrained regression model.")

    def learner(self, estimator: Any) -> dict[str, Any]:
        return {"learner": Learner(estimator, task="regression", name=self.title)}


class NeuralNetworkRegression(NeuralNetworkParameters, _Regressor):
    """A neural network regression model: a multi-layer perceptron predicting a number.

    Output 'learner': the untrained model; connect it to Train Model.

    It is scikit-learn's MLPRegressor (squared error): 'hidden_layers' is
    hidden_layer_sizes, 'learning_rate' learning_rate_init (adam and sgd),
    'max_iterations' max_iter, 'l2_alpha' alpha and 'seed' random_state.
    Scale the features first (Normalize Data).
    """

    type_id = "neural_network_regression"
    imports = ("sklearn.neural_network",)
    title = "Neural Network Regression"

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from sklearn.neural_network import MLPRegressor

        return self.learner(MLPRegressor(**mlp_settings(self)))


class BayesianLinearRegression(_Regressor):
    """A Bayesian linear regression model: a weighted sum whose weight prior is learnt from data.

    Output 'learner': the untrained model; connect it to Train Model.

    It is scikit-learn's BayesianRidge: the precision of the weights and
    of the noise are estimated along with the weights (up to
    'max_iterations' rounds, stopping below 'tolerance').
    """

    type_id = "bayesian_linear_regression"
    imports = ("sklearn.linear_model",)
    title = "Bayesian Linear Regression"

    max_iterations = IntParam(300, minimum=1, help="Most update rounds.")
    tolerance = FloatParam(1e-3, minimum=0.0, exclusive_minimum=True,
                           help="Stop when the weights change less than this.")

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from sklearn.linear_model import BayesianRidge

        return self.learner(BayesianRidge(max_iter=self.max_iterations, tol=self.tolerance))


class DecisionForestRegression(DecisionForestParameters, _Regressor):
    """A decision forest regression model: the average of many decision trees.

    Output 'learner': the untrained model; connect it to Train Model.

    It is scikit-learn's RandomForestRegressor with n_estimators =
    'trees', max_depth = 'max_depth' (0: no limit), min_samples_leaf =
    'min_samples_per_leaf' and random_state = 'seed'.
    """

    type_id = "decision_forest_regression"
    imports = ("sklearn.ensemble",)
    title = "Decision Forest Regression"

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from sklearn.ensemble import RandomForestRegressor

        return self.learner(RandomForestRegressor(**self.forest_settings()))


class BoostedDecisionTreeRegression(BoostedTreeParameters, _Regressor):
    """A boosted decision tree regression model: small trees added one by one.

    Output 'learner': the untrained model; connect it to Train Model.

    It is scikit-learn's GradientBoostingRegressor (squared error) with
    n_estimators = 'trees', learning_rate, max_depth, min_samples_leaf =
    'min_samples_per_leaf' and random_state = 'seed'.
    """

    type_id = "boosted_decision_tree_regression"
    imports = ("sklearn.ensemble",)
    title = "Boosted Decision Tree Regression"

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from sklearn.ensemble import GradientBoostingRegressor

        return self.learner(GradientBoostingRegressor(**self.boosting_settings()))


class PoissonRegression(_Regressor):
    """A Poisson regression model: predicts counts (numbers >= 0) through a log link.

    Output 'learner': the untrained model; connect it to Train Model. The
    label must not be negative.

    It is scikit-learn's PoissonRegressor with alpha = 'l2_weight' (L2
    penalty), max_iter = 'max_iterations' and tol = 'tolerance'.
    """

    type_id = "poisson_regression"
    imports = ("sklearn.linear_model",)
    title = "Poisson Regression"

    l2_weight = FloatParam(1.0, minimum=0.0, help="L2 penalty on the weights (alpha).")
    max_iterations = IntParam(100, minimum=1, help="Most solver iterations.")
    tolerance = FloatParam(1e-4, minimum=0.0, exclusive_minimum=True,
                           help="Stop when the improvement is below this.")

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from sklearn.linear_model import PoissonRegressor

        return self.learner(PoissonRegressor(alpha=self.l2_weight, max_iter=self.max_iterations,
                                             tol=self.tolerance))
