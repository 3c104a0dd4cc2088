"""Runs the engine off the GUI thread and brings its events back as Qt signals.

The run works on a snapshot of the workflow taken on the GUI thread, so the
user can keep editing while it runs; edits made meanwhile simply leave the
affected nodes outdated. Signals emitted from the worker thread reach the
GUI thread through Qt's queued connections, so slots never race the canvas.

A run is ``busy`` from ``start`` until its end has been *delivered* on the
GUI thread, not merely until the worker thread stops: the worker can finish
while its last signals still wait in the GUI thread's queue (on a loaded
machine it often does), and whoever asked "is it over?" would then look at
badges and buttons that have not heard of the end yet.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from nodes.errors import StudioError
from studio.engine.cache import memory_layer
from studio.engine.record import RunRecord
from studio.events import Event
from studio.gui.document import Document
from studio.gui.run_settings import RunSettings
from studio.gui.settings import memory_mb, remember_memory_mb
from studio.workflow import WorkflowInvalidError


class RunController(QObject):
    """Start, follow and cancel runs of one document."""

    run_started = Signal(str, list)  # run_id, node ids in run order
    #: node_id, NodeState, error text or None, warnings the node raised (list of text)
    node_state = Signal(str, object, object, object)
    node_progress = Signal(str, float, str)  # node_id, fraction, message
    run_finished = Signal(object)  # RunRecord
    run_invalid = Signal(list)  # [Problem]
    run_crashed = Signal(str)  # an unexpected error in the engine itself
    #: The run is over and every signal it sent has been delivered (GUI thread).
    run_ended = Signal()
    _worker_done = Signal()

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._thread: threading.Thread | None = None
        self._active = False
        self._cancel = threading.Event()
        self._settings = RunSettings(memory_mb=memory_mb())
        self._applied: RunSettings | None = RunSettings()
        self._worker_done.connect(self._deliver_end)
        self._unsubscribe = document.engine.events.subscribe(self._forward)

    @property
    def settings(self) -> RunSettings:
        """Where and how the next run runs (the memory for results is remembered)."""
        return self._settings

    @settings.setter
    def settings(self, value: RunSettings) -> None:
        if value.memory_mb != self._settings.memory_mb:
            remember_memory_mb(value.memory_mb)
        self._settings = value

    @property
    def busy(self) -> bool:
        """True from ``start`` until the run's end has reached the GUI thread."""
        return self._active

    def start(self, targets: list[str] | None = None) -> bool:
        """Start a run in the background; False if one is already running."""
        if self._active:
            return False
        # The snapshot carries the code the user trusted (Workflow.trust); the engine
        # refuses any other.
        snapshot = self.document.workflow.copy()
        path = self.document.path
        self._cancel = threading.Event()
        cancel = self._cancel
        engine = self.document.engine
        settings = self.settings if not self.settings.same_executor(self._applied) else None
        memory = self.settings.memory_bytes if self.settings != self._applied else None
        self._applied = self.settings

        def work() -> None:
            try:
                if settings is not None:  # starting a Dask cluster takes seconds: not here
                    engine.use_executor(settings.make_executor())
                kept = memory_layer(engine.cache)
                if memory is not None and kept is not None:
                    kept.set_budget(memory)  # sizes every entry kept: not on the GUI thread
                engine.run(snapshot, targets=targets, cancel_event=cancel,
                           workflow_path=path)
            except WorkflowInvalidError as error:
                self.run_invalid.emit(error.problems)
            except StudioError as error:  # e.g. no Dask scheduler at that address
                self._applied = None
                self.run_crashed.emit(str(error))
            except Exception as error:  # reported in the log, never a silent stop
                self._applied = None
                self.run_crashed.emit(f"{type(error).__name__}: {error}")
            finally:
                self._worker_done.emit()  # queued behind every signal the run sent

        self._active = True
        self._thread = threading.Thread(target=work, name="axon-run", daemon=True)
        self._thread.start()
        return True

    def _deliver_end(self) -> None:
        self._active = False
        self.run_ended.emit()

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the worker thread stops (tests and shutdown only, never from a
        GUI slot); the end reaches ``busy`` only once the GUI thread processes it."""
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
            self.node_state.emit(event["node_id"], event["state"], event["error"],
                                 list(event.data.get("warnings") or []))
        elif event.kind == "node_progress":
            self.node_progress.emit(event["node_id"], event["fraction"], event["message"])
        elif event.kind == "run_finished":
            record: RunRecord = event["record"]
            self.run_finished.emit(record)
