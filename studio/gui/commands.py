"""Undo commands: every edit of the workflow is one of these, pushed on the stack.

Each command changes the Qt-free model; the canvas follows the model's
events, so undo and redo need no canvas code of their own.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from PySide6.QtGui import QUndoCommand

from studio.workflow import Edge, NodeInstance, Removal, Workflow

_SET_PARAM_ID = 1001
_MOVE_ID = 1002


class AddNodeCommand(QUndoCommand):
    """Place a new node (built on first redo, re-inserted on later redos)."""

    def __init__(self, workflow: Workflow, type_id: str, position: tuple[float, float],
                 params: dict[str, Any] | None = None, title: str = "") -> None:
        node_type = workflow.registry.get(type_id)
        super().__init__(f"Add {node_type.title}")
        self.workflow = workflow
        self.type_id = type_id
        self.position = position
        self.params = params
        self.title = title
        self.node: NodeInstance | None = None

    def redo(self) -> None:
        if self.node is None:
            self.node = self.workflow.add_node(self.type_id, self.params,
                                               position=self.position, title=self.title)
        else:
            self.workflow.insert_node(copy.deepcopy(self.node))

    def undo(self) -> None:
        assert self.node is not None
        self.workflow.remove_node(self.node.id)


class RemoveItemsCommand(QUndoCommand):
    """Delete nodes (with their wires), wires and annotations; undo puts every item
    back at its old place in the document (the saved file is byte-identical)."""

    def __init__(self, workflow: Workflow, node_ids: Iterable[str] = (),
                 edges: Iterable[Edge] = (), annotation_ids: Iterable[str] = ()) -> None:
        self.workflow = workflow
        self.node_ids = list(dict.fromkeys(node_ids))
        self.edges = [e for e in dict.fromkeys(edges)
                      if e.source not in self.node_ids and e.target not in self.node_ids]
        self.annotation_ids = list(dict.fromkeys(annotation_ids))
        count = len(self.node_ids) + len(self.edges) + len(self.annotation_ids)
        super().__init__(f"Delete {count} item{'s' if count != 1 else ''}")
        self.removal: Removal | None = None

    def redo(self) -> None:
        self.removal = self.workflow.remove_items(self.node_ids, self.edges,
                                                  self.annotation_ids)

    def undo(self) -> None:
        assert self.removal is not None
        self.workflow.restore(self.removal)
        self.removal = None


class ConnectCommand(QUndoCommand):
    """Wire an output to an input (the caller checked connection_problem first)."""

    def __init__(self, workflow: Workflow, source: str, source_port: str, target: str,
                 target_port: str) -> None:
        super().__init__("Connect")
        self.workflow = workflow
        self.edge = Edge(source, source_port, target, target_port)

    def redo(self) -> None:
        e = self.edge
        self.workflow.connect(e.source, e.source_port, e.target, e.target_port)

    def undo(self) -> None:
        self.workflow.disconnect(self.edge)


class SetParamCommand(QUndoCommand):
    """Change one parameter; consecutive edits of the same field merge into one step."""

    def __init__(self, workflow: Workflow, node_id: str, name: str, value: Any) -> None:
        super().__init__(f"Set {name}")
        self.workflow = workflow
        self.node_id = node_id
        self.name = name
        self.old = workflow.node(node_id).params.get(name)
        # Validate now, so an invalid value never enters the undo stack.
        node_type = workflow.node_type(node_id)
        self.new = node_type.parameters[name].validate(value, workflow.label(node_id))

    def id(self) -> int:
        return _SET_PARAM_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt API)
        if not isinstance(other, SetParamCommand):
            return False
        if (other.node_id, other.name) != (self.node_id, self.name):
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.workflow.set_param(self.node_id, self.name, self.new)

    def undo(self) -> None:
        self.workflow.set_param(self.node_id, self.name, self.old)


class MoveNodesCommand(QUndoCommand):
    """Move nodes and annotations that were dragged together."""

    def __init__(self, workflow: Workflow, moves: dict[str, tuple[tuple[float, float],
                                                                  tuple[float, float]]],
                 note_moves: dict[str, tuple[tuple[float, ...], tuple[float, ...]]]
                 | None = None) -> None:
        super().__init__("Move")
        self.workflow = workflow
        self.moves = moves
        self.note_moves = note_moves or {}

    def redo(self) -> None:
        for node_id, (_, new) in self.moves.items():
            self.workflow.move_node(node_id, new)
        for note_id, (_, rect) in self.note_moves.items():
            self.workflow.update_annotation(note_id, rect=rect)  # type: ignore[arg-type]

    def undo(self) -> None:
        for node_id, (old, _) in self.moves.items():
            self.workflow.move_node(node_id, old)
        for note_id, (rect, _) in self.note_moves.items():
            self.workflow.update_annotation(note_id, rect=rect)  # type: ignore[arg-type]


class RenameNodeCommand(QUndoCommand):
    def __init__(self, workflow: Workflow, node_id: str, title: str) -> None:
        super().__init__("Rename")
        self.workflow = workflow
        self.node_id = node_id
        self.old = workflow.node(node_id).title
        self.new = title

    def redo(self) -> None:
        self.workflow.rename_node(self.node_id, self.new)

    def undo(self) -> None:
        self.workflow.rename_node(self.node_id, self.old)


class CommentCommand(QUndoCommand):
    def __init__(self, workflow: Workflow, node_id: str, comment: str) -> None:
        super().__init__("Comment")
        self.workflow = workflow
        self.node_id = node_id
        self.old = workflow.node(node_id).comment
        self.new = comment

    def redo(self) -> None:
        self.workflow.set_comment(self.node_id, self.new)

    def undo(self) -> None:
        self.workflow.set_comment(self.node_id, self.old)


class AddAnnotationCommand(QUndoCommand):
    def __init__(self, workflow: Workflow, text: str,
                 rect: tuple[float, float, float, float]) -> None:
        super().__init__("Add note")
        self.workflow = workflow
        self.text = text
        self.rect = rect
        self.note_id: str | None = None

    def redo(self) -> None:
        note = self.workflow.add_annotation(self.text, self.rect, self.note_id)
        self.note_id = note.id

    def undo(self) -> None:
        assert self.note_id is not None
        self.workflow.remove_annotation(self.note_id)


class EditAnnotationCommand(QUndoCommand):
    def __init__(self, workflow: Workflow, note_id: str, text: str) -> None:
        super().__init__("Edit note")
        self.workflow = workflow
        self.note_id = note_id
        self.old = workflow.annotations[note_id].text
        self.new = text

    def redo(self) -> None:
        self.workflow.update_annotation(self.note_id, text=self.new)

    def undo(self) -> None:
        self.workflow.update_annotation(self.note_id, text=self.old)


class PasteCommand(QUndoCommand):
    """Insert copied nodes (with fresh ids) and the wires between them."""

    def __init__(self, workflow: Workflow, nodes: list[NodeInstance], edges: list[Edge]) -> None:
        super().__init__(f"Paste {len(nodes)} node{'s' if len(nodes) != 1 else ''}")
        self.workflow = workflow
        self.nodes = nodes
        self.edges = edges

    def redo(self) -> None:
        for node in self.nodes:
            self.workflow.insert_node(copy.deepcopy(node))
        for edge in self.edges:
            self.workflow.connect(edge.source, edge.source_port, edge.target, edge.target_port)

    def undo(self) -> None:
        for node in self.nodes:
            self.workflow.remove_node(node.id)
