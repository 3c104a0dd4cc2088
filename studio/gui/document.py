"""An open workflow in the app: the model, its file, its undo stack, its engine.

Every edit goes through an undo command (``commands.py``) that changes the
Qt-free model; the model's events are re-emitted as a Qt signal so that the
canvas and the inspector follow it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from studio.engine import DiskCache, Engine
from studio.events import Event
from studio.workflow import Workflow, load_workflow, save_workflow


class Document(QObject):
    """One workflow as the user edits it."""

    #: A model event (studio.events.Event), re-emitted on the GUI thread.
    model_event = Signal(object)
    #: The file path changed (after Save As / Open).
    path_changed = Signal(object)

    def __init__(self, workflow: Workflow | None = None, path: Path | None = None,
                 engine: Engine | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workflow = workflow or Workflow()
        self.path = path
        self.undo_stack = QUndoStack(self)
        self.engine = engine or Engine(cache=DiskCache())
        #: Code stored in a file (Execute Python Script) runs only once the user
        #: says they trust the file; a workflow made in this session is theirs.
        self.trusted = path is None
        self._unsubscribe = self.workflow.events.subscribe(self._forward)

    def _forward(self, event: Event) -> None:
        self.model_event.emit(event)

    @classmethod
    def open(cls, path: Path, engine: Engine | None = None,
             parent: QObject | None = None) -> Document:
        """Load a workflow file (raises WorkflowFileError with every problem)."""
        return cls(load_workflow(path), Path(path), engine, parent)

    def save(self, path: Path | None = None) -> Path:
        target = Path(path or self.path)  # type: ignore[arg-type]
        save_workflow(self.workflow, target)
        if target != self.path:
            self.path = target
            self.path_changed.emit(target)
        self.undo_stack.setClean()
        return target

    @property
    def dirty(self) -> bool:
        return not self.undo_stack.isClean()

    @property
    def display_name(self) -> str:
        if self.path is None:
            return self.workflow.info.name or "Untitled"
        return self.path.name

    def close(self) -> None:
        self._unsubscribe()
        self.engine.close()

    def untrusted_code_nodes(self) -> list[str]:
        """Nodes that would run code from the file, while the file is not trusted."""
        if self.trusted:
            return []
        return [n for n, node in self.workflow.nodes.items()
                if self.workflow.registry.get(node.type_id).needs_trust]

    def node_label(self, node_id: str) -> str:
        return self.workflow.label(node_id)

    def snapshot_params(self, node_id: str) -> dict[str, Any]:
        return dict(self.workflow.node(node_id).params)
