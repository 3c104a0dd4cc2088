"""Metrics viewer: scalars, matrices as heat maps, curves as charts."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from nodes.values import Metrics
from studio.gui.viewers.charts import HeatMap, LineChart, Series
from studio.gui.viewers.common import scrolling_grid, value_table

#: How to draw known curves: (title, x column, y column, x label, y label, diagonal).
_CURVES = {
    "roc": ("ROC curve", "fpr", "tpr", "False positive rate", "True positive rate", True),
    "precision_recall": ("Precision-recall curve", "recall", "precision", "Recall",
                         "Precision", False),
    "lift": ("Lift curve", "fraction", "lift", "Fraction of rows", "Lift", False),
}
#: Point clouds rather than curves: (title, x, y, x label, y label).
_SCATTERS = {
    "residuals": ("Residuals", "predicted", "residual", "Predicted value",
                  "Actual - predicted"),
}


def _chart_for(name: str, curve) -> LineChart | None:  # type: ignore[no-untyped-def]
    columns = list(curve.columns)
    scatter = _SCATTERS.get(name.split(" (")[0])
    if scatter and scatter[1] in columns and scatter[2] in columns:
        title, x, y, x_label, y_label = scatter
        zero = Series("zero", [curve[x].min(), curve[x].max()], [0.0, 0.0], dashed=True)
        return LineChart(title, x_label, y_label,
                         [Series(name, curve[x], curve[y], scatter=True), zero])
    known = _CURVES.get(name)
    if known and known[1] in columns and known[2] in columns:
        title, x, y, x_label, y_label, diagonal = known
        return LineChart(title, x_label, y_label, [Series(name, curve[x], curve[y])],
                         diagonal=diagonal)
    numeric = [c for c in columns if curve[c].dtype.kind in "fiu"]
    if len(numeric) < 2:
        return None
    x = numeric[0]
    series = [Series(c, curve[x], curve[c], dashed=c.startswith("val_")) for c in numeric[1:]]
    return LineChart(name.replace("_", " ").capitalize(), x, "value", series)


class MetricsViewer(QWidget):
    """All of a Metrics value on one scrolling page."""

    def __init__(self, metrics: Metrics, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = scrolling_grid(self)
        info = ", ".join(f"{k}: {v}" for k, v in metrics.info.items())
        grid.addWidget(QLabel(f"<b>{metrics.task.capitalize()} metrics</b>"
                              + (f" &mdash; {info}" if info else "")), 0, 0, 1, 2)
        self.scalars = value_table(["metric", "value"],
                                   [[k, v] for k, v in metrics.scalars.items()])
        self.scalars.setFixedWidth(300)
        self.scalars.setMinimumHeight(260)
        self.scalars.resizeColumnToContents(0)
        grid.addWidget(self.scalars, 1, 0)
        self.charts: list[QWidget] = []
        for name, matrix in metrics.matrices.items():
            heat = HeatMap(name.replace("_", " ").capitalize(),
                           [str(v) for v in matrix.row_labels],
                           [str(v) for v in matrix.column_labels], matrix.values,
                           matrix.row_title, matrix.column_title)
            heat.setToolTip(f"rows: {matrix.row_title.lower()}, "
                            f"columns: {matrix.column_title.lower()}")
            self.charts.append(heat)
        for name, curve in metrics.curves.items():
            chart = _chart_for(name, curve)
            if chart is not None:
                self.charts.append(chart)
        # One row, scrolling sideways: the dock is wide and short.
        for index, chart in enumerate(self.charts):
            chart.setMinimumSize(380, 260)
            grid.addWidget(chart, 1, index + 1)
        grid.setColumnStretch(len(self.charts) + 1, 1)
