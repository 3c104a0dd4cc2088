"""Tune Model Hyperparameters: a grid or random sweep over a learner's settings."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pandas as pd

from nodes.context import RunContext
from nodes.contract import Randomness, ScoringRole
from nodes.data.checks import columns_text
from nodes.errors import NodeInputError, ParameterError
from nodes.evaluate.crossvalidate import (
    check_learner,
    fits_in_parallel,
    folds_splitter,
    n_jobs,
    stoppable_scoring,
)
from nodes.models.train_score import training_arrays
from nodes.node import Node
from nodes.params import BoolParam, ChoiceParam, ColumnParam, IntParam, SeedParam, StringParam
from nodes.ports import LEARNER, MODEL, TABLE, Input, Output
from nodes.values import Learner, Model, Table

#: Metric name -> (task, higher is better).
METRICS = {"accuracy": "classification", "f1": "classification",
           "precision": "classification", "recall": "classification",
           "auc": "classification", "log_loss": "classification",
           "r2": "regression", "mae": "regression", "rmse": "regression"}
_DISTRIBUTION = re.compile(r"^(uniform|loguniform|randint)\(\s*([^,]+),\s*([^)]+)\)$")
_RANGES_FORM = ("it must be 'name: value, value, ...' entries separated by ';' (scikit-learn "
                "parameter names, e.g. 'n_estimators: 50, 100; max_depth: 3, 5, null'), and "
                "for a random sweep also 'name: uniform(a, b)', 'loguniform(a, b)' or "
                "'randint(a, b)'")


def _distribution(kind: str, low: float, high: float) -> Any:
    """The scipy distribution ``kind(low, high)`` of a random sweep (scipy loaded on use)."""
    from scipy import stats

    if kind == "uniform":
        return stats.uniform(low, high - low)
    if kind == "loguniform":
        return stats.loguniform(low, high)
    return stats.randint(int(low), int(high) + 1)


def _value(text: str) -> Any:
    text = text.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text.strip("'\"")


def parse_ranges(text: str) -> dict[str, Any]:
    """``"C: 0.1, 1; kernel: rbf, linear"`` -> ``{"C": [0.1, 1], "kernel": ["rbf", "linear"]}``;
    ``uniform(a, b)`` and friends become scipy distributions. Raises ValueError."""
    ranges: dict[str, Any] = {}
    for entry in text.split(";"):
        if not entry.strip():
            continue
        name, sep, values = entry.partition(":")
        name = name.strip()
        if not sep or not name or not values.strip():
            raise ValueError(entry.strip())
        if name in ranges:
            raise ValueError(f"{name!r} listed twice")
        match = _DISTRIBUTION.match(values.strip())
        if match:
            low, high = float(match[2]), float(match[3])
            if not low < high:
                raise ValueError(f"{name}: the lower bound must be below the upper bound")
            ranges[name] = _distribution(match[1], low, high)
        else:
            ranges[name] = [_value(v) for v in values.split(",")]
    if not ranges:
        raise ValueError("no parameter given")
    return ranges


def scorer(metric: str, task: str, classes: list[Any]) -> Any:
    """A scikit-learn scorer for ``metric``; the positive class of two is the second sorted."""
    from sklearn import metrics as skm

    two = len(classes) == 2
    if metric in ("f1", "precision", "recall"):
        function = {"f1": skm.f1_score, "precision": skm.precision_score,
                    "recall": skm.recall_score}[metric]
        options = {"pos_label": classes[1]} if two else {"average": "macro"}
        return skm.make_scorer(function, zero_division=0, **options)
    return {"accuracy": "accuracy", "auc": "roc_auc" if two else "roc_auc_ovr",
            "log_loss": "neg_log_loss", "r2": "r2", "mae": "neg_mean_absolute_error",
            "rmse": "neg_root_mean_squared_error"}[metric]


class TuneModelHyperparameters(Node):
    """Find the best settings for a learner by a grid or random sweep, and train it with them.

    Input 'learner': an untrained classification or regression model;
    input 'data': the labelled training rows; input 'validation'
    (optional): rows to score every setting on. Without it, each setting
    is scored by 'folds'-fold cross-validation of 'data' (stratified for
    classification), shuffled with 'seed'.

    'parameter_ranges' lists the values to try, by the scikit-learn
    parameter name of the learner's estimator (each learner's help names
    its estimator), e.g. 'n_estimators: 50, 100, 200; max_depth: 3, 6,
    null' for Decision Forest (values read as JSON: null is None, true,
    "text"). 'grid' tries every combination (GridSearchCV); 'random'
    draws 'max_runs' of them (RandomizedSearchCV seeded with 'seed'),
    where a value may also be a range: uniform(a, b), loguniform(a, b) or
    randint(a, b).

    'metric' picks the best setting: accuracy, f1, precision, recall
    (positive class: the second sorted one; more classes: macro average),
    auc, log_loss (lower is better) for classification; r2, mae, rmse
    (lower is better) for regression; 'auto' is accuracy or r2. Output
    'sweep': one row per setting tried, with its parameters, the mean and
    standard deviation of the metric over the folds (or the validation
    score) and its rank (1 = best). Output 'model': the learner with the
    best setting, trained on all of 'data'.

    The settings are fitted through joblib ('parallel_jobs' at once; 0: all
    cores, or the Dask workers under a Dask joblib backend).
    """

    type_id = "tune_model_hyperparameters"
    imports = ("scipy.stats", "sklearn.base", "sklearn.metrics", "sklearn.model_selection")
    title = "Tune Model Hyperparameters"
    category = "Train/Score"
    scoring_role = ScoringRole.TRAINING_ONLY
    randomness = Randomness()

    class Inputs:
        learner = Input(LEARNER, help="The untrained model to tune.")
        data = Input(TABLE, help="The labelled training rows.")
        validation = Input(TABLE, optional=True,
                           help="Optional rows to score each setting on (else cross-validate).")

    class Outputs:
        sweep = Output(TABLE, help="Every setting tried with its score and rank.")
        model = Output(MODEL, help="The best setting, trained on all of 'data'.")

    parameter_ranges = StringParam("", allow_empty=False, multiline=True,
                                   help="'name: v1, v2; name2: ...' by scikit-learn parameter "
                                        "name; random sweeps also take uniform(a, b).")
    sweep_mode = ChoiceParam("grid", ["grid", "random"],
                             help="grid: every combination; random: 'max_runs' draws.")
    max_runs = IntParam(20, minimum=1, maximum=10_000, help="Random sweep: settings to try.")
    metric = ChoiceParam("auto", ["auto", *METRICS], help="How settings are compared.")
    folds = IntParam(5, minimum=2, maximum=100, help="Cross-validation folds (no 'validation').")
    shuffle = BoolParam(True, help="Shuffle the rows before cutting folds.")
    seed = SeedParam(help="Random seed of folds and random draws.")
    label_column = ColumnParam("", help="Column to predict; empty: the table's label column.")
    parallel_jobs = IntParam(0, minimum=0, maximum=256, advanced=True,
                             help="Fits run at once (joblib n_jobs); 0: every core, or every "
                                  "Dask worker; 1: one after the other.")

    @classmethod
    def check_parameters(cls, values: dict[str, Any], label: str) -> None:
        try:
            ranges = parse_ranges(values["parameter_ranges"])
        except ValueError as error:
            raise ParameterError(label, "parameter_ranges", values["parameter_ranges"],
                                 f"{_RANGES_FORM} (problem: {error})") from None
        if values["sweep_mode"] == "grid" and any(not isinstance(v, list)
                                                  for v in ranges.values()):
            raise ParameterError(label, "parameter_ranges", values["parameter_ranges"],
                                 "a grid sweep needs lists of values, not ranges",
                                 fix="List the values, or set 'sweep_mode' to random.")

    def run(self, ctx: RunContext, learner: Learner, data: Table,
            validation: Table | None = None) -> dict[str, Any]:
        from sklearn.base import clone
        from sklearn.model_selection import GridSearchCV, PredefinedSplit, RandomizedSearchCV

        check_learner(self.label, learner)
        ranges = parse_ranges(self.parameter_ranges)
        known = learner.estimator.get_params()
        unknown = [name for name in ranges if name not in known]
        if unknown:
            raise NodeInputError(
                self.label, f"'{learner.name}' ({type(learner.estimator).__name__}) has no "
                f"parameter {columns_text(unknown)}.", port="learner",
                fix=f"Use its scikit-learn parameter names: {columns_text(sorted(known))}.")
        metric = self.metric if self.metric != "auto" else (
            "accuracy" if learner.task == "classification" else "r2")
        if METRICS[metric] != learner.task:
            raise ParameterError(self.label, "metric", self.metric,
                                 f"it must suit a {learner.task} learner",
                                 fix="Choose one of " + ", ".join(
                                     m for m, t in METRICS.items() if t == learner.task) + ".")
        features, label, X, y = training_arrays(self.label, learner, data, self.label_column)
        if validation is not None:
            columns = [*features, label]
            missing = [c for c in columns if c not in validation.frame.columns]
            if missing:
                raise NodeInputError(self.label, "the validation table lacks "
                                     f"{columns_text(missing)}.", port="validation",
                                     columns=missing, fix="Give it the training columns.")
            _, _, X_valid, y_valid = training_arrays(
                self.label, learner, validation.with_frame(validation.frame[columns],
                                                           {label: "label"}), label)
            search_X = np.vstack([X, X_valid]) if not isinstance(X, pd.DataFrame) else \
                pd.concat([X, X_valid], ignore_index=True)
            search_y = np.concatenate([y, y_valid])
            cv: Any = PredefinedSplit(np.r_[np.full(len(y), -1), np.zeros(len(y_valid))])
        else:
            search_X, search_y = X, y
            cv = folds_splitter(self.label, learner.task, y, self.folds, True, self.shuffle,
                                self.seed)
        classes = sorted(pd.unique(search_y).tolist()) if learner.task == "classification" \
            else []
        common = {"scoring": stoppable_scoring(ctx, learner.estimator,
                                               scorer(metric, learner.task, classes)), "cv": cv,
                  "n_jobs": n_jobs(self.parallel_jobs, learner.estimator), "refit": False,
                  "error_score": "raise"}
        if self.sweep_mode == "grid":
            search: Any = GridSearchCV(clone(learner.estimator), ranges, **common)
        else:
            search = RandomizedSearchCV(clone(learner.estimator), ranges, n_iter=self.max_runs,
                                        random_state=self.seed, **common)
        ctx.progress(0.05, "sweeping")
        try:
            with fits_in_parallel():
                search.fit(search_X, search_y)
        except ValueError as error:
            raise NodeInputError(self.label, f"a setting cannot be trained: {error}",
                                 port="learner", fix="Check the values in "
                                                     "'parameter_ranges'.") from None
        sweep = self._sweep_table(search, metric)
        best = clone(learner.estimator).set_params(**search.best_params_)
        ctx.progress(0.9, "training the best setting")
        with fits_in_parallel():
            _fit_alone(best, X, y, n_jobs(self.parallel_jobs, learner.estimator))
        ctx.log("best %s: %s", metric, search.best_params_)
        model = Model(best, learner.task, f"{learner.name} (tuned)", features,
                      {c: str(data.frame[c].dtype) for c in features}, label,
                      list(best.classes_) if learner.task == "classification" else None,
                      data.digest(), bool(learner.accepts_missing))
        return {"sweep": sweep, "model": model}

    @staticmethod
    def _sweep_table(search: Any, metric: str) -> Table:
        results = search.cv_results_
        sign = -1.0 if metric in ("log_loss", "mae", "rmse") else 1.0
        frame = pd.DataFrame([{name: _plain(value) for name, value in params.items()}
                              for params in results["params"]])
        for column in frame.columns:  # mixed values (3, None): one text column
            if not pd.api.types.is_numeric_dtype(frame[column].dtype):
                frame[column] = frame[column].astype(str)
        frame[metric] = sign * np.asarray(results["mean_test_score"], dtype=float)
        frame[f"{metric}_std"] = np.asarray(results["std_test_score"], dtype=float)
        frame["rank"] = np.asarray(results["rank_test_score"], dtype=np.int64)
        return Table(frame.sort_values("rank", kind="stable").reset_index(drop=True))


def _fit_alone(estimator: Any, X: Any, y: Any, jobs: int) -> None:
    """Fit the best setting on all rows. Nothing else runs then, so an estimator
    that can spread its own work (a forest's trees) gets the sweep's jobs; its
    results do not depend on n_jobs, and the fitted model keeps the learner's
    setting."""
    params = estimator.get_params(deep=False)
    if jobs == 1 or "n_jobs" not in params or params["n_jobs"] not in (None, 1):
        estimator.fit(X, y)
        return
    estimator.set_params(n_jobs=jobs)
    try:
        estimator.fit(X, y)
    finally:
        estimator.set_params(n_jobs=params["n_jobs"])


def _plain(value: Any) -> Any:
    """Sweep values as table cells: numbers stay numbers, anything else is text."""
    if isinstance(value, np.generic):
        value = value.item()
    return "None" if value is None else value
