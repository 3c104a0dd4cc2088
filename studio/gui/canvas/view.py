"""The canvas view: zoom towards the cursor, pan, rubber-band select, drop nodes."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QKeyEvent, QMouseEvent, QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import QFrame, QGraphicsView, QWidget

from studio.gui.canvas.scene import WorkflowScene

NODE_MIME_TYPE = "application/x-axon-studio-node-type"
MIN_ZOOM, MAX_ZOOM = 0.15, 3.0


class WorkflowView(QGraphicsView):
    """Shows a WorkflowScene; middle-drag or space+drag pans, the wheel zooms."""

    #: A node type was dropped from the palette: (type_id, scene position).
    node_dropped = Signal(str, QPointF)
    #: The user asked for the quick-add popup at a scene position.
    quick_add_requested = Signal(QPointF)

    def __init__(self, scene: WorkflowScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing
                            | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        # When output tabs open beside it, the workflow stays centred, not pinned left.
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._panning: QPoint | None = None
        self._space_down = False
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.minimap = MiniMap(scene, self)

    # -- zoom ---------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        target = min(max(self.zoom() * factor, MIN_ZOOM), MAX_ZOOM)
        factor = target / self.zoom()
        self.scale(factor, factor)
        self.minimap.refresh()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        if event.angleDelta().y() == 0:
            return super().wheelEvent(event)
        self.zoom_by(1.15 if event.angleDelta().y() > 0 else 1 / 1.15)
        event.accept()

    def fit_all(self) -> None:
        items = self.scene().itemsBoundingRect()
        if items.isEmpty():
            self.resetTransform()
            self.centerOn(0, 0)
        else:
            self.fitInView(items.adjusted(-60, -60, 60, 60), Qt.AspectRatioMode.KeepAspectRatio)
            if self.zoom() > 1.0:
                self.resetTransform()
                self.centerOn(items.center())
        self.minimap.refresh()

    def center_scene_pos(self) -> QPointF:
        return self.mapToScene(self.viewport().rect().center())

    # -- pan ----------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.MiddleButton or (
                self._space_down and event.button() == Qt.MouseButton.LeftButton):
            self._panning = event.position().toPoint()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if event.button() == Qt.MouseButton.RightButton and self.itemAt(
                event.position().toPoint()) is None:
            self.quick_add_requested.emit(self.mapToScene(event.position().toPoint()))
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._panning is not None:
            delta = event.position().toPoint() - self._panning
            self._panning = event.position().toPoint()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            self.minimap.refresh()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._panning is not None:
            self._panning = None
            self.unsetCursor()
            return
        super().mouseReleaseEvent(event)

    def event(self, event: QEvent) -> bool:
        # QGraphicsView hands Tab to the scene's focus chain before keyPressEvent
        # sees it; on this canvas Tab opens quick-add unless a note is being edited.
        if (event.type() == QEvent.Type.KeyPress
                and event.key() == Qt.Key.Key_Tab  # type: ignore[attr-defined]
                and not self._typing_into_note()):
            self.keyPressEvent(event)  # type: ignore[arg-type]
            return True
        return super().event(event)

    def _typing_into_note(self) -> bool:
        scene = self.scene()
        return scene is not None and scene.editing_note() is not None  # type: ignore[attr-defined]

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if self._typing_into_note():  # every key is text while a note is edited
            super().keyPressEvent(event)
            return
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = True
            self.setDragMode(QGraphicsView.DragMode.NoDrag)
            return
        if event.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Slash) and not event.modifiers():
            cursor = self.mapFromGlobal(self.cursor().pos())
            inside = self.viewport().rect().contains(cursor)
            self.quick_add_requested.emit(self.mapToScene(cursor) if inside
                                          else self.center_scene_pos())
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat() and self._space_down:
            self._space_down = False
            self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
            return
        super().keyReleaseEvent(event)

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: N802,A002 -- Tab opens quick-add
        return False

    # -- drops from the palette --------------------------------------------------
    def dragEnterEvent(self, event: Any) -> None:  # noqa: N802
        if event.mimeData().hasFormat(NODE_MIME_TYPE):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: Any) -> None:  # noqa: N802
        if event.mimeData().hasFormat(NODE_MIME_TYPE):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: Any) -> None:  # noqa: N802
        if event.mimeData().hasFormat(NODE_MIME_TYPE):
            type_id = bytes(event.mimeData().data(NODE_MIME_TYPE)).decode()
            self.node_dropped.emit(type_id, self.mapToScene(event.position().toPoint()))
            event.acceptProposedAction()
        else:
            super().dropEvent(event)

    # -- minimap ------------------------------------------------------------------
    def resizeEvent(self, event: Any) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.minimap.place()

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802
        super().scrollContentsBy(dx, dy)
        self.minimap.refresh()


class MiniMap(QGraphicsView):
    """An overview in the corner, shown when the workflow is bigger than the view."""

    def __init__(self, scene: WorkflowScene, main: WorkflowView) -> None:
        super().__init__(scene, main)
        self.main = main
        self.setInteractive(False)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setRenderHints(QPainter.RenderHint.Antialiasing)
        self.setFixedSize(170, 112)
        self.setStyleSheet("border: 1px solid palette(mid); background: palette(base);")
        self.setToolTip("Overview: click to move the view there")
        # Redrawing the whole graph on every scroll step would double the cost
        # of panning: the overview follows a moment later instead.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)
        self._timer.timeout.connect(self._refresh_now)
        self.hide()

    def place(self) -> None:
        parent = self.main.viewport()
        self.move(parent.width() - self.width() - 12, parent.height() - self.height() - 12)

    def refresh(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _refresh_now(self) -> None:
        items = self.scene().itemsBoundingRect()
        visible = self.main.mapToScene(self.main.viewport().rect()).boundingRect()
        # Only where it leaves the canvas room: a narrow canvas goes without.
        roomy = self.main.viewport().width() >= 3 * self.width()
        needed = roomy and not items.isEmpty() and not visible.contains(items)
        self.setVisible(needed)
        if needed:
            self.place()
            self.fitInView(items.united(visible).adjusted(-40, -40, 40, 40),
                           Qt.AspectRatioMode.KeepAspectRatio)
            self.viewport().update()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        visible = self.main.mapToScene(self.main.viewport().rect()).boundingRect()
        painter.setPen(QPen(QColor("#f1c40f"), 2 / max(self.transform().m11(), 1e-3)))
        painter.setBrush(QBrush(QColor(241, 196, 15, 30)))
        painter.drawRect(visible)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.main.centerOn(self.mapToScene(event.position().toPoint()))
        self._refresh_now()
