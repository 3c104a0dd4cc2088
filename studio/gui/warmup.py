"""Import the heavy numeric libraries early, on a background thread.

The node catalog imports scikit-learn and scipy only when a node runs, so
the window opens fast. But importing them holds the GIL for tens of
milliseconds at a time (extension modules initialising), which would stall
the GUI thread in the middle of the user's first run. So the app imports
them once, just after the window appears, while the user is still reading
it; runs then find them loaded.
"""

from __future__ import annotations

import threading

from nodes.imports import preload_scientific_stack, preloaded

done = threading.Event()
_started = threading.Event()


def start() -> None:
    """Begin the warm-up once per process (later calls do nothing)."""
    if preloaded():
        done.set()
    if done.is_set() or _started.is_set():
        return
    _started.set()

    def work() -> None:
        preload_scientific_stack()  # the same lock as a run's first node: no collision
        done.set()

    threading.Thread(target=work, name="axon-warmup", daemon=True).start()
