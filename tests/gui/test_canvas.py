"""The canvas: notes, drawing, cards, wires refused at the port (issue 13, items 4 and 6
and the readable-canvas list), through real mouse and key events."""

from __future__ import annotations

from conftest import (
    drag,
    drag_viewport,
    port_scene_pos,
    send_mouse,
    viewport_point,
)
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPainterPathStroker
from PySide6.QtWidgets import QApplication, QStyleOptionGraphicsItem

from studio.gui.canvas import items
from studio.gui.canvas.items import NODE_HEIGHT, NODE_WIDTH, NodeItem
from studio.gui.theme import category_color


def _double_click(window, scene_point: QPointF) -> None:
    point = viewport_point(window, scene_point)
    left = Qt.MouseButton.LeftButton
    send_mouse(window, QEvent.Type.MouseButtonPress, point, left)
    send_mouse(window, QEvent.Type.MouseButtonRelease, point, Qt.MouseButton.NoButton)
    send_mouse(window, QEvent.Type.MouseButtonDblClick, point, left)
    send_mouse(window, QEvent.Type.MouseButtonRelease, point, Qt.MouseButton.NoButton)


def _click(window, scene_point: QPointF) -> None:
    point = viewport_point(window, scene_point)
    send_mouse(window, QEvent.Type.MouseButtonPress, point, Qt.MouseButton.LeftButton)
    send_mouse(window, QEvent.Type.MouseButtonRelease, point, Qt.MouseButton.NoButton)


# -- notes (item 4) -------------------------------------------------------------------

def test_a_note_is_typed_into_with_spaces_and_gives_tab_back_afterwards(make_window, qtbot):
    window = make_window()
    window.add_node("split_data", QPointF(0, -200))
    window.view.setFocus()
    window.add_note()
    (note,) = window.scene.notes.values()
    window.view.centerOn(note)
    QApplication.processEvents()
    _double_click(window, note.mapToScene(note.boundingRect().center()))
    editing = Qt.TextInteractionFlag.TextEditorInteraction
    assert note.textInteractionFlags() & editing
    qtbot.keyClick(window.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(window.view, "split 70/30 then normalize")
    qtbot.keyClick(window.view, Qt.Key.Key_Tab)
    assert note.toPlainText() == "split 70/30 then normalize\t"
    assert not window.quick_add.isVisible()  # the keys were the note's, not the canvas'
    # A click on empty canvas ends the edit; the text reaches the model (undoably).
    _click(window, note.mapToScene(note.boundingRect().bottomRight()) + QPointF(300, 300))
    assert not note.textInteractionFlags() & editing
    (stored,) = window.document.workflow.annotations.values()
    assert stored.text == "split 70/30 then normalize\t"
    qtbot.keyClick(window.view, Qt.Key.Key_Tab)
    assert window.quick_add.isVisible()  # Tab is quick-add again
    window.quick_add.hide()
    window.document.undo_stack.undo()
    assert stored.text == "Double-click to edit this note."


def test_tab_opens_quick_add_again_once_a_note_was_edited(make_window, qtbot):
    window = make_window()
    window.view.setFocus()
    window.add_note()
    (note,) = window.scene.notes.values()
    window.view.centerOn(note)
    QApplication.processEvents()
    _double_click(window, note.mapToScene(note.boundingRect().center()))
    qtbot.keyClicks(window.view, "x")
    _click(window, note.mapToScene(note.boundingRect().bottomRight()) + QPointF(300, 300))
    qtbot.keyClick(window.view, Qt.Key.Key_Tab)
    assert window.quick_add.isVisible()
    window.quick_add.hide()


def test_a_new_note_lands_above_the_cards_and_the_wires(make_window):
    window = make_window()
    window.add_node("split_data", QPointF(0, 0))
    window.view.centerOn(0, 0)
    window.add_note()  # placed at the centre of the view: over the card
    (note,) = window.scene.notes.values()
    card = window.scene.nodes["split_data"]
    over_both = card.sceneBoundingRect().intersected(note.sceneBoundingRect()).center()
    assert window.scene.items(over_both)[0] is note
    window.add_node("train_model", QPointF(0, 300))
    window.document.workflow.connect("split_data", "train", "train_model", "data")
    (wire,) = window.scene.edges.values()
    assert note.zValue() > card.zValue() > wire.zValue()


# -- drawing (item 6) -----------------------------------------------------------------

def test_panning_draws_the_newly_exposed_strip_like_a_full_repaint(make_window):
    window = make_window()
    window.resize(900, 700)
    window.add_node("split_data", QPointF(0, 0))
    window.view.resetTransform()
    window.view.centerOn(0, 0)
    QApplication.processEvents()
    window.view.viewport().grab()  # fills the background cache
    start = QPoint(300, 300)
    drag_viewport(window, start, start + QPoint(-137, -91), steps=5,
                  button=Qt.MouseButton.MiddleButton)
    panned = window.view.viewport().grab().toImage()
    window.view.resetCachedContent()
    window.view.viewport().update()
    fresh = window.view.viewport().grab().toImage()
    assert panned.size() == fresh.size()
    assert panned == fresh, "the strip exposed by panning differs from a full repaint"


CORNER = getattr(items, "CORNER", 7.0)


def _render_card(item: NodeItem, scale: float = 4.0) -> QImage:
    image = QImage(int((NODE_WIDTH + 8) * scale), int((NODE_HEIGHT + 8) * scale),
                   QImage.Format.Format_ARGB32)
    image.fill(QColor("#000000"))
    painter = QPainter(image)
    painter.scale(scale, scale)
    painter.translate(4, 4)
    item.paint(painter, QStyleOptionGraphicsItem(), None)
    painter.end()
    return image


def test_the_category_stripe_follows_the_card_s_rounded_corners(make_window):
    """No notch: on every row the stripe runs from the card's own edge to one and the
    same right edge, solid (the corners of the stripe are the card's corners)."""
    window = make_window()
    window.add_node("split_data", QPointF(0, 0))
    item = window.scene.nodes["split_data"]
    scale = 4.0
    image = _render_card(item, scale)
    stripe = category_color(item.node_type.category)
    outline = QPainterPath()  # the card's outline: a rounded rectangle
    outline.addRoundedRect(QRectF(0, 0, NODE_WIDTH, NODE_HEIGHT), CORNER, CORNER)

    def is_stripe(x: int, y: int) -> bool:
        pixel = image.pixelColor(x, y)
        return abs(pixel.red() - stripe.red()) + abs(pixel.green() - stripe.green()) \
            + abs(pixel.blue() - stripe.blue()) < 60

    stroker = QPainterPathStroker()
    stroker.setWidth(4.0)  # the border line and its anti-aliasing
    border = stroker.createStroke(outline)
    right_edges, gaps = set(), []
    for y in range(int(4 * scale) + 2, int((NODE_HEIGHT + 4) * scale) - 2):
        scene_y = y / scale - 4
        columns = [x for x in range(int(15 * scale)) if is_stripe(x, y)]  # left of the tile
        if not columns:
            continue
        right_edges.add(max(columns))
        left = next(x for x in range(int(15 * scale))
                    if outline.contains(QPointF(x / scale - 4, scene_y)))
        gaps += [(x, y) for x in range(left, max(columns) - 1) if not is_stripe(x, y)
                 and not border.contains(QPointF(x / scale - 4, scene_y))]
    assert len(right_edges) == 1 or max(right_edges) - min(right_edges) <= 2, right_edges
    assert not gaps, f"holes in the stripe at {gaps[:5]}"


# -- cards ------------------------------------------------------------------------------

def test_card_titles_use_the_ui_font_and_long_port_labels_are_elided(make_window):
    window = make_window()
    window.add_node("evaluate_model", QPointF(0, 0))
    item = window.scene.nodes["evaluate_model"]
    compare = item.inputs["scored_to_compare"]
    assert item.port_label_is_elided(compare)
    assert compare.label in compare.toolTip()  # the whole label is one hover away
    from studio.gui.canvas.items import ui_font

    assert ui_font().pointSizeF() >= QApplication.font().pointSizeF()


def test_fit_to_window_keeps_titles_legible_when_zoomed_out(make_window):
    """Far out, a card shows its title alone, drawn at UI size on screen."""
    window = make_window()
    window.add_node("split_data", QPointF(0, 0))
    item = window.scene.nodes["split_data"]
    option = QStyleOptionGraphicsItem()
    for zoom in (1.0, 0.45, 0.15):
        image = QImage(int(NODE_WIDTH * zoom) + 4, int(NODE_HEIGHT * zoom) + 4,
                       QImage.Format.Format_ARGB32)
        image.fill(QColor("#ffffff"))
        painter = QPainter(image)
        painter.scale(zoom, zoom)
        item.paint(painter, option, None)
        painter.end()
        dark = sum(1 for y in range(image.height()) for x in range(image.width())
                   if image.pixelColor(x, y).lightness() < 80)
        if zoom == 0.45:  # simplified card: the title's text, large
            assert dark > 20
        if zoom == 0.15:  # a block of colour and the badge: no text to squint at
            assert dark < 5


# -- wires ---------------------------------------------------------------------------------

def test_a_refused_wire_explains_itself_at_the_port_in_port_titles(make_window, qtbot):
    window = make_window()
    window.add_node("split_data", QPointF(0, 0))
    window.add_node("train_model", QPointF(0, 250))
    window.view.fit_all()
    QApplication.processEvents()
    drag(window, port_scene_pos(window, "split_data", "train", True),
         port_scene_pos(window, "train_model", "learner", False))
    assert window.document.workflow.edges == []
    callout = window.scene.callout
    assert callout.isVisible()
    assert "'Learner' of 'Train Model'" in callout.text
    assert "Table" in callout.text and "Learner" in callout.text
    assert "train_model" not in callout.text  # titles, not ids
    target = port_scene_pos(window, "train_model", "learner", False)
    assert (callout.pos() - target).manhattanLength() < 1
    assert callout.text.removeprefix("Cannot connect: ") in window.status_label.text()


def test_a_second_wire_into_an_input_that_takes_many(make_window, toy_registry):
    """Compare Hardware's reports input takes any number of wires."""
    window = make_window()
    workflow = window.document.workflow
    node_type = workflow.registry.get("compare_hardware")
    port = next(name for name, p in node_type.inputs.items() if getattr(p, "multiple", False))
    report_makers = [t for t in workflow.registry.all() if any(
        p.type.name == "HardwareReport" for p in t.outputs.values())]
    assert report_makers
    window.add_node("compare_hardware", QPointF(0, 300))
    first = window.add_node(report_makers[0].type_id, QPointF(-250, 0))
    second = window.add_node(report_makers[0].type_id, QPointF(250, 0))
    window.view.fit_all()
    QApplication.processEvents()
    for source in (first, second):
        out = next(n for n, p in workflow.node_type(source).outputs.items()
                   if p.type.name == "HardwareReport")
        drag(window, port_scene_pos(window, source, out, True),
             port_scene_pos(window, "compare_hardware", port, False))
    assert len([e for e in workflow.edges if e.target == "compare_hardware"]) == 2
    assert len(window.scene.edges) == 2
