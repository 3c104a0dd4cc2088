"""The whole chain, Sample Dataset -> ... -> Evaluate Model, against a hand-written
scikit-learn script: same seed, same rows, same model, same metrics, exactly."""

from __future__ import annotations

import numpy as np
from sklearn import linear_model
from sklearn import metrics as skm
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from nodes.data.datasets import SampleDataset
from nodes.evaluate.evaluate import EvaluateModel
from nodes.models.learners import LinearRegression, LogisticRegression
from nodes.models.train_score import ScoreModel, TrainModel
from nodes.testing import run_node
from nodes.transform.normalize import ApplyTransformation, NormalizeData
from nodes.transform.split import SplitData


def run_chain(dataset: str, learner_type, split_params: dict, learner_params: dict):
    data = run_node(SampleDataset, {"dataset": dataset})["data"]
    split = run_node(SplitData, split_params, data=data)
    normalized = run_node(NormalizeData, {"method": "zscore"}, data=split["train"])
    test = run_node(ApplyTransformation, transform=normalized["transform"],
                    data=split["test"])["data"]
    learner = run_node(learner_type, learner_params)["learner"]
    model = run_node(TrainModel, learner=learner, data=normalized["data"])["model"]
    scored = run_node(ScoreModel, model=model, data=test)["scored"]
    return model, run_node(EvaluateModel, scored=scored)["metrics"]


def test_breast_cancer_logistic_regression_chain(sample_csv):
    model, metrics = run_chain("breast_cancer", LogisticRegression,
                               {"fraction": 0.75, "seed": 123, "stratify": True},
                               {"regularization_strength": 0.5})

    frame = sample_csv("breast_cancer")
    features = [c for c in frame.columns if c != "diagnosis"]
    train, test = train_test_split(frame, train_size=0.75, random_state=123, shuffle=True,
                                   stratify=frame["diagnosis"])
    scaler = StandardScaler().fit(train[features])
    classifier = linear_model.LogisticRegression(C=0.5, max_iter=1000, tol=1e-4,
                                                 random_state=0)
    classifier.fit(scaler.transform(train[features]), train["diagnosis"])
    X_test = scaler.transform(test[features])
    y, predicted = test["diagnosis"], classifier.predict(X_test)
    probability = classifier.predict_proba(X_test)[:, 1]

    np.testing.assert_array_equal(model.estimator.coef_, classifier.coef_)
    assert metrics.scalars == {
        "accuracy": skm.accuracy_score(y, predicted),
        "precision": skm.precision_score(y, predicted, pos_label="malignant"),
        "recall": skm.recall_score(y, predicted, pos_label="malignant"),
        "f1": skm.f1_score(y, predicted, pos_label="malignant"),
        "auc": skm.roc_auc_score(y, probability),
        "log_loss": skm.log_loss(y, probability),
        "rows": float(len(test)),
    }
    assert metrics.matrices["confusion_matrix"].values == skm.confusion_matrix(
        y, predicted).tolist()
    assert metrics.scalars["auc"] > 0.95


def test_boston_linear_regression_chain(sample_csv):
    model, metrics = run_chain("boston_housing", LinearRegression, {"seed": 7}, {})

    frame = sample_csv("boston_housing")
    features = [c for c in frame.columns if c != "MEDV"]
    train, test = train_test_split(frame, train_size=0.7, random_state=7, shuffle=True)
    scaler = StandardScaler().fit(train[features])
    regressor = linear_model.LinearRegression().fit(scaler.transform(train[features]),
                                                    train["MEDV"])
    y = test["MEDV"].to_numpy()
    predicted = regressor.predict(scaler.transform(test[features]))

    np.testing.assert_array_equal(model.estimator.coef_, regressor.coef_)
    deviation = y - y.mean()
    assert metrics.scalars == {
        "mae": skm.mean_absolute_error(y, predicted),
        "rmse": skm.root_mean_squared_error(y, predicted),
        "r2": skm.r2_score(y, predicted),
        "relative_absolute_error": np.abs(y - predicted).sum() / np.abs(deviation).sum(),
        "relative_squared_error": ((y - predicted) ** 2).sum() / (deviation ** 2).sum(),
        "rows": float(len(test)),
    }
    assert metrics.scalars["r2"] > 0.6
