"""Run Python's cyclic garbage collector on the GUI thread only, in small steps.

Python collects garbage in whichever thread happens to allocate. When that
is a run's worker thread and the garbage holds Qt widgets (a closed window,
an old viewer), Qt objects get destroyed off the GUI thread, and Qt crashes.
So automatic collection is switched off while the app runs and a timer on
the GUI thread collects instead.

A collection stalls the GUI thread for as long as it takes, which grows with
the objects it looks at: a young generation left to pile up for a quarter of
a second while a worker parses a big CSV held ~47,000 objects and took
33 ms. So the timer looks often (the young generations stay small, a few
milliseconds each; the middle one every third time, for the same reason), and
a full collection, which walks every object the app keeps, happens at most
every half minute (CPython itself also skips most
full collections; its heuristic is not reachable from Python).
"""

from __future__ import annotations

import gc
import time

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 40
#: The middle generation is collected after this many young collections (Python: 10).
#: More often means less to look at each time: shorter stalls, the same work.
MIDDLE_EVERY = 3
#: The least time between two full (generation 2) collections.
FULL_COLLECTION_EVERY_S = 30.0


class GuiThreadCollector(QObject):
    """Collects each generation when it is over the collector's threshold."""

    _installed: GuiThreadCollector | None = None

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        self._last_full = time.monotonic()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(INTERVAL_MS)

    def check(self) -> None:
        counts = gc.get_count()
        if counts[2] > self.thresholds[2] and \
                time.monotonic() - self._last_full >= FULL_COLLECTION_EVERY_S:
            gc.collect(2)
            self._last_full = time.monotonic()
            return
        if counts[1] >= MIDDLE_EVERY:
            gc.collect(1)
        elif counts[0] > self.thresholds[0]:
            gc.collect(0)

    @classmethod
    def install(cls, app: QObject) -> GuiThreadCollector:
        """Once per application; the collector lives as long as the app."""
        if cls._installed is None:
            cls._installed = cls(app)
            app.destroyed.connect(cls._uninstall)
        return cls._installed

    @classmethod
    def _uninstall(cls) -> None:
        cls._installed = None
        gc.enable()
