"""Colours and sizes shared by the canvas, the palette and the viewers."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from studio.engine.states import NodeState

CATEGORY_COLORS = {
    "Data": "#2e86de",
    "Transform": "#10ac84",
    "Text": "#1dd1a1",
    "Feature Selection": "#5f27cd",
    "Models": "#ee5253",
    "Train/Score": "#ff9f43",
    "Evaluate": "#8e44ad",
    "Hardware": "#576574",
    "Web Service": "#0abde3",
    "Script": "#c8d6e5",
    "Other": "#8395a7",
}

PORT_COLORS = {
    "Table": "#2e86de",
    "Learner": "#ee5253",
    "Model": "#ff9f43",
    "Transform": "#10ac84",
    "Metrics": "#8e44ad",
    "HardwareReport": "#576574",
    "Any": "#8395a7",
}

STATE_COLORS = {
    NodeState.NOT_RUN: "#9aa5b1",
    NodeState.QUEUED: "#c8d6e5",
    NodeState.RUNNING: "#2e86de",
    NodeState.DONE: "#20bf6b",
    NodeState.CACHED: "#26de81",
    NodeState.FAILED: "#eb3b5a",
    NodeState.SKIPPED: "#a5b1c2",
    NodeState.CANCELLED: "#fa8231",
    NodeState.OUTDATED: "#f7b731",
}

#: A result computed in another environment (machine, packages): never shown as local.
FOREIGN_COLOR = "#a55eea"
#: A node that cannot run yet, or that ran with warnings.
WARNING_COLOR = "#f0a30a"


def category_color(category: str) -> QColor:
    return QColor(CATEGORY_COLORS.get(category, CATEGORY_COLORS["Other"]))


def port_color(type_name: str) -> QColor:
    return QColor(PORT_COLORS.get(type_name, PORT_COLORS["Any"]))


def state_color(state: NodeState) -> QColor:
    return QColor(STATE_COLORS[state])


def is_dark() -> bool:
    """True when the system palette is dark (we follow it, never force one)."""
    app = QApplication.instance()
    if app is None:
        return False
    window = app.palette().color(QPalette.ColorRole.Window)
    return window.lightness() < 128


def blend(base: QColor, other: QColor, amount: float) -> QColor:
    """``base`` moved ``amount`` (0..1) of the way towards ``other``, opaque."""
    return QColor(round(base.red() + (other.red() - base.red()) * amount),
                  round(base.green() + (other.green() - base.green()) * amount),
                  round(base.blue() + (other.blue() - base.blue()) * amount))
