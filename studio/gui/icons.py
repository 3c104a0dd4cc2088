"""Icons drawn with QPainter: one glyph per node category and per toolbar action.

Drawn rather than shipped as image files so that they follow the palette
(light or dark), stay sharp at any zoom on the canvas, and cost no files
that could go missing from a wheel.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

Glyph = Callable[[QPainter, QRectF, QColor], None]


def _poly(r: QRectF, *points: tuple[float, float]) -> QPolygonF:
    """A polygon through points given as fractions of ``r``."""
    return QPolygonF([QPointF(r.x() + r.width() * fx, r.y() + r.height() * fy)
                      for fx, fy in points])


def _pen(painter: QPainter, color: QColor, rect: QRectF, width: float = 0.09) -> None:
    pen = QPen(color, max(1.0, rect.width() * width))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)


def _cylinder(p: QPainter, r: QRectF, c: QColor) -> None:  # Data: a database
    _pen(p, c, r)
    w, h = r.width() * 0.62, r.height() * 0.72
    left, top = r.center().x() - w / 2, r.center().y() - h / 2
    cap = h * 0.22
    p.drawEllipse(QRectF(left, top, w, cap))
    for y in (top + h * 0.39, top + h - cap):
        path = QPainterPath(QPointF(left, y + cap / 2))
        path.arcTo(QRectF(left, y, w, cap), 180, 180)
        p.drawPath(path)
    p.drawLine(QPointF(left, top + cap / 2), QPointF(left, top + h - cap / 2))
    p.drawLine(QPointF(left + w, top + cap / 2), QPointF(left + w, top + h - cap / 2))


def _funnel(p: QPainter, r: QRectF, c: QColor) -> None:  # Transform: a funnel
    _pen(p, c, r)
    p.drawPolyline(_poly(r, (0.2, 0.24), (0.8, 0.24), (0.56, 0.52), (0.56, 0.78), (0.44, 0.7),
                            (0.44, 0.52), (0.2, 0.24)))


def _letters(text: str) -> Glyph:
    def draw(p: QPainter, r: QRectF, c: QColor) -> None:
        font = QFont()
        font.setBold(True)
        font.setPixelSize(max(6, int(r.height() * (0.5 if len(text) < 3 else 0.4))))
        p.setFont(font)
        p.setPen(c)
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)
    return draw


def _checklist(p: QPainter, r: QRectF, c: QColor) -> None:  # Feature selection
    _pen(p, c, r)
    x, y, w, h = r.x(), r.y(), r.width(), r.height()
    for row in range(3):
        yy = y + h * (0.3 + row * 0.2)
        if row != 1:
            p.drawPolyline(QPolygonF([QPointF(x + w * 0.2, yy),
                                      QPointF(x + w * 0.27, yy + h * 0.06),
                                      QPointF(x + w * 0.38, yy - h * 0.06)]))
        p.drawLine(QPointF(x + w * 0.48, yy), QPointF(x + w * 0.8, yy))


def _network(p: QPainter, r: QRectF, c: QColor) -> None:  # Models: a small network
    _pen(p, c, r, 0.06)
    x, y, w, h = r.x(), r.y(), r.width(), r.height()
    left = [QPointF(x + w * 0.25, y + h * f) for f in (0.3, 0.7)]
    middle = [QPointF(x + w * 0.5, y + h * f) for f in (0.22, 0.5, 0.78)]
    right = [QPointF(x + w * 0.75, y + h * 0.5)]
    for a in left:
        for b in middle:
            p.drawLine(a, b)
    for a in middle:
        p.drawLine(a, right[0])
    p.setBrush(c)
    for point in (*left, *middle, *right):
        p.drawEllipse(point, w * 0.07, w * 0.07)


def _target(p: QPainter, r: QRectF, c: QColor) -> None:  # Train/Score: aim and hit
    _pen(p, c, r)
    center = r.center()
    for radius in (0.32, 0.17):
        p.drawEllipse(center, r.width() * radius, r.height() * radius)
    p.setBrush(c)
    p.drawEllipse(center, r.width() * 0.04, r.height() * 0.04)


def _bars(p: QPainter, r: QRectF, c: QColor) -> None:  # Evaluate: a bar chart
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(c)
    x, y, w, h = r.x(), r.y(), r.width(), r.height()
    for index, height in enumerate((0.3, 0.5, 0.38)):
        p.drawRoundedRect(QRectF(x + w * (0.22 + index * 0.2), y + h * (0.76 - height),
                                 w * 0.14, h * height), 1, 1)
    _pen(p, c, r, 0.06)
    p.drawLine(QPointF(x + w * 0.16, y + h * 0.8), QPointF(x + w * 0.84, y + h * 0.8))


def _chip(p: QPainter, r: QRectF, c: QColor) -> None:  # Hardware: a chip with pins
    _pen(p, c, r, 0.07)
    x, y, w, h = r.x(), r.y(), r.width(), r.height()
    p.drawRoundedRect(QRectF(x + w * 0.3, y + h * 0.3, w * 0.4, h * 0.4), 2, 2)
    for f in (0.4, 0.6):
        p.drawLine(QPointF(x + w * f, y + h * 0.16), QPointF(x + w * f, y + h * 0.3))
        p.drawLine(QPointF(x + w * f, y + h * 0.7), QPointF(x + w * f, y + h * 0.84))
        p.drawLine(QPointF(x + w * 0.16, y + h * f), QPointF(x + w * 0.3, y + h * f))
        p.drawLine(QPointF(x + w * 0.7, y + h * f), QPointF(x + w * 0.84, y + h * f))


def _globe(p: QPainter, r: QRectF, c: QColor) -> None:  # Web service
    _pen(p, c, r, 0.07)
    center, radius = r.center(), r.width() * 0.3
    p.drawEllipse(center, radius, radius)
    p.drawEllipse(center, radius * 0.45, radius)
    p.drawLine(QPointF(center.x() - radius, center.y()), QPointF(center.x() + radius, center.y()))


def _dot(p: QPainter, r: QRectF, c: QColor) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(c)
    p.drawEllipse(r.center(), r.width() * 0.18, r.height() * 0.18)


CATEGORY_GLYPHS: dict[str, Glyph] = {
    "Data": _cylinder, "Transform": _funnel, "Text": _letters("Aa"),
    "Feature Selection": _checklist, "Models": _network, "Train/Score": _target,
    "Evaluate": _bars, "Hardware": _chip, "Web Service": _globe, "Script": _letters("</>"),
}


def draw_category_glyph(painter: QPainter, category: str, rect: QRectF, color: QColor) -> None:
    """The category's glyph inside ``rect`` (the painter's state is restored)."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    CATEGORY_GLYPHS.get(category, _dot)(painter, rect, color)
    painter.restore()


def category_badge(painter: QPainter, category: str, rect: QRectF, fill: QColor) -> None:
    """A rounded tile in the category colour with the white glyph on it."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(fill)
    painter.drawRoundedRect(rect, rect.width() * 0.22, rect.width() * 0.22)
    painter.restore()
    draw_category_glyph(painter, category, rect.adjusted(2, 2, -2, -2), QColor("#ffffff"))


@cache
def category_icon(category: str, color: str) -> QIcon:
    """A palette entry's icon: the category tile at 16 px (drawn at 2x for HiDPI)."""
    pixmap = QPixmap(32, 32)
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    category_badge(painter, category, QRectF(0, 0, 16, 16), QColor(color))
    painter.end()
    return QIcon(pixmap)


# -- toolbar actions ---------------------------------------------------------------

def _open(p: QPainter, r: QRectF, c: QColor) -> None:
    _pen(p, c, r, 0.08)
    p.drawPolyline(_poly(r, (0.12, 0.78), (0.12, 0.24), (0.38, 0.24), (0.46, 0.34), (0.8, 0.34),
                            (0.8, 0.46)))
    p.drawPolygon(_poly(r, (0.12, 0.78), (0.26, 0.46), (0.92, 0.46), (0.78, 0.78)))


def _save(p: QPainter, r: QRectF, c: QColor) -> None:
    _pen(p, c, r, 0.08)
    x, y, w, h = r.x(), r.y(), r.width(), r.height()
    p.drawRoundedRect(QRectF(x + w * 0.16, y + h * 0.16, w * 0.68, h * 0.68), 2, 2)
    p.drawRect(QRectF(x + w * 0.32, y + h * 0.16, w * 0.36, h * 0.22))
    p.drawRect(QRectF(x + w * 0.28, y + h * 0.54, w * 0.44, h * 0.3))


def _curved_arrow(mirror: bool) -> Glyph:
    def draw(p: QPainter, r: QRectF, c: QColor) -> None:
        p.save()
        if mirror:
            p.translate(r.center().x() * 2, 0)
            p.scale(-1, 1)
        _pen(p, c, r, 0.09)
        x, y, w, h = r.x(), r.y(), r.width(), r.height()
        path = QPainterPath(QPointF(x + w * 0.28, y + h * 0.42))
        path.cubicTo(QPointF(x + w * 0.5, y + h * 0.25), QPointF(x + w * 0.92, y + h * 0.35),
                     QPointF(x + w * 0.72, y + h * 0.78))
        p.drawPath(path)
        p.drawPolyline(_poly(r, (0.34, 0.2), (0.24, 0.44), (0.48, 0.52)))
        p.restore()
    return draw


def _play(p: QPainter, r: QRectF, c: QColor) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#20bf6b"))
    p.drawPolygon(_poly(r, (0.26, 0.16), (0.84, 0.5), (0.26, 0.84)))


def _play_selected(p: QPainter, r: QRectF, c: QColor) -> None:
    # The play triangle inside a dashed selection frame.
    pen = QPen(c, max(1.0, r.width() * 0.06), Qt.PenStyle.DashLine)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRoundedRect(r.adjusted(r.width() * 0.08, r.height() * 0.12, -r.width() * 0.08,
                                 -r.height() * 0.12), 2, 2)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#20bf6b"))
    p.drawPolygon(_poly(r, (0.36, 0.3), (0.7, 0.5), (0.36, 0.7)))


def _stop(p: QPainter, r: QRectF, c: QColor) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#eb3b5a"))
    p.drawRoundedRect(r.adjusted(r.width() * 0.24, r.height() * 0.24, -r.width() * 0.24,
                                 -r.height() * 0.24), 2, 2)


def _fit(p: QPainter, r: QRectF, c: QColor) -> None:
    _pen(p, c, r, 0.08)
    x, y, w, h = r.x(), r.y(), r.width(), r.height()
    a, b = 0.18, 0.4
    for sx, sy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        cx, cy = x + w * (a if sx == 0 else 1 - a), y + h * (a if sy == 0 else 1 - a)
        dx, dy = (1 if sx == 0 else -1) * w * (b - a), (1 if sy == 0 else -1) * h * (b - a)
        p.drawPolyline(QPolygonF([QPointF(cx + dx, cy), QPointF(cx, cy), QPointF(cx, cy + dy)]))
    p.drawRect(QRectF(x + w * 0.38, y + h * 0.38, w * 0.24, h * 0.24))


def _plus_search(p: QPainter, r: QRectF, c: QColor) -> None:
    _pen(p, c, r, 0.09)
    x, y, w, h = r.x(), r.y(), r.width(), r.height()
    p.drawEllipse(QPointF(x + w * 0.42, y + h * 0.42), w * 0.24, h * 0.24)
    p.drawLine(QPointF(x + w * 0.6, y + h * 0.6), QPointF(x + w * 0.84, y + h * 0.84))
    p.drawLine(QPointF(x + w * 0.42, y + h * 0.32), QPointF(x + w * 0.42, y + h * 0.52))
    p.drawLine(QPointF(x + w * 0.32, y + h * 0.42), QPointF(x + w * 0.52, y + h * 0.42))


def _note(p: QPainter, r: QRectF, c: QColor) -> None:
    x, y, w, h = r.x(), r.y(), r.width(), r.height()
    p.setPen(QPen(QColor("#c9a227"), max(1.0, w * 0.06)))
    p.setBrush(QColor("#fff3b0"))
    p.drawPolygon(_poly(r, (0.18, 0.18), (0.82, 0.18), (0.82, 0.62), (0.62, 0.82), (0.18, 0.82)))
    _pen(p, QColor("#8a6d00"), r, 0.05)
    for f in (0.36, 0.5):
        p.drawLine(QPointF(x + w * 0.3, y + h * f), QPointF(x + w * 0.7, y + h * f))


def _publish(p: QPainter, r: QRectF, c: QColor) -> None:
    _globe(p, r, QColor("#0abde3"))


def _new(p: QPainter, r: QRectF, c: QColor) -> None:
    _pen(p, c, r, 0.08)
    x, y, w, h = r.x(), r.y(), r.width(), r.height()
    p.drawPolygon(_poly(r, (0.24, 0.14), (0.6, 0.14), (0.78, 0.32), (0.78, 0.86), (0.24, 0.86)))
    p.drawLine(QPointF(x + w * 0.51, y + h * 0.42), QPointF(x + w * 0.51, y + h * 0.7))
    p.drawLine(QPointF(x + w * 0.37, y + h * 0.56), QPointF(x + w * 0.65, y + h * 0.56))


def _visualize(p: QPainter, r: QRectF, c: QColor) -> None:
    _pen(p, c, r, 0.07)
    x, y, w, h = r.x(), r.y(), r.width(), r.height()
    p.drawRoundedRect(QRectF(x + w * 0.14, y + h * 0.18, w * 0.72, h * 0.64), 2, 2)
    points = [QPointF(x + w * (0.24 + 0.13 * i), y + h * (0.66 - 0.3 * math.sin(i * 1.1)))
              for i in range(5)]
    p.drawPolyline(QPolygonF(points))


ACTION_GLYPHS: dict[str, Glyph] = {
    "new": _new, "open": _open, "save": _save, "undo": _curved_arrow(False),
    "redo": _curved_arrow(True), "run": _play, "run_selected": _play_selected, "cancel": _stop,
    "fit": _fit, "quick_add": _plus_search, "note": _note, "publish": _publish,
    "visualize": _visualize,
}


def action_icon(name: str, color: QColor) -> QIcon:
    """A toolbar icon, drawn in ``color`` (the palette's text colour) at 1x and 2x."""
    icon = QIcon()
    for size in (16, 24):
        for ratio in (1.0, 2.0):
            pixmap = QPixmap(int(size * ratio), int(size * ratio))
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            ACTION_GLYPHS[name](painter, QRectF(0, 0, size, size), QColor(color))
            painter.end()
            icon.addPixmap(pixmap)
    return icon
