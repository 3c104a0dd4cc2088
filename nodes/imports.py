"""One-time, thread-safe import of the scientific stack the nodes use.

Node modules import scikit-learn and scipy inside ``run`` so that building
the catalog (and starting the app) stays fast. But two threads importing
scikit-learn for the first time at the same moment can fail: its package
modules import each other, and Python breaks the cross-thread cycle by
handing one thread a half-initialised module ("cannot import name 'clone'
from partially initialized module 'sklearn.base'"). So the first node to
run in a process imports the stack under a lock, and the others wait for it.
"""

from __future__ import annotations

import importlib
import logging
import threading

log = logging.getLogger(__name__)

SCIENTIFIC_MODULES = (
    "sklearn.base", "sklearn.utils", "sklearn.preprocessing", "sklearn.model_selection",
    "sklearn.linear_model", "sklearn.metrics", "sklearn.ensemble", "sklearn.neural_network",
    "scipy.stats", "skops.io",
)

_lock = threading.Lock()
_done = threading.Event()


def preload_scientific_stack() -> None:
    """Import the modules above once per process; cheap after the first call."""
    if _done.is_set():
        return
    with _lock:
        if _done.is_set():
            return
        for name in SCIENTIFIC_MODULES:
            try:
                importlib.import_module(name)
            except ImportError as error:  # an optional piece missing: its node will say so
                log.info("not preloaded: %s (%s)", name, error)
        _done.set()


def preloaded() -> bool:
    return _done.is_set()
