"""Cross-Validate Model: train and test a learner on k folds of one table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from nodes.context import RunContext
from nodes.contract import Randomness, ScoringRole
from nodes.errors import NodeInputError
from nodes.evaluate.evaluate import EvaluateModel
from nodes.models.scoring import predict_scores
from nodes.models.train_score import training_arrays
from nodes.node import Node
from nodes.params import BoolParam, ColumnParam, IntParam, SeedParam
from nodes.ports import LEARNER, METRICS, TABLE, Input, Output
from nodes.values import Learner, Metrics, Model, Table

if TYPE_CHECKING:
    from sklearn.model_selection import KFold, StratifiedKFold

FOLD = "Fold"
_TASKS = ("classification", "regression")


def n_jobs(parallel_jobs: int, estimator: Any = None) -> int:
    """scikit-learn's n_jobs for a 'parallel_jobs' parameter (0: every core, or every
    Dask worker when the node runs on a cluster).

    A Keras network always trains one fit at a time: TensorFlow spreads one
    fit over the cores itself, and each extra process would import it anew
    (seconds) and hold its own copy of the runtime.
    """
    if getattr(estimator, "reads_feature_frame", False):
        return 1
    return -1 if parallel_jobs == 0 else parallel_jobs


def fits_in_parallel() -> Any:
    """The joblib setting fits run under: threads on this machine (no process
    start-up, no copy of the data; scikit-learn's fitting code releases the
    GIL), or the cluster when the node runs on Dask (its backend wins)."""
    import joblib

    return joblib.parallel_config(prefer="threads")


class StoppableScorer:
    """A scikit-learn scorer that first checks whether the run was cancelled.

    Sweeps and cross-validation call their scorer after every fit, so a
    cancelled run stops between fits instead of finishing the whole sweep.
    Sent to another process (a Dask worker), it is the plain scorer: the
    cluster stops the tasks of a cancelled run itself.
    """

    def __init__(self, scorer: Any, ctx: RunContext | None) -> None:
        self.scorer = scorer
        self.ctx = ctx

    def __call__(self, estimator: Any, X: Any, y: Any, **kwargs: Any) -> Any:
        if self.ctx is not None:
            self.ctx.check_cancelled()
        return self.scorer(estimator, X, y, **kwargs)

    def __reduce__(self) -> tuple[Any, ...]:
        return (StoppableScorer, (self.scorer, None))


def stoppable_scoring(ctx: RunContext, estimator: Any, scoring: Any) -> StoppableScorer:
    """``scoring`` (a name, a scorer or None: the estimator's own score) as a
    :class:`StoppableScorer` for ``ctx``'s run."""
    from sklearn.metrics import check_scoring

    return StoppableScorer(check_scoring(estimator, scoring=scoring), ctx)


def rows_of(X: Any, index: np.ndarray) -> Any:
    """Rows of a feature matrix or feature frame by position."""
    return X.iloc[index] if isinstance(X, pd.DataFrame) else X[index]


def check_learner(node: str, learner: Learner) -> None:
    if learner.task not in _TASKS:
        raise NodeInputError(node, f"'{learner.name}' is a {learner.task} learner; only "
                             "classification and regression learners are supported here.",
                             port="learner", fix="Connect a classification or regression "
                                                 "learner.")


def folds_splitter(node: str, task: str, y: np.ndarray, folds: int, stratify: bool,
                   shuffle: bool, seed: int) -> KFold | StratifiedKFold:
    """The k-fold splitter, after checking that every fold can get rows (and classes)."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if folds > len(y):
        raise NodeInputError(node, f"{folds} folds need at least {folds} rows, but the table "
                             f"has {len(y)}.", port="data", fix="Lower 'folds'.")
    random_state = seed if shuffle else None
    if task == "classification" and stratify:
        smallest = pd.Series(y).value_counts().min()
        if smallest < folds:
            raise NodeInputError(
                node, f"the smallest class has {smallest} rows, fewer than the {folds} folds, "
                "so some folds would miss it.", port="data",
                fix="Lower 'folds', or turn 'stratify' off.")
        return StratifiedKFold(folds, shuffle=shuffle, random_state=random_state)
    return KFold(folds, shuffle=shuffle, random_state=random_state)


class CrossValidateModel(Node):
    """Estimate how well a learner generalises: train and test it on k folds of the data.

    Input 'learner': an untrained classification or regression model;
    input 'data': the labelled rows (same checks as Train Model). The rows
    are cut into 'folds' parts; each part is scored by a model trained on
    all the other parts (scikit-learn's cross_validate with KFold, or
    StratifiedKFold for classification with 'stratify' on, shuffled with
    'seed' when 'shuffle' is on).

    Output 'scored': every row with its 'Fold' and the scores of the model
    that did not see it (as Score Model writes them). Output 'results':
    one row per fold with its Evaluate Model metrics, then rows 'mean' and
    'std' (standard deviation over the folds). Output 'metrics': the mean
    of each metric under its own name and its standard deviation as
    '<name>_std'.

    The folds are trained through joblib ('parallel_jobs' at once; 0: as
    many as there are cores, or Dask workers under a Dask joblib backend).
    """

    type_id = "cross_validate_model"
    imports = ("joblib", "sklearn.base", "sklearn.metrics", "sklearn.model_selection")
    title = "Cross-Validate Model"
    category = "Evaluate"
    aliases = ("Cross Validate Model",)
    scoring_role = ScoringRole.TRAINING_ONLY
    randomness = Randomness()

    class Inputs:
        learner = Input(LEARNER, help="The untrained model to cross-validate.")
        data = Input(TABLE, help="The labelled rows.")

    class Outputs:
        scored = Output(TABLE, help="Every row scored by the model of the folds it was not in.")
        results = Output(TABLE, help="Metrics per fold, then their mean and std.")
        metrics = Output(METRICS, help="Mean and standard deviation of each metric.")

    folds = IntParam(10, minimum=2, maximum=100, help="Number of folds k.")
    stratify = BoolParam(True, help="Classification: keep the class proportions in each fold.")
    shuffle = BoolParam(True, help="Shuffle the rows before cutting folds; off: table order.")
    seed = SeedParam(help="Random seed of the shuffling.")
    label_column = ColumnParam("", help="Column to predict; empty: the table's label column.")
    parallel_jobs = IntParam(0, minimum=0, maximum=256, advanced=True,
                             help="Folds trained at once (joblib n_jobs); 0: every core, "
                                  "or every Dask worker; 1: one after the other.")

    def run(self, ctx: RunContext, learner: Learner, data: Table) -> dict[str, Any]:
        from sklearn.base import clone
        from sklearn.model_selection import cross_validate

        check_learner(self.label, learner)
        features, label, X, y = training_arrays(self.label, learner, data, self.label_column)
        splitter = folds_splitter(self.label, learner.task, y, self.folds, self.stratify,
                                  self.shuffle, self.seed)
        ctx.progress(0.05, f"training {self.folds} models")
        try:
            with fits_in_parallel():
                result = cross_validate(
                    clone(learner.estimator), X, y, cv=splitter, return_estimator=True,
                    n_jobs=n_jobs(self.parallel_jobs, learner.estimator),
                    return_indices=True, error_score="raise",
                    scoring=stoppable_scoring(ctx, learner.estimator, None))
        except ValueError as error:
            raise NodeInputError(self.label, f"'{learner.name}' cannot be trained on a fold: "
                                 f"{error}", port="data",
                                 fix="Check the label and features (see Train Model).") from None
        evaluator = EvaluateModel({"label_column": label}, label=self.label)
        pieces, rows = [], []
        for fold, (estimator, test_index) in enumerate(
                zip(result["estimator"], result["indices"]["test"], strict=True)):
            ctx.check_cancelled()
            model = Model(estimator, learner.task, learner.name, features, {}, label,
                          list(estimator.classes_) if learner.task == "classification" else None,
                          accepts_missing=bool(learner.accepts_missing))
            scores = predict_scores(model, rows_of(X, test_index))
            piece = data.frame.iloc[test_index].assign(**{FOLD: fold + 1})
            piece = piece.drop(columns=[c for c in scores if c in piece.columns])
            piece = pd.concat([piece, pd.DataFrame(scores, index=piece.index)], axis=1)
            pieces.append(piece)
            fold_table = data.with_frame(piece, dict.fromkeys(scores, "score"))
            rows.append({"fold": str(fold + 1),
                         **evaluator._evaluate(ctx, fold_table, "data").scalars})
        scored_frame = pd.concat(pieces).sort_index().reset_index(drop=True)
        score_roles = {c: "score" for c in scored_frame.columns
                       if c not in data.frame.columns and c != FOLD}
        results = pd.DataFrame(rows)
        numeric = results.drop(columns=["fold"])
        summary = pd.DataFrame([{"fold": "mean", **numeric.mean().to_dict()},
                                {"fold": "std", **numeric.std(ddof=1).to_dict()}])
        results = pd.concat([results, summary], ignore_index=True)
        scalars = {name: float(numeric[name].mean()) for name in numeric.columns}
        scalars.update({f"{name}_std": float(numeric[name].std(ddof=1))
                        for name in numeric.columns if name != "rows"})
        metrics = Metrics(learner.task, scalars, info={"folds": self.folds})
        return {"scored": data.with_frame(scored_frame, {**score_roles, FOLD: "id"}),
                "results": Table(results, {"fold": "id"}), "metrics": metrics}
