"""Clustering, anomaly detection and the recommender, against scikit-learn and numpy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import cluster, ensemble, metrics, svm

from nodes.errors import NodeInputError
from nodes.evaluate.recommender import EvaluateRecommender, ranking_metrics
from nodes.models.classifiers import DecisionForest
from nodes.models.recommender import (
    MatrixFactorization,
    MatrixFactorizationRecommender,
    ScoreRecommender,
    TrainRecommender,
)
from nodes.models.train_score import SCORED_LABELS, SCORED_PROBABILITIES, ScoreModel
from nodes.models.unsupervised import (
    ASSIGNMENTS,
    AssignDataToClusters,
    IsolationForest,
    KMeans,
    OneClassSVM,
    TrainAnomalyDetectionModel,
    TrainClusteringModel,
)
from nodes.testing import run_node
from nodes.transform.split import SplitData
from nodes.values import Table, load_value, save_value
from tests.nodes.conftest import load_sample


def test_k_means_matches_scikit_learn_and_ignores_the_label(iris):
    learner = run_node(KMeans, {"clusters": 3, "seed": 5})["learner"]
    out = run_node(TrainClusteringModel, learner=learner, data=iris)
    X = iris.frame[iris.feature_columns].to_numpy()
    reference = cluster.KMeans(n_clusters=3, random_state=5).fit(X)
    assert out["model"].feature_columns == iris.feature_columns
    assert out["assignments"].frame[ASSIGNMENTS].tolist() == reference.labels_.tolist()
    np.testing.assert_allclose(out["model"].estimator.cluster_centers_,
                               reference.cluster_centers_)
    half = iris.with_frame(iris.frame.iloc[::2].reset_index(drop=True))
    assigned = run_node(AssignDataToClusters, model=out["model"], data=half)["assignments"]
    assert assigned.frame[ASSIGNMENTS].tolist() == reference.predict(X[::2]).tolist()
    assert assigned.role(ASSIGNMENTS) == "score"
    # the clusters recover the species well (adjusted Rand index)
    assert metrics.adjusted_rand_score(iris.frame["species"], reference.labels_) > 0.6


def test_clustering_errors(iris):
    learner = run_node(KMeans, {"clusters": 200})["learner"]
    with pytest.raises(NodeInputError, match="200 clusters"):
        run_node(TrainClusteringModel, learner=learner, data=iris)
    with pytest.raises(NodeInputError, match="classification learner"):
        run_node(TrainClusteringModel, learner=run_node(DecisionForest)["learner"], data=iris)
    model = run_node(TrainClusteringModel, learner=run_node(KMeans)["learner"],
                     data=iris)["model"]
    with pytest.raises(NodeInputError, match="petal width"):
        run_node(AssignDataToClusters, model=model,
                 data=iris.with_frame(iris.frame.drop(columns=["petal width (cm)"])))


def anomaly_table() -> tuple[Table, Table]:
    """Benign breast masses to train on; a test set where malignant ones are anomalies."""
    table = load_sample("breast_cancer")
    frame = table.frame.copy()
    features = table.feature_columns
    frame[features] = (frame[features] - frame[features].mean()) / frame[features].std()
    frame["anomaly"] = (frame["diagnosis"] == "malignant").astype(int)
    frame = frame.drop(columns=["diagnosis"])
    benign = frame[frame["anomaly"] == 0]
    train = benign.iloc[:250].reset_index(drop=True)
    test = pd.concat([benign.iloc[250:], frame[frame["anomaly"] == 1]]).reset_index(drop=True)
    return Table(train, {"anomaly": "label"}), Table(test, {"anomaly": "label"})


@pytest.mark.parametrize(("node_type", "params", "reference"), [
    (IsolationForest, {"trees": 50, "seed": 3},
     ensemble.IsolationForest(n_estimators=50, random_state=3)),
    (OneClassSVM, {"nu": 0.05}, svm.OneClassSVM(nu=0.05)),
])
def test_anomaly_detectors_match_scikit_learn(node_type, params, reference):
    train, test = anomaly_table()
    learner = run_node(node_type, params)["learner"]
    model = run_node(TrainAnomalyDetectionModel, learner=learner, data=train)["model"]
    assert "anomaly" not in model.feature_columns
    scored = run_node(ScoreModel, model=model, data=test)["scored"].frame
    features = [c for c in train.frame.columns if c != "anomaly"]
    reference.fit(train.frame[features].to_numpy())
    X = test.frame[features].to_numpy()
    assert scored[SCORED_LABELS].tolist() == (reference.predict(X) == -1).astype(int).tolist()
    np.testing.assert_allclose(scored["Anomaly Score"], -reference.decision_function(X))
    if node_type is IsolationForest:
        np.testing.assert_allclose(scored[SCORED_PROBABILITIES], -reference.score_samples(X))
        assert metrics.roc_auc_score(test.frame["anomaly"], scored[SCORED_PROBABILITIES]) > 0.9


def test_matrix_factorization_recovers_a_low_rank_matrix():
    rng = np.random.default_rng(0)
    users, items = rng.normal(size=(60, 2)), rng.normal(size=(40, 2))
    full = 3 + users @ items.T
    mask = rng.random(full.shape) < 0.5
    u, i = np.nonzero(mask)
    model = MatrixFactorization(factors=2, iterations=30, l2_weight=0.001).fit(
        u, i, full[u, i])
    hidden_u, hidden_i = np.nonzero(~mask)
    predicted = model.predict(hidden_u, hidden_i)
    rmse = np.sqrt(np.mean((predicted - full[hidden_u, hidden_i]) ** 2))
    baseline = np.sqrt(np.mean((full[u, i].mean() - full[hidden_u, hidden_i]) ** 2))
    assert rmse < 0.1 * baseline


def test_recommender_chain_beats_popularity_and_stores_safely(tmp_path):
    ratings = load_sample("synthetic_ratings")
    split = run_node(SplitData, {"fraction": 0.8, "seed": 1}, data=ratings)
    learner = run_node(MatrixFactorizationRecommender, {"factors": 3})["learner"]
    model = run_node(TrainRecommender, learner=learner, data=split["train"])["model"]
    top = run_node(ScoreRecommender, {"top_n": 10}, model=model, data=split["test"])["scored"]
    train = split["train"].frame
    for user, group in top.frame.groupby("user"):
        assert group["Rank"].tolist() == list(range(1, 11))
        rated = set(train.loc[train["user"] == user, "item"])
        assert not rated & set(group["item"])
        assert group["Scored Labels"].is_monotonic_decreasing
    metrics_out = run_node(EvaluateRecommender, {}, recommendations=top,
                           test=split["test"])["metrics"].scalars
    # popularity baseline: the 10 most often highly rated training items not yet rated
    liked = train[train["rating"] >= 4]["item"].value_counts().index.tolist()
    popular = {u: [i for i in liked if i not in set(g["item"])][:10]
               for u, g in train.groupby("user")}
    test = split["test"].frame
    relevant = {u: set(g.loc[g["rating"] >= 4, "item"]) for u, g in test.groupby("user")}
    baseline = ranking_metrics(popular, relevant, 10)
    assert metrics_out["ndcg_at_10"] > baseline["ndcg_at_10"]
    kind = save_value(model, tmp_path / "m")
    again = load_value(kind, tmp_path / "m")
    assert again.digest() == model.digest()
    np.testing.assert_allclose(again.estimator.predict(test["user"], test["item"]),
                               model.estimator.predict(test["user"], test["item"]))


def test_ranking_metrics_match_scikit_learn_ndcg():
    recommended = {"a": ["x", "y", "z", "w"], "b": ["y", "x", "w", "z"]}
    relevant = {"a": {"y", "w"}, "b": {"z"}}
    result = ranking_metrics(recommended, relevant, 4)
    expected = []
    for user, items in recommended.items():
        truth = [[1.0 if i in relevant[user] else 0.0 for i in items]]
        scores = [[4.0, 3.0, 2.0, 1.0]]
        expected.append(metrics.ndcg_score(truth, scores, k=4))
    assert result["ndcg_at_4"] == pytest.approx(np.mean(expected))
    assert result["precision_at_4"] == pytest.approx((2 / 4 + 1 / 4) / 2)
    assert result["recall_at_4"] == 1.0


def test_recommender_errors():
    ratings = load_sample("synthetic_ratings")
    learner = run_node(MatrixFactorizationRecommender)["learner"]
    with pytest.raises(NodeInputError, match="'customer'"):
        run_node(TrainRecommender, {"user_column": "customer"}, learner=learner, data=ratings)
    with pytest.raises(NodeInputError, match="classification learner"):
        run_node(TrainRecommender, learner=run_node(DecisionForest)["learner"], data=ratings)
