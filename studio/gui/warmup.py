"""Import the heavy libraries early, on a background thread.

The node catalog imports scikit-learn and scipy only when a node runs, and
the charts import pyqtgraph only when a viewer opens, so the window opens
fast. But importing them holds the GIL for tens of milliseconds at a time
(extension modules initialising), which would stall the GUI thread in the
middle of the user's first run or first chart. So the app imports them
once, just after the window appears, while the user is still reading it;
runs and viewers then find them loaded.
"""

from __future__ import annotations

import importlib
import logging
import threading

from nodes.imports import preload_scientific_stack, preloaded

log = logging.getLogger(__name__)

#: The GUI's own heavy imports: the charts, and the viewers built on them.
GUI_MODULES = ("pyqtgraph", "studio.gui.viewers.charts", "studio.gui.viewers.metrics_viewer",
               "studio.gui.viewers.table_viewer")

done = threading.Event()
_started = threading.Event()


def start() -> None:
    """Begin the warm-up once per process (later calls do nothing)."""
    if done.is_set() or _started.is_set():
        return
    _started.set()

    def work() -> None:
        if not preloaded():
            preload_scientific_stack()  # the same lock as a run's first node: no collision
        for name in GUI_MODULES:
            try:
                importlib.import_module(name)
            except ImportError as error:  # the viewer that needs it will say so
                log.info("not preloaded: %s (%s)", name, error)
        done.set()

    threading.Thread(target=work, name="axon-warmup", daemon=True).start()
