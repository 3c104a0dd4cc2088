"""Training a learner on a table, and scoring a table with the trained model."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from nodes.context import DatasetRead, RunContext
from nodes.contract import CompiledStep, Partitioning, ScoringRole
from nodes.data.checks import (
    MISSING_VALUES_FIX,
    require_columns,
    require_no_missing,
    require_numeric,
    require_rows,
    resolve_label_column,
)
from nodes.digest import stable_digest
from nodes.errors import NodeInputError
from nodes.models.scoring import SCORED_LABELS, SCORED_PROBABILITIES, predict_scores
from nodes.node import Node
from nodes.params import BoolParam, ColumnParam
from nodes.partitions import Partitions
from nodes.ports import LEARNER, MODEL, TABLE, Input, Output
from nodes.values import Learner, Model, Table

__all__ = ["SCORED_LABELS", "SCORED_PROBABILITIES", "ScoreModel", "TrainModel",
           "feature_input", "training_arrays"]

_TASKS = ("classification", "regression")


class TrainModel(Node):
    """Train a learner on a table: the model learns to predict the label from the features.

    Input 'learner': an untrained model (e.g. Logistic Regression); input
    'data': the training rows. Output 'model': the trained model, which
    remembers the feature columns (names, order and types) it was trained
    on; Score Model needs the same columns.

    The label is 'label_column', or when that is empty the table's
    label-role column. The features are every feature-role column except
    the label; they must be numeric (booleans count as 0/1) and, like the
    label, have no missing values. A regression label must be numeric; a
    classification label needs at least two classes. The learner itself is
    not changed: a fresh copy is trained each time.
    """

    type_id = "train_model"
    imports = ("sklearn.base",)
    version = 1
    title = "Train Model"
    category = "Train/Score"
    scoring_role = ScoringRole.TRAINING_ONLY
    #: On a partitioned table (Dask): Logistic Regression trains where the
    #: partitions are (nodes/models/partitioned_fit.py); other learners get
    #: the rows gathered into one worker, within its memory budget.
    partitioning = Partitioning.STREAM

    class Inputs:
        learner = Input(LEARNER, help="The untrained model.")
        data = Input(TABLE, help="The training rows: feature columns and a label column.")

    class Outputs:
        model = Output(MODEL, help="The trained model.")

    label_column = ColumnParam("", help="Column to predict; empty: the table's label column.")

    def run(self, ctx: RunContext, learner: Learner, data: Table) -> dict[str, Any]:
        from sklearn.base import clone

        ctx.progress(0.0, "checking the training data")
        if learner.task not in _TASKS:
            raise NodeInputError(
                self.label, f"'{learner.name}' is a {learner.task} learner; Train Model trains "
                "classification and regression learners.", port="learner",
                fix="Connect a classification or regression learner.")
        features, label, X, y = training_arrays(self.label, learner, data, self.label_column)
        estimator = clone(learner.estimator)
        if hasattr(estimator, "set_run_context"):  # e.g. a Keras network reports its epochs
            estimator.set_run_context(ctx)
        ctx.progress(0.05, f"training {learner.name} on {len(X)} rows")
        try:
            estimator.fit(X, y)
        except ValueError as error:
            raise NodeInputError(self.label, f"'{learner.name}' cannot be trained on this "
                                 f"data: {error}", port="data",
                                 fix="Check that the learner suits the label "
                                     f"{label!r} (classes or numbers).") from None
        ctx.progress(1.0, "trained")
        training_data = data.digest()
        ownership = None
        if data.ownership is not None:
            # The training rows' data-ownership digest: the model carries it, and the
            # run record files it under the model (usage "training").
            ownership = data.ownership.digest()
            ctx.record_dataset(DatasetRead(
                name=f"training rows of {learner.name}", sha256=training_data,
                source=f"node {ctx.node_id}", rows=len(data.frame),
                columns=len(data.frame.columns), ownership=ownership.summary(),
                usage="training"))
        return {"model": Model(
            estimator=estimator, task=learner.task, name=learner.name,
            feature_columns=features,
            feature_dtypes={c: str(data.frame[c].dtype) for c in features},
            label_column=label,
            classes=list(estimator.classes_) if learner.task == "classification" else None,
            training_data=training_data, accepts_missing=bool(learner.accepts_missing),
            ownership=ownership)}


    # -- on a partitioned table (nodes/partitions.py) ----------------------
    def partition_summary(self, ctx: RunContext, learner: Learner,
                          data: Table) -> dict[str, Any]:
        """What the checks of training_arrays need, counted in one partition."""
        frame = data.frame
        label = resolve_label_column(self.label, data, self.label_column, port="data")
        columns = [*[c for c in data.feature_columns if c != label], label]
        values = pd.unique(frame[label].dropna())
        return {"missing": {c: int(n) for c, n in frame[columns].isna().sum().items()},
                "classes": values.tolist() if len(values) <= _MANY_CLASSES else None,
                "digest": data.digest()}

    def run_partitions(self, ctx: RunContext, learner: Learner,
                       data: Partitions) -> dict[str, Any]:
        from nodes.models.partitioned_fit import fit_logistic, trains_on_partitions

        seen = [s["classes"] for s in data.summaries]
        classes = (sorted(set().union(*seen), key=_sort_key) if all(v is not None for v in seen)
                   else [])
        if learner.task != "classification" or not trains_on_partitions(learner.estimator,
                                                                        classes):
            return self.run(ctx, learner, data.gather())
        schema = data.schema_table()
        if data.rows == 0:
            require_rows(self.label, schema, port="data")
        label = resolve_label_column(self.label, schema, self.label_column, port="data")
        features = [c for c in schema.feature_columns if c != label]
        if not features:
            raise NodeInputError(
                self.label, f"the table has no feature column besides the label {label!r}.",
                port="data", fix="Keep some feature columns upstream (Select Columns).")
        require_numeric(self.label, schema, features, port="data")
        missing = {c: sum(s["missing"][c] for s in data.summaries) for c in [*features, label]}
        bad = {c: n for c, n in missing.items() if n}
        if bad:
            listed = ", ".join(f"{c!r} ({n} rows)" for c, n in bad.items())
            raise NodeInputError(self.label, f"missing values in {listed}.", port="data",
                                 columns=list(bad), fix=MISSING_VALUES_FIX)
        ctx.progress(0.05, f"training {learner.name} on {data.rows} rows in "
                           f"{len(data)} partitions")
        estimator = fit_logistic(learner.estimator, data, features, label, classes, data.rows,
                                 ctx)
        ctx.progress(1.0, "trained")
        return {"model": Model(
            estimator=estimator, task=learner.task, name=learner.name,
            feature_columns=features,
            feature_dtypes={c: str(schema.frame[c].dtype) for c in features},
            label_column=label, classes=list(estimator.classes_),
            training_data=stable_digest([s["digest"] for s in data.summaries]),
            accepts_missing=bool(learner.accepts_missing), ownership=None)}


#: Label values counted per partition before a label counts as "not classes".
_MANY_CLASSES = 1000


def _sort_key(value: Any) -> tuple[str, Any]:
    return (type(value).__name__, value)


def training_arrays(node: str, learner: Learner, data: Table, label_column: str
                    ) -> tuple[list[str], str, Any, np.ndarray]:
    """Check a training table for ``learner``: the feature columns, the label
    column, the features as the estimator takes them and the label values.
    Every mistake raises NodeInputError naming ``node`` and the columns."""
    require_rows(node, data, port="data")
    label = resolve_label_column(node, data, label_column, port="data")
    features = [c for c in data.feature_columns if c != label]
    if not features:
        raise NodeInputError(
            node, f"the table has no feature column besides the label {label!r}.",
            port="data", fix="Keep some feature columns upstream (Select Columns).")
    X = feature_input(node, learner.estimator, data, features, port="data")
    # A learner that declares it trains on missing feature values gets them as NaN.
    require_no_missing(node, data, [label] if learner.accepts_missing else [*features, label],
                       port="data")
    target = data.frame[label]
    if learner.task == "regression":
        require_numeric(node, data, [label], port="data", what="regression label",
                        fix="Use a classification learner, or choose a numeric label.")
        y = target.to_numpy(dtype=float)
    else:
        y = target.to_numpy()
        classes = pd.unique(target)
        if len(classes) < 2:
            raise NodeInputError(
                node, f"the label {label!r} has a single class ({classes[0]!r}); "
                "a classifier needs at least two.", port="data", columns=[label],
                fix="Check the label column, or train on rows with more than one class.")
    return features, label, X, y


class ScoreModel(Node):
    """Predict with a trained model: add its predictions to a table.

    Input 'model': a trained model; input 'data': rows with every feature
    column the model was trained on (numeric, no missing values; other
    columns are passed through). Output 'scored': the input columns plus
    score columns (role 'score'):

    - 'Scored Labels': the predicted class, or for regression the
      predicted value.
    - Classification with probabilities, two classes: 'Scored
      Probabilities', the probability of the positive class, the second of
      the sorted class labels (e.g. 'malignant' of benign/malignant, 1 of
      0/1). More classes: one 'Scored Probabilities_<class>' per class.

    Score columns of an earlier Score Model are replaced. With
    'append_scores_to_input' off the output has only the label column (if
    the data has it) and the score columns. The model's label column gets
    the label role when the data has no label column, so Evaluate Model
    finds it.
    """

    type_id = "score_model"
    version = 1
    title = "Score Model"
    category = "Train/Score"
    scoring_role = ScoringRole.ROW_WISE
    partitioning = Partitioning.ROWS
    compiled_step = CompiledStep.SCORE

    class Inputs:
        model = Input(MODEL, help="The trained model.")
        data = Input(TABLE, help="The rows to score.")

    class Outputs:
        scored = Output(TABLE, help="The rows with the predictions.")

    append_scores_to_input = BoolParam(True, help="Keep the input columns; off: only the "
                                                  "label and the score columns.")

    def run(self, ctx: RunContext, model: Model, data: Table) -> dict[str, Any]:
        features = model.feature_columns
        require_rows(self.label, data, port="data")
        require_columns(self.label, data, features, port="data",
                        why=f" that '{model.name}' was trained on")
        X = feature_input(self.label, model.estimator, data, features, port="data")
        if not model.accepts_missing:
            require_no_missing(self.label, data, features, port="data")
        scores = predict_scores(model, X)
        label = model.label_column if model.label_column in data.frame.columns else None
        if self.append_scores_to_input:
            stale = set(data.columns_with_role("score")) | set(scores)
            base = data.frame.drop(columns=[c for c in data.frame.columns if c in stale])
        else:
            base = data.frame[[label] if label else []]
        frame = pd.concat([base, pd.DataFrame(scores, index=base.index)], axis=1)
        roles = dict.fromkeys(scores, "score")
        if label and data.label_column is None:
            roles[label] = "label"
        return {"scored": data.with_frame(frame, roles)}


def feature_input(node: str, estimator: Any, data: Table, features: list[str], *,
                  port: str) -> Any:
    """The features as ``estimator`` takes them: a float matrix, or the DataFrame of
    the columns for estimators with ``reads_feature_frame`` (a Keras network reads
    columns whose cells are sequences, e.g. word indices, itself)."""
    if getattr(estimator, "reads_feature_frame", False):
        frame = data.frame[features]
        sequences = [c for c in features if _holds_sequences(frame[c])]
        require_numeric(node, data, [c for c in features if c not in sequences], port=port)
        return frame
    require_numeric(node, data, features, port=port)
    return data.frame[features].to_numpy(dtype=float)


def _holds_sequences(column: pd.Series) -> bool:
    values = column.dropna()
    return (column.dtype == object and len(values) > 0
            and isinstance(values.iloc[0], (list, tuple, np.ndarray)))
