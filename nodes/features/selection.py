"""Filter Based Feature Selection and Permutation Feature Importance."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from nodes.context import RunContext
from nodes.contract import Randomness, ScoringRole
from nodes.data.checks import (
    require_columns,
    require_no_missing,
    require_numeric,
    require_rows,
    resolve_label_column,
)
from nodes.errors import NodeInputError, ParameterError
from nodes.evaluate.crossvalidate import n_jobs
from nodes.models.train_score import feature_input
from nodes.node import Node
from nodes.params import ChoiceParam, ColumnParam, IntParam, SeedParam
from nodes.ports import MODEL, TABLE, Input, Output
from nodes.values import Model, Table


class FilterBasedFeatureSelection(Node):
    """Keep the features most related to the label, scored one at a time.

    Input 'data': a table with a label column and numeric features. Output
    'data': the label, the 'top_k' best-scoring features (in table order)
    and every non-feature column. Output 'scores': every feature with its
    score, sorted best first, and whether it was kept.

    Methods: 'pearson' the absolute Pearson correlation with a numeric
    label (scikit-learn's r_regression, as |r|); 'mutual_information' the
    mutual information with the label (mutual_info_classif for text or
    whole-number labels with few values, else mutual_info_regression;
    seeded with 'seed'); 'chi_squared' the chi-squared statistic against
    the classes (chi2; features must not be negative, e.g. counts).
    """

    type_id = "filter_based_feature_selection"
    imports = ("sklearn.feature_selection",)
    title = "Filter Based Feature Selection"
    category = "Feature Selection"
    aliases = ("Fisher Linear Discriminant Analysis",)
    scoring_role = ScoringRole.TRAINING_ONLY
    randomness = Randomness()

    class Inputs:
        data = Input(TABLE, help="The table with features and a label.")

    class Outputs:
        data = Output(TABLE, help="The label and the best features.")
        scores = Output(TABLE, help="Every feature's score, best first.")

    method = ChoiceParam("pearson", ["pearson", "mutual_information", "chi_squared"],
                         help="How each feature's relation to the label is scored.")
    top_k = IntParam(10, minimum=1, help="Number of features to keep.")
    label_column = ColumnParam("", help="The label; empty: the table's label column.")
    seed = SeedParam(advanced=True, help="Random seed (mutual information).")

    def run(self, ctx: RunContext, data: Table) -> dict[str, Any]:
        from sklearn.feature_selection import chi2, mutual_info_classif, mutual_info_regression

        require_rows(self.label, data, port="data")
        label = resolve_label_column(self.label, data, self.label_column, port="data")
        features = [c for c in data.feature_columns if c != label]
        require_numeric(self.label, data, features, port="data")
        require_no_missing(self.label, data, [*features, label], port="data")
        X = data.frame[features].to_numpy(dtype=float)
        y = data.frame[label]
        categorical = _is_categorical(y)
        if self.method == "pearson":
            require_numeric(self.label, data, [label], port="data", what="label (pearson)",
                            fix="Use 'mutual_information' or 'chi_squared' for a text label.")
            scores = np.abs(np.nan_to_num(_pearson(X, y.to_numpy(dtype=float))))
        elif self.method == "mutual_information":
            if categorical:
                scores = mutual_info_classif(X, y.to_numpy(), random_state=self.seed)
            else:
                scores = mutual_info_regression(X, y.to_numpy(dtype=float),
                                                random_state=self.seed)
        else:
            negative = [c for c in features if (data.frame[c] < 0).any()]
            if negative:
                raise NodeInputError(self.label, f"chi-squared needs features >= 0; these "
                                     f"have negative values: {negative[:10]}.", port="data",
                                     columns=negative, fix="Use min-max scaling first, or "
                                                           "another method.")
            if not categorical:
                raise ParameterError(self.label, "method", "chi_squared",
                                     f"it needs a class label, but {label!r} looks continuous",
                                     fix="Use 'pearson' or 'mutual_information'.")
            scores = np.nan_to_num(chi2(X, y.to_numpy())[0])
        order = np.argsort(-scores, kind="stable")
        kept = {features[i] for i in order[:self.top_k]}
        ranking = pd.DataFrame({"feature": [features[i] for i in order],
                                "score": scores[order].astype(float),
                                "selected": [features[i] in kept for i in order]})
        columns = [c for c in data.frame.columns if c not in features or c in kept]
        return {"data": data.with_frame(data.frame[columns]),
                "scores": Table(ranking, {"feature": "id"})}


def _pearson(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        # scikit-learn's r_regression, spelled out so a constant column gives 0, not a warning
        Xc, yc = X - X.mean(axis=0), y - y.mean()
        return (Xc.T @ yc) / (np.sqrt((Xc ** 2).sum(axis=0)) * np.sqrt((yc ** 2).sum()))


def _is_categorical(y: pd.Series) -> bool:
    if not pd.api.types.is_numeric_dtype(y.dtype) or pd.api.types.is_bool_dtype(y.dtype):
        return True
    return pd.api.types.is_integer_dtype(y.dtype) and y.nunique() <= 20


_METRICS = {"auto": None, "accuracy": "accuracy", "f1_macro": "f1_macro", "r2": "r2",
            "mae": "neg_mean_absolute_error", "rmse": "neg_root_mean_squared_error"}


class PermutationFeatureImportance(Node):
    """How much does each feature matter to a trained model? Shuffle it and measure the loss.

    Input 'model': a trained classification or regression model; input
    'data': labelled rows (ideally test rows) with the model's features.
    Output 'importance': per feature the mean and standard deviation, over
    'repeats' shuffles, of the drop in 'metric' when that feature's values
    are shuffled (scikit-learn's permutation_importance with random_state
    'seed'), largest first. 'auto' is accuracy for classification and r2
    for regression; for mae and rmse the drop is the increase in error.
    The shuffles run through joblib ('parallel_jobs'; 0: all cores).
    """

    type_id = "permutation_feature_importance"
    imports = ("sklearn.inspection", "sklearn.metrics")
    title = "Permutation Feature Importance"
    category = "Feature Selection"
    scoring_role = ScoringRole.TRAINING_ONLY
    randomness = Randomness()

    class Inputs:
        model = Input(MODEL, help="The trained model.")
        data = Input(TABLE, help="Labelled rows to measure on.")

    class Outputs:
        importance = Output(TABLE, help="Per feature: mean and std of the metric drop.")

    metric = ChoiceParam("auto", list(_METRICS), help="Metric whose drop is measured.")
    repeats = IntParam(5, minimum=1, maximum=1000, help="Shuffles per feature.")
    seed = SeedParam(help="Random seed of the shuffles.")
    parallel_jobs = IntParam(1, minimum=0, maximum=256, advanced=True,
                             help="Features shuffled at once (joblib n_jobs); 0: all cores.")

    def run(self, ctx: RunContext, model: Model, data: Table) -> dict[str, Any]:
        from sklearn import metrics as skm
        from sklearn.inspection import permutation_importance

        if model.task not in ("classification", "regression") or not model.label_column:
            raise NodeInputError(self.label, f"'{model.name}' is a {model.task} model.",
                                 port="model", fix="Connect a trained classification or "
                                                   "regression model (Train Model).")
        require_rows(self.label, data, port="data")
        require_columns(self.label, data, [*model.feature_columns, model.label_column],
                        port="data", why=f" that '{model.name}' needs")
        require_no_missing(self.label, data, [*model.feature_columns, model.label_column],
                           port="data")
        X = feature_input(self.label, model.estimator, data, model.feature_columns, port="data")
        y = data.frame[model.label_column].to_numpy()
        scoring = _METRICS[self.metric] or ("accuracy" if model.task == "classification"
                                            else "r2")
        result = permutation_importance(model.estimator, X, y, scoring=scoring,
                                        n_repeats=self.repeats, random_state=self.seed,
                                        n_jobs=n_jobs(self.parallel_jobs))
        frame = pd.DataFrame({"feature": model.feature_columns,
                              "importance_mean": result.importances_mean,
                              "importance_std": result.importances_std})
        frame = frame.sort_values("importance_mean", ascending=False, kind="stable")
        ctx.log("baseline %s: %.4f", scoring, skm.get_scorer(scoring)(model.estimator, X, y))
        return {"importance": Table(frame.reset_index(drop=True), {"feature": "id"})}
