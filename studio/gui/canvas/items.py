"""What is drawn on the canvas: node cards, ports, wires and notes.

Items only draw and report; every change they cause goes back through the
scene as an undo command on the model.

Stacking order (z): wires 0, cards 1, notes 2 (a note is never hidden under
what it was placed on), the wire being dragged and the refusal callout 3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPalette,
    QPen,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsObject,
    QGraphicsPathItem,
    QGraphicsTextItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from nodes.node import Node
from studio.engine.states import NodeState
from studio.gui.icons import category_badge
from studio.gui.theme import (
    FOREIGN_COLOR,
    WARNING_COLOR,
    category_color,
    port_color,
    state_color,
)

if TYPE_CHECKING:
    from studio.workflow import Annotation, NodeInstance

NODE_WIDTH = 200.0
NODE_HEIGHT = 72.0
PORT_RADIUS = 6.0
CORNER = 8.0
#: Level of detail below which a card shows its title large and nothing else,
#: and below which it is only a coloured block.
SIMPLE_DETAIL, BLOCK_DETAIL = 0.6, 0.22

Z_WIRE, Z_NODE, Z_NOTE, Z_DRAG = 0.0, 1.0, 2.0, 3.0

_STATE_SYMBOLS = {
    NodeState.DONE: "\u2713", NodeState.CACHED: "\u2713", NodeState.FAILED: "!",
    NodeState.SKIPPED: "\u2013", NodeState.CANCELLED: "\u00d7", NodeState.OUTDATED: "~",
    NodeState.QUEUED: "\u2026", NodeState.NOT_RUN: "", NodeState.RUNNING: "",
}


def ui_font() -> QFont:
    """The application's UI font (cards use it so they read like the rest of the app)."""
    return QFont(QGuiApplication.font())


def _palette() -> QPalette:
    return QGuiApplication.palette()


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class PortItem(QGraphicsItem):
    """A port on a node card; outputs at the bottom, inputs on top. An input that
    takes many wires is drawn as a wider pill."""

    def __init__(self, node_item: NodeItem, name: str, type_name: str, is_output: bool,
                 label: str, help_text: str, optional: bool = False,
                 multiple: bool = False) -> None:
        super().__init__(node_item)
        self.node_item = node_item
        self.name = name
        self.type_name = type_name
        self.is_output = is_output
        self.label = label
        self.optional = optional
        self.multiple = multiple
        self.highlight: str | None = None  # "compatible", "incompatible" or None
        self.hovered = False
        self.setAcceptHoverEvents(True)
        kind = "output" if is_output else ("optional input" if optional else "input")
        if multiple:
            kind += " (takes any number of wires)"
        tip = f"<b>{escape(label)}</b> ({type_name} {kind})"
        if help_text:
            tip += f"<br>{escape(help_text)}"
        if is_output:
            tip += "<br><i>Click to view this output; drag to an input to connect.</i>"
        self.setToolTip(tip)
        self.setCursor(Qt.CursorShape.CrossCursor)

    @property
    def node_id(self) -> str:
        return self.node_item.node_id

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt API)
        r = PORT_RADIUS + 4
        wide = 6 if self.multiple else 0
        return QRectF(-r - wide, -r, 2 * (r + wide), 2 * r)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self.boundingRect(), PORT_RADIUS + 4, PORT_RADIUS + 4)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        radius = PORT_RADIUS + (2 if self.hovered or self.highlight == "compatible" else 0)
        color = port_color(self.type_name)
        if self.highlight == "incompatible":
            color.setAlpha(60)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        compatible = self.highlight == "compatible"
        painter.setPen(QPen(QColor("#f1c40f") if compatible else _palette().base().color(),
                            3 if compatible else 1.5))
        painter.setBrush(QBrush(color) if (self.is_output or not self.optional)
                         else QBrush(color.lighter(150)))
        if self.multiple:
            painter.drawRoundedRect(QRectF(-radius - 6, -radius, 2 * (radius + 6), 2 * radius),
                                    radius, radius)
        else:
            painter.drawEllipse(QPointF(0, 0), radius, radius)

    def hoverEnterEvent(self, event: Any) -> None:  # noqa: N802
        self.hovered = True
        self.update()

    def hoverLeaveEvent(self, event: Any) -> None:  # noqa: N802
        self.hovered = False
        self.update()

    def scene_anchor(self) -> QPointF:
        return self.scenePos()


class NodeItem(QGraphicsObject):
    """A node card: category tile, title, state badge, labelled ports."""

    def __init__(self, node: NodeInstance, node_type: type[Node]) -> None:
        super().__init__()
        self.node_id = node.id
        self.node_type = node_type
        self.title = node.label(node_type)
        self.comment = node.comment
        self.state = NodeState.NOT_RUN
        self.progress: float | None = None
        self.error: str | None = None
        self.foreign: str | None = None  # tooltip text when the result came from elsewhere
        #: Warnings the node raised in its last run (e.g. a ConvergenceWarning).
        self.warnings: list[str] = []
        #: Why the node cannot run yet (unconnected inputs, unfinished parameters).
        self.problems: list[str] = []
        self.edges: list[EdgeItem] = []
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsMovable
                      | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
        self.setAcceptHoverEvents(True)
        self.setZValue(Z_NODE)
        # Panning a big workflow repaints cached pixmaps, not every card's text.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setPos(QPointF(*node.position))
        self.inputs: dict[str, PortItem] = {}
        self.outputs: dict[str, PortItem] = {}
        self._place_ports()
        self._refresh_tooltip()

    def _place_ports(self) -> None:
        for ports, target, y, is_output in (
            (self.node_type.inputs, self.inputs, 0.0, False),
            (self.node_type.outputs, self.outputs, NODE_HEIGHT, True),
        ):
            count = len(ports)
            for index, port in enumerate(ports.values()):
                item = PortItem(self, port.name, port.type.name, is_output, port.label or "",
                                port.help, getattr(port, "optional", False),
                                getattr(port, "multiple", False))
                item.setPos(NODE_WIDTH * (index + 1) / (count + 1), y)
                target[port.name] = item

    def port(self, name: str, output: bool) -> PortItem:
        return (self.outputs if output else self.inputs)[name]

    # -- state --------------------------------------------------------------
    def set_title(self, title: str) -> None:
        self.title = title
        self._refresh_tooltip()
        self.update()

    def set_comment(self, comment: str) -> None:
        self.comment = comment
        self._refresh_tooltip()

    def set_state(self, state: NodeState, error: str | None = None,
                  foreign: str | None = None, warnings: list[str] | None = None) -> None:
        self.state = state
        self.error = error if state in (NodeState.FAILED, NodeState.SKIPPED) else None
        self.foreign = foreign
        if warnings is not None:
            self.warnings = list(warnings)
        if state not in (NodeState.DONE, NodeState.CACHED):
            self.warnings = []
        if state != NodeState.RUNNING:
            self.progress = None
        self._refresh_tooltip()
        self.update()

    def set_problems(self, problems: list[str]) -> None:
        if problems != self.problems:
            self.problems = list(problems)
            self._refresh_tooltip()
            self.update()

    def set_progress(self, fraction: float) -> None:
        self.progress = fraction
        self.update()

    @property
    def incomplete(self) -> bool:
        """Shown with the warning badge: it cannot run as it is (and is not running)."""
        return bool(self.problems) and self.state not in (NodeState.RUNNING, NodeState.QUEUED)

    def state_text(self) -> str:
        if self.incomplete:
            return "incomplete"
        if self.warnings:
            return f"{self.state.value}, with warnings"
        return self.state.value

    def _refresh_tooltip(self) -> None:
        parts = [f"<b>{escape(self.title)}</b> &mdash; {escape(self.node_type.title)}",
                 escape(self.node_type.summary_line()), f"State: {self.state_text()}"]
        if self.problems:
            parts.append(f"<span style='color:{WARNING_COLOR}'><b>Cannot run yet:</b></span>"
                         + "".join(f"<br>&bull; {escape(p)}" for p in self.problems))
        if self.warnings:
            parts.append(f"<span style='color:{WARNING_COLOR}'><b>Warnings:</b></span>"
                         + "".join(f"<br>&bull; {escape(w)}" for w in self.warnings))
        if self.comment:
            parts.append(f"<i>{escape(self.comment)}</i>")
        if self.error:
            parts.append(f"<span style='color:#eb3b5a'>{escape(self.error)}</span>")
        if self.foreign:
            parts.append(f"<span style='color:{FOREIGN_COLOR}'>{escape(self.foreign)}</span>")
        self.setToolTip("<br>".join(parts))

    # -- drawing --------------------------------------------------------------
    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(-2, -2, NODE_WIDTH + 4, NODE_HEIGHT + 4)

    def card_path(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, NODE_WIDTH, NODE_HEIGHT), CORNER, CORNER)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        detail = option.levelOfDetailFromTransform(painter.worldTransform())
        palette = _palette()
        if detail < BLOCK_DETAIL:
            self._paint_block(painter)
            return
        base, text = palette.base().color(), palette.text().color()
        path = self.card_path()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(base))
        painter.drawPath(path)
        # The category stripe is clipped to the card, so its corners follow the card's.
        painter.save()
        painter.setClipPath(path)
        painter.fillRect(QRectF(0, 0, 5, NODE_HEIGHT), category_color(self.node_type.category))
        painter.restore()
        if detail < SIMPLE_DETAIL:
            self._paint_simple(painter, detail, text)
        else:
            self._paint_full(painter, text)
        self._paint_badge(painter, large=detail < SIMPLE_DETAIL)
        border = base.darker(150)
        width = 1.2
        if self.state == NodeState.FAILED:
            border, width = state_color(NodeState.FAILED), 1.8
        if self.isSelected():
            border, width = QColor("#f1c40f"), 3.0
        painter.setPen(QPen(border, width))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)

    def _paint_full(self, painter: QPainter, text: QColor) -> None:
        category = self.node_type.category
        tile = QRectF(12, NODE_HEIGHT / 2 - 13, 26, 26)
        category_badge(painter, category, tile, category_color(category))
        left, right = tile.right() + 8, NODE_WIDTH - 28
        width = right - left
        title_font = ui_font()
        title_font.setBold(True)
        metrics = QFontMetricsF(title_font)
        small = ui_font()
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.88))
        small_metrics = QFontMetricsF(small)
        muted = QColor(text)
        muted.setAlpha(160)
        painter.setFont(title_font)
        painter.setPen(QPen(text))
        if metrics.horizontalAdvance(self.title) <= width:
            title_box = QRectF(left, NODE_HEIGHT / 2 - metrics.height() - 1, width,
                               metrics.height())
            painter.drawText(title_box, Qt.AlignmentFlag.AlignLeft
                             | Qt.AlignmentFlag.AlignVCenter, self.title)
            subtitle = self.node_type.title if self.title != self.node_type.title else category
            painter.setFont(small)
            painter.setPen(QPen(muted))
            sub_box = QRectF(left, NODE_HEIGHT / 2 + 1, width, small_metrics.height())
            painter.drawText(sub_box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             small_metrics.elidedText(subtitle, Qt.TextElideMode.ElideRight,
                                                      width))
        else:  # a long title takes two lines (the type is in the tooltip)
            box = QRectF(left, NODE_HEIGHT / 2 - metrics.height(), width, 2 * metrics.height())
            painter.drawText(box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             _two_lines(self.title, title_font, width))
        self._paint_port_labels(painter, small, muted)

    def _paint_simple(self, painter: QPainter, detail: float, text: QColor) -> None:
        """Zoomed out: the title alone, sized to read like UI text on screen."""
        font = ui_font()
        font.setBold(True)
        pixels = 0.85 * QFontMetricsF(font).height() / max(detail, 1e-3)
        font.setPixelSize(int(min(pixels, NODE_HEIGHT * 0.38)))
        painter.setFont(font)
        painter.setPen(QPen(text))
        box = QRectF(12, 4, NODE_WIDTH - 44, NODE_HEIGHT - 8)
        painter.drawText(box, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         _two_lines(self.title, font, box.width()))

    def _paint_block(self, painter: QPainter) -> None:
        rect = QRectF(0, 0, NODE_WIDTH, NODE_HEIGHT)
        fill = QColor(category_color(self.node_type.category))
        painter.setPen(QPen(QColor("#f1c40f") if self.isSelected() else fill.darker(130), 4))
        painter.setBrush(QBrush(fill))
        painter.drawRoundedRect(rect, CORNER, CORNER)
        self._paint_badge(painter, large=True)

    def _paint_port_labels(self, painter: QPainter, font: QFont, color: QColor) -> None:
        metrics = QFontMetricsF(font)
        painter.setFont(font)
        painter.setPen(QPen(color))
        height = metrics.height()
        for ports, y in ((self.inputs, PORT_RADIUS + 1), (self.outputs,
                                                         NODE_HEIGHT - PORT_RADIUS - 1 - height)):
            if len(ports) < 2:
                continue  # a lone port needs no label on the card; its tooltip names it
            room = NODE_WIDTH / (len(ports) + 1) - 6
            for port in ports.values():
                x = port.pos().x()
                painter.drawText(QRectF(x - room / 2, y, room, height),
                                 Qt.AlignmentFlag.AlignCenter,
                                 metrics.elidedText(port.label, Qt.TextElideMode.ElideRight, room))

    def port_label_is_elided(self, port: PortItem) -> bool:
        """True when the card shows this port's label shortened (its tooltip has it all)."""
        ports = self.outputs if port.is_output else self.inputs
        if len(ports) < 2:
            return False
        font = ui_font()
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.88))
        room = NODE_WIDTH / (len(ports) + 1) - 6
        return QFontMetricsF(font).horizontalAdvance(port.label) > room

    def _paint_badge(self, painter: QPainter, large: bool = False) -> None:
        scale = 1.4 if large else 1.0
        center = QPointF(NODE_WIDTH - 15 * (1.25 if large else 1), NODE_HEIGHT / 2)
        color = QColor(FOREIGN_COLOR) if self.foreign else state_color(self.state)
        if self.state == NodeState.RUNNING:
            r = 8 * scale
            painter.setPen(QPen(color.lighter(160), 3 * scale))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(center, r, r)
            painter.setPen(QPen(color, 3 * scale))
            span = -int(360 * 16 * (self.progress if self.progress is not None else 0.15))
            painter.drawArc(QRectF(center.x() - r, center.y() - r, 2 * r, 2 * r), 90 * 16, span)
            return
        if self.incomplete:
            self._paint_warning_triangle(painter, center, 10 * scale)
            return
        if self.state == NodeState.NOT_RUN:
            painter.setPen(QPen(color, 1.5 * scale))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(center, 7 * scale, 7 * scale)
            return
        r = 9 * scale
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(color))
        painter.drawEllipse(center, r, r)
        symbol = "\u21c4" if self.foreign else _STATE_SYMBOLS.get(self.state, "")
        if symbol:
            font = ui_font()
            font.setBold(True)
            font.setPixelSize(int(12 * scale))
            painter.setFont(font)
            painter.setPen(QPen(QColor("#ffffff")))
            painter.drawText(QRectF(center.x() - r, center.y() - r, 2 * r, 2 * r),
                             Qt.AlignmentFlag.AlignCenter, symbol)
        if self.warnings:  # done, with warnings: a small triangle on the badge
            self._paint_warning_triangle(painter, center + QPointF(r * 0.75, -r * 0.75),
                                         5.5 * scale)

    @staticmethod
    def _paint_warning_triangle(painter: QPainter, center: QPointF, size: float) -> None:
        path = QPainterPath(QPointF(center.x(), center.y() - size))
        path.lineTo(center.x() + size * 1.05, center.y() + size * 0.8)
        path.lineTo(center.x() - size * 1.05, center.y() + size * 0.8)
        path.closeSubpath()
        painter.setPen(QPen(QColor("#ffffff"), 1.2))
        painter.setBrush(QColor(WARNING_COLOR))
        painter.drawPath(path)
        if size >= 7:
            font = ui_font()
            font.setBold(True)
            font.setPixelSize(int(size * 1.25))
            painter.setFont(font)
            painter.setPen(QPen(QColor("#3d2b00")))
            painter.drawText(QRectF(center.x() - size, center.y() - size * 0.55, 2 * size,
                                    size * 1.4), Qt.AlignmentFlag.AlignCenter, "!")

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:  # noqa: N802
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.update_path()
        return super().itemChange(change, value)


def _two_lines(text: str, font: QFont, width: float) -> str:
    """The text broken into at most two lines of ``width``, the second elided."""
    metrics = QFontMetricsF(font)
    if metrics.horizontalAdvance(text) <= width:
        return text
    words, first = text.split(), ""
    while words and metrics.horizontalAdvance((first + " " + words[0]).strip()) <= width:
        first = (first + " " + words.pop(0)).strip()
    if not first:  # one long word
        return metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)
    rest = " ".join(words)
    return first + "\n" + metrics.elidedText(rest, Qt.TextElideMode.ElideRight, width)


class EdgeItem(QGraphicsPathItem):
    """A wire drawn as a vertical S-curve from an output port to an input port."""

    def __init__(self, edge: Any, source: PortItem, target: PortItem) -> None:
        super().__init__()
        self.edge = edge
        self.source = source
        self.target = target
        self.hovered = False
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setZValue(Z_WIRE)
        self.setToolTip(f"{escape(source.node_item.title)} \u00b7 {escape(source.label)} "
                        f"\u2192 {escape(target.node_item.title)} \u00b7 {escape(target.label)} "
                        f"({source.type_name})")
        source.node_item.edges.append(self)
        target.node_item.edges.append(self)
        self.update_path()

    def detach(self) -> None:
        for item in (self.source.node_item, self.target.node_item):
            if self in item.edges:
                item.edges.remove(self)

    def update_path(self) -> None:
        self.setPath(wire_path(self.source.scene_anchor(), self.target.scene_anchor()))

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(12)
        return stroker.createStroke(self.path())

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        color = port_color(self.source.type_name)
        width = 2.2
        if self.isSelected():
            color, width = QColor("#f1c40f"), 3.5
        elif self.hovered:
            width = 3.2
        painter.setPen(QPen(color, width))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path())

    def hoverEnterEvent(self, event: Any) -> None:  # noqa: N802
        self.hovered = True
        self.update()

    def hoverLeaveEvent(self, event: Any) -> None:  # noqa: N802
        self.hovered = False
        self.update()


def wire_path(start: QPointF, end: QPointF) -> QPainterPath:
    """An S-curve leaving ``start`` downwards and entering ``end`` from above."""
    path = QPainterPath(start)
    bend = max(40.0, abs(end.y() - start.y()) * 0.5, min(abs(end.x() - start.x()), 160) * 0.4)
    path.cubicTo(QPointF(start.x(), start.y() + bend), QPointF(end.x(), end.y() - bend), end)
    return path


class AnnotationItem(QGraphicsTextItem):
    """A free-text note; double-click to edit, drag to move. While it is being
    edited every key is its own (Space, Tab and '/' type text, not canvas
    gestures); leaving it ends the edit and gives the keys back to the canvas."""

    def __init__(self, annotation: Annotation) -> None:
        super().__init__(annotation.text)
        self.note_id = annotation.id
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsMovable
                      | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(Z_NOTE)
        self.setTabChangesFocus(False)
        self.setDefaultTextColor(QColor("#4a3f1c"))
        self.apply(annotation)
        self.setToolTip("Note: double-click to edit")

    @property
    def editing(self) -> bool:
        return bool(self.textInteractionFlags() & Qt.TextInteractionFlag.TextEditorInteraction)

    def apply(self, annotation: Annotation) -> None:
        x, y, width, _ = annotation.rect
        if self.toPlainText() != annotation.text:
            self.setPlainText(annotation.text)
        self.setPos(x, y)
        self.setTextWidth(width)

    def rect_tuple(self) -> tuple[float, float, float, float]:
        rect = self.boundingRect()
        return (self.pos().x(), self.pos().y(), rect.width(), rect.height())

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#f1c40f") if self.isSelected() or self.editing
                            else QColor("#e0c97a"), 1.5 if self.editing else 1))
        painter.setBrush(QBrush(QColor("#fff7d6")))
        painter.drawRoundedRect(self.boundingRect(), 4, 4)
        super().paint(painter, option, widget)

    def start_editing(self) -> None:
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextEditorInteraction)
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self.update()

    def mouseDoubleClickEvent(self, event: Any) -> None:  # noqa: N802
        self.start_editing()
        super().mouseDoubleClickEvent(event)

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape:
            self.clearFocus()  # ends the edit (focusOutEvent)
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: Any) -> None:  # noqa: N802
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        cursor = self.textCursor()
        cursor.clearSelection()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        self.setTextCursor(cursor)
        super().focusOutEvent(event)
        self.update()
        scene = self.scene()
        if scene is not None and hasattr(scene, "annotation_edited"):
            scene.annotation_edited(self)
