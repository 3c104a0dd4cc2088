"""Table viewer: a virtual table over the DataFrame, column statistics, histogram.

The model answers only for the cells on screen (QAbstractTableModel), so a
million rows scroll as smoothly as ten. Statistics are computed for one
column at a time, when it is selected.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nodes.values import Table
from studio.gui.viewers.charts import Histogram

_ROLE_COLORS = {"label": "#ff9f43", "score": "#8e44ad", "id": "#8395a7", "ignore": "#c8d6e5"}


class DataFrameModel(QAbstractTableModel):
    """Read-only Qt model over a Table, formatting cells lazily."""

    def __init__(self, table: Table) -> None:
        super().__init__()
        self.table = table
        self.frame = table.frame
        # Column-wise numpy views: one lookup per visible cell, no per-row objects.
        self._columns = [self.frame[c].to_numpy() for c in self.frame.columns]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802,B008
        return 0 if parent.isValid() else len(self.frame)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802,B008
        return 0 if parent.isValid() else len(self.frame.columns)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            value = self._columns[index.column()][index.row()]
            return format_cell(value)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            value = self._columns[index.column()][index.row()]
            if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            column = self.frame.columns[section]
            role_name = self.table.role(column)
            if role == Qt.ItemDataRole.DisplayRole:
                return column if role_name == "feature" else f"{column} [{role_name}]"
            if role == Qt.ItemDataRole.ForegroundRole and role_name in _ROLE_COLORS:
                return QColor(_ROLE_COLORS[role_name])
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"{column}: {self.frame[column].dtype}, role {role_name}"
        elif role == Qt.ItemDataRole.DisplayRole:
            return str(section)
        return None


def format_cell(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else f"{value:.6g}"
    if isinstance(value, (list, np.ndarray)):
        text = ", ".join(str(v) for v in list(value)[:12])
        return f"[{text}{', …' if len(value) > 12 else ''}]"
    if value is None or value is pd.NA:
        return ""
    return str(value)


def column_statistics(series: pd.Series) -> list[tuple[str, str]]:
    """Per-column statistics as (name, text) rows."""
    rows = [("type", str(series.dtype)), ("count", f"{series.count():,}"),
            ("missing", f"{int(series.isna().sum()):,}")]
    try:
        rows.append(("unique", f"{series.nunique():,}"))
    except TypeError:  # unhashable cells (lists of word indices)
        rows.append(("unique", "n/a"))
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = series.dropna()
        if len(values):
            quartiles = values.quantile([0.25, 0.5, 0.75])
            for name, value in (("mean", values.mean()), ("std", values.std()),
                                ("min", values.min()), ("25%", quartiles[0.25]),
                                ("median", quartiles[0.5]), ("75%", quartiles[0.75]),
                                ("max", values.max())):
                rows.append((name, f"{value:.6g}"))
    return rows


def column_histogram(series: pd.Series, bins: int = 20) -> tuple[list[str], list[int]]:
    values = series.dropna()
    if len(values) == 0:
        return [], []
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        counts, edges = np.histogram(values.to_numpy(dtype=float), bins=bins)
        return [f"{edges[0]:.4g}", f"{edges[-1]:.4g}"], counts.tolist()
    try:
        top = values.astype(str).value_counts().head(bins)
    except TypeError:
        return [], []
    return [str(top.index[0]), str(top.index[-1])], top.tolist()


class TableViewer(QWidget):
    """A table with a statistics panel and a histogram of the selected column."""

    def __init__(self, table: Table, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = table
        self.model = DataFrameModel(table)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setAlternatingRowColors(True)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.horizontalHeader().setDefaultSectionSize(110)
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.setSelectionBehavior(QTableView.SelectionBehavior.SelectColumns)
        rows, columns = table.shape
        self.caption = QLabel(f"{rows:,} rows \u00d7 {columns} columns. "
                              "Select a column for its statistics.")
        self.stats = QTableWidget(0, 2)
        self.stats.setHorizontalHeaderLabels(["statistic", "value"])
        self.stats.verticalHeader().hide()
        self.stats.horizontalHeader().setStretchLastSection(True)
        self.histogram = Histogram([], [])
        side = QSplitter(Qt.Orientation.Vertical)
        side.addWidget(self.stats)
        side.addWidget(self.histogram)
        side.setSizes([230, 170])
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.view)
        splitter.addWidget(side)
        splitter.setSizes([700, 260])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(splitter)
        self.view.selectionModel().currentColumnChanged.connect(
            lambda current, _previous: self.show_column(current.column()))
        self.view.horizontalHeader().sectionClicked.connect(self.show_column)
        if columns:
            self.show_column(0)

    def show_column(self, index: int) -> None:
        if index < 0 or index >= len(self.table.frame.columns):
            return
        name = self.table.frame.columns[index]
        series = self.table.frame[name]
        rows = column_statistics(series)
        self.stats.setRowCount(len(rows))
        for row, (key, value) in enumerate(rows):
            self.stats.setItem(row, 0, QTableWidgetItem(key))
            self.stats.setItem(row, 1, QTableWidgetItem(value))
        labels, counts = column_histogram(series)
        self.histogram.set_data(labels, counts, f"Histogram of {name}")
