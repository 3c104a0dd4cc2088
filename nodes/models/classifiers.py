"""Classification learners on scikit-learn: untrained models for Train Model.

Each node maps its parameters one to one onto a scikit-learn estimator (named
in its help), so training through Train Model gives exactly what that
estimator gives when called directly with the same seed.
"""

from __future__ import annotations

from typing import Any

from nodes.context import RunContext
from nodes.contract import Randomness, ScoringRole
from nodes.errors import NodeInputError
from nodes.node import Node
from nodes.params import ChoiceParam, FloatParam, IntParam, ListParam, SeedParam
from nodes.ports import LEARNER, Input, Output
from nodes.values import Learner

ACTIVATIONS = ("relu", "tanh", "logistic", "identity")
SOLVERS = ("adam", "sgd", "lbfgs")


class NeuralNetworkParameters:
    """The parameters both Neural Network learners share (a mixin, not a node)."""

    randomness = Randomness()
    trusted_types = ("sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
                     "sklearn.neural_network._stochastic_optimizers.SGDOptimizer")

    hidden_layers = ListParam([100], item=IntParam(100, minimum=1, maximum=100_000),
                              min_items=1, max_items=20,
                              help="Neurons in each hidden layer, input side first, "
                                   "e.g. [64, 32].")
    activation = ChoiceParam("relu", ACTIVATIONS, help="Activation of the hidden neurons.")
    solver = ChoiceParam("adam", SOLVERS, help="Weight optimiser: adam, sgd or lbfgs.")
    learning_rate = FloatParam(0.001, minimum=0.0, exclusive_minimum=True,
                               help="Initial step size (adam and sgd).")
    max_iterations = IntParam(200, minimum=1, help="Most passes over the data (epochs).")
    l2_alpha = FloatParam(0.0001, minimum=0.0, help="L2 penalty on the weights (alpha).")
    seed = SeedParam(help="Random seed (random_state).")


class DecisionForestParameters:
    """The parameters both Decision Forest learners share (a mixin, not a node)."""

    randomness = Randomness()
    trusted_types = ("sklearn.tree._tree.Tree",)

    trees = IntParam(100, minimum=1, maximum=5000, help="Number of trees.")
    max_depth = IntParam(0, minimum=0, help="Deepest a tree may grow; 0: no limit.")
    min_samples_per_leaf = IntParam(1, minimum=1, help="Fewest training rows in a leaf.")
    seed = SeedParam(help="Random seed (random_state).")

    def forest_settings(self) -> dict[str, Any]:
        """RandomForest* arguments."""
        return {"n_estimators": self.trees, "max_depth": max_depth(self.max_depth),
                "min_samples_leaf": self.min_samples_per_leaf, "random_state": self.seed}


class BoostedTreeParameters:
    """The parameters both Boosted Decision Tree learners share (a mixin, not a node)."""

    randomness = Randomness()
    trusted_types = ("sklearn.tree._tree.Tree",)

    trees = IntParam(100, minimum=1, maximum=5000, help="Number of boosting rounds (trees).")
    learning_rate = FloatParam(0.1, minimum=0.0, exclusive_minimum=True,
                               help="Shrinks each tree's contribution.")
    max_depth = IntParam(3, minimum=1, maximum=50, help="Depth of each tree.")
    min_samples_per_leaf = IntParam(1, minimum=1, help="Fewest training rows in a leaf.")
    seed = SeedParam(help="Random seed (random_state).")

    def boosting_settings(self) -> dict[str, Any]:
        """GradientBoosting* arguments."""
        return {"n_estimators": self.trees, "learning_rate": self.learning_rate,
                "max_depth": self.max_depth, "min_samples_leaf": self.min_samples_per_leaf,
                "random_state": self.seed}


def mlp_settings(node: Node) -> dict[str, Any]:
    """MLPClassifier/MLPRegressor arguments of a Neural Network node."""
    return {"hidden_layer_sizes": tuple(node.hidden_layers), "activation": node.activation,
            "solver": node.solver, "learning_rate_init": node.learning_rate,
            "max_iter": node.max_iterations, "alpha": node.l2_alpha,
            "random_state": node.seed}


def max_depth(value: int) -> int | None:
    """0 means unlimited depth (scikit-learn's None)."""
    return value or None


class _Classifier(Node):
    """Shared declarations of the classification learners (not a node type)."""

    category = "Models"
    scoring_role = ScoringRole.TRAINING_ONLY

    class Outputs:
        learner = Output(LEARNER, help="The untrained classification model.")

    def learner(self, estimator: Any) -> dict[str, Any]:
        return {"learner": Learner(estimator, task="classification", name=self.title)}


class NeuralNetwork(NeuralNetworkParameters, _Classifier):
    """A neural network classifier: a multi-layer perceptron trained by backpropagation.

    Output 'learner': the untrained model; connect it to Train Model.

    It is scikit-learn's MLPClassifier: 'hidden_layers' is
    hidden_layer_sizes, 'learning_rate' learning_rate_init (adam and sgd
    only), 'max_iterations' max_iter (epochs for adam and sgd), 'l2_alpha'
    the L2 penalty alpha, 'seed' random_state (initial weights, shuffling).
    Scale the features first (Normalize Data): networks train badly on
    features of very different sizes.
    """

    type_id = "neural_network"
    imports = ("sklearn.neural_network",)
    title = "Neural Network"
    aliases = ("Two-Class Neural Network", "Multiclass Neural Network")

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from sklearn.neural_network import MLPClassifier

        return self.learner(MLPClassifier(**mlp_settings(self)))


class DecisionForest(DecisionForestParameters, _Classifier):
    """A decision forest classifier: many decision trees voting, each grown on a resample.

    Output 'learner': the untrained model; connect it to Train Model.

    It is scikit-learn's RandomForestClassifier with n_estimators =
    'trees', max_depth = 'max_depth' (0: grow until the leaves are pure),
    min_samples_leaf = 'min_samples_per_leaf' and random_state = 'seed'.
    Probabilities are the share of trees voting for each class.
    """

    type_id = "decision_forest"
    imports = ("sklearn.ensemble",)
    title = "Decision Forest"
    aliases = ("Two-Class Decision Forest", "Multiclass Decision Forest")

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from sklearn.ensemble import RandomForestClassifier

        return self.learner(RandomForestClassifier(**self.forest_settings()))


class BoostedDecisionTree(BoostedTreeParameters, _Classifier):
    """A boosted decision tree classifier: small trees added one by one, each fixing the last.

    Output 'learner': the untrained model; connect it to Train Model.

    It is scikit-learn's GradientBoostingClassifier with n_estimators =
    'trees', learning_rate = 'learning_rate', max_depth = 'max_depth',
    min_samples_leaf = 'min_samples_per_leaf' and random_state = 'seed'.
    """

    type_id = "boosted_decision_tree"
    imports = ("sklearn.ensemble",)
    title = "Boosted Decision Tree"
    aliases = ("Two-Class Boosted Decision Tree", "Multiclass Boosted Decision Tree")

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from sklearn.ensemble import GradientBoostingClassifier

        return self.learner(GradientBoostingClassifier(**self.boosting_settings()))


class SupportVectorMachine(_Classifier):
    """A support vector machine classifier: the widest margin between the classes.

    Output 'learner': the untrained model; connect it to Train Model.

    It is scikit-learn's SVC with kernel = 'kernel', C = 'cost' (larger
    fits the training rows more closely) and gamma = 'gamma' ('scale' or
    'auto'), inside CalibratedClassifierCV(method='sigmoid',
    ensemble=False): Platt scaling fitted on 5-fold out-of-fold decision
    values, so Score Model gives probabilities. Scale the features first
    (Normalize Data).
    """

    type_id = "support_vector_machine"
    imports = ("sklearn.calibration", "sklearn.svm")
    title = "Support Vector Machine"
    aliases = ("Two-Class Support Vector Machine",)
    trusted_types = ("sklearn.calibration._CalibratedClassifier",
                     "sklearn.calibration._SigmoidCalibration")

    kernel = ChoiceParam("rbf", ["linear", "rbf", "poly", "sigmoid"], help="Kernel function.")
    cost = FloatParam(1.0, minimum=0.0, exclusive_minimum=True,
                      help="Penalty C for rows on the wrong side of the margin.")
    gamma = ChoiceParam("scale", ["scale", "auto"], help="Kernel width rule (rbf, poly, "
                                                         "sigmoid).")

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import SVC

        return self.learner(CalibratedClassifierCV(
            SVC(kernel=self.kernel, C=self.cost, gamma=self.gamma), method="sigmoid",
            ensemble=False))


class KNearestNeighbours(_Classifier):
    """A k-nearest neighbours classifier: the majority class of the closest training rows.

    Output 'learner': the untrained model; connect it to Train Model.

    It is scikit-learn's KNeighborsClassifier with n_neighbors = 'k' and
    weights = 'weights' ('uniform': every neighbour counts the same;
    'distance': closer neighbours count more). Distances are Euclidean,
    so scale the features first (Normalize Data).
    """

    type_id = "k_nearest_neighbours"
    imports = ("sklearn.neighbors",)
    title = "k-Nearest Neighbours"
    aliases = ("K-Nearest Neighbors",)

    k = IntParam(5, minimum=1, maximum=10_000, help="Number of neighbours.")
    weights = ChoiceParam("uniform", ["uniform", "distance"],
                          help="How the neighbours' votes are weighted.")

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from sklearn.neighbors import KNeighborsClassifier

        return self.learner(KNeighborsClassifier(n_neighbors=self.k, weights=self.weights))


class NaiveBayes(_Classifier):
    """A naive Bayes classifier: features assumed independent given the class.

    Output 'learner': the untrained model; connect it to Train Model.

    'distribution' picks how a feature is modelled within a class:
    'gaussian' normally distributed numbers (scikit-learn's GaussianNB),
    'multinomial' counts such as word counts (MultinomialNB, with additive
    smoothing 'smoothing'; features must not be negative), 'bernoulli'
    0/1 presence such as multi-hot words (BernoulliNB, smoothing too).
    """

    type_id = "naive_bayes"
    imports = ("sklearn.naive_bayes",)
    title = "Naive Bayes"

    distribution = ChoiceParam("gaussian", ["gaussian", "multinomial", "bernoulli"],
                               help="Model of each feature within a class.")
    smoothing = FloatParam(1.0, minimum=0.0, help="Additive smoothing (alpha); multinomial "
                                                  "and bernoulli only.")

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from sklearn.naive_bayes import BernoulliNB, GaussianNB, MultinomialNB

        if self.distribution == "multinomial":
            estimator: Any = MultinomialNB(alpha=self.smoothing)
        elif self.distribution == "bernoulli":
            estimator = BernoulliNB(alpha=self.smoothing)
        else:
            estimator = GaussianNB()
        return self.learner(estimator)


class AveragedPerceptron(_Classifier):
    """An averaged perceptron: a linear classifier whose weights are averaged over updates.

    Output 'learner': the untrained model; connect it to Train Model. It
    predicts classes only (no probabilities).

    It is scikit-learn's SGDClassifier(loss='perceptron', penalty=None,
    learning_rate='constant', average=True) with eta0 = 'learning_rate',
    max_iter = 'max_iterations' and random_state = 'seed' (the shuffling
    of the rows in each pass).
    """

    type_id = "averaged_perceptron"
    imports = ("sklearn.linear_model",)
    title = "Averaged Perceptron"
    aliases = ("Two-Class Averaged Perceptron",)
    randomness = Randomness()

    learning_rate = FloatParam(1.0, minimum=0.0, exclusive_minimum=True,
                               help="Step size of each weight update (eta0).")
    max_iterations = IntParam(10, minimum=1, help="Passes over the training rows.")
    seed = SeedParam(help="Random seed (random_state).")

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from sklearn.linear_model import SGDClassifier

        return self.learner(SGDClassifier(
            loss="perceptron", penalty=None, learning_rate="constant", eta0=self.learning_rate,
            max_iter=self.max_iterations, tol=None, average=True, random_state=self.seed))


class OneVsAllMulticlass(_Classifier):
    """Build a multiclass classifier from a two-class one: one model per class against the rest.

    Input 'learner': an untrained classification learner (e.g. Averaged
    Perceptron or Support Vector Machine). Output 'learner': the wrapped
    learner; connect it to Train Model. A row gets the class whose model
    is most confident.

    It is scikit-learn's OneVsRestClassifier around the given estimator.
    """

    type_id = "one_vs_all_multiclass"
    imports = ("sklearn.multiclass",)
    title = "One-vs-All Multiclass"

    class Inputs:
        learner = Input(LEARNER, help="The two-class learner to train once per class.")

    def run(self, ctx: RunContext, learner: Learner) -> dict[str, Any]:
        from sklearn.multiclass import OneVsRestClassifier

        if learner.task != "classification":
            raise NodeInputError(self.label, f"'{learner.name}' is a {learner.task} learner.",
                                 port="learner", fix="Connect a classification learner.")
        return {"learner": Learner(OneVsRestClassifier(learner.estimator),
                                   task="classification", name=f"One-vs-All ({learner.name})")}
