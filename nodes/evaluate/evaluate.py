"""Metrics of a scored table: how good are the predictions of Score Model?"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from nodes.context import RunContext
from nodes.contract import Partitioning, ScoringRole
from nodes.data.checks import (
    is_numeric,
    require_columns,
    require_no_missing,
    require_numeric,
    require_rows,
    resolve_label_column,
)
from nodes.errors import NodeInputError
from nodes.imports import module
from nodes.models.train_score import SCORED_LABELS, SCORED_PROBABILITIES
from nodes.models.unsupervised import ASSIGNMENTS, DISTANCE
from nodes.node import Node
from nodes.params import ColumnParam, FloatParam, IntParam
from nodes.partitions import Partitions, concat_tables
from nodes.ports import METRICS, TABLE, Input, Output
from nodes.values import Matrix, Metrics, Table


class EvaluateModel(Node):
    """Measure how well a model's predictions match the true labels.

    Input 'scored': the output of Score Model, i.e. a table with the true
    label (the label-role column, or 'label_column' when set) and 'Scored
    Labels' (plus 'Scored Probabilities...' for classifiers that give
    probabilities). Output 'metrics': named numbers, matrices and curves,
    all computed with scikit-learn.metrics; 'rows' is the number of rows.

    The task is classification when the table has probability columns, or
    the label is text/boolean, or both the label and 'Scored Labels' are
    whole-number columns; otherwise regression.

    Two classes: accuracy, precision, recall, f1, auc, log_loss, the
    'confusion_matrix' (rows: actual, columns: predicted, classes in sorted
    order) and the 'roc' curve (fpr, tpr, threshold). The positive class is
    the second of the sorted class labels, the last row and column of the
    confusion matrix (e.g. 'malignant' of benign/malignant, 1 of 0/1); it
    is the class whose probability Score Model reports. A row is predicted
    positive when its probability is >= 'threshold'; at the default 0.5
    'Scored Labels' is used as is. auc and log_loss use the probabilities
    and are left out without them (auc also when the rows hold one class).

    More classes: accuracy, precision/recall/f1 averaged over classes
    ('_macro') and over rows ('_micro'), per class as 'precision[<class>]'
    and so on, log_loss (with probabilities) and the confusion matrix.

    Regression: mae, rmse, r2, relative_absolute_error (sum |y - pred| /
    sum |y - mean(y)|) and relative_squared_error (sum (y - pred)^2 /
    sum (y - mean(y))^2), as ML Studio defines them; and the 'residuals'
    curve (predicted, residual = actual - predicted) for a residual plot,
    every row up to 2,000 and an evenly spaced sample beyond.

    With probabilities, two classes also give the 'precision_recall' curve
    (recall, precision, threshold) and the 'lift' curve: for each
    threshold, the share of rows at or above it ('fraction'), the share
    of all positives among them ('gain') and their positive rate divided
    by the overall one ('lift').

    Clustering (the output of Train Clustering Model or Assign Data to
    Clusters: an 'Assignments' column and no 'Scored Labels'): clusters,
    silhouette and davies_bouldin on the numeric feature columns,
    'size[<cluster>]', mean_distance_to_center, and with a label column
    the adjusted_rand_index and the 'label_by_cluster' count matrix.

    Input 'scored_to_compare' (optional, any number of wires): other models'
    scored rows, evaluated the same way; the k-th one's results carry the
    suffix ' (k+1)' (e.g. 'auc (2)', curve 'roc (3)'), and the 'comparison'
    table lists each metric of every input side by side.
    """

    type_id = "evaluate_model"
    # Two-class figures need numpy only; scikit-learn's metrics and scipy's hull
    # are imported (under the import lock, nodes.imports.module) where used.
    version = 1
    title = "Evaluate Model"
    category = "Evaluate"
    scoring_role = ScoringRole.TRAINING_ONLY
    #: On a partitioned table (Dask) only the label and score columns of each
    #: partition travel to the node; clustering results come whole.
    partitioning = Partitioning.STREAM
    partition_input = "scored"

    class Inputs:
        scored = Input(TABLE, help="Scored rows from Score Model.")
        scored_to_compare = Input(TABLE, optional=True, multiple=True,
                                  help="Optional: other models' scored rows (any number), "
                                       "evaluated the same way, side by side.")

    class Outputs:
        metrics = Output(METRICS, help="The evaluation metrics.")

    threshold = FloatParam(0.5, minimum=0.0, maximum=1.0,
                           help="Two classes only: predict the positive class when its "
                                "probability is >= this.")
    label_column = ColumnParam("", input_port="scored",
                               help="Column with the true values; empty: the label column.")
    curve_points = IntParam(500, minimum=0, maximum=1_000_000, advanced=True,
                            help="Most points kept per curve (the ROC's convex hull and "
                                 "thresholds at quantiles; figures use every row); 0: all.")

    def run(self, ctx: RunContext, scored: Table,
            scored_to_compare: list[Table] | None = None) -> dict[str, Any]:
        metrics = self._evaluate(ctx, scored, "scored")
        others = []
        for table in scored_to_compare or []:
            other = self._evaluate(ctx, table, "scored_to_compare")
            if other.task != metrics.task:
                raise NodeInputError(
                    self.label, f"'scored' holds {metrics.task} results but "
                    f"'scored_to_compare' holds {other.task} results.",
                    port="scored_to_compare",
                    fix="Compare models of the same task on the same label.")
            others.append(other)
        if others:
            metrics = compare(metrics, others)
        return {"metrics": metrics}

    def partition_summary(self, ctx: RunContext, scored: Table,
                          scored_to_compare: list[Table] | None = None) -> Table:
        """The columns of a partition the figures are computed from."""
        frame = scored.frame
        if SCORED_LABELS not in frame.columns:
            return scored  # clustering figures use the features too (or an error to give)
        label = resolve_label_column(self.label, scored, self.label_column, port="scored")
        wanted = [label, SCORED_LABELS] + [c for c in frame.columns
                                           if c == SCORED_PROBABILITIES
                                           or c.startswith(SCORED_PROBABILITIES + "_")]
        return Table(frame[list(dict.fromkeys(wanted))], scored.roles)

    def run_partitions(self, ctx: RunContext, scored: Partitions,
                       scored_to_compare: list[Table] | None = None) -> dict[str, Any]:
        return self.run(ctx, concat_tables(scored.summaries), scored_to_compare)

    def _evaluate(self, ctx: RunContext, scored: Table, port: str) -> Metrics:
        require_rows(self.label, scored, port=port)
        frame = scored.frame
        if SCORED_LABELS not in frame.columns and ASSIGNMENTS in frame.columns:
            metrics = _clustering(self.label, scored, port, self.label_column)
            metrics.scalars["rows"] = float(len(frame))
            return metrics
        label = resolve_label_column(self.label, scored, self.label_column, port=port)
        require_columns(self.label, scored, [SCORED_LABELS], port=port,
                        why=" (connect the output of Score Model)")
        require_no_missing(self.label, scored, [label, SCORED_LABELS], port=port)
        probability_columns = [c for c in frame.columns if c == SCORED_PROBABILITIES
                               or c.startswith(SCORED_PROBABILITIES + "_")]
        require_no_missing(self.label, scored, probability_columns, port=port)
        if _is_classification(frame[label], frame[SCORED_LABELS], probability_columns):
            metrics = self._classification(ctx, frame, label, probability_columns, port)
        else:
            require_numeric(self.label, scored, [label, SCORED_LABELS], port=port,
                            what="regression", fix="Evaluate the output of Score Model.")
            metrics = _regression(frame[label].to_numpy(dtype=float),
                                  frame[SCORED_LABELS].to_numpy(dtype=float))
        metrics.scalars["rows"] = float(len(frame))
        return metrics

    def _classification(self, ctx: RunContext, frame: pd.DataFrame, label: str,
                        probability_columns: list[str], port: str) -> Metrics:
        actual = frame[label].to_numpy()
        predicted = frame[SCORED_LABELS].to_numpy()
        try:
            classes = sorted(set(pd.unique(actual).tolist())
                             | set(pd.unique(predicted).tolist()))
        except TypeError:
            raise NodeInputError(
                self.label, f"the label {label!r} ({frame[label].dtype}) and "
                f"'{SCORED_LABELS}' ({frame[SCORED_LABELS].dtype}) hold different kinds of "
                "values.", port=port, columns=[label, SCORED_LABELS],
                fix="Set 'label_column' to the column the model was trained to predict.") from None
        if SCORED_PROBABILITIES in probability_columns or (
                not probability_columns and len(classes) <= 2):
            if len(classes) != 2:
                raise NodeInputError(
                    self.label, f"two-class scores, but the label and '{SCORED_LABELS}' hold "
                    f"{len(classes)} classes: {classes[:10]}.", port=port,
                    columns=[label], fix="Evaluate rows that hold both classes, and check "
                                         "'label_column'.")
            probability = (frame[SCORED_PROBABILITIES].to_numpy(dtype=float)
                           if probability_columns else None)
            if probability is None and self.threshold != 0.5:
                ctx.log("No 'Scored Probabilities' column: 'threshold' is not used.")
            return _binary(actual, predicted, probability, classes, self.threshold, ctx,
                           self.curve_points)
        return _multiclass(actual, predicted, frame, probability_columns, classes, ctx)


def _is_classification(label: pd.Series, predicted: pd.Series,
                       probability_columns: list[str]) -> bool:
    def whole(series: pd.Series) -> bool:
        return pd.api.types.is_integer_dtype(series.dtype)

    numeric = (pd.api.types.is_numeric_dtype(label.dtype)
               and not pd.api.types.is_bool_dtype(label.dtype))
    return bool(probability_columns) or not numeric or (whole(label) and whole(predicted))


def _spread(count: int, limit: int, keep: np.ndarray | None = None) -> np.ndarray:
    """Indices of at most ``limit`` points of a curve of ``count`` (0: all): the
    first and the last, ``keep``, and the rest evenly spaced along the curve, so
    thresholds fall at quantiles of the scores."""
    if not limit or count <= limit:
        return np.arange(count)
    chosen = np.unique(np.concatenate((
        [0, count - 1], keep if keep is not None else np.empty(0, dtype=np.int64))))
    room = limit - len(chosen)
    if room > 0:
        chosen = np.union1d(chosen, np.linspace(0, count - 1, room).round().astype(np.int64))
    return chosen


def _roc_points(fpr: np.ndarray, tpr: np.ndarray, limit: int) -> np.ndarray:
    """The ROC points kept: every vertex of its upper convex hull (the best
    operating points; its area bounds the curve's) and points at quantiles."""
    if not limit or len(fpr) <= limit:
        return np.arange(len(fpr))
    hull = np.arange(len(fpr))
    while len(hull) > 2:  # drop, all at once, every point not making a right turn
        a, b, c = hull[:-2], hull[1:-1], hull[2:]
        cross = ((fpr[b] - fpr[a]) * (tpr[c] - tpr[a]) - (tpr[b] - tpr[a]) * (fpr[c] - fpr[a]))
        keep = np.concatenate(([True], cross < 0, [True]))
        if keep.all():
            break
        hull = hull[keep]
    hull_points = np.asarray(hull, dtype=np.int64)
    if len(hull_points) > limit // 2:  # a hull of many vertices: keep it spread too
        hull_points = hull_points[_spread(len(hull_points), limit // 2)]
    return _spread(len(fpr), limit, hull_points)


def _binary(actual: np.ndarray, predicted: np.ndarray, probability: np.ndarray | None,
            classes: list[Any], threshold: float, ctx: RunContext,
            curve_points: int = 0) -> Metrics:
    """Two-class metrics from counts and one sort of the probabilities.

    The formulas are scikit-learn's, term for term (tests compare every
    figure and curve with ``sklearn.metrics`` to the last bit); computing
    them together skips the input checks and sorts that each of its
    functions repeats, which made Evaluate several times slower than the
    model's own scoring on large test sets.
    """
    negative, positive = classes
    truth = actual == positive
    if probability is not None and threshold != 0.5:
        called = probability >= threshold
    else:
        called = predicted == positive
    rows = len(truth)
    tp = int(np.count_nonzero(truth & called))
    positives, calls = int(np.count_nonzero(truth)), int(np.count_nonzero(called))
    fp, fn = calls - tp, positives - tp
    tn = rows - tp - fp - fn
    scalars = {
        "accuracy": (tp + tn) / rows,
        "precision": tp / calls if calls else 0.0,
        "recall": tp / positives if positives else 0.0,
        "f1": 2.0 * tp / (positives + calls) if positives + calls else 0.0,
    }
    curves = {}
    if probability is not None:
        scalars["log_loss"] = _binary_log_loss(truth, probability)
        if 0 < positives < rows:
            fpr, tpr, thresholds, precision, recall, cut = _binary_curves(truth, probability)
            scalars["auc"] = float(np.trapezoid(tpr, fpr))  # on every point, before any thinning
            roc = _roc_points(fpr, tpr, curve_points)
            fpr, tpr, thresholds = fpr[roc], tpr[roc], thresholds[roc]
            curves["roc"] = pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": thresholds})
            kept = _spread(len(recall), curve_points)
            curves["precision_recall"] = pd.DataFrame({
                "recall": recall[kept], "precision": precision[kept],
                "threshold": np.append(cut, np.nan)[kept]})
            curves["lift"] = _lift(truth, fpr, tpr, thresholds)
        else:
            ctx.log("The true labels hold one class only: no auc or roc curve.")
    confusion = Matrix(row_labels=_plain_labels(classes), column_labels=_plain_labels(classes),
                       values=[[tn, fp], [fn, tp]])
    return Metrics("classification", _floats(scalars), {"confusion_matrix": confusion}, curves)


def _binary_log_loss(truth: np.ndarray, probability: np.ndarray) -> float:
    """scikit-learn's log_loss for two classes: probabilities clipped to
    [eps, 1 - eps], the mean of -log(probability of the true class)."""
    eps = np.finfo(probability.dtype).eps
    chosen = np.where(truth, np.clip(probability, eps, 1 - eps),
                      np.clip(1 - probability, eps, 1 - eps))
    return float(np.mean(-np.log(chosen)))


def _binary_curves(truth: np.ndarray, probability: np.ndarray) -> tuple[np.ndarray, ...]:
    """ROC (fpr, tpr, thresholds, intermediate points dropped, starting at
    (0, 0) with threshold inf) and precision-recall (precision, recall,
    thresholds) as scikit-learn's roc_curve and precision_recall_curve give
    them, from one descending sort."""
    order = np.argsort(probability, kind="stable")[::-1]
    score = probability[order]
    ends = np.append(np.flatnonzero(np.diff(score)), len(score) - 1)
    tps = np.cumsum(truth[order], dtype=np.float64)[ends]
    fps = 1 + ends.astype(np.float64) - tps
    thresholds = score[ends].astype(np.float64)
    precision = np.append((tps / (tps + fps))[::-1], 1.0)
    recall = np.append((tps / tps[-1])[::-1], 0.0)
    cut = thresholds[::-1]
    if len(fps) > 2:  # drop points on straight segments, as roc_curve does
        keep = np.flatnonzero(np.concatenate(
            ([True], np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), [True])))
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fps, tps = np.append(0.0, fps), np.append(0.0, tps)
    thresholds = np.append(np.inf, thresholds)
    return fps / fps[-1], tps / tps[-1], thresholds, precision, recall, cut


def _multiclass(actual: np.ndarray, predicted: np.ndarray, frame: pd.DataFrame,
                probability_columns: list[str], classes: list[Any], ctx: RunContext) -> Metrics:
    skm = module("sklearn.metrics")

    scalars: dict[str, float] = {"accuracy": skm.accuracy_score(actual, predicted)}
    for average in ("macro", "micro"):
        precision, recall, f1, _ = skm.precision_recall_fscore_support(
            actual, predicted, labels=classes, average=average, zero_division=0)
        scalars.update({f"precision_{average}": precision, f"recall_{average}": recall,
                        f"f1_{average}": f1})
    precision, recall, f1, _ = skm.precision_recall_fscore_support(
        actual, predicted, labels=classes, average=None, zero_division=0)
    for index, name in enumerate(classes):
        scalars.update({f"precision[{name}]": precision[index],
                        f"recall[{name}]": recall[index], f"f1[{name}]": f1[index]})
    if probability_columns:
        by_class = {c[len(SCORED_PROBABILITIES) + 1:]: c for c in probability_columns}
        if set(by_class) == {str(c) for c in classes}:
            probabilities = frame[[by_class[str(c)] for c in classes]].to_numpy(dtype=float)
            scalars["log_loss"] = skm.log_loss(actual, probabilities, labels=classes)
        else:
            ctx.log("The probability columns do not match the classes of the rows: no log_loss.")
    return Metrics("classification", _floats(scalars),
                   {"confusion_matrix": _confusion(actual, predicted, classes)})


#: Rows drawn in the residual plot (more would not show more, only cost more).
RESIDUAL_POINTS = 2000


def _regression(actual: np.ndarray, predicted: np.ndarray) -> Metrics:
    skm = module("sklearn.metrics")

    error = actual - predicted
    deviation = actual - actual.mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        relative_absolute = np.abs(error).sum() / np.abs(deviation).sum()
        relative_squared = (error ** 2).sum() / (deviation ** 2).sum()
    return Metrics("regression", _floats({
        "mae": skm.mean_absolute_error(actual, predicted),
        "rmse": skm.root_mean_squared_error(actual, predicted),
        "r2": skm.r2_score(actual, predicted),
        "relative_absolute_error": relative_absolute,
        "relative_squared_error": relative_squared,
    }), curves={"residuals": _residuals(actual, predicted)})


def _residuals(actual: np.ndarray, predicted: np.ndarray,
               limit: int = RESIDUAL_POINTS) -> pd.DataFrame:
    """Predicted value against residual (actual - predicted) for a residual plot:
    every row, or an evenly spaced sample of ``limit`` rows of a larger table."""
    rows = np.arange(len(actual))
    if len(rows) > limit:
        rows = np.linspace(0, len(actual) - 1, limit).round().astype(int)
    return pd.DataFrame({"predicted": predicted[rows],
                         "residual": actual[rows] - predicted[rows]})


def _lift(positive: np.ndarray, fpr: np.ndarray, tpr: np.ndarray,
          thresholds: np.ndarray) -> pd.DataFrame:
    """Lift (and cumulative gains) at each ROC threshold: targeting the rows
    with probability >= threshold, the share of rows targeted, the share of
    positives found (tpr) and how many times the base rate they hold."""
    positives, negatives = positive.sum(), (~positive).sum()
    true, false = tpr * positives, fpr * negatives
    targeted = true + false
    keep = targeted > 0
    base_rate = positives / len(positive)
    return pd.DataFrame({"fraction": targeted[keep] / len(positive), "gain": tpr[keep],
                         "lift": true[keep] / targeted[keep] / base_rate,
                         "threshold": thresholds[keep]})


def _clustering(node: str, table: Table, port: str, label_column: str) -> Metrics:
    """Silhouette, Davies-Bouldin and cluster sizes of Assign Data to Clusters'
    output; against the label (if any) the adjusted Rand index and a
    label-by-cluster count matrix."""
    skm = module("sklearn.metrics")

    frame = table.frame
    assignments = frame[ASSIGNMENTS].to_numpy()
    features = [c for c in table.feature_columns if is_numeric(frame[c])]
    if not features:
        raise NodeInputError(node, "no numeric feature column to measure the clusters on.",
                             port=port, fix="Keep the clustered columns in the table.")
    require_no_missing(node, table, features, port=port)
    X = frame[features].to_numpy(dtype=float)
    clusters = sorted(set(assignments.tolist()))
    scalars: dict[str, float] = {"clusters": float(len(clusters))}
    if 2 <= len(clusters) < len(X):
        scalars["silhouette"] = skm.silhouette_score(X, assignments)
        scalars["davies_bouldin"] = skm.davies_bouldin_score(X, assignments)
    for cluster in clusters:
        scalars[f"size[{cluster}]"] = float((assignments == cluster).sum())
    if DISTANCE in frame.columns:
        scalars["mean_distance_to_center"] = float(frame[DISTANCE].mean())
    matrices = {}
    label = label_column or table.label_column
    if label:
        require_columns(node, table, [label], port=port, why=" (the label column)")
        truth = frame[label].to_numpy()
        scalars["adjusted_rand_index"] = skm.adjusted_rand_score(truth, assignments)
        classes = sorted(set(truth.tolist()))
        counts = pd.crosstab(frame[label], frame[ASSIGNMENTS]).reindex(
            index=classes, columns=clusters, fill_value=0)
        matrices["label_by_cluster"] = Matrix(
            row_labels=[_plain(c) for c in classes], column_labels=[_plain(c) for c in clusters],
            values=counts.to_numpy().tolist(), row_title=label, column_title="Cluster")
    return Metrics("clustering", _floats(scalars), matrices)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


#: Suffix of the second input's results when two are compared.


def compare(first: Metrics, others: list[Metrics]) -> Metrics:
    """One Metrics with every input: the first under the plain names, the k-th
    other's names suffixed ' (k+1)', and a 'comparison' table of the scalars all
    have (metric, scored, scored_to_compare[, scored_to_compare (3)...])."""
    columns = ["scored", *(f"scored_to_compare{'' if k == 2 else f' ({k})'}"
                           for k in range(2, len(others) + 2))]
    shared = [name for name in first.scalars if all(name in o.scalars for o in others)]
    comparison = pd.DataFrame({"metric": shared, **{
        column: [m.scalars[n] for n in shared]
        for column, m in zip(columns, [first, *others], strict=True)}})
    scalars, matrices = dict(first.scalars), dict(first.matrices)
    curves, info = dict(first.curves), dict(first.info)
    for k, other in enumerate(others, start=2):
        suffix = f" ({k})"
        scalars.update({name + suffix: v for name, v in other.scalars.items()})
        matrices.update({name + suffix: m for name, m in other.matrices.items()})
        curves.update({name + suffix: c for name, c in other.curves.items()})
        info.update({name + suffix: v for name, v in other.info.items()})
    curves["comparison"] = comparison
    info["compared"] = columns
    return Metrics(first.task, scalars, matrices, curves, info)


def _confusion(actual: np.ndarray, predicted: np.ndarray, classes: list[Any]) -> Matrix:
    skm = module("sklearn.metrics")

    counts = skm.confusion_matrix(actual, predicted, labels=classes)
    names = _plain_labels(classes)
    return Matrix(row_labels=names, column_labels=list(names), values=counts.tolist())


def _plain_labels(classes: list[Any]) -> list[Any]:
    return [c.item() if isinstance(c, np.generic) else c for c in classes]


def _floats(scalars: dict[str, Any]) -> dict[str, float]:
    return {name: float(value) for name, value in scalars.items()}
