"""The Help menu's dialogs: keyboard shortcuts, About (with versions), documentation."""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QUrl, qVersion
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

ROOT = Path(__file__).resolve().parents[2]

#: Gestures that are not menu actions, shown with the shortcuts.
CANVAS_GESTURES = [
    ("Tab, / or right-click on the canvas", "Quick add: type a node's name, Enter"),
    ("Drag from an output to an input", "Connect (compatible ports light up)"),
    ("Drop a wire on empty canvas", "Add a node that takes it, already connected"),
    ("Click an output port", "Show that output"),
    ("Double-click a node", "Show its first output"),
    ("Double-click a note", "Edit the note (Esc or a click outside ends)"),
    ("Wheel", "Zoom towards the cursor"),
    ("Middle-drag, or Space + drag", "Pan"),
]

#: The guides shipped beside the app, by menu title.
DOCUMENTS = [("User Guide (README)", "README.md"), ("Engine and States", "docs/engine.md"),
             ("Workflow File Format", "docs/file-format.md"),
             ("Web Service", "docs/web-service.md"), ("Deep Learning (Keras)", "docs/keras.md"),
             ("Hardware Backends", "docs/hardware.md")]

#: Packages whose versions About lists (looked up in the installed metadata:
#: nothing is imported for it, so About does not load TensorFlow).
VERSIONED = ("PySide6-Essentials", "pyqtgraph", "numpy", "pandas", "scikit-learn", "scipy",
             "networkx", "pyarrow", "skops", "dask", "tensorflow")


def versions() -> list[tuple[str, str]]:
    """(name, version) of the app, Python, Qt and the main libraries."""
    rows = [("Axon Studio", _version("axon-studio")),
            ("Python", f"{platform.python_version()} ({sys.executable})"),
            ("Qt", qVersion()), ("PySide6", pyside_version)]
    rows += [(name, _version(name)) for name in VERSIONED if name != "PySide6-Essentials"]
    rows.append(("Platform", platform.platform()))
    return rows


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def show_about(parent: QWidget) -> None:
    text = "".join(f"<tr><td><b>{name}</b></td><td>&nbsp;{value}</td></tr>"
                   for name, value in versions())
    box = QMessageBox(parent)
    box.setWindowTitle("About Axon Studio")
    box.setText("<h3>Axon Studio</h3>A visual workflow builder for machine learning, in the "
                "style of Azure ML Studio (classic).")
    box.setInformativeText(f"<table>{text}</table>")
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.open()
    parent._about_box = box  # type: ignore[attr-defined]  # kept for tests and until closed


class ShortcutsDialog(QDialog):
    """Every menu action with a shortcut, and the canvas gestures."""

    def __init__(self, actions: list[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard Shortcuts")
        rows: list[tuple[str, str]] = []
        for action in actions:
            keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText)
                             for s in action.shortcuts())
            if keys:
                rows.append((keys, action.text().replace("&", "").replace("\u2026", "")))
        rows += CANVAS_GESTURES
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Keys", "Does"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (keys, what) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(keys))
            self.table.setItem(row, 1, QTableWidgetItem(what))
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode
                                                           .ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(620, 560)


def open_documentation(parent: QWidget, page: str = "README.md") -> bool:
    path = ROOT / page
    if not path.exists():
        QMessageBox.information(parent, "Documentation",
                                f"The documentation ({page}) is not installed with this copy.")
        return False
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
