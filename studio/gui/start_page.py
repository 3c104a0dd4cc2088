"""The start page: a blank workflow, recent files, and the examples with a picture each.

An example opens as an untitled copy (Save asks where to put it), so the
shipped files are never overwritten. Thumbnails are schematic drawings of
each example's cards and wires, drawn from the file once the page is on
screen (reading fifteen files is not worth delaying the first paint).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from nodes.registry import NodeRegistry
from studio.gui.theme import category_color
from studio.workflow import SUFFIX

THUMBNAIL = QSize(220, 124)


@dataclass(frozen=True)
class ExampleInfo:
    """What the start page shows of an example file."""

    path: Path
    name: str
    description: str


def read_example(path: Path) -> ExampleInfo:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        document = {}
    name = document.get("name") or path.name.removesuffix(SUFFIX).replace("_", " ").capitalize()
    return ExampleInfo(path, name, str(document.get("description", "")))


def one_line(text: str, limit: int = 110) -> str:
    """The first sentence, cut at a word before ``limit`` characters."""
    sentence = text.split(". ")[0].rstrip(".")
    if len(sentence) <= limit:
        return sentence + "." if sentence else ""
    return sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "\u2026"


def workflow_thumbnail(path: Path, registry: NodeRegistry, size: QSize = THUMBNAIL) -> QPixmap:
    """A schematic of the file's cards (in category colours) and wires."""
    pixmap = QPixmap(size * 2)
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(QColor("#f4f6f8"))
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        nodes = {n["id"]: n for n in document.get("nodes", [])}
    except (OSError, ValueError, KeyError, TypeError):
        return pixmap
    if not nodes:
        return pixmap
    xs = [float(n["position"][0]) for n in nodes.values()]
    ys = [float(n["position"][1]) for n in nodes.values()]
    width, height = 200.0, 72.0
    bounds = QRectF(min(xs), min(ys), max(xs) - min(xs) + width, max(ys) - min(ys) + height)
    margin = 8
    scale = min((size.width() - 2 * margin) / bounds.width(),
                (size.height() - 2 * margin) / bounds.height())
    offset = QPointF((size.width() - bounds.width() * scale) / 2,
                     (size.height() - bounds.height() * scale) / 2)

    def place(x: float, y: float) -> QPointF:
        return QPointF((x - bounds.left()) * scale, (y - bounds.top()) * scale) + offset

    painter = QPainter(pixmap)
    try:
        _draw_schematic(painter, document, nodes, registry, place, width, height, scale)
    finally:
        painter.end()
    return pixmap


def _endpoint(end: object) -> str | None:
    return end.get("node") if isinstance(end, dict) else end  # type: ignore[return-value]


def _draw_schematic(painter: QPainter, document: dict, nodes: dict, registry: NodeRegistry,
                    place, width: float, height: float,  # type: ignore[no-untyped-def]
                    scale: float) -> None:
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor("#8395a7"), 1.2))
    for edge in document.get("edges", []):
        source = nodes.get(_endpoint(edge.get("source")))
        target = nodes.get(_endpoint(edge.get("target")))
        if source is None or target is None:
            continue
        start = place(source["position"][0] + width / 2, source["position"][1] + height)
        end = place(target["position"][0] + width / 2, target["position"][1])
        path = QPainterPath(start)
        bend = max(8.0, (end.y() - start.y()) / 2)
        path.cubicTo(start + QPointF(0, bend), end - QPointF(0, bend), end)
        painter.drawPath(path)
    for node in nodes.values():
        try:
            category = registry.get(node["type_id"]).category
        except Exception:  # an example of a node type this build lacks: still drawn
            category = "Other"
        top_left = place(node["position"][0], node["position"][1])
        rect = QRectF(top_left.x(), top_left.y(), max(4.0, width * scale),
                      max(3.0, height * scale))
        painter.setPen(QPen(QColor("#c8d0d8"), 1))
        painter.setBrush(QColor("#ffffff"))
        painter.drawRoundedRect(rect, 2, 2)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(category_color(category))
        painter.drawRoundedRect(QRectF(rect.left(), rect.top(), max(3.0, rect.width() * 0.14),
                                       rect.height()), 1.5, 1.5)


class _Tile(QFrame):
    """A clickable example: thumbnail, name, one-line description."""

    clicked = Signal(object)

    def __init__(self, info: ExampleInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.info = info
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(f"Open a copy of {info.path.name} (the example itself stays as it is)")
        self.picture = QLabel()
        self.picture.setFixedSize(THUMBNAIL)
        self.picture.setStyleSheet("background: #f4f6f8; border-radius: 3px;")
        name = QLabel(f"<b>{info.name}</b>")
        name.setWordWrap(True)
        description = QLabel(one_line(info.description))
        description.setWordWrap(True)
        description.setToolTip(info.description)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picture, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(name)
        layout.addWidget(description)
        layout.addStretch(1)
        self.setFixedWidth(THUMBNAIL.width() + 24)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)

    def mouseReleaseEvent(self, event: object) -> None:  # noqa: N802
        self.clicked.emit(self.info.path)


class StartPage(QScrollArea):
    """New, recent and example workflows."""

    new_requested = Signal()
    open_requested = Signal()
    #: Open this file (a recent one).
    file_chosen = Signal(object)
    #: Open a copy of this example.
    example_chosen = Signal(object)

    def __init__(self, examples_dir: Path, registry: NodeRegistry,
                 recent: list[Path], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.registry = registry
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        self.setWidget(body)
        outer = QVBoxLayout(body)
        outer.setContentsMargins(32, 24, 32, 24)
        title = QLabel("<h2>Axon Studio</h2>Build a machine-learning workflow by dragging "
                       "nodes from the palette on the left and wiring their ports, or start "
                       "from an example.")
        title.setWordWrap(True)
        outer.addWidget(title)
        buttons = QHBoxLayout()
        self.new_button = QPushButton("New Blank Workflow")
        self.new_button.setDefault(True)
        self.new_button.clicked.connect(self.new_requested)
        open_button = QPushButton("Open\u2026")
        open_button.clicked.connect(self.open_requested)
        buttons.addWidget(self.new_button)
        buttons.addWidget(open_button)
        buttons.addStretch(1)
        outer.addLayout(buttons)
        self.recent_buttons: list[QPushButton] = []
        if recent:
            outer.addWidget(QLabel("<h3>Recent</h3>"))
            for path in recent:
                button = QPushButton(f"{path.name}   \u2014   {path.parent}")
                button.setFlat(True)
                button.setStyleSheet("text-align: left; padding: 3px 6px;")
                button.setToolTip(str(path))
                button.clicked.connect(lambda _=False, p=path: self.file_chosen.emit(p))
                outer.addWidget(button)
                self.recent_buttons.append(button)
        outer.addWidget(QLabel("<h3>Examples</h3>Each opens as an untitled copy."))
        self.grid = QGridLayout()
        self.grid.setSpacing(12)
        outer.addLayout(self.grid)
        outer.addStretch(1)
        self.tiles: list[_Tile] = []
        for path in sorted(examples_dir.glob(f"*{SUFFIX}")):
            tile = _Tile(read_example(path))
            tile.clicked.connect(self.example_chosen)
            self.tiles.append(tile)
        self._columns = 0
        self._layout_tiles()
        self._pending = list(self.tiles)
        # A timer owned by the page stops with it (a window closed meanwhile).
        self._thumbnail_timer = QTimer(self)
        self._thumbnail_timer.setInterval(0)
        self._thumbnail_timer.timeout.connect(self._draw_next_thumbnail)
        self._thumbnail_timer.start()

    def _draw_next_thumbnail(self) -> None:
        """One thumbnail per event-loop turn: the page stays responsive meanwhile."""
        if not self._pending:
            self._thumbnail_timer.stop()
            return
        tile = self._pending.pop(0)
        tile.picture.setPixmap(workflow_thumbnail(tile.info.path, self.registry))

    def _layout_tiles(self) -> None:
        columns = max(1, (self.viewport().width() - 64) // (THUMBNAIL.width() + 36))
        if columns == self._columns:
            return
        self._columns = columns
        for tile in self.tiles:
            self.grid.removeWidget(tile)
        for index, tile in enumerate(self.tiles):
            self.grid.addWidget(tile, index // columns, index % columns)

    def resizeEvent(self, event: object) -> None:  # noqa: N802
        super().resizeEvent(event)  # type: ignore[arg-type]
        self._layout_tiles()
