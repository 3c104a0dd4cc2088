"""Cross-Validate Model and Tune Model Hyperparameters against scikit-learn."""

from __future__ import annotations

import joblib
import numpy as np
import pytest
from sklearn import ensemble, linear_model
from sklearn import metrics as skm
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, cross_val_predict
from sklearn.preprocessing import StandardScaler

from nodes.errors import NodeInputError, ParameterError
from nodes.evaluate.crossvalidate import CrossValidateModel
from nodes.models.classifiers import DecisionForest
from nodes.models.learners import LinearRegression, LogisticRegression
from nodes.models.tune import TuneModelHyperparameters
from nodes.testing import run_node
from nodes.values import Table, load_value, save_value

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_cross_validation_matches_scikit_learn(breast_cancer):
    frame = breast_cancer.frame.copy()
    features = breast_cancer.feature_columns
    frame[features] = StandardScaler().fit_transform(frame[features])
    data = breast_cancer.with_frame(frame)
    learner = run_node(LogisticRegression, {"max_iterations": 200})["learner"]
    out = run_node(CrossValidateModel, {"folds": 4, "seed": 3}, learner=learner, data=data)
    X = frame[features].to_numpy()
    y = frame["diagnosis"].to_numpy()
    splitter = StratifiedKFold(4, shuffle=True, random_state=3)
    reference = linear_model.LogisticRegression(max_iter=200, random_state=0)
    predicted = cross_val_predict(reference, X, y, cv=splitter)
    scored = out["scored"].frame
    assert scored["Scored Labels"].tolist() == predicted.tolist()
    probability = cross_val_predict(reference, X, y, cv=splitter, method="predict_proba")[:, 1]
    np.testing.assert_allclose(scored["Scored Probabilities"], probability)
    results = out["results"].frame
    for fold, (_, test) in enumerate(splitter.split(X, y), start=1):
        assert (scored.loc[test, "Fold"] == fold).all()
        row = results[results["fold"] == str(fold)].iloc[0]
        assert row["accuracy"] == skm.accuracy_score(y[test], predicted[test])
        assert row["auc"] == pytest.approx(skm.roc_auc_score(y[test] == "malignant",
                                                             probability[test]))
    per_fold = results[results["fold"].str.isdigit()]["accuracy"]
    assert out["metrics"].scalars["accuracy"] == pytest.approx(per_fold.mean())
    assert out["metrics"].scalars["accuracy_std"] == pytest.approx(per_fold.std(ddof=1))
    assert results["fold"].tolist()[-2:] == ["mean", "std"]
    assert 0.9 < out["metrics"].scalars["accuracy"] < 1.0


def test_cross_validation_of_a_regressor_in_table_order_through_joblib(boston):
    # the folds go through joblib: another backend (threads here, Dask elsewhere) runs them
    with joblib.parallel_config(backend="threading"):
        out = run_node(CrossValidateModel, {"folds": 5, "shuffle": False, "parallel_jobs": 2},
                       learner=run_node(LinearRegression)["learner"], data=boston)
    X = boston.frame[boston.feature_columns].to_numpy()
    y = boston.frame["MEDV"].to_numpy()
    predicted = cross_val_predict(linear_model.LinearRegression(), X, y, cv=KFold(5))
    np.testing.assert_allclose(out["scored"].frame["Scored Labels"], predicted)
    assert out["metrics"].task == "regression" and "rmse_std" in out["metrics"].scalars


def test_cross_validation_errors(iris):
    learner = run_node(LogisticRegression)["learner"]
    small = iris.with_frame(iris.frame.iloc[[0, 1, 50, 51, 100, 101]].reset_index(drop=True))
    with pytest.raises(NodeInputError, match="smallest class has 2 rows"):
        run_node(CrossValidateModel, {"folds": 3}, learner=learner, data=small)
    with pytest.raises(NodeInputError, match="10 folds need at least 10 rows"):
        run_node(CrossValidateModel, {"folds": 10}, learner=learner, data=small)
    with pytest.raises(NodeInputError, match="no label column"):
        run_node(CrossValidateModel, learner=learner, data=Table(iris.frame))


def test_grid_sweep_matches_grid_search_cv(breast_cancer):
    learner = run_node(DecisionForest, {"seed": 1})["learner"]
    out = run_node(TuneModelHyperparameters, {
        "parameter_ranges": "n_estimators: 5, 20; max_depth: 2, null", "folds": 3,
        "metric": "f1", "seed": 0}, learner=learner, data=breast_cancer)
    X = breast_cancer.frame[breast_cancer.feature_columns].to_numpy()
    y = breast_cancer.frame["diagnosis"].to_numpy()
    reference = GridSearchCV(
        ensemble.RandomForestClassifier(random_state=1),
        {"n_estimators": [5, 20], "max_depth": [2, None]},
        scoring=skm.make_scorer(skm.f1_score, pos_label="malignant"),
        cv=StratifiedKFold(3, shuffle=True, random_state=0)).fit(X, y)
    sweep = out["sweep"].frame
    assert len(sweep) == 4 and sweep["rank"].iloc[0] == 1
    assert sweep["f1"].iloc[0] == pytest.approx(reference.best_score_)
    model = out["model"]
    assert model.estimator.get_params() == reference.best_estimator_.get_params()
    np.testing.assert_array_equal(model.estimator.predict(X), reference.best_estimator_.predict(X))
    best = reference.best_params_
    assert sweep["n_estimators"].iloc[0] == best["n_estimators"]
    assert sweep["max_depth"].iloc[0] == str(best["max_depth"])


def test_random_sweep_with_a_validation_table_and_a_lower_is_better_metric(boston, tmp_path):
    train = boston.with_frame(boston.frame.iloc[:350].reset_index(drop=True))
    valid = boston.with_frame(boston.frame.iloc[350:].reset_index(drop=True))
    learner = run_node(LinearRegression, {"solution": "ridge"})["learner"]
    out = run_node(TuneModelHyperparameters, {
        "parameter_ranges": "alpha: loguniform(0.01, 100)", "sweep_mode": "random",
        "max_runs": 6, "metric": "mae", "seed": 2}, learner=learner, data=train,
        validation=valid)
    sweep = out["sweep"].frame
    X_train = train.frame[train.feature_columns].to_numpy()
    X_valid = valid.frame[valid.feature_columns].to_numpy()
    for _, row in sweep.iterrows():
        fitted = linear_model.Ridge(alpha=row["alpha"]).fit(X_train, train.frame["MEDV"])
        assert row["mae"] == pytest.approx(skm.mean_absolute_error(
            valid.frame["MEDV"], fitted.predict(X_valid)))
    assert sweep["mae"].is_monotonic_increasing and len(sweep) == 6
    assert out["model"].estimator.alpha == pytest.approx(sweep["alpha"].iloc[0])
    save_value(out["sweep"], tmp_path / "sweep")
    assert load_value("table", tmp_path / "sweep").frame.equals(sweep)


def test_tuning_errors(breast_cancer):
    learner = run_node(DecisionForest)["learner"]
    with pytest.raises(NodeInputError, match="'trees'") as caught:
        run_node(TuneModelHyperparameters, {"parameter_ranges": "trees: 5, 10"},
                 learner=learner, data=breast_cancer)
    assert "n_estimators" in caught.value.fix
    with pytest.raises(ParameterError, match="'metric'"):
        run_node(TuneModelHyperparameters, {"parameter_ranges": "max_depth: 2", "metric": "mae"},
                 learner=learner, data=breast_cancer)
    with pytest.raises(ParameterError, match="'parameter_ranges'"):
        TuneModelHyperparameters({"parameter_ranges": "max_depth 2"})
    with pytest.raises(ParameterError, match="grid sweep needs lists"):
        TuneModelHyperparameters({"parameter_ranges": "max_depth: randint(1, 5)"})
    with pytest.raises(ParameterError, match="'parameter_ranges'"):
        TuneModelHyperparameters()


def test_the_best_setting_is_refitted_on_every_core_with_the_same_model(breast_cancer):
    """The refit on all rows runs alone, so a forest spreads its trees over the
    cores; the model is the one-core model, and keeps the learner's n_jobs."""
    learner = run_node(DecisionForest, {"seed": 3, "trees": 30})["learner"]
    models = [run_node(TuneModelHyperparameters, {
        "parameter_ranges": "max_depth: 3, 6", "folds": 3, "parallel_jobs": jobs},
        learner=learner, data=breast_cancer)["model"] for jobs in (0, 1)]
    assert models[0].estimator.get_params()["n_jobs"] is None
    assert models[0].digest() == models[1].digest()


def test_parallel_jobs_default_to_every_core_but_a_keras_network_fits_alone():
    from nodes.evaluate.crossvalidate import n_jobs
    from nodes.models._keras_estimator import KerasNetwork

    assert CrossValidateModel.parameters["parallel_jobs"].default == 0
    assert TuneModelHyperparameters.parameters["parallel_jobs"].default == 0
    assert n_jobs(0) == -1 and n_jobs(3) == 3
    assert n_jobs(0, ensemble.RandomForestClassifier()) == -1
    assert n_jobs(0, KerasNetwork()) == 1 and n_jobs(4, KerasNetwork()) == 1
