"""Starting the desktop app."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from studio.gui.main_window import MainWindow, restore_recoveries


def create_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setApplicationName("Axon Studio")
    app.setOrganizationName("Axon Studio")
    return app  # type: ignore[return-value]


def open_main_window(file: str | None) -> MainWindow:
    """Restore crashed work if the user wants it, then open ``file`` (or an empty canvas)."""
    restored = restore_recoveries()
    if file:
        window = MainWindow()
        opened = window.open_path(Path(file))
        if opened is not None:
            return opened
        window.show()
        return window
    if restored:
        return restored[0]
    window = MainWindow(start_page=True)
    window.show()
    return window


def run_app(file: str | None = None) -> int:
    app = create_application()
    open_main_window(file)
    return app.exec()
