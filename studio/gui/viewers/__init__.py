"""Viewers by value kind: a port's output opens in the viewer for its kind.

Other parts (hardware reports, web-service details) add theirs with
``register_viewer(kind, factory)`` without touching the canvas.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QPlainTextEdit, QWidget

from nodes.values import json_safe

ViewerFactory = Callable[[Any], QWidget]
_VIEWERS: dict[str, ViewerFactory] = {}
_BUILTIN_DONE: list[bool] = []


def register_viewer(kind: str, factory: ViewerFactory) -> None:
    _VIEWERS[kind] = factory


def viewer_for(value: Any) -> QWidget:
    """A widget showing ``value``; a readable summary when no viewer knows its kind."""
    _register_builtin()
    factory = _VIEWERS.get(getattr(value, "kind", ""))
    if factory is not None:
        return factory(value)
    return SummaryViewer(value)


class SummaryViewer(QPlainTextEdit):
    """The value's summary as indented JSON (for kinds without a viewer of their own)."""

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.setReadOnly(True)
        summary = value.summary() if hasattr(value, "summary") else value
        self.setPlainText(json.dumps(json_safe(summary), indent=2))


def _register_builtin() -> None:
    if _BUILTIN_DONE:
        return
    _BUILTIN_DONE.append(True)
    from studio.gui.viewers.hardware_viewer import HardwareReportViewer
    from studio.gui.viewers.metrics_viewer import MetricsViewer
    from studio.gui.viewers.model_viewer import ModelViewer
    from studio.gui.viewers.table_viewer import TableViewer

    for kind, factory in (("table", TableViewer), ("metrics", MetricsViewer),
                          ("model", ModelViewer), ("hardware_report", HardwareReportViewer)):
        _VIEWERS.setdefault(kind, factory)
