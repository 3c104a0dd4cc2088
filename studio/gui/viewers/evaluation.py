"""Reading an Evaluate Model result for display (no Qt): one part per compared model,
and a two-class model's confusion counts at any threshold, from its curves.

Evaluate Model names the results of its second, third... input with the
suffix " (2)", " (3)" (``nodes/evaluate/evaluate.py``). Its curves hold every
threshold the scores cross: the precision-recall curve each distinct score,
the ROC curve those where its slope changes (points on straight stretches
are dropped, as scikit-learn does). Between two kept ROC points the counts
grow by the same step at every distinct score, so the counts at any
threshold follow exactly by interpolating over the scores' ranks: moving the
threshold slider needs no re-run, and shows what a re-run would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

_SUFFIX = re.compile(r"^(?P<base>.*) \((?P<index>\d+)\)$")


@dataclass
class ModelPart:
    """The results of one scored input of an Evaluate Model."""

    index: int  # 0 for the first input
    scalars: dict[str, float] = field(default_factory=dict)
    matrices: dict[str, Any] = field(default_factory=dict)
    curves: dict[str, pd.DataFrame] = field(default_factory=dict)


def split_by_model(metrics: Any) -> list[ModelPart]:
    """The metrics of each compared input, in input order (one part when not compared)."""
    parts: dict[int, ModelPart] = {}

    def part(name: str) -> tuple[ModelPart, str]:
        match = _SUFFIX.match(name)
        index = int(match["index"]) - 1 if match else 0
        return parts.setdefault(index, ModelPart(index)), (match["base"] if match else name)

    for name, value in metrics.scalars.items():
        owner, base = part(name)
        owner.scalars[base] = value
    for name, matrix in metrics.matrices.items():
        owner, base = part(name)
        owner.matrices[base] = matrix
    for name, curve in metrics.curves.items():
        if name == "comparison":  # the side-by-side table the viewer builds itself
            continue
        owner, base = part(name)
        owner.curves[base] = curve
    return [parts[i] for i in sorted(parts)]


@dataclass
class Counts:
    """A two-class confusion matrix: rows actual (negative, positive), columns predicted."""

    tn: int
    fp: int
    fn: int
    tp: int

    def matrix(self) -> list[list[int]]:
        return [[self.tn, self.fp], [self.fn, self.tp]]

    def scalars(self) -> dict[str, float]:
        """accuracy, precision, recall and f1 as Evaluate Model computes them."""
        rows = self.tn + self.fp + self.fn + self.tp
        calls, positives = self.tp + self.fp, self.tp + self.fn
        return {
            "accuracy": (self.tp + self.tn) / rows if rows else 0.0,
            "precision": self.tp / calls if calls else 0.0,
            "recall": self.tp / positives if positives else 0.0,
            "f1": 2.0 * self.tp / (positives + calls) if positives + calls else 0.0,
        }


class ThresholdCurves:
    """A two-class model's counts at any threshold (a row is called positive when its
    probability is >= the threshold)."""

    def __init__(self, roc: pd.DataFrame, precision_recall: pd.DataFrame | None,
                 positives: int, negatives: int) -> None:
        self.positives, self.negatives = positives, negatives
        thresholds = roc["threshold"].to_numpy(dtype=float)
        finite = np.isfinite(thresholds)
        roc_scores = thresholds[finite]
        roc_tps = roc["tpr"].to_numpy(dtype=float)[finite] * positives
        roc_fps = roc["fpr"].to_numpy(dtype=float)[finite] * negatives
        if precision_recall is not None and "threshold" in precision_recall:
            scores = precision_recall["threshold"].to_numpy(dtype=float)
            self.scores = np.unique(scores[np.isfinite(scores)])  # ascending distinct scores
        else:  # no precision-recall curve: the ROC thresholds are all we know
            self.scores = np.unique(roc_scores)
        self._ranks = np.concatenate(([0.0], self._rank(roc_scores)))
        self._tps = np.concatenate(([0.0], roc_tps))
        self._fps = np.concatenate(([0.0], roc_fps))

    def _rank(self, threshold: np.ndarray | float) -> np.ndarray:
        """How many distinct scores are >= the threshold."""
        return len(self.scores) - np.searchsorted(self.scores, threshold, side="left")

    def counts_at(self, threshold: float) -> Counts:
        rank = float(self._rank(threshold))
        tp = int(round(float(np.interp(rank, self._ranks, self._tps))))
        fp = int(round(float(np.interp(rank, self._ranks, self._fps))))
        return Counts(self.negatives - fp, fp, self.positives - tp, tp)

    def roc_point(self, threshold: float) -> tuple[float, float]:
        counts = self.counts_at(threshold)
        return (counts.fp / self.negatives if self.negatives else 0.0,
                counts.tp / self.positives if self.positives else 0.0)

    def precision_recall_point(self, threshold: float) -> tuple[float, float] | None:
        """(recall, precision), or None where nothing is called positive."""
        counts = self.counts_at(threshold)
        calls = counts.tp + counts.fp
        if not calls:
            return None
        return (counts.tp / self.positives if self.positives else 0.0, counts.tp / calls)


def threshold_curves(part: ModelPart) -> ThresholdCurves | None:
    """The threshold model of a two-class part with probabilities, or None."""
    roc = part.curves.get("roc")
    confusion = part.matrices.get("confusion_matrix")
    if roc is None or confusion is None or not {"fpr", "tpr", "threshold"} <= set(roc.columns):
        return None
    values = np.asarray(confusion.values)
    if values.shape != (2, 2):
        return None
    (tn, fp), (fn, tp) = values.tolist()
    return ThresholdCurves(roc, part.curves.get("precision_recall"), int(fn + tp), int(tn + fp))
