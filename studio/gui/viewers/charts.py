"""Small charts drawn with QPainter: line/scatter plots, histograms, heat maps.

Drawn directly rather than through a plotting library so that opening a
viewer costs no import on the GUI thread and follows the Qt palette.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

SERIES_COLORS = ("#2e86de", "#ee5253", "#10ac84", "#ff9f43", "#8e44ad", "#576574")


@dataclass
class Series:
    """One line (or scatter) of points with a name for the legend."""

    name: str
    x: Sequence[float]
    y: Sequence[float]
    scatter: bool = False
    dashed: bool = False


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    if not math.isfinite(low) or not math.isfinite(high):
        return []
    if high <= low:
        high = low + 1.0
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw),
               default=magnitude * 10)
    start = math.ceil(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


class LineChart(QWidget):
    """Axes, ticks, a legend and one or more series."""

    def __init__(self, title: str, x_label: str, y_label: str, series: list[Series],
                 diagonal: bool = False, log_x: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.x_label = x_label + (" (log scale)" if log_x else "")
        self.y_label = y_label
        self.diagonal = diagonal
        self.log_x = log_x
        if log_x:  # plot log10(x); ticks are labelled with x itself
            series = [Series(s.name, np.log10(np.clip(np.asarray(s.x, dtype=float), 1e-300,
                                                      None)), s.y, s.scatter, s.dashed)
                      for s in series]
        self.series = series
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(460, 320)

    def _bounds(self) -> tuple[float, float, float, float]:
        xs = np.concatenate([np.asarray(s.x, dtype=float) for s in self.series] or [np.zeros(1)])
        ys = np.concatenate([np.asarray(s.y, dtype=float) for s in self.series] or [np.zeros(1)])
        xs, ys = xs[np.isfinite(xs)], ys[np.isfinite(ys)]
        if xs.size == 0 or ys.size == 0:
            return 0.0, 1.0, 0.0, 1.0
        x0, x1, y0, y1 = float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max())
        if x1 == x0:
            x1 = x0 + 1
        if y1 == y0:
            y1 = y0 + 1
        pad = (y1 - y0) * 0.05
        return x0, x1, y0 - pad, y1 + pad

    def paintEvent(self, event: object) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.text().color()
        painter.fillRect(self.rect(), palette.base())
        plot = QRectF(self.rect()).adjusted(58, 30, -16, -42)
        x0, x1, y0, y1 = self._bounds()

        def map_point(x: float, y: float) -> QPointF:
            return QPointF(plot.left() + (x - x0) / (x1 - x0) * plot.width(),
                           plot.bottom() - (y - y0) / (y1 - y0) * plot.height())

        font = QFont(self.font())
        painter.setFont(font)
        grid = QColor(text)
        grid.setAlpha(35)
        painter.setPen(text)
        bold = QFont(font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.drawText(QRectF(0, 4, self.width(), 22), Qt.AlignmentFlag.AlignCenter, self.title)
        painter.setFont(font)
        for tick in _nice_ticks(x0, x1):
            point = map_point(tick, y0)
            painter.setPen(grid)
            painter.drawLine(QPointF(point.x(), plot.top()), QPointF(point.x(), plot.bottom()))
            painter.setPen(text)
            label = f"{10 ** tick:.3g}" if self.log_x else f"{tick:g}"
            painter.drawText(QRectF(point.x() - 30, plot.bottom() + 2, 60, 16),
                             Qt.AlignmentFlag.AlignCenter, label)
        for tick in _nice_ticks(y0, y1):
            point = map_point(x0, tick)
            painter.setPen(grid)
            painter.drawLine(QPointF(plot.left(), point.y()), QPointF(plot.right(), point.y()))
            painter.setPen(text)
            painter.drawText(QRectF(2, point.y() - 8, 52, 16),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             f"{tick:g}")
        painter.drawText(QRectF(plot.left(), self.height() - 20, plot.width(), 18),
                         Qt.AlignmentFlag.AlignCenter, self.x_label)
        painter.save()
        painter.translate(12, plot.center().y())
        painter.rotate(-90)
        painter.drawText(QRectF(-plot.height() / 2, -10, plot.height(), 18),
                         Qt.AlignmentFlag.AlignCenter, self.y_label)
        painter.restore()
        painter.setPen(QPen(text, 1))
        painter.drawRect(plot)
        if self.diagonal:
            painter.setPen(QPen(grid.darker(250), 1, Qt.PenStyle.DashLine))
            low, high = max(x0, y0), min(x1, y1)
            painter.drawLine(map_point(low, low), map_point(high, high))
        for index, series in enumerate(self.series):
            color = QColor(SERIES_COLORS[index % len(SERIES_COLORS)])
            points = [map_point(float(x), float(y)) for x, y in zip(series.x, series.y,
                                                                      strict=True)
                      if math.isfinite(float(x)) and math.isfinite(float(y))]
            if series.scatter:
                painter.setPen(Qt.PenStyle.NoPen)
                color.setAlpha(150)
                painter.setBrush(color)
                for point in points:
                    painter.drawEllipse(point, 2.5, 2.5)
            elif points:
                path = QPainterPath(points[0])
                for point in points[1:]:
                    path.lineTo(point)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.setPen(QPen(color, 2, Qt.PenStyle.DashLine if series.dashed
                                    else Qt.PenStyle.SolidLine))
                painter.drawPath(path)
            if len(self.series) == 1:
                continue  # the chart's title names its only line
            painter.setPen(QPen(color, 3))
            # ROC-like charts fill the top left: their legend goes bottom right.
            legend_y = (plot.bottom() - 10 - (len(self.series) - 1 - index) * 16
                        if self.diagonal else plot.top() + 8 + index * 16)
            painter.drawLine(QPointF(plot.right() - 190, legend_y),
                             QPointF(plot.right() - 172, legend_y))
            painter.setPen(text)
            painter.drawText(QRectF(plot.right() - 168, legend_y - 8, 164, 16),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             series.name)
        painter.end()


class Histogram(QWidget):
    """Bars of counts over bins (numeric) or categories."""

    def __init__(self, labels: list[str], counts: list[int], title: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.labels = labels
        self.counts = counts
        self.title = title
        self.setMinimumSize(240, 160)

    def set_data(self, labels: list[str], counts: list[int], title: str) -> None:
        self.labels, self.counts, self.title = labels, counts, title
        self.update()

    def paintEvent(self, event: object) -> None:  # noqa: N802
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.base())
        text = palette.text().color()
        painter.setPen(text)
        painter.drawText(QRectF(0, 2, self.width(), 18), Qt.AlignmentFlag.AlignCenter, self.title)
        if not self.counts:
            painter.end()
            return
        area = QRectF(self.rect()).adjusted(8, 24, -8, -22)
        top = max(self.counts) or 1
        width = area.width() / len(self.counts)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(SERIES_COLORS[0]))
        for index, count in enumerate(self.counts):
            height = area.height() * count / top
            painter.drawRect(QRectF(area.left() + index * width + 1, area.bottom() - height,
                                    max(width - 2, 1), height))
        painter.setPen(text)
        painter.drawText(QRectF(area.left(), area.bottom() + 2, area.width() / 2, 16),
                         Qt.AlignmentFlag.AlignLeft, self.labels[0])
        painter.drawText(QRectF(area.center().x(), area.bottom() + 2, area.width() / 2, 16),
                         Qt.AlignmentFlag.AlignRight, self.labels[-1])
        painter.end()


class HeatMap(QWidget):
    """A labelled matrix with cells shaded by value (e.g. a confusion matrix)."""

    def __init__(self, title: str, row_labels: list[str], column_labels: list[str],
                 values: list[list[float]], row_title: str = "", column_title: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.row_labels = row_labels
        self.column_labels = column_labels
        self.values = np.asarray(values, dtype=float)
        self.row_title = row_title
        self.column_title = column_title
        self.setMinimumSize(260, 220)

    def paintEvent(self, event: object) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.base())
        text = palette.text().color()
        painter.setPen(text)
        bold = QFont(self.font())
        bold.setBold(True)
        painter.setFont(bold)
        painter.drawText(QRectF(0, 2, self.width(), 20), Qt.AlignmentFlag.AlignCenter, self.title)
        painter.setFont(self.font())
        rows, columns = self.values.shape if self.values.ndim == 2 else (0, 0)
        if rows == 0 or columns == 0:
            painter.end()
            return
        area = QRectF(self.rect()).adjusted(96, 64, -12, -12)
        cell_w, cell_h = area.width() / columns, area.height() / rows
        top = float(np.nanmax(self.values)) or 1.0
        painter.drawText(QRectF(area.left(), 22, area.width(), 18), Qt.AlignmentFlag.AlignCenter,
                         self.column_title)
        painter.drawText(QRectF(4, 40, 88, 18), Qt.AlignmentFlag.AlignRight, self.row_title)
        for r in range(rows):
            painter.setPen(text)
            painter.drawText(QRectF(4, area.top() + r * cell_h, 88, cell_h),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             str(self.row_labels[r]))
            for c in range(columns):
                value = self.values[r, c]
                shade = QColor(SERIES_COLORS[0])
                shade.setAlphaF(0.08 + 0.85 * (value / top if math.isfinite(value) else 0))
                cell = QRectF(area.left() + c * cell_w, area.top() + r * cell_h, cell_w, cell_h)
                painter.fillRect(cell.adjusted(1, 1, -1, -1), shade)
                painter.setPen(QColor("#ffffff") if value / top > 0.55 else text)
                label = f"{int(value)}" if float(value).is_integer() else f"{value:.3g}"
                painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, label)
        painter.setPen(text)
        for c in range(columns):
            painter.drawText(QRectF(area.left() + c * cell_w, area.top() - 18, cell_w, 16),
                             Qt.AlignmentFlag.AlignCenter, str(self.column_labels[c]))
        painter.end()
