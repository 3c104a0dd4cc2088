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

Every run that ends with a record is kept in the run store, as ``studio run``
keeps its runs (source "gui"), and sent to MLflow when Run Settings names a
tracking URI. That happens in the worker thread, after the engine returned and
before the end is delivered, so the Runs panel, refreshed at ``run_ended``,
lists it. A store or MLflow that refuses the run loses nothing: the results
are shown all the same and the refusal goes to the run log (``run_note``).
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from nodes.errors import StudioError
from studio.engine import Engine
from studio.engine.cache import memory_layer
from studio.engine.record import RunRecord
from studio.events import Event
from studio.gui.document import Document
from studio.gui.run_settings import RunSettings
from studio.gui.settings import memory_mb, mlflow_uri, remember_memory_mb, remember_mlflow_uri
from studio.runs import default_runs_dir, record_run
from studio.runs.mlflow_log import MlflowLoggingError
from studio.runs.store import ENV_RUNS_DIR
from studio.workflow import Workflow, WorkflowInvalidError


class RunController(QObject):
    """Start, follow and cancel runs of one document."""

    run_started = Signal(str, list)  # run_id, node ids in run order
    #: node_id, NodeState, error text or None, warnings the node raised (list of text)
    node_state = Signal(str, object, object, object)
    node_progress = Signal(str, float, str)  # node_id, fraction, message
    run_finished = Signal(object)  # RunRecord
    run_invalid = Signal(list)  # [Problem]
    run_crashed = Signal(str)  # an unexpected error in the engine itself
    #: What became of the finished run's record: text, level ("info" or "error"); e.g.
    #: the run store or MLflow refused it (the run's results are there all the same).
    run_note = Signal(str, str)
    #: The run is over and every signal it sent has been delivered (GUI thread).
    run_ended = Signal()
    _worker_done = Signal()

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._thread: threading.Thread | None = None
        self._active = False
        self._cancel = threading.Event()
        self._settings = RunSettings(memory_mb=memory_mb(), mlflow_uri=mlflow_uri())
        self._applied: RunSettings | None = RunSettings()
        self._worker_done.connect(self._deliver_end)
        self._unsubscribe = document.engine.events.subscribe(self._forward)

    @property
    def settings(self) -> RunSettings:
        """Where and how the next run runs (the memory for results and the MLflow
        tracking URI are remembered)."""
        return self._settings

    @settings.setter
    def settings(self, value: RunSettings) -> None:
        if value.memory_mb != self._settings.memory_mb:
            remember_memory_mb(value.memory_mb)
        if value.mlflow_uri != self._settings.mlflow_uri:
            remember_mlflow_uri(value.mlflow_uri)
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
        memory = (self.settings.memory_bytes if self._applied is None
                  or self.settings.memory_mb != self._applied.memory_mb else None)
        self._applied = self.settings
        tracking = self.settings.mlflow_uri or None

        def work() -> None:
            try:
                if settings is not None:  # starting a Dask cluster takes seconds: not here
                    engine.use_executor(settings.make_executor())
                kept = memory_layer(engine.cache)
                if memory is not None and kept is not None:
                    kept.set_budget(memory)  # sizes every entry kept: not on the GUI thread
                record = engine.run(snapshot, targets=targets, cancel_event=cancel,
                                    workflow_path=path)
                self._keep(record, snapshot, path, engine, tracking)
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

    def _keep(self, record: RunRecord, workflow: Workflow, path: Path | None, engine: Engine,
              tracking: str | None) -> None:
        """Keep the run in the run store (and MLflow): worker thread only. A refusal is
        a note in the run log, never a lost run."""
        try:
            stored = record_run(record, workflow, workflow_path=path, engine=engine,
                                source="gui", mlflow_uri=tracking)
        except MlflowLoggingError as error:  # stored first: only MLflow lacks it
            self.run_note.emit(f"Run {record.run_id} is kept in the run history but was not "
                               f"logged to MLflow: {error}", "error")
            return
        except StudioError as error:  # RunStoreError: the runs folder or file refused it
            self.run_note.emit(f"Run {record.run_id} is not in the run history: {error} "
                               f"(The app keeps its runs in {default_runs_dir()}; "
                               f"{ENV_RUNS_DIR} names another folder.)", "error")
            return
        except Exception as error:  # a bug of ours: said, and the results still shown
            self.run_note.emit(f"Run {record.run_id} could not be kept in the run history "
                               f"({type(error).__name__}: {error}).", "error")
            return
        if stored.mlflow:
            self.run_note.emit(f"Run {record.run_id} logged to MLflow at "
                               f"{stored.mlflow['uri']} (MLflow run "
                               f"{stored.mlflow['run_id']}).", "info")

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
