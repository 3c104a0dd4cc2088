"""Import the heavy numeric libraries early, on a background thread.

The node catalog imports scikit-learn and scipy only when a node runs, so
the window opens fast. But importing them holds the GIL for tens of
milliseconds at a time (extension modules initialising), which would stall
the GUI thread in the middle of the user's first run. So the app imports
them once, just after the window appears, while the user is still reading
it; runs then find them loaded.
"""

from __future__ import annotations

import importlib
import logging
import threading

log = logging.getLogger(__name__)

MODULES = ("sklearn.base", "sklearn.linear_model", "sklearn.model_selection",
           "sklearn.metrics", "sklearn.preprocessing", "sklearn.ensemble", "scipy.stats",
           "skops.io")

_started = threading.Event()
done = threading.Event()


def start() -> None:
    """Begin the warm-up once per process (later calls do nothing)."""
    if _started.is_set():
        return
    _started.set()

    def work() -> None:
        for name in MODULES:
            try:
                importlib.import_module(name)
            except ImportError as error:  # an optional piece missing: the node will say so
                log.info("warm-up skipped %s: %s", name, error)
        done.set()

    threading.Thread(target=work, name="axon-warmup", daemon=True).start()
