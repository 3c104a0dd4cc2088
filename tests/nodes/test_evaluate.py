"""Evaluate Model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from nodes.errors import NodeInputError, ParameterError
from nodes.evaluate.evaluate import EvaluateModel
from nodes.models.learners import LinearRegression, LogisticRegression
from nodes.models.train_score import ScoreModel, TrainModel
from nodes.testing import NodeHarness, run_node
from nodes.transform.normalize import ApplyTransformation, NormalizeData
from nodes.transform.split import SplitData
from nodes.values import Metrics, Table


def _scored(table: Table, learner_type, stratify: bool) -> Table:
    split = run_node(SplitData, {"stratify": stratify, "seed": 1}, data=table)
    normalized = run_node(NormalizeData, {}, data=split["train"])
    test = run_node(ApplyTransformation, {}, transform=normalized["transform"],
                    data=split["test"])["data"]
    learner = run_node(learner_type)["learner"]
    model = run_node(TrainModel, {}, learner=learner, data=normalized["data"])["model"]
    return run_node(ScoreModel, {}, model=model, data=test)["scored"]


@pytest.fixture(scope="module")
def cancer_scored(breast_cancer):
    return _scored(breast_cancer, LogisticRegression, stratify=True)


@pytest.fixture(scope="module")
def iris_scored(iris):
    return _scored(iris, LogisticRegression, stratify=True)


@pytest.fixture(scope="module")
def boston_scored(boston):
    return _scored(boston, LinearRegression, stratify=False)


def _evaluate(scored: Table, **params) -> Metrics:
    return run_node(EvaluateModel, params, scored=scored)["metrics"]


def test_binary_metrics_equal_sklearn(cancer_scored):
    metrics = _evaluate(cancer_scored)
    y = cancer_scored.frame["diagnosis"].to_numpy()
    predicted = cancer_scored.frame["Scored Labels"].to_numpy()
    probability = cancer_scored.frame["Scored Probabilities"].to_numpy()
    positive = "malignant"
    assert metrics.task == "classification"
    assert metrics.scalars == {
        "accuracy": skm.accuracy_score(y, predicted),
        "precision": skm.precision_score(y, predicted, pos_label=positive),
        "recall": skm.recall_score(y, predicted, pos_label=positive),
        "f1": skm.f1_score(y, predicted, pos_label=positive),
        "auc": skm.roc_auc_score(y, probability),
        "log_loss": skm.log_loss(y, probability),
        "rows": float(len(y)),
    }
    assert 0.5 < metrics.scalars["accuracy"] < 1.0
    matrix = metrics.matrices["confusion_matrix"]
    assert matrix.row_labels == matrix.column_labels == ["benign", "malignant"]
    assert matrix.values == skm.confusion_matrix(y, predicted,
                                                 labels=["benign", "malignant"]).tolist()
    fpr, tpr, thresholds = skm.roc_curve(y, probability, pos_label=positive)
    roc = metrics.curves["roc"]
    assert list(roc.columns) == ["fpr", "tpr", "threshold"]
    np.testing.assert_array_equal(roc["fpr"], fpr)
    np.testing.assert_array_equal(roc["tpr"], tpr)
    np.testing.assert_array_equal(roc["threshold"], thresholds)


def test_binary_threshold_recomputes_the_predictions(cancer_scored):
    metrics = _evaluate(cancer_scored, threshold=0.2)
    y = cancer_scored.frame["diagnosis"].to_numpy()
    probability = cancer_scored.frame["Scored Probabilities"].to_numpy()
    predicted = np.where(probability >= 0.2, "malignant", "benign")
    assert not np.array_equal(predicted, cancer_scored.frame["Scored Labels"].to_numpy())
    assert metrics.scalars["accuracy"] == skm.accuracy_score(y, predicted)
    assert metrics.scalars["precision"] == skm.precision_score(y, predicted,
                                                               pos_label="malignant")
    assert metrics.scalars["recall"] == skm.recall_score(y, predicted, pos_label="malignant")
    assert metrics.scalars["f1"] == skm.f1_score(y, predicted, pos_label="malignant")
    assert metrics.matrices["confusion_matrix"].values == skm.confusion_matrix(
        y, predicted, labels=["benign", "malignant"]).tolist()
    # Threshold-free metrics do not move.
    assert metrics.scalars["auc"] == skm.roc_auc_score(y, probability)


def test_binary_with_integer_labels_and_no_probabilities():
    frame = pd.DataFrame({"y": [0, 1, 1, 0, 1, 0], "Scored Labels": [0, 1, 0, 0, 1, 1]})
    metrics = _evaluate(Table(frame, {"y": "label", "Scored Labels": "score"}))
    assert metrics.task == "classification"
    assert metrics.scalars["precision"] == skm.precision_score(frame["y"], frame["Scored Labels"])
    assert "auc" not in metrics.scalars and not metrics.curves
    assert metrics.matrices["confusion_matrix"].row_labels == [0, 1]


def test_multiclass_metrics_equal_sklearn(iris_scored):
    metrics = _evaluate(iris_scored)
    frame = iris_scored.frame
    y, predicted = frame["species"].to_numpy(), frame["Scored Labels"].to_numpy()
    classes = ["setosa", "versicolor", "virginica"]
    expected = {"accuracy": skm.accuracy_score(y, predicted), "rows": float(len(y))}
    for average in ("macro", "micro"):
        expected[f"precision_{average}"] = skm.precision_score(y, predicted, average=average)
        expected[f"recall_{average}"] = skm.recall_score(y, predicted, average=average)
        expected[f"f1_{average}"] = skm.f1_score(y, predicted, average=average)
    for name, values in [("precision", skm.precision_score), ("recall", skm.recall_score),
                         ("f1", skm.f1_score)]:
        for label, value in zip(classes, values(y, predicted, average=None), strict=True):
            expected[f"{name}[{label}]"] = value
    probabilities = frame[[f"Scored Probabilities_{c}" for c in classes]].to_numpy()
    expected["log_loss"] = skm.log_loss(y, probabilities)
    assert metrics.scalars == expected
    matrix = metrics.matrices["confusion_matrix"]
    assert matrix.row_labels == classes
    assert matrix.values == skm.confusion_matrix(y, predicted).tolist()


def test_regression_metrics_equal_sklearn_and_ml_studio_definitions(boston_scored):
    metrics = _evaluate(boston_scored)
    y = boston_scored.frame["MEDV"].to_numpy()
    predicted = boston_scored.frame["Scored Labels"].to_numpy()
    assert metrics.task == "regression"
    scalars = metrics.scalars
    assert scalars["mae"] == skm.mean_absolute_error(y, predicted)
    assert scalars["rmse"] == skm.root_mean_squared_error(y, predicted)
    assert scalars["r2"] == skm.r2_score(y, predicted)
    assert scalars["relative_absolute_error"] == pytest.approx(
        np.sum(np.abs(y - predicted)) / np.sum(np.abs(y - y.mean())), rel=1e-12)
    assert scalars["relative_squared_error"] == pytest.approx(
        np.sum((y - predicted) ** 2) / np.sum((y - y.mean()) ** 2), rel=1e-12)
    assert scalars["relative_squared_error"] == pytest.approx(1 - scalars["r2"], rel=1e-12)
    assert scalars["rows"] == len(y)
    assert not metrics.matrices and list(metrics.curves) == ["residuals"]


def test_label_column_parameter(boston_scored):
    table = Table(boston_scored.frame)  # no roles at all
    metrics = _evaluate(table, label_column="MEDV")
    assert metrics.scalars == _evaluate(boston_scored).scalars


def test_metrics_survive_the_json_round_trip(cancer_scored):
    metrics = _evaluate(cancer_scored)
    again = Metrics.from_dict(metrics.to_dict())
    assert again.scalars == metrics.scalars
    assert again.matrices == metrics.matrices


def test_threshold_without_probabilities_is_logged():
    frame = pd.DataFrame({"y": ["a", "b", "b"], "Scored Labels": ["a", "b", "a"]})
    harness = NodeHarness(EvaluateModel, {"threshold": 0.7})
    harness.run(scored=Table(frame, {"y": "label"}))
    assert any("threshold" in message for message in harness.context.messages)


def test_binary_rows_of_one_true_class_have_no_auc():
    frame = pd.DataFrame({"y": ["b", "b", "b"], "Scored Labels": ["a", "b", "b"],
                          "Scored Probabilities": [0.2, 0.9, 0.6]})
    harness = NodeHarness(EvaluateModel)
    metrics = harness.run(scored=Table(frame, {"y": "label"}))["metrics"]
    assert "auc" not in metrics.scalars and "roc" not in metrics.curves
    assert metrics.scalars["recall"] == 2 / 3
    assert metrics.scalars["log_loss"] == skm.log_loss(frame["y"], frame["Scored Probabilities"],
                                                       labels=["a", "b"])
    assert any("one class" in message for message in harness.context.messages)


def test_multiclass_without_probabilities_has_no_log_loss():
    frame = pd.DataFrame({"y": ["a", "b", "c", "c"], "Scored Labels": ["a", "c", "c", "b"]})
    metrics = _evaluate(Table(frame, {"y": "label"}))
    assert "log_loss" not in metrics.scalars
    assert metrics.scalars["f1_macro"] == skm.f1_score(frame["y"], frame["Scored Labels"],
                                                       average="macro")


@pytest.mark.parametrize("value", [-0.1, 1.1, "high"])
def test_bad_threshold_is_named(value):
    with pytest.raises(ParameterError, match="'threshold'"):
        EvaluateModel({"threshold": value})


def test_needs_scored_labels(boston):
    with pytest.raises(NodeInputError, match="'Scored Labels'") as caught:
        _evaluate(boston)
    assert "Score Model" in str(caught.value)


def test_needs_a_label_column(boston_scored):
    with pytest.raises(NodeInputError, match="no label column") as caught:
        _evaluate(Table(boston_scored.frame))
    assert "'label_column'" in caught.value.fix


def test_unknown_label_column_is_named(boston_scored):
    with pytest.raises(NodeInputError, match="'price'"):
        _evaluate(boston_scored, label_column="price")


def test_missing_labels_are_named(boston_scored):
    frame = boston_scored.frame.copy()
    frame.loc[[0, 5], "MEDV"] = np.nan
    with pytest.raises(NodeInputError, match=r"'MEDV' \(2 rows\)"):
        _evaluate(boston_scored.with_frame(frame))


def test_labels_and_predictions_of_different_kinds():
    frame = pd.DataFrame({"y": ["a", "b"], "Scored Labels": [1, 0]})
    with pytest.raises(NodeInputError, match="different kinds") as caught:
        _evaluate(Table(frame, {"y": "label"}))
    assert caught.value.columns == ["y", "Scored Labels"]


def test_two_class_probabilities_with_three_classes():
    frame = pd.DataFrame({"y": ["a", "b", "c"], "Scored Labels": ["a", "b", "b"],
                          "Scored Probabilities": [0.1, 0.8, 0.7]})
    with pytest.raises(NodeInputError, match="3 classes"):
        _evaluate(Table(frame, {"y": "label"}))


def test_empty_scored_table(boston_scored):
    with pytest.raises(NodeInputError, match="no rows"):
        _evaluate(boston_scored.with_frame(boston_scored.frame.iloc[:0]))


def test_precision_recall_and_lift_curves(cancer_scored):
    metrics = _evaluate(cancer_scored)
    y = cancer_scored.frame["diagnosis"].to_numpy() == "malignant"
    probability = cancer_scored.frame["Scored Probabilities"].to_numpy()
    precision, recall, _ = skm.precision_recall_curve(y, probability)
    curve = metrics.curves["precision_recall"]
    np.testing.assert_array_equal(curve["precision"], precision)
    np.testing.assert_array_equal(curve["recall"], recall)
    lift = metrics.curves["lift"]
    for _, point in lift.iloc[[0, len(lift) // 2, -1]].iterrows():
        chosen = probability >= point["threshold"]
        assert point["fraction"] == pytest.approx(chosen.mean())
        assert point["gain"] == pytest.approx(y[chosen].sum() / y.sum())
        assert point["lift"] == pytest.approx(y[chosen].mean() / y.mean())
    assert lift["fraction"].iloc[-1] == pytest.approx(1.0)
    assert lift["lift"].iloc[0] > 1.5


def test_two_scored_inputs_side_by_side(cancer_scored, breast_cancer):
    from nodes.models.classifiers import NaiveBayes
    other = _scored(breast_cancer, NaiveBayes, stratify=True)
    metrics = run_node(EvaluateModel, {}, scored=cancer_scored,
                       scored_to_compare=[other])["metrics"]
    alone = _evaluate(other)
    assert metrics.scalars["auc (2)"] == alone.scalars["auc"]
    assert metrics.scalars["auc"] == _evaluate(cancer_scored).scalars["auc"]
    table = metrics.curves["comparison"].set_index("metric")
    assert table.loc["f1", "scored_to_compare"] == alone.scalars["f1"]
    assert "roc (2)" in metrics.curves and "confusion_matrix (2)" in metrics.matrices
    again = Metrics.from_dict(metrics.to_dict())
    assert again.scalars == metrics.scalars


def test_comparing_different_tasks_is_refused(cancer_scored, boston_scored):
    with pytest.raises(NodeInputError, match="'scored_to_compare'"):
        run_node(EvaluateModel, {}, scored=cancer_scored, scored_to_compare=[boston_scored])


def test_clustering_metrics_equal_sklearn(iris):
    from nodes.models.unsupervised import KMeans, TrainClusteringModel
    assigned = run_node(TrainClusteringModel, learner=run_node(KMeans, {"seed": 1})["learner"],
                        data=iris)["assignments"]
    metrics = _evaluate(assigned)
    X = iris.frame[iris.feature_columns].to_numpy()
    labels = assigned.frame["Assignments"].to_numpy()
    assert metrics.task == "clustering"
    assert metrics.scalars["silhouette"] == skm.silhouette_score(X, labels)
    assert metrics.scalars["davies_bouldin"] == skm.davies_bouldin_score(X, labels)
    assert metrics.scalars["adjusted_rand_index"] == skm.adjusted_rand_score(
        iris.frame["species"], labels)
    assert sum(metrics.scalars[f"size[{k}]"] for k in range(3)) == 150
    matrix = metrics.matrices["label_by_cluster"]
    assert matrix.row_labels == ["setosa", "versicolor", "virginica"]
    assert np.asarray(matrix.values).sum() == 150


def _binary_case(seed: int, rows: int, decimals: int | None, positive_share: float):
    rng = np.random.default_rng(seed)
    truth = rng.random(rows) < positive_share
    probability = np.clip(truth * 0.25 + rng.random(rows) * 0.75, 0.0, 1.0)
    if decimals is not None:  # many tied scores, as trees and small models give
        probability = np.round(probability, decimals)
    return truth, probability


@pytest.mark.parametrize(("seed", "rows", "decimals", "share", "threshold"), [
    (0, 5000, None, 0.5, 0.5), (1, 5000, 2, 0.3, 0.5), (2, 3000, 1, 0.05, 0.7),
    (3, 200, 0, 0.5, 0.5), (4, 1000, None, 0.9, 0.2), (5, 40000, 3, 0.4, 0.55),
    (6, 50, None, 0.5, 0.99)])
def test_binary_figures_and_curves_equal_sklearn_to_the_bit(seed, rows, decimals, share,
                                                            threshold):
    """Evaluate computes the two-class figures together (one sort); each must equal
    the scikit-learn function's answer exactly, ties and all."""
    truth, probability = _binary_case(seed, rows, decimals, share)
    y = np.where(truth, "yes", "no").astype(object)
    labels = np.where(probability >= 0.5, "yes", "no").astype(object)
    frame = pd.DataFrame({"y": y, "Scored Labels": labels, "Scored Probabilities": probability})
    metrics = _evaluate(Table(frame, {"y": "label"}), threshold=threshold, curve_points=0)
    predicted = np.where(probability >= threshold, "yes", "no").astype(object)
    expected = {
        "accuracy": skm.accuracy_score(y, predicted),
        "precision": skm.precision_score(y, predicted, pos_label="yes", zero_division=0),
        "recall": skm.recall_score(y, predicted, pos_label="yes", zero_division=0),
        "f1": skm.f1_score(y, predicted, pos_label="yes", zero_division=0),
        "log_loss": skm.log_loss(y, probability, labels=["no", "yes"]),
        "auc": skm.roc_auc_score(y == "yes", probability),
        "rows": float(rows)}
    assert metrics.scalars == expected
    assert metrics.matrices["confusion_matrix"].values == skm.confusion_matrix(
        y, predicted, labels=["no", "yes"]).tolist()
    fpr, tpr, thresholds = skm.roc_curve(y, probability, pos_label="yes")
    roc = metrics.curves["roc"]
    for column, values in (("fpr", fpr), ("tpr", tpr), ("threshold", thresholds)):
        np.testing.assert_array_equal(roc[column].to_numpy(), values)
    precision, recall, cut = skm.precision_recall_curve(y, probability, pos_label="yes")
    curve = metrics.curves["precision_recall"]
    np.testing.assert_array_equal(curve["precision"].to_numpy(), precision)
    np.testing.assert_array_equal(curve["recall"].to_numpy(), recall)
    np.testing.assert_array_equal(curve["threshold"].to_numpy()[:-1], cut)


def test_binary_with_no_predicted_positives_scores_zero_as_sklearn_does():
    frame = pd.DataFrame({"y": [0, 1, 1, 0], "Scored Labels": [0, 0, 0, 0]})
    metrics = _evaluate(Table(frame, {"y": "label"}))
    assert metrics.scalars["precision"] == 0.0 == skm.precision_score(
        frame["y"], frame["Scored Labels"], zero_division=0)
    assert metrics.scalars["f1"] == 0.0 and metrics.scalars["accuracy"] == 0.5


@pytest.mark.parametrize(("seed", "rows", "decimals"), [(0, 200_000, None), (1, 50_000, 3),
                                                        (2, 300, None)])
def test_curves_keep_a_bounded_number_of_points_of_the_full_curve(seed, rows, decimals):
    """At most curve_points points, each a point of the full curve, the ROC's upper
    convex hull among them; the figures still come from every row."""
    from scipy.spatial import ConvexHull

    truth, probability = _binary_case(seed, rows, decimals, 0.4)
    frame = pd.DataFrame({"y": truth.astype(int), "Scored Labels": (probability >= 0.5
                                                                     ).astype(int),
                          "Scored Probabilities": probability})
    table = Table(frame, {"y": "label"})
    full = _evaluate(table, curve_points=0)
    bounded = _evaluate(table, curve_points=200)
    assert bounded.scalars == full.scalars
    for name in ("roc", "precision_recall", "lift"):
        small, large = bounded.curves[name], full.curves[name]
        assert len(small) <= 200 + 2 and len(small) == min(len(large), len(small))
        merged = small.merge(large, how="left", indicator=True)
        assert (merged["_merge"] == "both").all(), f"{name}: points not on the full curve"
    roc = full.curves["roc"][["fpr", "tpr"]].to_numpy()
    if len(roc) > 200:
        vertices = {tuple(roc[i]) for i in ConvexHull(roc).vertices
                    if roc[i][1] >= roc[i][0]}  # the upper part: above the diagonal
        kept = {tuple(p) for p in bounded.curves["roc"][["fpr", "tpr"]].to_numpy()}
        assert len(vertices) > 200 // 2 or vertices <= kept
    assert bounded.curves["roc"]["fpr"].iloc[0] == 0 and bounded.curves["roc"]["tpr"].iloc[-1] == 1


def test_any_number_of_models_are_compared_side_by_side(cancer_scored):
    """scored_to_compare takes several wires: each model's figures under ' (k)', one
    comparison column per model, and the same figures as evaluated alone."""
    from pathlib import Path

    from studio.engine import Engine
    from studio.workflow import load_workflow

    examples = Path(__file__).resolve().parents[2] / "examples"
    workflow = load_workflow(examples / "classification_two_models.axon.json")
    workflow.add_node("naive_bayes", node_id="bayes")
    workflow.add_node("train_model", node_id="train_bayes")
    workflow.add_node("score_model", node_id="score_bayes")
    def feeding(node: str) -> tuple[str, str]:
        edge = next(e for e in workflow.edges if (e.target, e.target_port) == (node, "data"))
        return edge.source, edge.source_port

    workflow.connect(*feeding("train_logistic"), "train_bayes", "data")
    workflow.connect("bayes", "learner", "train_bayes", "learner")
    workflow.connect("train_bayes", "model", "score_bayes", "model")
    workflow.connect(*feeding("score_logistic"), "score_bayes", "data")
    workflow.connect("score_bayes", "scored", "evaluate", "scored_to_compare")
    with Engine(jobs=1) as engine:
        assert engine.run(workflow).status == "succeeded"
        metrics = engine.outputs(workflow, "evaluate")["metrics"]
        alone = run_node(EvaluateModel, {}, scored=engine.outputs(workflow, "score_bayes")[
            "scored"])["metrics"]
    assert metrics.info["compared"] == ["scored", "scored_to_compare",
                                        "scored_to_compare (3)"]
    assert metrics.scalars["auc (3)"] == alone.scalars["auc"]
    assert "roc (3)" in metrics.curves and "auc (2)" in metrics.scalars
    table = metrics.curves["comparison"].set_index("metric")
    assert table.loc["accuracy", "scored_to_compare (3)"] == alone.scalars["accuracy"]
