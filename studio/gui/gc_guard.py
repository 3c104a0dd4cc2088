"""Run Python's cyclic garbage collector on the GUI thread only.

Python collects garbage in whichever thread happens to allocate. When that
is a run's worker thread and the garbage holds Qt widgets (a closed window,
an old viewer), Qt objects get destroyed off the GUI thread, and Qt crashes.
So automatic collection is switched off while the app runs and a timer on
the GUI thread collects instead, as often as the collector would have.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 250


class GuiThreadCollector(QObject):
    """Collects each generation when it is over the collector's threshold."""

    _installed: GuiThreadCollector | None = None

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(INTERVAL_MS)

    def check(self) -> None:
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self.thresholds[generation]:
                gc.collect(generation)
                return

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
