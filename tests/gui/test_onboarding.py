"""Onboarding for someone who knows Azure ML Studio: the start page, examples as
untitled copies, classic module names in search, the Help menu, toolbar icons."""

from __future__ import annotations

import json

from conftest import EXAMPLES
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from studio.engine import Engine, MemoryCache
from studio.gui import settings
from studio.gui.document import Document
from studio.gui.main_window import MainWindow


def _visible_windows() -> list[MainWindow]:
    return [w for w in QApplication.topLevelWidgets()
            if isinstance(w, MainWindow) and w.isVisible()]


def test_the_start_page_offers_examples_recent_files_and_a_blank_workflow(qtbot, tmp_path):
    recent = tmp_path / "mine.axon.json"
    recent.write_text("{}")
    settings.remember_recent(recent)
    window = MainWindow(Document(engine=Engine(cache=MemoryCache())), start_page=True)
    qtbot.addWidget(window)
    window.show()
    page = window.start_page
    assert window.center.currentWidget() is page
    assert len(page.tiles) == len(list(EXAMPLES.glob("*.axon.json")))
    from studio.gui.start_page import one_line

    first = page.tiles[0]
    assert first.info.description and len(one_line(first.info.description)) <= 111
    qtbot.waitUntil(lambda: all(t.picture.pixmap() is not None and not t.picture.pixmap()
                                .isNull() for t in page.tiles), timeout=30_000)
    assert [b.toolTip() for b in page.recent_buttons] == [str(recent.resolve())]
    page.new_button.click()
    assert window.center.currentWidget() is window.workspace


def test_an_example_opens_as_an_untitled_copy_and_save_asks_for_a_path(qtbot, tmp_path,
                                                                       monkeypatch):
    original = (EXAMPLES / "housing_regression.axon.json").read_bytes()
    window = MainWindow(Document(engine=Engine(cache=MemoryCache())), start_page=True)
    window.show()
    window.start_page.example_chosen.emit(EXAMPLES / "housing_regression.axon.json")
    (opened,) = [w for w in _visible_windows() if w.document.workflow.nodes]
    try:
        assert opened.document.path is None and "copy" in opened.windowTitle()
        opened.document.workflow.move_node("split", (5, 5))
        opened.document.undo_stack.resetClean()
        asked = []

        def dialog(parent, caption, start, filter_):  # the user picks a folder of their own
            asked.append(start)
            return str(tmp_path / "my_housing"), filter_

        monkeypatch.setattr("studio.gui.main_window.QFileDialog.getSaveFileName", dialog)
        assert opened.save()
        assert asked and asked[0].endswith("housing_regression.axon.json")
        assert (tmp_path / "my_housing.axon.json").exists()
        assert (EXAMPLES / "housing_regression.axon.json").read_bytes() == original
        assert opened.document.path == tmp_path / "my_housing.axon.json"
    finally:
        opened.document.undo_stack.setClean()
        opened.close()


def test_save_as_refuses_the_examples_folder(qtbot, monkeypatch):
    window = MainWindow(Document.open_copy(EXAMPLES / "iris_clustering.axon.json",
                                           engine=Engine(cache=MemoryCache())))
    qtbot.addWidget(window)
    monkeypatch.setattr("studio.gui.main_window.QFileDialog.getSaveFileName",
                        lambda *a: (str(EXAMPLES / "iris_clustering.axon.json"), ""))
    warned = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a: warned.append(a)))
    before = (EXAMPLES / "iris_clustering.axon.json").read_bytes()
    assert not window.save_as()
    assert warned and (EXAMPLES / "iris_clustering.axon.json").read_bytes() == before


def test_palette_and_quick_add_find_nodes_by_their_classic_names(make_window, qtbot):
    window = make_window()
    palette = window.palette_panel
    for classic, type_id in (("Two-Class Logistic Regression", "logistic_regression"),
                             ("Two-Class Boosted Decision Tree", "boosted_decision_tree"),
                             ("Select Columns in Dataset", "select_columns")):
        palette.search.setText(classic)
        assert palette.visible_type_ids()[0] == type_id, (classic, palette.visible_type_ids())
    window.open_quick_add()
    qtbot.keyClicks(window.quick_add.edit, "two-class boosted")
    top = window.quick_add.list.item(0)
    assert top.data(Qt.ItemDataRole.UserRole + 1) == "boosted_decision_tree"
    assert "Two-Class Boosted Decision Tree" in top.text()  # it says why it matched
    qtbot.keyClick(window.quick_add.edit, Qt.Key.Key_Return)
    assert "boosted_decision_tree" in window.document.workflow.nodes


def test_the_help_menu_lists_shortcuts_documentation_and_versions(make_window, qtbot):
    window = make_window()
    titles = [a.text().replace("&", "") for a in window.help_menu.actions()]
    assert {"Keyboard Shortcuts", "Documentation", "Start Page", "About Axon Studio"} <= set(
        titles)
    dialog = window.show_shortcuts()
    rows = {dialog.table.item(r, 1).text(): dialog.table.item(r, 0).text()
            for r in range(dialog.table.rowCount())}
    assert rows["Run All"] == "F5" and "Ctrl+K" in rows["Quick Add Node"]
    assert any("Tab" in keys for keys in rows.values())
    dialog.close()
    docs = next(a for a in window.help_menu.actions() if a.menu() is not None).menu()
    from studio.gui.help_dialogs import ROOT

    assert all((ROOT / a.toolTip()).is_file() for a in docs.actions())
    window.act_about.trigger()
    about = window._about_box
    text = about.informativeText()
    assert "Qt" in text and "PySide6" in text and "pyqtgraph" in text and "scikit-learn" in text
    about.close()


def test_every_toolbar_action_has_an_icon(make_window):
    window = make_window()
    actions = [a for a in window.toolbar.actions() if not a.isSeparator()]
    assert len(actions) >= 10 and all(not a.icon().isNull() for a in actions)


def test_examples_keep_their_descriptions_short_enough_for_a_tile():
    from studio.gui.start_page import one_line, read_example

    for path in EXAMPLES.glob("*.axon.json"):
        info = read_example(path)
        assert info.name == json.loads(path.read_text())["name"]
        assert 10 < len(one_line(info.description)) <= 111
