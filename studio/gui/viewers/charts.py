"""Charts, all through pyqtgraph: line and scatter plots, histograms, heat maps.

pyqtgraph is Qt-native (the charts are QGraphicsView widgets like the
canvas, follow the palette, and zoom and pan with the mouse) and fast with
long curves. Importing it takes a few hundred milliseconds, so the app's
warm-up thread imports it once the window is up (``warmup.py``) and a viewer
opened afterwards finds it loaded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QGuiApplication
from PySide6.QtWidgets import QSizePolicy, QWidget

SERIES_COLORS = ("#2e86de", "#ee5253", "#10ac84", "#ff9f43", "#8e44ad", "#576574",
                 "#0abde3", "#b33771")

pg.setConfigOptions(antialias=True)


def series_color(index: int) -> QColor:
    return QColor(SERIES_COLORS[index % len(SERIES_COLORS)])


def _text_color() -> QColor:
    return QGuiApplication.palette().text().color()


def _base_color() -> QColor:
    return QGuiApplication.palette().base().color()


@dataclass
class Series:
    """One line (or scatter) of points with a name for the legend."""

    name: str
    x: Sequence[float]
    y: Sequence[float]
    scatter: bool = False
    dashed: bool = False


class Chart(pg.PlotWidget):
    """A titled plot with labelled axes and a grid, in the palette's colours."""

    #: Title size in points above the UI font.
    TITLE_STEP = 1

    def __init__(self, title: str, x_label: str = "", y_label: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, background=_base_color())
        text = _text_color()
        self.title = title
        self._shown_title = ""
        item = self.getPlotItem()
        self._apply_title()
        for side, label in (("bottom", x_label), ("left", y_label)):
            axis = item.getAxis(side)
            axis.setPen(pg.mkPen(text))
            axis.setTextPen(pg.mkPen(text))
            axis.setTickFont(_ui_font())
            if label:
                item.setLabel(side, label, color=text.name())
        item.showGrid(x=True, y=True, alpha=0.15)
        self.legend: pg.LegendItem | None = None
        self.setMinimumSize(240, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(460, 320)

    def set_title(self, title: str) -> None:
        self.title = title
        self._apply_title()

    def _apply_title(self, width: int | None = None) -> None:
        """The title, elided to the width it has (pyqtgraph would widen the plot to fit
        a long one, past the edge of the widget)."""
        width = self.width() if width is None else width
        font = _ui_font()
        font.setPointSizeF(_point_size() + self.TITLE_STEP)
        font.setBold(True)
        # The title sits above the plot area only, right of the left axis.
        axis = self.getPlotItem().getAxis("left")
        room = max(40, width - int(axis.width()) - 58)
        shown = QFontMetrics(font).elidedText(self.title, Qt.TextElideMode.ElideRight, room)
        if shown != self._shown_title:
            self._shown_title = shown
            self.getPlotItem().setTitle(shown, color=_text_color().name(),
                                        size=f"{_point_size() + self.TITLE_STEP:g}pt",
                                        bold=True)
            self.setToolTip(self.title if shown != self.title else "")

    def resizeEvent(self, event: object) -> None:  # noqa: N802
        # Before the plot takes its new size: a title too long for it would hold it wide.
        if event is not None and "_shown_title" in self.__dict__:  # (pyqtgraph resizes
            self._apply_title(event.size().width())  # type: ignore[attr-defined]  # early)
        super().resizeEvent(event)  # type: ignore[arg-type]

    def add_legend(self, corner: str = "top right") -> pg.LegendItem:
        """A legend in a corner of the plot (ROC-like curves fill the top left)."""
        offsets = {"top right": (-10, 10), "bottom right": (-10, -10), "top left": (10, 10)}
        see_through = _base_color()
        see_through.setAlpha(210)  # the curves show through where the legend covers them
        self.legend = self.getPlotItem().addLegend(offset=offsets[corner],
                                                   labelTextColor=_text_color(),
                                                   brush=pg.mkBrush(see_through),
                                                   pen=pg.mkPen(_text_color().lighter(150)))
        return self.legend

    def add_line(self, name: str, x: Sequence[float], y: Sequence[float], index: int,
                 dashed: bool = False, width: float = 2.0) -> pg.PlotDataItem:
        pen = pg.mkPen(series_color(index), width=width,
                       style=Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
        return self.plot(np.asarray(x, dtype=float), np.asarray(y, dtype=float), pen=pen,
                         name=name)

    def add_scatter(self, name: str, x: Sequence[float], y: Sequence[float], index: int,
                    size: float = 5.0) -> pg.PlotDataItem:
        color = series_color(index)
        color.setAlpha(150)
        return self.plot(np.asarray(x, dtype=float), np.asarray(y, dtype=float), pen=None,
                         symbol="o", symbolSize=size, symbolBrush=color,
                         symbolPen=pg.mkPen(None), name=name)

    def add_diagonal(self, low: float = 0.0, high: float = 1.0) -> None:
        """The line of a model that guesses (ROC)."""
        muted = _text_color()
        muted.setAlpha(90)
        self.plot([low, high], [low, high], pen=pg.mkPen(muted, width=1,
                                                          style=Qt.PenStyle.DashLine))

    def legend_texts(self) -> list[str]:
        if self.legend is None:
            return []
        return [label.text for _, label in self.legend.items]

    def line_names(self) -> list[str]:
        return [item.name() for item in self.getPlotItem().listDataItems() if item.name()]


def _ui_font() -> QFont:
    return QFont(QGuiApplication.font())


def _point_size() -> float:
    size = QGuiApplication.font().pointSizeF()
    return size if size > 0 else 9.0


class LineChart(Chart):
    """Axes, a legend when there is more than one series, and the series."""

    def __init__(self, title: str, x_label: str, y_label: str, series: list[Series],
                 diagonal: bool = False, log_x: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(title, x_label, y_label, parent)
        self.series = series
        if log_x:
            self.getPlotItem().setLogMode(x=True, y=False)
        if diagonal:
            self.add_diagonal()
        if len(series) > 1:  # a single line is named by the chart's title
            self.add_legend("bottom right" if diagonal else "top right")
        for index, one in enumerate(series):
            x = np.asarray(one.x, dtype=float)
            if log_x:
                x = np.clip(x, 1e-300, None)
            if one.scatter:
                self.add_scatter(one.name, x, one.y, index)
            else:
                self.add_line(one.name, x, one.y, index, dashed=one.dashed)


class Histogram(Chart):
    """Bars of counts over numeric bins, or over categories (most frequent first)."""

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(title, "", "rows", parent)
        self.setMinimumSize(240, 160)
        self.counts: list[int] = []
        self._bars: pg.BarGraphItem | None = None

    def clear_data(self, title: str = "") -> None:
        if self._bars is not None:
            self.removeItem(self._bars)
            self._bars = None
        self.counts = []
        self.set_title(title)
        self.getPlotItem().getAxis("bottom").setTicks(None)

    def set_numeric(self, edges: Sequence[float], counts: Sequence[int], title: str) -> None:
        self.clear_data(title)
        edges = np.asarray(edges, dtype=float)
        self.counts = [int(c) for c in counts]
        self._bars = pg.BarGraphItem(x0=edges[:-1], x1=edges[1:], height=self.counts,
                                     brush=series_color(0), pen=pg.mkPen(_base_color()))
        self.addItem(self._bars)
        self.getPlotItem().enableAutoRange()

    def set_categories(self, labels: Sequence[str], counts: Sequence[int], title: str) -> None:
        self.clear_data(title)
        self.counts = [int(c) for c in counts]
        positions = np.arange(len(self.counts), dtype=float)
        self._bars = pg.BarGraphItem(x=positions, width=0.8, height=self.counts,
                                     brush=series_color(0), pen=pg.mkPen(_base_color()))
        self.addItem(self._bars)
        step = max(1, len(labels) // 8)
        ticks = [(float(i), _short(str(label))) for i, label in enumerate(labels)][::step]
        self.getPlotItem().getAxis("bottom").setTicks([ticks])
        self.getPlotItem().enableAutoRange()


def _short(text: str, limit: int = 14) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


class HeatMap(Chart):
    """A labelled matrix with cells shaded by value (e.g. a confusion matrix)."""

    TITLE_STEP = 0

    def __init__(self, title: str, row_labels: list[str], column_labels: list[str],
                 values: Sequence[Sequence[float]], row_title: str = "",
                 column_title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(title, column_title, row_title, parent)
        self.row_labels, self.column_labels = list(row_labels), list(column_labels)
        item = self.getPlotItem()
        item.showGrid(x=False, y=False)
        item.invertY(True)
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        item.getViewBox().disableAutoRange()  # the cells, always all of them
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(_blue_lookup_table())
        self.addItem(self.image)
        self.cell_texts: list[pg.TextItem] = []
        item.getAxis("bottom").setTicks([[(c + 0.5, _short(str(label)))
                                          for c, label in enumerate(self.column_labels)]])
        item.getAxis("left").setTicks([[(r + 0.5, _short(str(label)))
                                        for r, label in enumerate(self.row_labels)]])
        self.values = np.zeros((0, 0))
        self.set_values(values)
        self.setMinimumSize(170, 150)

    def set_values(self, values: Sequence[Sequence[float]]) -> None:
        """Show new cell values (the threshold slider moves them live)."""
        self.values = np.asarray(values, dtype=float)
        if self.values.ndim != 2 or self.values.size == 0:
            return
        top = float(np.nanmax(self.values)) or 1.0
        self.image.setImage(self.values / top, levels=(0.0, 1.0), autoLevels=False)
        rows, columns = self.values.shape
        for text in self.cell_texts:
            self.removeItem(text)
        self.cell_texts = []
        font = _ui_font()
        font.setBold(True)
        for r in range(rows):
            for c in range(columns):
                value = self.values[r, c]
                label = (f"{int(value):,}" if math.isfinite(value) and float(value).is_integer()
                         else f"{value:.3g}")
                dark = math.isfinite(value) and value / top > 0.55
                text = pg.TextItem(label, color="#ffffff" if dark else _text_color(),
                                   anchor=(0.5, 0.5))
                text.setFont(font)
                text.setPos(c + 0.5, r + 0.5)
                self.addItem(text, ignoreBounds=True)
                self.cell_texts.append(text)
        self.getPlotItem().setRange(xRange=(0, columns), yRange=(0, rows), padding=0.02)

    def resizeEvent(self, event: object) -> None:  # noqa: N802
        super().resizeEvent(event)  # type: ignore[arg-type]
        values = self.__dict__.get("values")  # pyqtgraph resizes before __init__ ends
        if values is not None and values.ndim == 2 and values.size:
            rows, columns = values.shape
            self.getPlotItem().setRange(xRange=(0, columns), yRange=(0, rows), padding=0.02)

    def cell_text(self, row: int, column: int) -> str:
        return self.cell_texts[row * self.values.shape[1] + column].textItem.toPlainText()


def _blue_lookup_table() -> np.ndarray:
    low, high = QColor("#eef4fb"), QColor(SERIES_COLORS[0])
    steps = np.linspace(0.0, 1.0, 256)[:, None]
    start = np.array([low.red(), low.green(), low.blue()], dtype=float)
    end = np.array([high.red(), high.green(), high.blue()], dtype=float)
    return (start + (end - start) * steps).astype(np.uint8)


class WeightsChart(Chart):
    """Horizontal bars: each feature's weight (or importance), largest first, signed."""

    def __init__(self, title: str, pairs: Sequence[tuple[str, float]], limit: int = 20,
                 parent: QWidget | None = None) -> None:
        super().__init__(title, "weight", "", parent)
        shown = list(pairs[:limit])[::-1]  # largest at the top
        self.names = [name for name, _ in shown][::-1]
        values = np.asarray([value for _, value in shown], dtype=float)
        positions = np.arange(len(shown), dtype=float)
        brushes = [pg.mkBrush(series_color(0) if v >= 0 else series_color(1)) for v in values]
        self.addItem(pg.BarGraphItem(x0=np.minimum(values, 0), x1=np.maximum(values, 0),
                                     y=positions, height=0.7, brushes=brushes,
                                     pen=pg.mkPen(None)))
        self.getPlotItem().getAxis("left").setTicks(
            [[(float(i), _short(name, 22)) for i, (name, _) in enumerate(shown)]])
        self.getPlotItem().showGrid(x=True, y=False, alpha=0.15)
        self.setMinimumSize(260, 220)
