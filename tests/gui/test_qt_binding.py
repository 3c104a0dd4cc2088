"""Guards against Qt binding bugs that would crash the app after a while."""

from __future__ import annotations

import sys

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen


def test_painting_does_not_corrupt_the_refcount_of_none(qapp):
    """PySide6 6.12.0 decremented None's refcount in void QPainter calls; on
    Python 3.11 (where None is not immortal) the canvas crashed after a few
    thousand node paints. pyproject.toml excludes that release."""
    image = QImage(64, 64, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    before = sys.getrefcount(None)
    for _ in range(500):
        painter.setPen(QPen(QColor("#123456"), 2))
        painter.setBrush(QBrush(QColor("#abcdef")))
        painter.drawRoundedRect(QRectF(0, 0, 10, 10), 3, 3)
        painter.drawEllipse(QPointF(5, 5), 3, 3)
    after = sys.getrefcount(None)
    painter.end()
    assert abs(after - before) < 100, f"None's refcount moved by {after - before}"
