"""An open workflow in the app: the model, its file, its undo stack, its engine.

Every edit goes through an undo command (``commands.py``) that changes the
Qt-free model; the model's events are re-emitted as a Qt signal so that the
canvas and the inspector follow it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from studio.engine import DiskCache, Engine
from studio.engine.cache import memory_budget
from studio.events import Event
from studio.workflow import SUFFIX, Workflow, load_workflow, save_workflow


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
        # Results stay in memory between runs up to a quarter of the machine's memory
        # (Run Settings changes it); the disk cache keeps the rest.
        self.engine = engine or Engine(cache=DiskCache(memory_bytes=memory_budget()))
        #: Code stored in a file (Execute Python Script) runs only once the user
        #: says they trust the file; a workflow made in this session is theirs.
        self.trusted = path is None
        #: The shipped example this untitled document is a copy of, if any.
        self.copied_from: Path | None = None
        self._unsubscribe = self.workflow.events.subscribe(self._forward)

    def _forward(self, event: Event) -> None:
        self.model_event.emit(event)

    @classmethod
    def open(cls, path: Path, engine: Engine | None = None,
             parent: QObject | None = None) -> Document:
        """Load a workflow file (raises WorkflowFileError with every problem)."""
        return cls(load_workflow(path), Path(path), engine, parent)

    @classmethod
    def open_copy(cls, path: Path, engine: Engine | None = None,
                  parent: QObject | None = None) -> Document:
        """An untitled copy of a file (a shipped example): saving asks for a path,
        so the original is never overwritten. Shipped with the app, its code
        counts as the user's own."""
        document = cls(load_workflow(path), None, engine, parent)
        document.copied_from = Path(path)
        return document

    def suggested_file_name(self) -> str:
        """What Save As proposes: the file's name, else the example's, else untitled."""
        if self.path is not None:
            return self.path.name
        if self.copied_from is not None:
            return self.copied_from.name
        return f"untitled{SUFFIX}"

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
            name = self.workflow.info.name or "Untitled"
            return f"{name} (copy of an example)" if self.copied_from else name
        return self.path.name

    def close(self) -> None:
        self._unsubscribe()
        self.engine.close()

    def untrusted_code_nodes(self) -> list[str]:
        """Nodes that would run code from the file that the user has not trusted."""
        model_check = getattr(self.workflow, "untrusted_code_nodes", None)
        if model_check is not None:  # the model keeps trust per node and per code
            if self.trusted:
                self.workflow.trust()  # made in this session: the code is the user's
            return list(model_check())
        if self.trusted:
            return []
        return [n for n, node in self.workflow.nodes.items()
                if self.workflow.registry.get(node.type_id).needs_trust]

    def trust(self, node_ids: list[str]) -> None:
        """The user's explicit trust step for the code now in these nodes."""
        self.workflow.trust(node_ids)

    def node_label(self, node_id: str) -> str:
        return self.workflow.label(node_id)
