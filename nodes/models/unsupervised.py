"""Clustering and anomaly detection: learners, training, and assigning clusters."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from nodes.context import RunContext
from nodes.contract import Randomness, ScoringRole
from nodes.data.checks import (
    columns_text,
    is_numeric,
    require_columns,
    require_no_missing,
    require_numeric,
    require_rows,
)
from nodes.errors import NodeInputError
from nodes.node import Node
from nodes.params import ChoiceParam, ColumnParam, FloatParam, IntParam, SeedParam
from nodes.ports import LEARNER, MODEL, TABLE, Input, Output
from nodes.values import Learner, Model, Table

ASSIGNMENTS = "Assignments"
DISTANCE = "DistanceToClusterCenter"


class KMeans(Node):
    """K-means clustering: groups rows into k clusters around k centres.

    Output 'learner': the untrained clustering model; connect it to Train
    Clustering Model.

    It is scikit-learn's KMeans with n_clusters = 'clusters', init =
    'initialization' ('k-means++' spreads the first centres out, 'random'
    picks rows), n_init = 'restarts' (the best of that many runs is kept),
    max_iter = 'max_iterations' and random_state = 'seed'. Distances are
    Euclidean: scale the features first (Normalize Data).
    """

    type_id = "k_means"
    imports = ("sklearn.base", "sklearn.cluster")
    title = "K-Means Clustering"
    category = "Models"
    scoring_role = ScoringRole.TRAINING_ONLY
    aliases = ("K-Means Clustering",)
    randomness = Randomness()

    class Outputs:
        learner = Output(LEARNER, help="The untrained clustering model.")

    clusters = IntParam(3, minimum=1, maximum=10_000, help="Number of clusters k.")
    initialization = ChoiceParam("k-means++", ["k-means++", "random"],
                                 help="How the first centres are chosen.")
    restarts = IntParam(10, minimum=1, maximum=1000, help="Runs from different starts; the "
                                                          "best is kept.")
    max_iterations = IntParam(300, minimum=1, help="Most iterations per run.")
    seed = SeedParam(help="Random seed (random_state).")

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from sklearn.cluster import KMeans as SklearnKMeans

        estimator = SklearnKMeans(n_clusters=self.clusters, init=self.initialization,
                                  n_init=self.restarts, max_iter=self.max_iterations,
                                  random_state=self.seed)
        return {"learner": Learner(estimator, task="clustering", name=self.title)}


class OneClassSVM(Node):
    """A one-class support vector machine: learns the region where normal rows lie.

    Output 'learner': the untrained anomaly detection model; connect it to
    Train Anomaly Detection Model.

    It is scikit-learn's OneClassSVM with kernel = 'kernel', nu = 'nu' (an
    upper bound on the share of training rows treated as outliers) and
    gamma = 'gamma'. Scale the features first (Normalize Data).
    """

    type_id = "one_class_svm"
    imports = ("sklearn.base", "sklearn.svm")
    title = "One-Class Support Vector Machine"
    category = "Models"
    scoring_role = ScoringRole.TRAINING_ONLY
    aliases = ("One-Class Support Vector Machine", "Anomaly Detection")

    class Outputs:
        learner = Output(LEARNER, help="The untrained anomaly detection model.")

    kernel = ChoiceParam("rbf", ["rbf", "linear", "poly", "sigmoid"], help="Kernel function.")
    nu = FloatParam(0.1, minimum=0.0, maximum=1.0, exclusive_minimum=True,
                    help="Upper bound on the share of outliers among the training rows.")
    gamma = ChoiceParam("scale", ["scale", "auto"], help="Kernel width rule.")

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from sklearn.svm import OneClassSVM as SklearnOneClassSVM

        estimator = SklearnOneClassSVM(kernel=self.kernel, nu=self.nu, gamma=self.gamma)
        return {"learner": Learner(estimator, task="anomaly_detection", name=self.title)}


class IsolationForest(Node):
    """An isolation forest: anomalies are the rows that random trees isolate in few splits.

    Output 'learner': the untrained anomaly detection model; connect it to
    Train Anomaly Detection Model.

    It is scikit-learn's IsolationForest with n_estimators = 'trees',
    contamination = 'contamination' (the expected share of anomalies; 0
    means scikit-learn's 'auto' threshold) and random_state = 'seed'.
    """

    type_id = "isolation_forest"
    imports = ("sklearn.base", "sklearn.ensemble")
    title = "Isolation Forest"
    category = "Models"
    scoring_role = ScoringRole.TRAINING_ONLY
    aliases = ("PCA-Based Anomaly Detection", "Anomaly Detection")
    randomness = Randomness()

    class Outputs:
        learner = Output(LEARNER, help="The untrained anomaly detection model.")

    trees = IntParam(100, minimum=1, maximum=5000, help="Number of trees.")
    contamination = FloatParam(0.0, minimum=0.0, maximum=0.5,
                               help="Expected share of anomalies; 0: automatic threshold.")
    seed = SeedParam(help="Random seed (random_state).")

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from sklearn.ensemble import IsolationForest as SklearnIsolationForest

        estimator = SklearnIsolationForest(n_estimators=self.trees,
                                           contamination=self.contamination or "auto",
                                           random_state=self.seed)
        return {"learner": Learner(estimator, task="anomaly_detection", name=self.title)}


def _feature_columns(node: str, data: Table, requested: list[str], *, port: str) -> list[str]:
    if requested:
        require_columns(node, data, requested, port=port, why=" named by the 'columns' parameter")
        columns = list(requested)
    else:
        columns = [c for c in data.feature_columns if is_numeric(data.frame[c])]
        if not columns:
            raise NodeInputError(node, "the table has no numeric feature column.", port=port,
                                 fix="List the columns in 'columns'. Columns: "
                                     f"{columns_text(list(data.frame.columns))}.")
    require_numeric(node, data, columns, port=port)
    require_no_missing(node, data, columns, port=port)
    return columns


def _fit_unsupervised(node: Node, ctx: RunContext, learner: Learner, data: Table,
                      task: str, trainer: str) -> Model:
    from sklearn.base import clone

    if learner.task != task:
        raise NodeInputError(node.label, f"'{learner.name}' is a {learner.task} learner; "
                             f"{node.title} trains {task.replace('_', ' ')} learners.",
                             port="learner", fix=f"Connect a {task.replace('_', ' ')} learner, "
                                                 f"or use {trainer}.")
    require_rows(node.label, data, port="data")
    columns = _feature_columns(node.label, data, node.columns, port="data")
    estimator = clone(learner.estimator)
    n_clusters = getattr(estimator, "n_clusters", None)
    if n_clusters is not None and n_clusters > len(data.frame):
        raise NodeInputError(node.label, f"{n_clusters} clusters need at least as many rows, "
                             f"but the table has {len(data.frame)}.", port="data",
                             fix="Lower 'clusters' on the learner, or give more rows.")
    ctx.progress(0.05, f"training {learner.name} on {len(data.frame)} rows")
    estimator.fit(data.frame[columns].to_numpy(dtype=float))
    return Model(estimator=estimator, task=task, name=learner.name, feature_columns=columns,
                 feature_dtypes={c: str(data.frame[c].dtype) for c in columns},
                 label_column=None, training_data=data.digest())


def assign_clusters(model: Model, data: Table) -> Table:
    """``data`` plus 'Assignments' (cluster number) and the distance to that centre."""
    X = data.frame[model.feature_columns].to_numpy(dtype=float)
    assignments = model.estimator.predict(X)
    distances = model.estimator.transform(X)[np.arange(len(X)), assignments]
    frame = data.frame.drop(columns=[c for c in (ASSIGNMENTS, DISTANCE)
                                     if c in data.frame.columns])
    frame = pd.concat([frame, pd.DataFrame({ASSIGNMENTS: assignments.astype(np.int64),
                                            DISTANCE: distances}, index=frame.index)], axis=1)
    return data.with_frame(frame, {ASSIGNMENTS: "score", DISTANCE: "score"})


class TrainClusteringModel(Node):
    """Train a clustering learner (e.g. K-Means) on a table: find the clusters.

    Input 'learner': an untrained clustering model; input 'data': the rows
    to cluster. Output 'model': the trained clustering model (its cluster
    centres and the columns it used), for Assign Data to Clusters; output
    'assignments': the training rows plus 'Assignments' (the cluster
    number, 0 to k - 1) and 'DistanceToClusterCenter', both with the score
    role.

    'columns' empty means every numeric feature column (label and id
    columns are left out, so a labelled table can be clustered and the
    clusters compared with the labels). The columns must have no missing
    values.
    """

    type_id = "train_clustering_model"
    imports = ("sklearn.base",)
    title = "Train Clustering Model"
    category = "Train/Score"
    scoring_role = ScoringRole.TRAINING_ONLY

    class Inputs:
        learner = Input(LEARNER, help="The untrained clustering model.")
        data = Input(TABLE, help="The rows to cluster.")

    class Outputs:
        model = Output(MODEL, help="The trained clustering model.")
        assignments = Output(TABLE, help="The rows with their cluster assignments.")

    columns = ColumnParam(multiple=True, help="Columns to cluster on; empty: every numeric "
                                              "feature column.")

    def run(self, ctx: RunContext, learner: Learner, data: Table) -> dict[str, Any]:
        model = _fit_unsupervised(self, ctx, learner, data, "clustering", "Train Model")
        return {"model": model, "assignments": assign_clusters(model, data)}


class AssignDataToClusters(Node):
    """Put each row of a table into the nearest cluster of a trained clustering model.

    Input 'model': from Train Clustering Model; input 'data': rows with the
    columns the model was trained on. Output 'assignments': the rows plus
    'Assignments' (cluster number) and 'DistanceToClusterCenter' (score
    role). Evaluate Model measures the clusters (silhouette, sizes).
    """

    type_id = "assign_data_to_clusters"
    imports = ("sklearn.base",)
    title = "Assign Data to Clusters"
    category = "Train/Score"
    scoring_role = ScoringRole.ROW_WISE

    class Inputs:
        model = Input(MODEL, help="The trained clustering model.")
        data = Input(TABLE, help="The rows to assign.")

    class Outputs:
        assignments = Output(TABLE, help="The rows with their cluster assignments.")

    def run(self, ctx: RunContext, model: Model, data: Table) -> dict[str, Any]:
        if model.task != "clustering":
            raise NodeInputError(self.label, f"'{model.name}' is a {model.task} model.",
                                 port="model", fix="Connect the output of Train Clustering "
                                                   "Model (or use Score Model).")
        require_rows(self.label, data, port="data")
        require_columns(self.label, data, model.feature_columns, port="data",
                        why=f" that '{model.name}' was trained on")
        require_numeric(self.label, data, model.feature_columns, port="data")
        require_no_missing(self.label, data, model.feature_columns, port="data")
        return {"assignments": assign_clusters(model, data)}


class TrainAnomalyDetectionModel(Node):
    """Train an anomaly detector (One-Class SVM, Isolation Forest) on mostly normal rows.

    Input 'learner': an untrained anomaly detection model; input 'data':
    the training rows (a label column, if any, is not used). Output
    'model': the trained detector. Score Model then gives 'Scored Labels'
    (1: anomaly, 0: normal, scikit-learn's predict -1 and +1) and 'Anomaly
    Score' (minus scikit-learn's decision_function: above 0 is an
    anomaly). For an Isolation Forest it also gives 'Scored
    Probabilities', the anomaly score of Liu et al. in [0, 1] (minus
    score_samples), so Evaluate Model can compute AUC against a 0/1 label.

    'columns' empty means every numeric feature column.
    """

    type_id = "train_anomaly_detection_model"
    imports = ("sklearn.base",)
    title = "Train Anomaly Detection Model"
    category = "Train/Score"
    scoring_role = ScoringRole.TRAINING_ONLY

    class Inputs:
        learner = Input(LEARNER, help="The untrained anomaly detection model.")
        data = Input(TABLE, help="The training rows.")

    class Outputs:
        model = Output(MODEL, help="The trained anomaly detection model.")

    columns = ColumnParam(multiple=True, help="Columns to learn from; empty: every numeric "
                                              "feature column.")

    def run(self, ctx: RunContext, learner: Learner, data: Table) -> dict[str, Any]:
        model = _fit_unsupervised(self, ctx, learner, data, "anomaly_detection", "Train Model")
        model.classes = [0, 1]
        return {"model": model}
