"""Metrics viewer (Evaluate Model): any number of models side by side.

One column per model in the metrics table; every model's curve on one ROC,
one precision-recall and one lift chart, with a legend that names each
model and its AUC; and, for two-class models with probabilities, a
threshold slider that moves each model's confusion matrix, its metrics and
its point on the curves live (``evaluation.py`` reads them off the curves).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSlider,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from nodes.values import Metrics
from studio.gui.viewers.charts import Chart, HeatMap, LineChart, Series, series_color
from studio.gui.viewers.evaluation import (
    ModelPart,
    ThresholdCurves,
    split_by_model,
    threshold_curves,
)

#: Known curves: (tab title, x column, y column, x label, y label).
_CURVES = {
    "roc": ("ROC", "fpr", "tpr", "False positive rate", "True positive rate"),
    "precision_recall": ("Precision-recall", "recall", "precision", "Recall", "Precision"),
    "lift": ("Lift", "fraction", "lift", "Fraction of rows targeted", "Lift"),
}
#: The metrics the threshold moves (the rest do not depend on it).
_AT_THRESHOLD = ("accuracy", "precision", "recall", "f1")
SLIDER_STEPS = 1000


def _format(value: float) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) \
        else f"{value:.6g}"


class MetricsViewer(QWidget):
    """All of a Metrics value: a table, matrices, charts; models side by side."""

    def __init__(self, metrics: Metrics, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.metrics = metrics
        self.parts = split_by_model(metrics)
        self.names = [f"Model {i + 1}" for i in range(len(self.parts))] \
            if len(self.parts) > 1 else ["value"]
        self.node_threshold = 0.5
        self.thresholds: list[ThresholdCurves | None] = [threshold_curves(p)
                                                         for p in self.parts]
        self.charts: list[QWidget] = []
        self.heat_maps: list[HeatMap | None] = []
        self.markers: dict[str, list[Any]] = {}
        info = ", ".join(f"{k}: {v}" for k, v in metrics.info.items() if k != "compared"
                         and " (" not in k)
        self.caption = QLabel(f"<b>{metrics.task.capitalize()} metrics</b>"
                              + (f" &mdash; {info}" if info else ""))
        self.caption.setWordWrap(True)
        self.scalars = QTableWidget()
        self.scalars.setMinimumWidth(200)
        self.scalars.setMinimumHeight(120)
        self.scalars.verticalHeader().hide()
        self.scalars.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.threshold_box = self._build_threshold_box()
        self.matrices_box = QWidget(self)
        self._build_matrices()
        self.chart_tabs = QTabWidget()
        self._build_charts()
        # Left: the numbers (table, then the confusion matrices the slider moves);
        # right: the charts. The slider sits above both.
        numbers = QSplitter(Qt.Orientation.Vertical)
        numbers.addWidget(self.scalars)
        numbers.addWidget(self.matrices_box)
        numbers.setStretchFactor(0, 1)
        numbers.setStretchFactor(1, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter = splitter
        splitter.addWidget(numbers)
        splitter.addWidget(self.chart_tabs)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)
        if not self.charts:
            self.chart_tabs.hide()
        layout = QVBoxLayout(self)
        # Its minimum is minimumSizeHint, not what the side-by-side layout would need:
        # narrower than that it stacks (resizeEvent).
        layout.setSizeConstraint(QVBoxLayout.SizeConstraint.SetNoConstraint)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(self.threshold_box)
        layout.addWidget(splitter, 1)
        self._fill_table()

    # -- layout ------------------------------------------------------------------------
    #: Narrower than this, the charts go below the numbers instead of beside them.
    SIDE_BY_SIDE_WIDTH = 760

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(340, 320)  # it stacks its parts when it has to (resizeEvent)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802
        wide = self.width() >= self.SIDE_BY_SIDE_WIDTH
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if self.splitter.orientation() != orientation:
            self.splitter.setOrientation(orientation)
        super().resizeEvent(event)

    # -- context from the window ---------------------------------------------------
    def set_input_names(self, names: list[str]) -> None:
        """Call each model by the node that makes it (the legend, the table's columns)."""
        if len(names) >= len(self.parts):
            unique = []
            for index, name in enumerate(names[:len(self.parts)]):
                unique.append(name if names.count(name) == 1 else f"{name} ({index + 1})")
            self.names = unique
            self._fill_table()
            self._rebuild_charts()
            for part, heat in zip(self.parts, self.heat_maps, strict=True):
                if heat is not None and len(self.parts) > 1:
                    heat.set_title(self.names[part.index])

    def set_node_threshold(self, threshold: float) -> None:
        """Where Evaluate Model's own threshold is (the slider starts there)."""
        self.node_threshold = threshold
        self.slider.setValue(round(threshold * SLIDER_STEPS))

    # -- the table -------------------------------------------------------------------
    def _scalar_names(self) -> list[str]:
        names: list[str] = []
        for part in self.parts:
            names += [n for n in part.scalars if n not in names]
        return names

    def _fill_table(self) -> None:
        names = self._scalar_names()
        self.scalars.setColumnCount(1 + len(self.parts))
        self.scalars.setHorizontalHeaderLabels(["metric", *self.names])
        self.scalars.setRowCount(len(names))
        live = self._live_scalars()
        for row, name in enumerate(names):
            self.scalars.setItem(row, 0, QTableWidgetItem(name))
            for part in self.parts:
                value = live[part.index].get(name, part.scalars.get(name))
                item = QTableWidgetItem(_format(value) if value is not None else "")
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if name in live[part.index]:
                    item.setForeground(QColor("#2e86de"))
                    item.setToolTip(f"at threshold {self.threshold:.3f} (moved with the "
                                    "slider; the node computed "
                                    f"{_format(part.scalars.get(name))})")
                self.scalars.setItem(row, 1 + part.index, item)
        header = self.scalars.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        for column in range(1, 1 + len(self.parts)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)

    def value(self, metric: str, model: int = 0) -> str:
        """The table's text for a metric and a model (as the user reads it)."""
        names = self._scalar_names()
        item = self.scalars.item(names.index(metric), 1 + model)
        return item.text() if item is not None else ""

    # -- the threshold -------------------------------------------------------------
    @property
    def threshold(self) -> float:
        return self.slider.value() / SLIDER_STEPS

    def _at_node_threshold(self) -> bool:
        return self.slider.value() == round(self.node_threshold * SLIDER_STEPS)

    def _live_scalars(self) -> list[dict[str, float]]:
        """Per model: the metrics at the slider's threshold, where it moved them."""
        if not hasattr(self, "slider") or self._at_node_threshold():
            return [{} for _ in self.parts]
        return [curves.counts_at(self.threshold).scalars() if curves is not None else {}
                for curves in self.thresholds]

    def _build_threshold_box(self) -> QWidget:
        box = QWidget(self)  # a parent from the start: a shown orphan would be a window
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setValue(round(self.node_threshold * SLIDER_STEPS))
        self.slider.setToolTip("Call a row positive when its probability is at least this: "
                               "the matrices, the metrics and the points on the curves follow "
                               "(no re-run needed)")
        self.threshold_label = QLabel()
        self.slider.valueChanged.connect(self._threshold_moved)
        layout = QHBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Threshold"))
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.threshold_label)
        self._update_threshold_label()
        box.setVisible(any(t is not None for t in self.thresholds))
        return box

    def _update_threshold_label(self) -> None:
        note = " (the node's)" if self._at_node_threshold() else ""
        self.threshold_label.setText(f"{self.threshold:.3f}{note}")

    def _threshold_moved(self, _value: int) -> None:
        self._update_threshold_label()
        for part, curves, heat in zip(self.parts, self.thresholds, self.heat_maps, strict=True):
            if curves is None or heat is None:
                continue
            if self._at_node_threshold():
                heat.set_values(part.matrices["confusion_matrix"].values)
            else:
                heat.set_values(curves.counts_at(self.threshold).matrix())
        self._fill_table()
        self._move_markers()

    # -- matrices ------------------------------------------------------------------
    def _build_matrices(self) -> None:
        grid = QGridLayout(self.matrices_box)
        grid.setContentsMargins(0, 0, 0, 0)
        if len(self.parts) > 1 and any("confusion_matrix" in p.matrices for p in self.parts):
            grid.addWidget(QLabel("<b>Confusion matrices</b> (rows: actual, columns: "
                                  "predicted), one per model"), 0, 0, 1, 2)
        column = 2
        for part in self.parts:
            heat = None
            for name, matrix in part.matrices.items():
                title = name.replace("_", " ").capitalize()
                if len(self.parts) > 1:  # the caption above says what the matrices are
                    title = self.names[part.index] if name == "confusion_matrix" else \
                        f"{title}: {self.names[part.index]}"
                chart = HeatMap(title, [str(v) for v in matrix.row_labels],
                                [str(v) for v in matrix.column_labels], matrix.values,
                                matrix.row_title, matrix.column_title)
                chart.setToolTip(f"rows: {matrix.row_title.lower()}, "
                                 f"columns: {matrix.column_title.lower()}")
                grid.addWidget(chart, column // 2, column % 2)
                column += 1
                if name == "confusion_matrix":
                    heat = chart
            self.heat_maps.append(heat)
        if column == 2:
            self.matrices_box.hide()

    # -- charts ----------------------------------------------------------------------
    def _build_charts(self) -> None:
        names: list[str] = []
        for part in self.parts:
            names += [n for n in part.curves if n not in names]
        for name in names:
            chart = self._chart_for(name)
            if chart is not None:
                self.charts.append(chart)
                self.chart_tabs.addTab(chart, chart.title)
        self._move_markers()

    def _label(self, part: ModelPart, curve: str) -> str:
        name = self.names[part.index] if self.names != ["value"] else curve.replace("_", " ")
        auc = part.scalars.get("auc")
        if curve == "roc" and auc is not None:
            return f"{name} (AUC {auc:.3f})"
        return name

    def _rebuild_charts(self) -> None:
        current = self.chart_tabs.currentIndex()
        while self.chart_tabs.count():
            widget = self.chart_tabs.widget(0)
            self.chart_tabs.removeTab(0)
            widget.deleteLater()
        self.charts, self.markers = [], {}
        self._build_charts()
        self.chart_tabs.setCurrentIndex(max(current, 0))

    def _chart_for(self, name: str) -> Chart | None:
        owners = [p for p in self.parts if name in p.curves]
        if name in _CURVES:
            title, x, y, x_label, y_label = _CURVES[name]
            chart = Chart(title + " curve", x_label, y_label)
            if name == "roc":
                chart.add_diagonal()
            chart.add_legend("bottom right" if name == "roc" else "top right")
            for part in owners:
                curve = part.curves[name]
                if x in curve and y in curve:
                    chart.add_line(self._label(part, name), curve[x], curve[y], part.index)
            chart.curve_name = name  # type: ignore[attr-defined]
            self.markers[name] = []
            for part in owners:
                marker = chart.plot([], [], pen=None, symbol="o", symbolSize=10,
                                    symbolBrush=series_color(part.index),
                                    symbolPen="#ffffff")
                self.markers[name].append((part.index, marker))
            return chart
        curve = owners[0].curves[name]
        if name == "residuals" and {"predicted", "residual"} <= set(curve.columns):
            chart = Chart("Residuals", "Predicted value", "Actual - predicted")
            if len(owners) > 1:
                chart.add_legend()
            for part in owners:
                points = part.curves[name]
                chart.add_scatter(self.names[part.index] if len(owners) > 1 else "residuals",
                                  points["predicted"], points["residual"], part.index)
            low = min(float(p.curves[name]["predicted"].min()) for p in owners)
            high = max(float(p.curves[name]["predicted"].max()) for p in owners)
            chart.plot([low, high], [0.0, 0.0], pen={"color": "#888888", "style":
                                                      Qt.PenStyle.DashLine})
            chart.curve_name = name  # type: ignore[attr-defined]
            return chart
        numeric = [c for c in curve.columns if curve[c].dtype.kind in "fiu"]
        if len(numeric) < 2:
            return None
        x = numeric[0]
        series = []
        for part in owners:
            points = part.curves[name]
            prefix = f"{self.names[part.index]}: " if len(owners) > 1 else ""
            series += [Series(prefix + c, points[x], points[c], dashed=c.startswith("val_"))
                       for c in numeric[1:] if c in points and c != "threshold"]
        chart = LineChart(name.replace("_", " ").capitalize(), x, "value", series)
        chart.curve_name = name  # type: ignore[attr-defined]
        return chart

    def _move_markers(self) -> None:
        """Each model's operating point at the slider's threshold, on ROC and PR."""
        for name, markers in self.markers.items():
            for index, marker in markers:
                curves = self.thresholds[index]
                if curves is None:
                    marker.setData([], [])
                    continue
                point = (curves.roc_point(self.threshold) if name == "roc" else
                         curves.precision_recall_point(self.threshold)
                         if name == "precision_recall" else None)
                marker.setData(*([[point[0]], [point[1]]] if point else [[], []]))
