"""Model viewer: what was trained, on which schema, with which weights."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nodes.values import Model


def feature_weights(model: Model) -> list[tuple[str, float]] | None:
    """Coefficients (linear models) or importances (trees), largest first."""
    estimator = model.estimator
    weights = getattr(estimator, "feature_importances_", None)
    if weights is None:
        coef = getattr(estimator, "coef_", None)
        if coef is None:
            return None
        coef = np.asarray(coef, dtype=float)
        # One row per class for multiclass models: show the mean magnitude.
        weights = coef if coef.ndim == 1 else (coef[0] if coef.shape[0] == 1
                                               else np.abs(coef).mean(axis=0))
    weights = np.asarray(weights, dtype=float).ravel()
    if weights.size != len(model.feature_columns):
        return None
    pairs = list(zip(model.feature_columns, weights.tolist(), strict=True))
    return sorted(pairs, key=lambda pair: -abs(pair[1]))


class ModelViewer(QWidget):
    """Type, parameters, feature schema and weights of a trained model."""

    def __init__(self, model: Model, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        classes = f"; classes {', '.join(map(str, model.classes))}" if model.classes else ""
        heading = QLabel(
            f"<b>{model.name}</b> ({model.task}, {type(model.estimator).__name__}) trained to "
            f"predict <b>{model.label_column}</b> from {len(model.feature_columns)} "
            f"features{classes}")
        heading.setWordWrap(True)
        layout.addWidget(heading)
        params = model.estimator.get_params(deep=False)
        table = QTableWidget(len(params), 2)
        table.setHorizontalHeaderLabels(["parameter", "value"])
        table.verticalHeader().hide()
        table.horizontalHeader().setStretchLastSection(True)
        for row, (name, value) in enumerate(sorted(params.items())):
            table.setItem(row, 0, QTableWidgetItem(name))
            table.setItem(row, 1, QTableWidgetItem(repr(value)))
        weights = feature_weights(model)
        self.weights = QTableWidget(len(model.feature_columns), 3)
        self.weights.setHorizontalHeaderLabels(
            ["feature", "type", "weight" if weights is not None else ""])
        self.weights.verticalHeader().hide()
        self.weights.horizontalHeader().setStretchLastSection(True)
        values = dict(weights or [])
        order = [name for name, _ in weights] if weights else model.feature_columns
        for row, name in enumerate(order):
            self.weights.setItem(row, 0, QTableWidgetItem(name))
            self.weights.setItem(row, 1, QTableWidgetItem(model.feature_dtypes.get(name, "")))
            if name in values:
                self.weights.setItem(row, 2, QTableWidgetItem(f"{values[name]:.6g}"))
        tables = QWidget()
        tables_layout = QVBoxLayout(tables)
        tables_layout.setContentsMargins(0, 0, 0, 0)
        tables_layout.addWidget(table)
        tables_layout.addWidget(QLabel("Features" + (" by weight (largest magnitude first)"
                                                     if weights else "")))
        tables_layout.addWidget(self.weights)
        self.chart = None
        if weights:
            from studio.gui.viewers.charts import WeightsChart

            kind = ("Importance" if getattr(model.estimator, "feature_importances_", None)
                    is not None else "Weight")
            self.chart = WeightsChart(f"{kind}s, {min(20, len(weights))} strongest",
                                      weights)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(tables)
        if self.chart is not None:
            splitter.addWidget(self.chart)
            splitter.setStretchFactor(1, 1)
        layout.addWidget(splitter, 1)
