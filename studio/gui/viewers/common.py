"""Building blocks shared by the viewers."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QGridLayout,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


def scrolling_grid(owner: QWidget) -> QGridLayout:
    """A grid inside a scroll area that fills ``owner``: one page per viewer."""
    outer = QVBoxLayout(owner)
    outer.setContentsMargins(0, 0, 0, 0)
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    outer.addWidget(scroll)
    body = QWidget()
    scroll.setWidget(body)
    return QGridLayout(body)


def value_table(headers: list[str], rows: list[list[Any]]) -> QTableWidget:
    """A read-only table of values; floats shown with six significant digits."""
    table = QTableWidget(len(rows), len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.horizontalHeader().setStretchLastSection(True)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            text = f"{value:.6g}" if isinstance(value, float) else str(value)
            table.setItem(r, c, QTableWidgetItem(text))
    table.resizeColumnsToContents()
    return table
