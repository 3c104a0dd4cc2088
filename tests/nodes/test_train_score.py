"""Train Model and Score Model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import linear_model

from nodes.errors import NodeInputError
from nodes.models.learners import LinearRegression, LogisticRegression
from nodes.models.train_score import ScoreModel, TrainModel
from nodes.testing import NodeHarness, run_node
from nodes.values import Learner, Table

# The raw breast-cancer features are unscaled, so lbfgs stops at max_iter; what
# is tested is that the node gives exactly scikit-learn's result, converged or not.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _learner(node_type, **params) -> Learner:
    return run_node(node_type, params)["learner"]


def _train(table: Table, node_type=LogisticRegression, **params):
    return run_node(TrainModel, params, learner=_learner(node_type), data=table)["model"]


@pytest.fixture(scope="module")
def cancer_model(breast_cancer):
    return _train(breast_cancer)


@pytest.fixture(scope="module")
def iris_model(iris):
    return _train(iris)


@pytest.fixture(scope="module")
def boston_model(boston):
    return _train(boston, LinearRegression)


# -- Train Model ----------------------------------------------------------


def test_train_logistic_equals_sklearn_fit(breast_cancer, sample_csv):
    learner = _learner(LogisticRegression)
    harness = NodeHarness(TrainModel)
    model = harness.run(learner=learner, data=breast_cancer)["model"]
    frame = sample_csv("breast_cancer")
    features = [c for c in frame.columns if c != "diagnosis"]
    reference = linear_model.LogisticRegression(max_iter=1000, random_state=0).fit(
        frame[features], frame["diagnosis"])
    np.testing.assert_array_equal(model.estimator.coef_, reference.coef_)
    np.testing.assert_array_equal(model.estimator.intercept_, reference.intercept_)
    assert model.feature_columns == features
    assert model.feature_dtypes == dict.fromkeys(features, "float64")
    assert (model.task, model.name, model.label_column) == (
        "classification", "Logistic Regression", "diagnosis")
    assert model.classes == ["benign", "malignant"]
    assert model.training_data == breast_cancer.digest()
    assert not hasattr(learner.estimator, "coef_")  # the learner stays untrained
    assert harness.progress[0][0] == 0.0 and harness.progress[-1][0] == 1.0


def test_train_linear_regression_equals_sklearn_fit(boston, boston_model, sample_csv):
    frame = sample_csv("boston_housing")
    features = [c for c in frame.columns if c != "MEDV"]
    reference = linear_model.LinearRegression().fit(frame[features], frame["MEDV"])
    np.testing.assert_array_equal(boston_model.estimator.coef_, reference.coef_)
    assert boston_model.estimator.intercept_ == reference.intercept_
    assert boston_model.classes is None
    assert boston_model.feature_dtypes["TAX"] == "int64"


def test_label_column_parameter_overrides_the_label_role(boston):
    model = _train(boston, LinearRegression, label_column="RM")
    assert model.label_column == "RM"
    assert "RM" not in model.feature_columns and "MEDV" not in model.feature_columns
    assert len(model.feature_columns) == 12


def test_no_label_column(boston):
    with pytest.raises(NodeInputError, match="no label column") as caught:
        _train(Table(boston.frame), LinearRegression)
    assert "'label_column'" in caught.value.fix


def test_label_column_not_in_table(boston):
    with pytest.raises(NodeInputError, match="'MEDVV'") as caught:
        _train(boston, LinearRegression, label_column="MEDVV")
    assert "'MEDV'" in caught.value.fix


def test_non_numeric_features_are_named(iris):
    table = iris.with_frame(iris.frame.assign(colour="red", size=1.0))
    with pytest.raises(NodeInputError, match="'colour'") as caught:
        _train(table)
    assert caught.value.columns == ["colour"]
    for remedy in ("Convert to Indicator Values", "Select Columns", "Edit Metadata"):
        assert remedy in caught.value.fix


def test_missing_values_are_named_and_counted(boston):
    frame = boston.frame.copy()
    frame.loc[[3, 7, 9], "RM"] = np.nan
    frame.loc[[1], "MEDV"] = np.nan
    with pytest.raises(NodeInputError, match=r"'RM' \(3 rows\), 'MEDV' \(1 rows\)") as caught:
        _train(boston.with_frame(frame), LinearRegression)
    assert caught.value.columns == ["RM", "MEDV"]
    assert "Clean Missing Data" in caught.value.fix


def test_empty_table(iris):
    with pytest.raises(NodeInputError, match="no rows"):
        _train(iris.with_frame(iris.frame.iloc[:0]))


def test_single_class(iris):
    with pytest.raises(NodeInputError, match="single class") as caught:
        _train(iris.with_frame(iris.frame.iloc[:50]))
    assert "'species'" in str(caught.value) and "'setosa'" in str(caught.value)


def test_regression_with_a_text_label(iris):
    with pytest.raises(NodeInputError, match="'species'") as caught:
        _train(iris, LinearRegression)
    assert "classification learner" in caught.value.fix


def test_classifier_on_a_continuous_label_is_an_input_error(boston):
    with pytest.raises(NodeInputError, match="Logistic Regression") as caught:
        _train(boston)
    assert "'MEDV'" in caught.value.fix


def test_only_features_besides_the_label(iris):
    table = iris.with_frame(iris.frame[["species"]])
    with pytest.raises(NodeInputError, match="no feature column"):
        _train(table)


# -- Score Model ----------------------------------------------------------


def _features(model, table):
    return table.frame[model.feature_columns].to_numpy(dtype=float)


def test_score_binary_adds_labels_and_positive_probability(breast_cancer, cancer_model):
    scored = run_node(ScoreModel, {}, model=cancer_model, data=breast_cancer)["scored"]
    X = _features(cancer_model, breast_cancer)
    np.testing.assert_array_equal(scored.frame["Scored Labels"].to_numpy(),
                                  cancer_model.estimator.predict(X))
    np.testing.assert_array_equal(scored.frame["Scored Probabilities"].to_numpy(),
                                  cancer_model.estimator.predict_proba(X)[:, 1])
    assert list(scored.frame.columns) == [*breast_cancer.frame.columns, "Scored Labels",
                                          "Scored Probabilities"]
    pd.testing.assert_frame_equal(scored.frame[list(breast_cancer.frame.columns)],
                                  breast_cancer.frame)
    assert scored.roles == {"diagnosis": "label", "Scored Labels": "score",
                            "Scored Probabilities": "score"}


def test_score_multiclass_adds_a_probability_per_class(iris, iris_model):
    scored = run_node(ScoreModel, {}, model=iris_model, data=iris)["scored"]
    X = _features(iris_model, iris)
    np.testing.assert_array_equal(scored.frame["Scored Labels"].to_numpy(),
                                  iris_model.estimator.predict(X))
    probabilities = iris_model.estimator.predict_proba(X)
    for index, name in enumerate(["setosa", "versicolor", "virginica"]):
        np.testing.assert_array_equal(scored.frame[f"Scored Probabilities_{name}"].to_numpy(),
                                      probabilities[:, index])


def test_score_regression(boston, boston_model):
    scored = run_node(ScoreModel, {}, model=boston_model, data=boston)["scored"]
    np.testing.assert_array_equal(scored.frame["Scored Labels"].to_numpy(),
                                  boston_model.estimator.predict(_features(boston_model, boston)))
    assert scored.columns_with_role("score") == ["Scored Labels"]


def test_score_without_appending_keeps_label_and_scores(breast_cancer, cancer_model):
    scored = run_node(ScoreModel, {"append_scores_to_input": False}, model=cancer_model,
                      data=breast_cancer)["scored"]
    assert list(scored.frame.columns) == ["diagnosis", "Scored Labels", "Scored Probabilities"]
    assert scored.label_column == "diagnosis"


def test_score_rows_without_the_label(boston, boston_model):
    features_only = Table(boston.frame.drop(columns=["MEDV"]))
    scored = run_node(ScoreModel, {"append_scores_to_input": False}, model=boston_model,
                      data=features_only)["scored"]
    assert list(scored.frame.columns) == ["Scored Labels"]


def test_score_marks_the_model_label_when_the_data_has_no_label_role(boston, boston_model):
    scored = run_node(ScoreModel, {}, model=boston_model, data=Table(boston.frame))["scored"]
    assert scored.label_column == "MEDV"


def test_rescoring_replaces_earlier_scores(iris, iris_model):
    once = run_node(ScoreModel, {}, model=iris_model, data=iris)["scored"]
    twice = run_node(ScoreModel, {}, model=iris_model, data=once)["scored"]
    pd.testing.assert_frame_equal(twice.frame, once.frame)


def test_score_names_missing_training_columns(boston, boston_model):
    partial = boston.with_frame(boston.frame.drop(columns=["LSTAT", "CRIM"]))
    with pytest.raises(NodeInputError, match="'CRIM', 'LSTAT'") as caught:
        run_node(ScoreModel, {}, model=boston_model, data=partial)
    assert "trained on" in str(caught.value)
    assert caught.value.columns == ["CRIM", "LSTAT"]


def test_score_names_missing_values(boston, boston_model):
    frame = boston.frame.copy()
    frame.loc[[0, 1], "NOX"] = np.nan
    with pytest.raises(NodeInputError, match=r"'NOX' \(2 rows\)") as caught:
        run_node(ScoreModel, {}, model=boston_model, data=boston.with_frame(frame))
    assert "Clean Missing Data" in caught.value.fix


def test_score_names_non_numeric_features(boston, boston_model):
    text = boston.with_frame(boston.frame.assign(NOX=boston.frame["NOX"].astype(str)))
    with pytest.raises(NodeInputError, match="'NOX'"):
        run_node(ScoreModel, {}, model=boston_model, data=text)
