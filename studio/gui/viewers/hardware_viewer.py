"""Hardware report viewer: figures, resources, sweeps, and every assumption's source."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QWidget

from studio.gui.viewers.charts import LineChart, Series
from studio.gui.viewers.common import scrolling_grid, value_table

_STATUS_COLORS = {"estimate": "#fa8231", "derived": "#2e86de", "modelling choice": "#8395a7"}


class HardwareReportViewer(QWidget):
    """One page: what ran where, how well, how fast, at what cost, on what grounds."""

    def __init__(self, report: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = scrolling_grid(self)
        grid.addWidget(QLabel(f"<b>{report.model}</b> on <b>{report.backend}</b> "
                              f"({report.rows:,} rows, simulated)"), 0, 0, 1, 3)
        self.metrics = value_table(["figure", "value"], [[k, v] for k, v in report.metrics.items()])
        self.metrics.setMinimumWidth(300)
        grid.addWidget(self.metrics, 1, 0)
        self.resources = value_table(["resource", "value"],
                                [[k, v] for k, v in report.resources.items()])
        grid.addWidget(self.resources, 1, 1)
        self.charts: list[LineChart] = []
        for plot in report.plots:
            table = report.tables.get(plot.get("table"))
            if table is None or plot.get("x") not in table.columns:
                continue
            series = [Series(str(y), table[plot["x"]], table[y]) for y in plot.get("y", [])
                      if y in table.columns]
            if series:
                chart = LineChart(plot.get("title", plot["table"]), str(plot["x"]), "value",
                                  series, log_x=bool(plot.get("log_x")))
                chart.setMinimumSize(480, 280)
                self.charts.append(chart)
        for index, chart in enumerate(self.charts):
            grid.addWidget(chart, 1, 2 + index)
        self.assumptions = value_table(["assumption", "value", "status", "source"],
                                  [[a.name, a.value, a.status, a.source]
                                   for a in report.assumptions])
        for row, assumption in enumerate(report.assumptions):
            color = _STATUS_COLORS.get(assumption.status)
            if color:
                self.assumptions.item(row, 2).setForeground(QColor(color))
        grid.addWidget(QLabel("Assumptions (estimates in orange, derived figures in blue):"),
                       2, 0, 1, 3)
        grid.addWidget(self.assumptions, 3, 0, 1, 2 + max(1, len(self.charts)))
        if report.not_modelled:
            note = QLabel("<b>Not modelled:</b> " + "; ".join(report.not_modelled))
            note.setWordWrap(True)
            grid.addWidget(note, 4, 0, 1, 2 + max(1, len(self.charts)))
