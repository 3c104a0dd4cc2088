"""Fixtures for the desktop app's tests: windows on real documents and engines, and
mouse gestures sent to the canvas as Qt events (no mocks)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from studio.engine import Engine, MemoryCache
from studio.gui.document import Document
from studio.gui.main_window import MainWindow
from studio.workflow import Workflow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
#: Generous: the machine is shared and loaded; a condition, never a sleep.
RUN_TIMEOUT_MS = 120_000


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("AXON_STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AXON_STUDIO_RECOVERY_DIR", str(tmp_path / "recovery"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def make_window(qtbot):
    windows = []

    def make(document: Document | None = None) -> MainWindow:
        window = MainWindow(document or Document(engine=Engine(cache=MemoryCache())))
        window.show()  # closed below, after marking it clean (qtbot would close it first)
        windows.append(window)
        return window

    yield make
    for window in windows:
        if window.runner.busy:
            window.runner.cancel()
            window.runner.wait(10)
        window.document.undo_stack.setClean()
        window.close()
    # Clipboard contents owned by the app at interpreter exit crash Qt's offscreen plugin.
    QApplication.clipboard().clear()


def toy_window(make_window, toy_registry) -> MainWindow:
    return make_window(Document(Workflow(toy_registry), engine=Engine(cache=MemoryCache())))


def example_window(make_window, name: str) -> MainWindow:
    return make_window(Document.open(EXAMPLES / f"{name}.axon.json",
                                     engine=Engine(cache=MemoryCache())))


def run_and_wait(window: MainWindow, qtbot, timeout: int = RUN_TIMEOUT_MS) -> None:
    """Run everything and wait until the window has heard the run's end."""
    with qtbot.waitSignal(window.runner.run_finished, timeout=timeout):
        window.run_all()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=timeout)


def log_texts(window: MainWindow) -> list[str]:
    return [window.log.item(i).text() for i in range(window.log.count())]


def viewport_point(window: MainWindow, scene_point: QPointF) -> QPoint:
    return window.view.mapFromScene(scene_point)


def send_mouse(window: MainWindow, kind: QEvent.Type, point: QPoint,
               buttons: Qt.MouseButton, button: Qt.MouseButton = Qt.MouseButton.LeftButton,
               modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    viewport = window.view.viewport()
    event = QMouseEvent(kind, QPointF(point), viewport.mapToGlobal(QPointF(point)),
                        button, buttons, modifiers)
    QApplication.sendEvent(viewport, event)


def drag(window: MainWindow, start: QPointF, end: QPointF, steps: int = 8,
         button: Qt.MouseButton = Qt.MouseButton.LeftButton) -> None:
    """Press at ``start``, move in steps with the button held, release at ``end``
    (scene coordinates)."""
    drag_viewport(window, viewport_point(window, start), viewport_point(window, end), steps,
                  button)


def drag_viewport(window: MainWindow, begin: QPoint, finish: QPoint, steps: int = 8,
                  button: Qt.MouseButton = Qt.MouseButton.LeftButton) -> None:
    send_mouse(window, QEvent.Type.MouseButtonPress, begin, button, button)
    for step in range(1, steps + 1):
        point = begin + (finish - begin) * step / steps
        send_mouse(window, QEvent.Type.MouseMove, point, button, Qt.MouseButton.NoButton)
    send_mouse(window, QEvent.Type.MouseButtonRelease, finish, Qt.MouseButton.NoButton, button)


def port_scene_pos(window: MainWindow, node_id: str, port: str, output: bool) -> QPointF:
    return window.scene.nodes[node_id].port(port, output).scenePos()
