"""The canvas scene: mirrors the workflow model and turns gestures into commands.

The scene listens to the document's model events (node added, edge removed,
...) and keeps one item per model object. Mouse gestures (dragging a wire,
moving nodes, deleting) become undo commands on the document; the scene
never changes the model directly, so undo/redo always match what is drawn.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsObject,
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from studio.engine.states import NodeState
from studio.events import Event
from studio.gui.canvas.items import (
    Z_DRAG,
    AnnotationItem,
    EdgeItem,
    NodeItem,
    PortItem,
    ui_font,
    wire_path,
)
from studio.gui.commands import (
    ConnectCommand,
    EditAnnotationCommand,
    MoveNodesCommand,
    RemoveItemsCommand,
)
from studio.gui.document import Document
from studio.gui.theme import blend, port_color
from studio.workflow import Edge
from studio.workflow.errors import InputTakenError, PortTypeError

GRID_STEP = 40
#: How long a refused wire's explanation stays at the port after the release.
CALLOUT_MS = 5000


class RefusalCallout(QGraphicsObject):
    """Why a wire cannot go here, drawn next to the port that refuses it."""

    MAX_WIDTH = 300.0

    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        self.setZValue(Z_DRAG)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self._rect = QRectF()
        self.hide()

    def show_text(self, text: str, anchor: QPointF, above: bool) -> None:
        self.prepareGeometryChange()
        self.text = text
        metrics = QFontMetricsF(ui_font())
        box = metrics.boundingRect(QRectF(0, 0, self.MAX_WIDTH, 1000),
                                   int(Qt.TextFlag.TextWordWrap), text)
        width, height = box.width() + 16, box.height() + 10
        self._rect = QRectF(-width / 2, -height - 12 if above else 12, width, height)
        self.setPos(anchor)
        self.show()
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._rect.adjusted(-2, -2, 2, 2)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#b8323f"), 1.2))
        painter.setBrush(QColor("#fff0f1"))
        painter.drawRoundedRect(self._rect, 5, 5)
        painter.setFont(ui_font())
        painter.setPen(QColor("#5c1119"))
        painter.drawText(self._rect.adjusted(8, 5, -8, -5), Qt.TextFlag.TextWordWrap, self.text)


class WorkflowScene(QGraphicsScene):
    """Items for one document's nodes, wires and notes."""

    #: A message for the status bar (e.g. why a wire was refused).
    status_message = Signal(str)
    #: An output port was clicked: (node_id, port name).
    output_clicked = Signal(str, str)
    #: A wire was dropped on empty canvas: (scene position, node_id, port, is_output).
    wire_dropped_on_canvas = Signal(QPointF, str, str, bool)
    #: A node was double-clicked: node_id.
    node_activated = Signal(str)

    def __init__(self, document: Document) -> None:
        super().__init__()
        self.document = document
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[Edge, EdgeItem] = {}
        self.notes: dict[str, AnnotationItem] = {}
        self._drag_port: PortItem | None = None
        self._drag_wire: QGraphicsPathItem | None = None
        self._press_positions: dict[str, tuple[float, float]] = {}
        self._press_notes: dict[str, tuple[float, ...]] = {}
        self._press_scene_pos: QPointF | None = None
        self.callout = RefusalCallout()
        self.addItem(self.callout)
        self._callout_timer = QTimer(self)
        self._callout_timer.setSingleShot(True)
        self._callout_timer.timeout.connect(self.callout.hide)
        self.setSceneRect(-5000, -5000, 10000, 10000)
        workflow = document.workflow
        for node in workflow.nodes.values():
            self._add_node_item(node)
        for edge in workflow.edges:
            self._add_edge_item(edge)
        for note in workflow.annotations.values():
            self._add_note_item(note)
        document.model_event.connect(self._on_model_event)

    # -- following the model --------------------------------------------------
    def _on_model_event(self, event: Event) -> None:
        kind = event.kind
        if kind == "node_added":
            self._add_node_item(event["node"])
        elif kind == "node_removed":
            item = self.nodes.pop(event["node"].id, None)
            if item is not None:
                self.removeItem(item)
        elif kind == "edge_added":
            self._add_edge_item(event["edge"])
        elif kind == "edge_removed":
            item = self.edges.pop(event["edge"], None)
            if item is not None:
                item.detach()
                self.removeItem(item)
        elif kind == "node_moved":
            item = self.nodes[event["node_id"]]
            position = QPointF(*event["position"])
            if item.pos() != position:
                item.setPos(position)
        elif kind == "node_renamed":
            node_id = event["node_id"]
            self.nodes[node_id].set_title(self.document.workflow.label(node_id))
        elif kind == "comment_changed":
            self.nodes[event["node_id"]].set_comment(event["comment"])
        elif kind == "annotation_added":
            self._add_note_item(event["annotation"])
        elif kind == "annotation_removed":
            item = self.notes.pop(event["annotation"].id, None)
            if item is not None:
                self.removeItem(item)
        elif kind == "annotation_changed":
            self.notes[event["annotation"].id].apply(event["annotation"])

    def _add_node_item(self, node: Any) -> None:
        item = NodeItem(node, self.document.workflow.registry.get(node.type_id))
        self.nodes[node.id] = item
        self.addItem(item)

    def _add_edge_item(self, edge: Edge) -> None:
        source = self.nodes[edge.source].port(edge.source_port, output=True)
        target = self.nodes[edge.target].port(edge.target_port, output=False)
        item = EdgeItem(edge, source, target)
        self.edges[edge] = item
        self.addItem(item)

    def _add_note_item(self, note: Any) -> None:
        item = AnnotationItem(note)
        self.notes[note.id] = item
        self.addItem(item)

    def annotation_edited(self, item: AnnotationItem) -> None:
        note = self.document.workflow.annotations.get(item.note_id)
        if note is not None and note.text != item.toPlainText():
            self.document.undo_stack.push(EditAnnotationCommand(
                self.document.workflow, item.note_id, item.toPlainText()))

    def editing_note(self) -> AnnotationItem | None:
        """The note whose text is being edited, if any (it owns the keyboard)."""
        item = self.focusItem()
        return item if isinstance(item, AnnotationItem) and item.editing else None

    # -- run state --------------------------------------------------------------
    def set_node_state(self, node_id: str, state: NodeState, error: str | None = None,
                       foreign: str | None = None, warnings: list[str] | None = None) -> None:
        item = self.nodes.get(node_id)
        if item is not None:
            item.set_state(state, error, foreign, warnings)

    def set_node_progress(self, node_id: str, fraction: float) -> None:
        item = self.nodes.get(node_id)
        if item is not None:
            item.set_progress(fraction)

    def set_problems(self, problems: dict[str, list[str]]) -> None:
        """Mark the nodes that cannot run yet, each with its reasons."""
        for node_id, item in self.nodes.items():
            item.set_problems(problems.get(node_id, []))

    # -- selection ----------------------------------------------------------------
    def selected_node_ids(self) -> list[str]:
        return [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]

    def delete_selection(self) -> None:
        items = self.selectedItems()
        node_ids = [i.node_id for i in items if isinstance(i, NodeItem)]
        edges = [i.edge for i in items if isinstance(i, EdgeItem)]
        notes = [i.note_id for i in items if isinstance(i, AnnotationItem)]
        if node_ids or edges or notes:
            self.document.undo_stack.push(RemoveItemsCommand(
                self.document.workflow, node_ids, edges, notes))

    # -- wiring by mouse ------------------------------------------------------------
    def port_at(self, position: QPointF) -> PortItem | None:
        for item in self.items(position):
            if isinstance(item, PortItem):
                return item
        return None

    def connection_problem(self, start: PortItem, end: PortItem) -> str | None:
        """Why dropping a wire from ``start`` on ``end`` would be refused, in the
        words on the canvas (node titles, port labels), or None."""
        if start.is_output == end.is_output:
            return ("connect an output (the bottom of a card) to an input (the top of a "
                    "card)")
        source, target = (start, end) if start.is_output else (end, start)
        workflow = self.document.workflow
        refusal = workflow.connection_refusal(source.node_id, source.name, target.node_id,
                                              target.name)
        if refusal is None:
            return None
        out = f"output '{source.label}' of '{source.node_item.title}'"
        into = f"input '{target.label}' of '{target.node_item.title}'"
        if isinstance(refusal, PortTypeError):
            return f"{out} gives a {source.type_name}, and {into} takes a {target.type_name}"
        if isinstance(refusal, InputTakenError):
            existing = refusal.existing
            feeder = (self.nodes[existing.source].title if existing.source in self.nodes
                      else "another node")
            return (f"{into} already has a wire from '{feeder}' and takes only one "
                    "(delete that wire first)")
        return refusal.reason

    def _highlight_ports(self, start: PortItem | None) -> None:
        for node_item in self.nodes.values():
            for port in [*node_item.inputs.values(), *node_item.outputs.values()]:
                if start is None or port is start:
                    port.highlight = None
                elif port.node_item is start.node_item or port.is_output == start.is_output:
                    port.highlight = "incompatible"
                else:
                    ok = self.connection_problem(start, port) is None
                    port.highlight = "compatible" if ok else "incompatible"
                port.update()

    def explain_at(self, port: PortItem, problem: str, linger: bool = False) -> None:
        """Show why a wire is refused next to the port (for a while after a release)."""
        self.callout.show_text(f"Cannot connect: {problem}.", port.scene_anchor(),
                               above=not port.is_output)
        if linger:
            self._callout_timer.start(CALLOUT_MS)
        else:
            self._callout_timer.stop()

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        self.callout.hide()
        if event.button() == Qt.MouseButton.LeftButton:
            port = self.port_at(event.scenePos())
            if port is not None:
                self._drag_port = port
                self._press_scene_pos = event.scenePos()
                self._drag_wire = QGraphicsPathItem()
                self._drag_wire.setPen(QPen(port_color(port.type_name), 2.5,
                                            Qt.PenStyle.DashLine))
                self._drag_wire.setZValue(Z_DRAG)
                self.addItem(self._drag_wire)
                self._highlight_ports(port)
                event.accept()
                return
        super().mousePressEvent(event)
        self._press_positions = {i.node_id: (i.pos().x(), i.pos().y())
                                 for i in self.selectedItems() if isinstance(i, NodeItem)}
        self._press_notes = {i.note_id: i.rect_tuple()
                             for i in self.selectedItems() if isinstance(i, AnnotationItem)}

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self._drag_port is not None and self._drag_wire is not None:
            anchor = self._drag_port.scene_anchor()
            here = event.scenePos()
            path = (wire_path(anchor, here) if self._drag_port.is_output
                    else wire_path(here, anchor))
            self._drag_wire.setPath(path)
            target = self.port_at(here)
            if target is not None and target is not self._drag_port:
                problem = self.connection_problem(self._drag_port, target)
                if problem:
                    self.explain_at(target, problem)
                    self.status_message.emit(f"Cannot connect: {problem}.")
                else:
                    self.callout.hide()
                    self.status_message.emit(f"Release to connect to '{target.label}' of "
                                             f"'{target.node_item.title}'")
            else:
                self.callout.hide()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self._drag_port is not None:
            self._finish_wire(event.scenePos())
            return
        super().mouseReleaseEvent(event)
        self._commit_moves()

    def _finish_wire(self, position: QPointF) -> None:
        start = self._drag_port
        assert start is not None
        if self._drag_wire is not None:
            self.removeItem(self._drag_wire)
        self._drag_port, self._drag_wire = None, None
        self._highlight_ports(None)
        self.callout.hide()
        moved = self._press_scene_pos is not None and (
            (position - self._press_scene_pos).manhattanLength() > 4)
        end = self.port_at(position)
        if not moved and end is start:
            if start.is_output:
                self.output_clicked.emit(start.node_id, start.name)
            return
        if end is None:
            self.wire_dropped_on_canvas.emit(position, start.node_id, start.name,
                                             start.is_output)
            return
        self.connect_ports(start, end)

    def connect_ports(self, start: PortItem, end: PortItem) -> bool:
        """Connect two ports through the undo stack, or explain the refusal at the port."""
        problem = self.connection_problem(start, end)
        if problem:
            self.explain_at(end, problem, linger=True)
            self.status_message.emit(f"Cannot connect: {problem}.")
            return False
        source, target = (start, end) if start.is_output else (end, start)
        self.document.undo_stack.push(ConnectCommand(
            self.document.workflow, source.node_id, source.name, target.node_id, target.name))
        self.status_message.emit(f"Connected '{source.label}' of '{source.node_item.title}' "
                                 f"\u2192 '{target.label}' of '{target.node_item.title}'")
        return True

    def _commit_moves(self) -> None:
        moves = {}
        for node_id, old in self._press_positions.items():
            item = self.nodes.get(node_id)
            if item is not None and (item.pos().x(), item.pos().y()) != old:
                moves[node_id] = (old, (item.pos().x(), item.pos().y()))
        notes = {}
        for note_id, old_rect in self._press_notes.items():
            item = self.notes.get(note_id)
            if item is not None and item.rect_tuple()[:2] != old_rect[:2]:
                notes[note_id] = (old_rect, item.rect_tuple())
        self._press_positions, self._press_notes = {}, {}
        if moves or notes:
            self.document.undo_stack.push(MoveNodesCommand(self.document.workflow, moves, notes))

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        for item in self.items(event.scenePos()):
            if isinstance(item, AnnotationItem):
                break  # the note starts editing itself
            if isinstance(item, NodeItem):
                self.node_activated.emit(item.node_id)
                return
        super().mouseDoubleClickEvent(event)

    def drawBackground(self, painter: Any, rect: Any) -> None:  # noqa: N802
        # Opaque, every time: the view caches the background and scrolls that cache
        # when panning, so a strip drawn with see-through lines over whatever the
        # cache held would pile up into dense stripes.
        palette = self.palette()
        base = palette.base().color()
        painter.fillRect(rect, base)
        painter.setPen(QPen(blend(base, palette.text().color(), 0.06), 0))
        left = int(rect.left()) - int(rect.left()) % GRID_STEP
        top = int(rect.top()) - int(rect.top()) % GRID_STEP
        x = left
        while x <= rect.right():
            painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
            x += GRID_STEP
        y = top
        while y <= rect.bottom():
            painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
            y += GRID_STEP
