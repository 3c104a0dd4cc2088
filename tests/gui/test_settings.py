"""What the app remembers across restarts: recent files (issue 13, item 1) and the layout."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLES
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from studio.engine import Engine, MemoryCache
from studio.gui.document import Document
from studio.gui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]

_APP = """
import sys
from pathlib import Path
from studio.gui.app import create_application
from studio.gui.main_window import MainWindow
app = create_application()
window = MainWindow()
if sys.argv[1] == "save":
    window.document.workflow.add_node("split_data")
    assert window._save_to(Path(sys.argv[2]))
print("RECENT", [(a.text(), a.toolTip()) for a in window.recent_menu.actions()])
window.document.undo_stack.setClean()
window.close()
"""


def _app_process(tmp_path: Path, *args: str) -> list[tuple[str, str]]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "AXON_STUDIO_RECOVERY_DIR": str(tmp_path / "recovery"),
           "AXON_STUDIO_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", _APP, *args], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("RECENT "))
    return ast.literal_eval(line.removeprefix("RECENT "))


def test_open_recent_after_one_save_and_a_restart_lists_that_file(tmp_path):
    saved = tmp_path / "flow.axon.json"
    _app_process(tmp_path, "save", str(saved))
    # A new process: QSettings reads the one-item list back from the file as a string.
    assert _app_process(tmp_path, "show") == [("flow.axon.json", str(saved.resolve()))]


def test_a_stored_list_reads_back_as_a_list_however_qsettings_returns_it():
    from studio.gui import settings

    assert settings.string_list(None) == []
    assert settings.string_list("/home/me/a.axon.json") == ["/home/me/a.axon.json"]
    assert settings.string_list(["/a", "/b", ""]) == ["/a", "/b"]
    assert settings.string_list("") == []


def test_recent_files_are_newest_first_once_each_and_only_existing(tmp_path):
    from studio.gui import settings

    files = [tmp_path / f"{name}.axon.json" for name in ("a", "b", "c")]
    for path in files:
        path.write_text("{}")
        settings.remember_recent(path)
    settings.remember_recent(files[0])
    files[1].unlink()
    assert settings.recent_files() == [files[0].resolve(), files[2].resolve()]


def _window(document: Document | None = None) -> MainWindow:
    window = MainWindow(document or Document(engine=Engine(cache=MemoryCache())))
    window.show()
    QApplication.processEvents()
    return window


def test_the_layout_is_remembered_across_restarts(qtbot):
    # (The offscreen screen is 800 x 600: a window is never restored larger.)
    first = _window()
    first.resize(770, 570)
    first.docks["palette"].hide()
    first.resizeDocks([first.docks["inspector"]], [260], Qt.Orientation.Horizontal)
    QApplication.processEvents()
    inspector_width = first.docks["inspector"].width()
    first.close()
    second = _window()
    try:
        assert (second.width(), second.height()) == (770, 570)
        assert not second.docks["palette"].isVisible()
        assert abs(second.docks["inspector"].width() - inspector_width) <= 2
    finally:
        second.close()


def _example_with_metrics_open(qtbot) -> MainWindow:
    window = _window(Document.open_copy(EXAMPLES / "housing_regression.axon.json",
                                        engine=Engine(cache=MemoryCache())))
    window.resize(790, 590)
    window.docks["palette"].hide()  # room for the splitter on an 800 x 600 screen
    window.docks["inspector"].hide()
    window.run_all()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=120_000)
    window.open_viewer("evaluate", "metrics")
    QApplication.processEvents()
    return window


def test_the_viewer_tabs_keep_their_share_of_the_window(qtbot):
    first = _example_with_metrics_open(qtbot)
    sizes = first.workspace.sizes()
    first.workspace.setSizes([sizes[0] - 40, sizes[1] + 40])
    QApplication.processEvents()
    chosen = first.workspace.sizes()
    assert chosen != sizes
    first.close()
    second = _example_with_metrics_open(qtbot)
    try:
        assert all(abs(a - b) <= 2 for a, b in zip(second.workspace.sizes(), chosen,
                                                   strict=True))
    finally:
        second.close()
