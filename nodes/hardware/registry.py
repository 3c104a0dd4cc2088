"""The simulated hardware backends, each registering itself when its class is defined.

A :class:`~nodes.hardware.base.HardwareBackend` subclass with a ``name``
becomes a :class:`BackendDescriptor` here: what it simulates and which of
its report's resources say how much hardware a run occupies. Compare
Hardware reads the descriptors, so a new backend (a module in this package,
or a plugin's class) needs no change anywhere else.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BackendDescriptor:
    """What Compare Hardware and the docs need to know about a backend.

    ``resources``: (resource key in the report, singular word) in the order a
    summary shows them, e.g. (("cores", "core"), ("chips", "chip")).
    """

    name: str
    summary: str
    resources: tuple[tuple[str, str], ...]

    def resource_text(self, resources: dict[str, Any]) -> str:
        """e.g. '3 cores, 1 chip, 1 board' from a report's resources."""
        parts = []
        for key, word in self.resources:
            if key in resources:
                count = int(resources[key])
                parts.append(f"{count:,} {word}{'' if count == 1 else 's'}")
        return ", ".join(parts)


_BACKENDS: dict[str, BackendDescriptor] = {}
_lock = threading.Lock()
_package_loaded = False


def register_backend(descriptor: BackendDescriptor) -> BackendDescriptor:
    """Add (or replace, when a module is reloaded) the backend called ``descriptor.name``."""
    with _lock:
        _BACKENDS[descriptor.name] = descriptor
    return descriptor


def registered_backends() -> dict[str, BackendDescriptor]:
    """Every backend of this package (its modules are imported on the first call) and
    any other registered one, by name."""
    global _package_loaded
    if not _package_loaded:
        import nodes.hardware as package

        for module in pkgutil.iter_modules(package.__path__):
            if not module.name.startswith("_"):
                importlib.import_module(f"{package.__name__}.{module.name}")
        _package_loaded = True
    with _lock:
        return dict(_BACKENDS)


def resource_text(backend: str, resources: dict[str, Any]) -> str:
    """How much hardware a report of ``backend`` occupies, in words. A backend nobody
    registered shows its whole-number resources as they are named."""
    descriptor = registered_backends().get(backend)
    if descriptor is not None:
        return descriptor.resource_text(resources)
    return ", ".join(f"{key} {value:,}" for key, value in resources.items()
                     if isinstance(value, int) and not isinstance(value, bool))
