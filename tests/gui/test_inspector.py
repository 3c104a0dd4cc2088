"""The inspector: column pickers before the first run, unknown columns marked in place,
error text that wraps instead of running off the dock."""

from __future__ import annotations

from conftest import example_window, toy_window
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication, QComboBox

from studio.gui.commands import SetParamCommand


def test_column_pickers_offer_the_dataset_s_columns_before_the_first_run(make_window):
    window = example_window(make_window, "breast_cancer_classification")
    window.select_nodes(["train"])  # two nodes below the dataset; nothing has run
    editor = window.inspector.editors["label_column"]
    assert isinstance(editor.input, QComboBox)
    offered = [editor.input.itemText(i) for i in range(editor.input.count())]
    assert "diagnosis" in offered and "mean radius" in offered
    assert editor.note.isHidden()


def test_a_column_the_input_does_not_have_is_marked_in_place(make_window):
    window = example_window(make_window, "breast_cancer_classification")
    window.select_nodes(["train"])
    editor = window.inspector.editors["label_column"]
    editor.input.setCurrentText("diagnosos")
    assert not editor.note.isHidden()
    assert "'diagnosos'" in editor.note.text() and "diagnosis" in editor.note.text()
    assert window.document.workflow.nodes["train"].params["label_column"] == "diagnosos"
    window.document.undo_stack.undo()
    assert editor.note.isHidden()


def test_an_error_wraps_inside_the_inspector(make_window, toy_registry):
    window = toy_window(make_window, toy_registry)
    window.docks["inspector"].show()
    window.resizeDocks([window.docks["inspector"]], [280],
                       __import__("PySide6.QtCore", fromlist=["Qt"]).Qt.Orientation.Horizontal)
    window.add_node("make_table", QPointF(0, 0))
    window.select_nodes(["make_table"])
    editor = window.inspector.editors["scale"]
    editor.input.setText("a value that is certainly not a number, and rather long to say")
    editor.input.editingFinished.emit()
    QApplication.processEvents()
    assert not editor.error.isHidden() and editor.error.wordWrap()
    body = window.inspector.body
    assert body.width() <= window.inspector.width()  # nothing wider than the dock
    right = editor.error.mapTo(body, editor.error.rect().topRight()).x()
    assert right <= body.width()


def test_the_inspector_follows_undo_of_a_parameter(make_window, toy_registry):
    window = toy_window(make_window, toy_registry)
    window.add_node("make_table", QPointF(0, 0))
    window.select_nodes(["make_table"])
    window.document.undo_stack.push(SetParamCommand(window.document.workflow, "make_table",
                                                    "rows", 42))
    assert window.inspector.editors["rows"].input.value() == 42
    window.document.undo_stack.undo()
    assert window.inspector.editors["rows"].input.value() == 5


def test_a_file_chosen_beside_the_workflow_is_stored_relative_to_it(tmp_path):
    from studio.gui.inspector import stored_path

    (tmp_path / "data").mkdir()
    assert stored_path(tmp_path / "data" / "t.csv", tmp_path) == "data/t.csv"
    assert stored_path(tmp_path / "t.csv", tmp_path / "data") == str(tmp_path / "t.csv")
    assert stored_path(tmp_path / "t.csv", None) == str(tmp_path / "t.csv")
