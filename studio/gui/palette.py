"""The node palette (left dock) and the quick-add popup on the canvas."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QMimeData, QPoint, Qt, Signal
from PySide6.QtGui import QIcon, QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nodes.node import Node
from nodes.registry import NodeRegistry
from studio.gui.canvas.view import NODE_MIME_TYPE
from studio.gui.icons import category_icon
from studio.gui.theme import category_color

_TYPE_ROLE = Qt.ItemDataRole.UserRole + 1


def _names(node_type: type[Node]) -> list[str]:
    """The names a node type answers to: its title and its classic module names."""
    return [node_type.title, *node_type.aliases]


def relevance(node_type: type[Node], text: str) -> int:
    """Sort key for search results: name matches first (title or classic name), then
    the rest."""
    query = text.strip().lower()
    if not query:
        return 0
    names = [name.lower() for name in _names(node_type)]
    if any(name.startswith(query) for name in names):
        return 0
    if any(query in name for name in names):
        return 1
    return 2


def matches(node_type: type[Node], text: str) -> bool:
    """Does a search text match a node type's title, classic (Azure ML Studio) names,
    id, category or description? Every word must appear somewhere."""
    words = text.lower().split()
    haystack = " ".join([*_names(node_type), node_type.type_id, node_type.category,
                         node_type.summary_line()]).lower()
    return all(word in haystack for word in words)


def alias_note(node_type: type[Node], text: str) -> str:
    """The classic name a search matched, when it is not the title (shown beside it)."""
    words = text.lower().split()
    if not words or all(w in node_type.title.lower() for w in words):
        return ""
    for alias in node_type.aliases:
        if all(w in alias.lower() for w in words):
            return alias
    return ""


def _dot_icon(node_type: type[Node]) -> QIcon:
    return category_icon(node_type.category, category_color(node_type.category).name())


class _NodeTree(QTreeWidget):
    """The tree of node types; dragging an entry carries its type id."""

    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:  # noqa: N802 (Qt API)
        data = QMimeData()
        type_id = items[0].data(0, _TYPE_ROLE) if items else None
        if type_id:
            data.setData(NODE_MIME_TYPE, type_id.encode())
            data.setText(type_id)
        return data


class NodePalette(QWidget):
    """Node types by category, with a search box that filters as you type."""

    #: Add this node type at the centre of the view (double-click or Enter).
    node_requested = Signal(str)

    def __init__(self, registry: NodeRegistry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.registry = registry
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search nodes (also classic Azure ML names)")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Filter the node types; Enter adds the first match")
        self.tree = _NodeTree()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QTreeWidget.DragDropMode.DragOnly)
        self.tree.setToolTip("Drag a node onto the canvas, or double-click to add it")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._populate()
        self.search.textChanged.connect(self.apply_filter)
        self.search.returnPressed.connect(self._add_first_match)
        self.tree.itemActivated.connect(self._activated)

    def _populate(self) -> None:
        self.tree.clear()
        groups: dict[str, QTreeWidgetItem] = {}
        for node_type in self.registry.all():
            group = groups.get(node_type.category)
            if group is None:
                group = QTreeWidgetItem([node_type.category])
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                self.tree.addTopLevelItem(group)
                groups[node_type.category] = group
            item = QTreeWidgetItem([node_type.title])
            item.setData(0, _TYPE_ROLE, node_type.type_id)
            item.setIcon(0, _dot_icon(node_type))
            aliases = node_type.aliases
            item.setToolTip(0, f"<b>{node_type.title}</b><br>{node_type.summary_line()}"
                            + (f"<br><i>Classic name: {', '.join(aliases)}</i>" if aliases
                               else ""))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                          | Qt.ItemFlag.ItemIsDragEnabled)
            group.addChild(item)
        self.tree.expandAll()

    def apply_filter(self, text: str) -> None:
        for index in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(index)
            shown = 0
            for child_index in range(group.childCount()):
                child = group.child(child_index)
                node_type = self.registry.get(child.data(0, _TYPE_ROLE))
                visible = matches(node_type, text)
                child.setHidden(not visible)
                shown += visible
            group.setHidden(shown == 0)

    def visible_type_ids(self) -> list[str]:
        found = []
        for index in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(index)
            for child_index in range(group.childCount()):
                child = group.child(child_index)
                if not child.isHidden() and not group.isHidden():
                    found.append(child.data(0, _TYPE_ROLE))
        return found

    def _add_first_match(self) -> None:
        visible = self.visible_type_ids()
        if visible:
            self.node_requested.emit(visible[0])

    def _activated(self, item: QTreeWidgetItem) -> None:
        type_id = item.data(0, _TYPE_ROLE)
        if type_id:
            self.node_requested.emit(type_id)


class QuickAdd(QFrame):
    """A popup: type to filter node types, Enter to add (optionally only those
    that accept a given port type, when a wire was dropped on the canvas)."""

    chosen = Signal(str)

    def __init__(self, registry: NodeRegistry, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.registry = registry
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("Add node: type to search, Enter to add")
        self.list = QListWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.edit)
        layout.addWidget(self.list)
        self.resize(320, 300)
        self.accept_filter: Callable[[type[Node]], bool] | None = None
        self.edit.textChanged.connect(self._refresh)
        self.edit.installEventFilter(self)
        self.list.itemActivated.connect(self._choose)

    def open_at(self, global_pos: QPoint,
                accept_filter: Callable[[type[Node]], bool] | None = None) -> None:
        self.accept_filter = accept_filter
        self.edit.clear()
        self._refresh("")
        self.move(global_pos)
        self.show()
        self.edit.setFocus()

    def _refresh(self, text: str) -> None:
        self.list.clear()
        ranked = sorted(self.registry.all(), key=lambda t: relevance(t, text))
        for node_type in ranked:
            if self.accept_filter is not None and not self.accept_filter(node_type):
                continue
            if not matches(node_type, text):
                continue
            alias = alias_note(node_type, text)
            item = QListWidgetItem(_dot_icon(node_type),
                                   f"{node_type.title}  \u2014  {node_type.category}"
                                   + (f"   ({alias})" if alias else ""))
            item.setData(_TYPE_ROLE, node_type.type_id)
            item.setToolTip(node_type.summary_line())
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def eventFilter(self, watched: object, event: object) -> bool:  # noqa: N802
        if watched is self.edit and isinstance(event, QKeyEvent) \
                and event.type() == QKeyEvent.Type.KeyPress:
            if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                step = 1 if event.key() == Qt.Key.Key_Down else -1
                row = min(max(self.list.currentRow() + step, 0), self.list.count() - 1)
                self.list.setCurrentRow(row)
                return True
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if self.list.currentItem() is not None:
                    self._choose(self.list.currentItem())
                return True
            if event.key() == Qt.Key.Key_Escape:
                self.hide()
                return True
        return False

    def _choose(self, item: QListWidgetItem) -> None:
        type_id = item.data(_TYPE_ROLE)
        self.hide()
        self.chosen.emit(type_id)
