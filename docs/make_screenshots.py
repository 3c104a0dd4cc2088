"""Regenerate the screenshots in docs/screenshots/ from the real app.

    QT_QPA_PLATFORM=offscreen python docs/make_screenshots.py

Opens example workflows, runs them, and grabs the main window, the start
page and each viewer (rendered offscreen with the real widgets and fonts),
at 1600 x 1000 and, for the main window, at 1280 x 800 too. Nothing here is
drawn by hand: rerun it after a GUI change and commit the PNGs.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("AXON_STUDIO_CACHE_DIR", tempfile.mkdtemp(prefix="axon-shots-cache-"))
os.environ.setdefault("AXON_STUDIO_RECOVERY_DIR", tempfile.mkdtemp(prefix="axon-shots-rec-"))
# A settings folder of its own: no recent files or saved layout of the person running it.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="axon-shots-config-")

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
EXAMPLES = ROOT / "examples"


def _wait(app, condition, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        app.processEvents()
        time.sleep(0.01)
    for _ in range(10):
        app.processEvents()
        time.sleep(0.01)


def _window(app, example: str, size: tuple[int, int]):  # type: ignore[no-untyped-def]
    from studio.engine import Engine, MemoryCache
    from studio.gui.document import Document
    from studio.gui.main_window import MainWindow

    document = Document.open_copy(EXAMPLES / f"{example}.axon.json",
                                  engine=Engine(cache=MemoryCache()))
    window = MainWindow(document)
    window.resize(*size)
    window.show()
    window.run_all()
    _wait(app, lambda: not window.runner.busy)
    window.view.fit_all()
    return window


def _save(widget, name: str, shots: list[Path]) -> None:  # type: ignore[no-untyped-def]
    path = OUT / name
    widget.grab().save(str(path))
    shots.append(path)


def _close(window) -> None:  # type: ignore[no-untyped-def]
    window.document.undo_stack.setClean()
    window.close()


def main() -> int:
    from studio.engine import Engine, MemoryCache
    from studio.gui import warmup
    from studio.gui.app import create_application
    from studio.gui.document import Document
    from studio.gui.main_window import MainWindow

    OUT.mkdir(parents=True, exist_ok=True)
    app = create_application()
    warmup.start()
    _wait(app, warmup.done.is_set)
    shots: list[Path] = []

    start = MainWindow(Document(engine=Engine(cache=MemoryCache())), start_page=True)
    start.resize(1600, 1000)
    start.show()
    _wait(app, lambda: not start.start_page._pending)
    _save(start, "start-page.png", shots)
    _close(start)

    window = _window(app, "breast_cancer_classification", (1600, 1000))
    window.select_nodes(["train"])
    _wait(app, lambda: True)
    _save(window, "canvas.png", shots)
    window.open_viewer("evaluate", "metrics")
    _wait(app, lambda: True)
    _save(window, "main-window.png", shots)
    for name, (node, port) in {"viewer-table.png": ("score", "scored"),
                               "viewer-model.png": ("train", "model")}.items():
        window.open_viewer(node, port)
        _wait(app, lambda: not getattr(window.viewer_pages[-1].viewer, "busy", False))
        _save(window, name, shots)
    _close(window)

    compare = _window(app, "classification_two_models", (1600, 1000))
    viewer = compare.open_viewer("evaluate", "metrics")
    compare.docks["palette"].hide()
    compare.docks["inspector"].hide()
    _wait(app, lambda: True)
    viewer.slider.setValue(350)  # the threshold moved: matrices and metrics follow
    _wait(app, lambda: True)
    _save(compare, "viewer-metrics.png", shots)
    compare.docks["palette"].show()  # the next windows restore the layout saved on close
    compare.docks["inspector"].show()
    _close(compare)

    small = _window(app, "classification_two_models", (1280, 800))
    for dock in small.docks.values():  # the layout as it comes: every dock shown
        dock.show()
    small.open_viewer("evaluate", "metrics")
    _wait(app, lambda: True)
    _save(small, "main-window-1280.png", shots)
    _close(small)
    for path in shots:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
