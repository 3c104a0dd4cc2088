"""Regenerate the screenshots in docs/screenshots/ from the real app.

    QT_QPA_PLATFORM=offscreen python docs/make_screenshots.py

Opens an example workflow, runs it, and grabs the main window and each
viewer (rendered offscreen with the real widgets and fonts). Nothing here is
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

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"


def _wait(app, condition, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        app.processEvents()
        time.sleep(0.01)
    for _ in range(5):
        app.processEvents()


def main() -> int:
    from studio.engine import Engine, MemoryCache
    from studio.gui.app import create_application
    from studio.gui.document import Document
    from studio.gui.main_window import MainWindow

    OUT.mkdir(parents=True, exist_ok=True)
    app = create_application()
    document = Document.open(ROOT / "examples" / "breast_cancer_classification.axon.json",
                             engine=Engine(cache=MemoryCache()))
    window = MainWindow(document)
    window.resize(1500, 940)
    window.show()
    window.run_all()
    _wait(app, lambda: not window.runner.busy and window.act_run.isEnabled())
    window.view.fit_all()
    window.select_nodes(["train"])
    _wait(app, lambda: True)
    shots = {"main-window.png": window}
    window.grab().save(str(OUT / "main-window.png"))
    for name, (node, port) in {"viewer-table.png": ("score", "scored"),
                               "viewer-metrics.png": ("evaluate", "metrics"),
                               "viewer-model.png": ("train", "model")}.items():
        window.open_viewer(node, port)
        _wait(app, lambda: True)
        window.grab().save(str(OUT / name))
        shots[name] = window
    window.document.undo_stack.setClean()
    window.close()
    for name in sorted(set(shots) | {"main-window.png"}):
        print(OUT / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
