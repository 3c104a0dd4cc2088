"""Work for a viewer off the GUI thread: one job of a kind at a time, cancellable.

A viewer asks a ``BackgroundJob`` for a computation (column statistics, a
sort order); it runs on Qt's thread pool and its result comes back as a
signal on the GUI thread. Asking again cancels the job in flight: its
cancel event is set (the work checks it between steps) and whatever it
still returns is dropped, so a result never lands on a newer request.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal


class Cancelled(Exception):
    """Raised inside a job's work when its cancel event is set."""


def check(cancel: threading.Event) -> None:
    """Stop here if the job was cancelled (call it between steps of the work)."""
    if cancel.is_set():
        raise Cancelled


class BackgroundJob(QObject):
    """Runs ``work(cancel_event)`` on the thread pool; the latest result wins."""

    #: The result of the latest job (GUI thread).
    finished = Signal(object)
    #: The latest job failed: its error as text.
    failed = Signal(str)
    _delivered = Signal(int, bool, object)

    def __init__(self, parent: QObject | None = None,
                 pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self._pool = pool or QThreadPool.globalInstance()
        self._generation = 0
        self._cancel = threading.Event()
        self._running = False
        self._delivered.connect(self._deliver)

    @property
    def busy(self) -> bool:
        """True while the latest job has not delivered its result."""
        return self._running

    def start(self, work: Callable[[threading.Event], Any]) -> None:
        self.cancel()
        self._generation += 1
        generation, cancel = self._generation, threading.Event()
        self._cancel = cancel
        self._running = True
        deliver = self._delivered

        def run() -> None:
            try:
                result, ok = work(cancel), True
            except Cancelled:
                return
            except Exception as error:  # shown in the viewer, never a silent stop
                result, ok = f"{type(error).__name__}: {error}", False
            with contextlib.suppress(RuntimeError):  # the viewer was closed meanwhile
                deliver.emit(generation, ok, result)

        self._pool.start(run)

    def cancel(self) -> None:
        """Stop the job in flight (if any); its result, if it still comes, is dropped."""
        self._cancel.set()
        self._generation += 1
        self._running = False

    def _deliver(self, generation: int, ok: bool, result: Any) -> None:
        if generation != self._generation:
            return  # an older request's answer
        self._running = False
        if ok:
            self.finished.emit(result)
        else:
            self.failed.emit(str(result))
