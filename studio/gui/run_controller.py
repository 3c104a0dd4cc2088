"""Runs the engine off the GUI thread and brings its events back as Qt signals.

The run works on a snapshot of the workflow taken on the GUI thread, so the
user can keep editing while it runs; edits made meanwhile simply leave the
affected nodes outdated. Signals emitted from the worker thread reach the
GUI thread through Qt's queued connections, so slots never race the canvas.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from nodes.errors import StudioError
from studio.engine.record import RunRecord
from studio.events import Event
from studio.gui.document import Document
from studio.gui.run_settings import RunSettings
from studio.workflow import WorkflowInvalidError


class RunController(QObject):
    """Start, follow and cancel runs of one document."""

    run_started = Signal(str, list)  # run_id, node ids in run order
    node_state = Signal(str, object, object)  # node_id, NodeState, error text or None
    node_progress = Signal(str, float, str)  # node_id, fraction, message
    run_finished = Signal(object)  # RunRecord
    run_invalid = Signal(list)  # [Problem]
    run_crashed = Signal(str)  # an unexpected error in the engine itself

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self.settings = RunSettings()
        self._applied: RunSettings | None = RunSettings()
        self._unsubscribe = document.engine.events.subscribe(self._forward)

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, targets: list[str] | None = None) -> bool:
        """Start a run in the background; False if one is already running."""
        if self.busy:
            return False
        snapshot = self.document.workflow.copy()
        path = self.document.path
        trusted = self.document.trusted
        self._cancel = threading.Event()
        cancel = self._cancel
        engine = self.document.engine
        settings = self.settings if self.settings != self._applied else None
        self._applied = self.settings

        def work() -> None:
            try:
                if settings is not None:  # starting a Dask cluster takes seconds: not here
                    engine.use_executor(settings.make_executor())
                engine.run(snapshot, targets=targets, cancel_event=cancel,
                           workflow_path=path, trusted=trusted)
            except WorkflowInvalidError as error:
                self.run_invalid.emit(error.problems)
            except StudioError as error:  # e.g. no Dask scheduler at that address
                self._applied = None
                self.run_crashed.emit(str(error))
            except Exception as error:  # reported in the log, never a silent stop
                self._applied = None
                self.run_crashed.emit(f"{type(error).__name__}: {error}")

        self._thread = threading.Thread(target=work, name="axon-run", daemon=True)
        self._thread.start()
        return True

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run ends (tests and shutdown only, never from a GUI slot)."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def close(self) -> None:
        self.cancel()
        self._unsubscribe()

    def _forward(self, event: Event) -> None:
        if event.kind == "run_started":
            self.run_started.emit(event["run_id"], list(event["nodes"]))
        elif event.kind == "node_state":
            self.node_state.emit(event["node_id"], event["state"], event["error"])
        elif event.kind == "node_progress":
            self.node_progress.emit(event["node_id"], event["fraction"], event["message"])
        elif event.kind == "run_finished":
            record: RunRecord = event["record"]
            self.run_finished.emit(record)
