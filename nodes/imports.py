"""Thread-safe first imports of the modules a node type declares it needs.

Node modules import scikit-learn and scipy inside ``run`` so that building
the catalog (and starting the app) stays fast, and each process imports only
what its workflow's nodes use. But two threads importing scikit-learn for
the first time at the same moment can fail: its package modules import each
other, and Python breaks the cross-thread cycle by handing one thread a
half-initialised module ("cannot import name 'clone' from partially
initialized module 'sklearn.base'"). So before a node first runs, the
modules of its type's ``imports`` declaration are imported under one lock,
and other nodes wait for them (tests/engine/test_parallel_first_imports.py).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import threading
from collections.abc import Iterable, Iterator
from typing import Any

log = logging.getLogger(__name__)

_lock = threading.RLock()  # re-entrant: a first run under it may preload more
_done: set[str] = set()


def preload(modules: Iterable[str]) -> None:
    """Import ``modules`` once per process, one thread at a time; cheap afterwards."""
    missing = [m for m in modules if m not in _done]
    if not missing:
        return
    with _lock:
        for name in missing:
            if name in _done:
                continue
            try:
                importlib.import_module(name)
            except ImportError as error:  # an optional piece missing: its node will say so
                log.info("not preloaded: %s (%s)", name, error)
            _done.add(name)


_ran: set[type] = set()


@contextlib.contextmanager
def importing_for(node_type: Any) -> Iterator[None]:
    """Around a node's run: its declared imports are loaded first, under the lock.

    A node type that declares nothing (a plugin that does not know about
    ``imports``; the built-in ones are checked to declare theirs) runs its
    first run in this process under the same lock instead, so its first
    imports cannot collide with another node's either.
    """
    if declares_imports(node_type) or node_type in _ran:
        preload(node_type.imports)
        yield
        return
    with _lock:
        yield
    _ran.add(node_type)


def declares_imports(node_type: Any) -> bool:
    return node_type.__module__.startswith("nodes.") or any(
        "imports" in vars(klass) for klass in node_type.__mro__[:-1]
        if klass.__module__ != "nodes.node")


def module(name: str) -> Any:
    """Module ``name``, imported under the lock the first time: for a node that needs
    a heavy module on some of its paths only (its declared ``imports`` are loaded
    before every run)."""
    preload((name,))
    return importlib.import_module(name)


def catalog_imports() -> list[str]:
    """Every module the installed node types declare (what the app warms up)."""
    from nodes.registry import default_registry

    return sorted({m for t in default_registry().all() for m in t.imports})


def preload_scientific_stack() -> None:
    """Import what every installed node type declares (the desktop app does this on a
    background thread after its window appears, so a first run does not stall it)."""
    preload(catalog_imports())


def preloaded(modules: Iterable[str] | None = None) -> bool:
    return all(m in _done for m in (catalog_imports() if modules is None else modules))
