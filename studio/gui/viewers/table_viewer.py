"""Table viewer: a virtual table over the DataFrame, column statistics, histogram.

The model answers only for the cells on screen (QAbstractTableModel), so a
million rows scroll as smoothly as ten. Selecting a column is the viewer's
own state (the column is shaded), not a Qt selection of a million cells:
Qt's column selection costs time in proportion to the rows on every paint
of the header, which froze the window for seconds. Statistics and sorting
run on a worker (``table_work.py``) and arrive by signal; asking for another
column or order cancels the one in flight.

Score columns (Score Model's predictions) come first, then the label, then
the rest, so the answer is on screen without scrolling sideways.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont, QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nodes.values import Table
from studio.gui.background import BackgroundJob
from studio.gui.viewers.charts import Histogram
from studio.gui.viewers.table_work import ColumnSummary, sort_order, summarize_column

_ROLE_COLORS = {"label": "#d35400", "score": "#8e44ad", "id": "#8395a7", "ignore": "#95a5a6"}
#: Rows fetched at once for columns numpy cannot view without copying.
_BLOCK = 256


def display_order(table: Table) -> list[str]:
    """Columns as shown: score columns first, then the label, then the rest."""
    columns = list(table.frame.columns)
    first = [c for c in columns if table.role(c) == "score"]
    first += [c for c in columns if table.role(c) == "label"]
    return first + [c for c in columns if c not in first]


class DataFrameModel(QAbstractTableModel):
    """Read-only Qt model over a Table, formatting cells lazily, in a sort order."""

    def __init__(self, table: Table) -> None:
        super().__init__()
        self.table = table
        self.frame = table.frame
        self.columns = display_order(table)
        self.selected_column: int | None = None
        self.order: np.ndarray | None = None  # row positions in display order
        # Numeric columns are read through zero-copy numpy views; other columns
        # (text, lists) a block of rows at a time, so opening is instant.
        self._views: dict[int, np.ndarray] = {}
        for index, name in enumerate(self.columns):
            series = self.frame[name]
            if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
                self._views[index] = series.to_numpy()
        self._blocks: dict[tuple[int, int], np.ndarray] = {}
        self._highlight = QGuiApplication.palette().highlight().color()
        self._highlight.setAlpha(45)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802,B008
        return 0 if parent.isValid() else len(self.frame)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802,B008
        return 0 if parent.isValid() else len(self.columns)

    def value(self, row: int, column: int) -> Any:
        position = int(self.order[row]) if self.order is not None else row
        view = self._views.get(column)
        if view is not None:
            return view[position]
        block = row // _BLOCK
        cells = self._blocks.get((column, block))
        if cells is None:
            rows = np.arange(block * _BLOCK, min((block + 1) * _BLOCK, len(self.frame)))
            positions = self.order[rows] if self.order is not None else rows
            cells = self.frame[self.columns[column]].take(positions).to_numpy()
            if len(self._blocks) > 4096:
                self._blocks.clear()
            self._blocks[(column, block)] = cells
        return cells[row - block * _BLOCK]

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return format_cell(self.value(index.row(), index.column()))
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in self._views:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole and index.column() == self.selected_column:
            return self._highlight
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            column = self.columns[section]
            role_name = self.table.role(column)
            if role == Qt.ItemDataRole.DisplayRole:
                return column if role_name == "feature" else f"{column} [{role_name}]"
            if role == Qt.ItemDataRole.ForegroundRole and role_name in _ROLE_COLORS:
                return QColor(_ROLE_COLORS[role_name])
            if role == Qt.ItemDataRole.FontRole and section == self.selected_column:
                font = QFont(QGuiApplication.font())
                font.setBold(True)
                return font
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"{column}: {self.frame[column].dtype}, role {role_name}"
        elif role == Qt.ItemDataRole.DisplayRole:
            return str(int(self.order[section]) if self.order is not None else section)
        return None

    def select_column(self, column: int | None) -> None:
        previous, self.selected_column = self.selected_column, column
        for changed in {previous, column} - {None}:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, changed, changed)
            self.dataChanged.emit(self.index(0, changed), self.index(len(self.frame) - 1,
                                                                     changed))

    def set_order(self, order: np.ndarray | None) -> None:
        self.layoutAboutToBeChanged.emit()
        self.order = order
        self._blocks.clear()
        self.layoutChanged.emit()


def format_cell(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else f"{value:.6g}"
    if isinstance(value, (list, np.ndarray)):
        text = ", ".join(str(v) for v in list(value)[:12])
        return f"[{text}{', …' if len(value) > 12 else ''}]"
    if value is None or value is pd.NA:
        return ""
    return str(value)


class TableViewer(QWidget):
    """A table with a statistics panel and a histogram of the selected column."""

    #: The statistics of a column arrived (its name).
    statistics_shown = Signal(str)
    #: A sort order arrived (column name, ascending), or the original order ("", True).
    sorted = Signal(str, bool)

    def __init__(self, table: Table, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = table
        self.model = DataFrameModel(table)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QTableView.SelectionBehavior.SelectItems)
        self.view.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.view.setWordWrap(False)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultSectionSize(120)
        header.setResizeContentsPrecision(200)  # width from the first rows, not a million
        header.setTextElideMode(Qt.TextElideMode.ElideRight)
        header.setHighlightSections(False)
        header.setSectionsClickable(True)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)
        header.sectionClicked.connect(self.show_column)
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows, columns = table.shape
        self.caption = QLabel(f"{rows:,} rows \u00d7 {columns} columns. Click a column "
                              "heading for its statistics.")
        self.caption.setWordWrap(True)
        self.status = QLabel()
        self.status.setStyleSheet("color: palette(dark);")
        self.sort_up = QPushButton("Sort \u2191")
        self.sort_up.setToolTip("Sort the rows by the selected column, smallest first")
        self.sort_down = QPushButton("Sort \u2193")
        self.sort_down.setToolTip("Sort the rows by the selected column, largest first")
        self.unsort = QPushButton("Original Order")
        for button, action in ((self.sort_up, lambda: self.sort_by(self._selected_name(), True)),
                               (self.sort_down,
                                lambda: self.sort_by(self._selected_name(), False)),
                               (self.unsort, self.original_order)):
            button.clicked.connect(action)
            button.setEnabled(False)
        top = QHBoxLayout()
        top.addWidget(self.caption, 1)
        top.addWidget(self.status)
        for button in (self.sort_up, self.sort_down, self.unsort):
            top.addWidget(button)
        self.stats = QTableWidget(0, 2)
        self.stats.setHorizontalHeaderLabels(["statistic", "value"])
        self.stats.verticalHeader().hide()
        self.stats.horizontalHeader().setStretchLastSection(True)
        self.stats.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.histogram = Histogram("")
        side = QSplitter(Qt.Orientation.Vertical)
        side.addWidget(self.stats)
        side.addWidget(self.histogram)
        side.setSizes([230, 200])
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.view)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        for column in range(min(columns, 60)):
            width = self.view.sizeHintForColumn(column)
            heading = header.sectionSizeFromContents(column).width()
            header.resizeSection(column, max(70, min(max(width, heading) + 12, 240)))
        self.statistics_job = BackgroundJob(self)
        self.statistics_job.finished.connect(self._statistics_arrived)
        self.statistics_job.failed.connect(lambda text: self.status.setText(
            f"Statistics failed: {text}"))
        self.sort_job = BackgroundJob(self)
        self.sort_job.finished.connect(self._order_arrived)
        self.sort_job.failed.connect(lambda text: self.status.setText(f"Sorting failed: {text}"))
        self.view.selectionModel().currentColumnChanged.connect(
            lambda current, _previous: self.show_column(current.column()))
        if columns:
            self.show_column(0)

    # -- the selected column --------------------------------------------------------
    def _selected_name(self) -> str:
        column = self.model.selected_column
        return self.model.columns[column] if column is not None else ""

    def show_column(self, index: int) -> None:
        """Select a column (shaded) and compute its statistics on a worker."""
        if index < 0 or index >= len(self.model.columns) or index == self.model.selected_column:
            return
        self.model.select_column(index)
        name = self.model.columns[index]
        for button in (self.sort_up, self.sort_down):
            button.setEnabled(True)
        self.status.setText(f"Computing the statistics of {name}\u2026")
        frame = self.table.frame
        self.statistics_job.start(lambda cancel: summarize_column(frame, name, cancel))

    def _statistics_arrived(self, summary: ColumnSummary) -> None:
        self.stats.setRowCount(len(summary.rows))
        for row, (key, value) in enumerate(summary.rows):
            self.stats.setItem(row, 0, QTableWidgetItem(key))
            self.stats.setItem(row, 1, QTableWidgetItem(value))
        title = summary.column
        if summary.histogram_kind == "numeric":
            self.histogram.set_numeric(summary.histogram_x, summary.histogram_counts, title)
        elif summary.histogram_kind == "categories":
            self.histogram.set_categories(summary.histogram_x, summary.histogram_counts,
                                          f"{summary.column} (most frequent)")
        else:
            self.histogram.clear_data(title)
        self._settle_status()
        self.statistics_shown.emit(summary.column)

    # -- sorting ----------------------------------------------------------------------
    def sort_by(self, column: str, ascending: bool = True) -> None:
        """Order the rows by a column (on a worker; the table keeps its order until then)."""
        if column not in self.table.frame.columns:
            return
        self.status.setText(f"Sorting {len(self.table.frame):,} rows by {column}\u2026")
        frame = self.table.frame
        self.sort_job.start(lambda cancel: (column, ascending,
                                            sort_order(frame, column, ascending, cancel)))

    def original_order(self) -> None:
        self.sort_job.cancel()
        self.model.set_order(None)
        self.view.horizontalHeader().setSortIndicatorShown(False)
        self.unsort.setEnabled(False)
        self._settle_status()
        self.sorted.emit("", True)

    def _order_arrived(self, result: tuple[str, bool, np.ndarray]) -> None:
        column, ascending, order = result
        self.model.set_order(order)
        header = self.view.horizontalHeader()
        header.setSortIndicatorShown(True)
        header.setSortIndicator(self.model.columns.index(column),
                                Qt.SortOrder.AscendingOrder if ascending
                                else Qt.SortOrder.DescendingOrder)
        self.unsort.setEnabled(True)
        self._settle_status()
        self.sorted.emit(column, ascending)

    def _header_menu(self, position: Any) -> None:
        section = self.view.horizontalHeader().logicalIndexAt(position)
        if section < 0:
            return
        self.show_column(section)
        name = self.model.columns[section]
        menu = QMenu(self)
        menu.addAction(f"Sort by {name}, smallest first", lambda: self.sort_by(name, True))
        menu.addAction(f"Sort by {name}, largest first", lambda: self.sort_by(name, False))
        menu.addAction("Original order", self.original_order)
        menu.exec(self.view.horizontalHeader().mapToGlobal(position))

    def _settle_status(self) -> None:
        if self.sort_job.busy:
            return
        if self.statistics_job.busy:
            self.status.setText(f"Computing the statistics of {self._selected_name()}\u2026")
            return
        self.status.setText("")

    @property
    def busy(self) -> bool:
        return self.statistics_job.busy or self.sort_job.busy

    def cancel_work(self) -> None:
        """Stop statistics and sorting in flight (the viewer is closing)."""
        self.statistics_job.cancel()
        self.sort_job.cancel()
