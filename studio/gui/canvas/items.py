"""What is drawn on the canvas: node cards, ports, wires and notes.

Items only draw and report; every change they cause goes back through the
scene as an undo command on the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
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
from studio.gui.theme import FOREIGN_COLOR, category_color, port_color, state_color

if TYPE_CHECKING:
    from studio.workflow import Annotation, NodeInstance

NODE_WIDTH = 200.0
NODE_HEIGHT = 64.0
PORT_RADIUS = 6.0

_STATE_SYMBOLS = {
    NodeState.DONE: "\u2713", NodeState.CACHED: "\u2713", NodeState.FAILED: "!",
    NodeState.SKIPPED: "\u2013", NodeState.CANCELLED: "\u00d7", NodeState.OUTDATED: "~",
    NodeState.QUEUED: "\u2026", NodeState.NOT_RUN: "", NodeState.RUNNING: "",
}


class PortItem(QGraphicsItem):
    """A port circle on a node card; outputs at the bottom, inputs on top."""

    def __init__(self, node_item: NodeItem, name: str, type_name: str, is_output: bool,
                 label: str, help_text: str, optional: bool = False) -> None:
        super().__init__(node_item)
        self.node_item = node_item
        self.name = name
        self.type_name = type_name
        self.is_output = is_output
        self.label = label
        self.optional = optional
        self.highlight: str | None = None  # "compatible", "incompatible" or None
        self.hovered = False
        self.setAcceptHoverEvents(True)
        kind = "output" if is_output else ("optional input" if optional else "input")
        tip = f"<b>{label}</b> ({type_name} {kind})"
        if help_text:
            tip += f"<br>{help_text}"
        if is_output:
            tip += "<br><i>Click to view this output; drag to an input to connect.</i>"
        self.setToolTip(tip)
        self.setCursor(Qt.CursorShape.CrossCursor)

    @property
    def node_id(self) -> str:
        return self.node_item.node_id

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt API)
        r = PORT_RADIUS + 4
        return QRectF(-r, -r, 2 * r, 2 * r)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addEllipse(self.boundingRect())
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        radius = PORT_RADIUS + (2 if self.hovered or self.highlight == "compatible" else 0)
        color = port_color(self.type_name)
        if self.highlight == "incompatible":
            color.setAlpha(60)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor("#ffffff") if self.highlight != "compatible" else QColor("#f1c40f"),
                   1.5 if self.highlight != "compatible" else 3)
        painter.setPen(pen)
        painter.setBrush(QBrush(color) if (self.is_output or not self.optional)
                         else QBrush(color.lighter(150)))
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
    """A node card: category colour, title, state badge, labelled ports."""

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
        self.edges: list[EdgeItem] = []
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsMovable
                      | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
        self.setAcceptHoverEvents(True)
        self.setZValue(1)
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
                                port.help, getattr(port, "optional", False))
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
                  foreign: str | None = None) -> None:
        self.state = state
        self.error = error if state in (NodeState.FAILED, NodeState.SKIPPED) else None
        self.foreign = foreign
        if state != NodeState.RUNNING:
            self.progress = None
        self._refresh_tooltip()
        self.update()

    def set_progress(self, fraction: float) -> None:
        self.progress = fraction
        self.update()

    def _refresh_tooltip(self) -> None:
        parts = [f"<b>{self.title}</b> &mdash; {self.node_type.title}",
                 self.node_type.summary_line(), f"State: {self.state.value}"]
        if self.comment:
            parts.append(f"<i>{self.comment}</i>")
        if self.error:
            parts.append(f"<span style='color:#eb3b5a'>{_escape(self.error)}</span>")
        if self.foreign:
            parts.append(f"<span style='color:{FOREIGN_COLOR}'>{self.foreign}</span>")
        self.setToolTip("<br>".join(parts))

    # -- drawing --------------------------------------------------------------
    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(-2, -2, NODE_WIDTH + 4, NODE_HEIGHT + 4)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = widget.palette() if widget else None
        detail = option.levelOfDetailFromTransform(painter.worldTransform())
        if detail < 0.4:  # zoomed far out: a coloured block says enough
            self._paint_overview(painter, palette)
            return
        base = palette.base().color() if palette else QColor("#ffffff")
        text = palette.text().color() if palette else QColor("#222222")
        rect = QRectF(0, 0, NODE_WIDTH, NODE_HEIGHT)
        border = QColor("#f1c40f") if self.isSelected() else base.darker(140)
        if self.state == NodeState.FAILED:
            border = state_color(NodeState.FAILED)
        painter.setPen(QPen(border, 2.5 if self.isSelected() else 1.2))
        painter.setBrush(QBrush(base))
        painter.drawRoundedRect(rect, 7, 7)
        # Category strip on the left.
        strip = QPainterPath()
        strip.addRoundedRect(QRectF(0, 0, 10, NODE_HEIGHT), 7, 7)
        strip.addRect(QRectF(5, 0, 5, NODE_HEIGHT))
        painter.fillPath(strip, category_color(self.node_type.category))
        # Title and type.
        title_font = QFont(painter.font())
        title_font.setBold(True)
        painter.setFont(title_font)
        painter.setPen(QPen(text))
        metrics = QFontMetrics(title_font)
        title = metrics.elidedText(self.title, Qt.TextElideMode.ElideRight, int(NODE_WIDTH - 48))
        painter.drawText(QRectF(16, 14, NODE_WIDTH - 48, 20),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title)
        small = QFont(painter.font())
        small.setBold(False)
        small.setPointSizeF(max(6.5, small.pointSizeF() * 0.78))
        painter.setFont(small)
        muted = QColor(text)
        muted.setAlpha(150)
        painter.setPen(QPen(muted))
        subtitle = self.node_type.title if self.title != self.node_type.title else \
            self.node_type.category
        painter.drawText(QRectF(16, 32, NODE_WIDTH - 48, 16),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, subtitle)
        self._paint_port_labels(painter, small, muted)
        self._paint_badge(painter)

    def _paint_overview(self, painter: QPainter, palette: object) -> None:
        rect = QRectF(0, 0, NODE_WIDTH, NODE_HEIGHT)
        fill = QColor(category_color(self.node_type.category))
        fill.setAlpha(90)
        painter.setPen(QPen(QColor("#f1c40f") if self.isSelected()
                            else category_color(self.node_type.category), 3))
        painter.setBrush(QBrush(fill))
        painter.drawRoundedRect(rect, 7, 7)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(QColor(FOREIGN_COLOR) if self.foreign
                                else state_color(self.state)))
        painter.drawEllipse(QPointF(NODE_WIDTH - 20, 24), 12, 12)

    def _paint_port_labels(self, painter: QPainter, font: QFont, color: QColor) -> None:
        if len(self.inputs) + len(self.outputs) == 0:
            return
        painter.setFont(font)
        painter.setPen(QPen(color))
        for ports, y in ((self.inputs, 2.0), (self.outputs, NODE_HEIGHT - 14.0)):
            if len(ports) < 2:
                continue  # a lone port needs no label on the card; its tooltip names it
            for port in ports.values():
                x = port.pos().x()
                painter.drawText(QRectF(x - 40, y, 80, 12), Qt.AlignmentFlag.AlignCenter,
                                 port.label)

    def _paint_badge(self, painter: QPainter) -> None:
        center = QPointF(NODE_WIDTH - 20, 24)
        color = QColor(FOREIGN_COLOR) if self.foreign else state_color(self.state)
        if self.state == NodeState.RUNNING:
            painter.setPen(QPen(color.lighter(160), 3))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(center, 8, 8)
            painter.setPen(QPen(color, 3))
            span = -int(360 * 16 * (self.progress if self.progress is not None else 0.15))
            start = 90 * 16
            painter.drawArc(QRectF(center.x() - 8, center.y() - 8, 16, 16), start, span)
            return
        if self.state == NodeState.NOT_RUN:
            painter.setPen(QPen(color, 1.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(center, 7, 7)
            return
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(color))
        painter.drawEllipse(center, 9, 9)
        symbol = "\u21c4" if self.foreign else _STATE_SYMBOLS.get(self.state, "")
        if symbol:
            font = QFont(painter.font())
            font.setBold(True)
            font.setPointSizeF(8)
            painter.setFont(font)
            painter.setPen(QPen(QColor("#ffffff")))
            painter.drawText(QRectF(center.x() - 9, center.y() - 9, 18, 18),
                             Qt.AlignmentFlag.AlignCenter, symbol)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:  # noqa: N802
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.update_path()
        return super().itemChange(change, value)


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
        self.setZValue(0)
        self.setToolTip(f"{source.node_item.title}.{source.label} \u2192 "
                        f"{target.node_item.title}.{target.label} ({source.type_name})")
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
    """A free-text note; double-click to edit, drag to move."""

    def __init__(self, annotation: Annotation) -> None:
        super().__init__(annotation.text)
        self.note_id = annotation.id
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsMovable
                      | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(-1)
        self.apply(annotation)
        self.setToolTip("Note: double-click to edit")

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
        color = QColor("#fff7d6")
        painter.setPen(QPen(QColor("#f1c40f") if self.isSelected() else QColor("#e0c97a"), 1))
        painter.setBrush(QBrush(color))
        painter.drawRoundedRect(self.boundingRect(), 4, 4)
        self.setDefaultTextColor(QColor("#4a3f1c"))
        super().paint(painter, option, widget)

    def mouseDoubleClickEvent(self, event: Any) -> None:  # noqa: N802
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextEditorInteraction)
        self.setFocus()
        super().mouseDoubleClickEvent(event)

    def focusOutEvent(self, event: Any) -> None:  # noqa: N802
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        super().focusOutEvent(event)
        scene = self.scene()
        if scene is not None and hasattr(scene, "annotation_edited"):
            scene.annotation_edited(self)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

