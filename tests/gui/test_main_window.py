"""The desktop app under pytest-qt: real widgets, real mouse events, real runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import (
    EXAMPLES,
    drag,
    port_scene_pos,
    send_mouse,
    toy_window,
    viewport_point,
)
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from studio.engine import Engine, MemoryCache, NodeState
from studio.gui import recovery
from studio.gui.document import Document
from studio.gui.main_window import restore_recoveries
from studio.gui.viewers.metrics_viewer import MetricsViewer
from studio.gui.viewers.model_viewer import ModelViewer
from studio.gui.viewers.table_viewer import TableViewer
from studio.workflow import Workflow, load_workflow


def test_add_nodes_from_palette_and_quick_add(make_window, qtbot):
    window = make_window()
    palette = window.palette_panel
    palette.search.setText("split")
    assert palette.visible_type_ids()[0] == "split_data"
    qtbot.keyClick(palette.search, Qt.Key.Key_Return)
    assert [n.type_id for n in window.document.workflow.nodes.values()] == ["split_data"]
    assert window.scene.nodes["split_data"].isSelected()

    window.open_quick_add()
    qtbot.keyClicks(window.quick_add.edit, "evaluate")
    qtbot.keyClick(window.quick_add.edit, Qt.Key.Key_Return)
    assert "evaluate_model" in window.document.workflow.nodes
    assert window.document.undo_stack.count() == 2


def test_connect_by_mouse_drag_and_refuse_incompatible_wires(make_window, toy_registry):
    window = toy_window(make_window, toy_registry)
    workflow = window.document.workflow
    window.add_node("make_table", QPointF(0, 0))
    window.add_node("add_constant", QPointF(0, 200))
    window.add_node("needs_learner", QPointF(300, 200))
    window.view.fit_all()
    QApplication.processEvents()

    drag(window, port_scene_pos(window, "make_table", "data", True),
         port_scene_pos(window, "add_constant", "data", False))
    assert [str(e) for e in workflow.edges] == ["make_table.data -> add_constant.data"]
    assert len(window.scene.edges) == 1

    messages = []
    window.scene.status_message.connect(messages.append)
    drag(window, port_scene_pos(window, "add_constant", "data", True),
         port_scene_pos(window, "needs_learner", "learner", False))
    assert len(workflow.edges) == 1
    assert any("Table" in m and "Learner" in m for m in messages), messages


def test_compatible_ports_light_up_while_dragging(make_window, toy_registry):
    window = toy_window(make_window, toy_registry)
    window.add_node("make_table", QPointF(0, 0))
    window.add_node("add_constant", QPointF(0, 200))
    window.add_node("needs_learner", QPointF(300, 200))
    window.view.fit_all()
    start = viewport_point(window, port_scene_pos(window, "make_table", "data", True))
    send_mouse(window, QEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton)
    nodes = window.scene.nodes
    assert nodes["add_constant"].inputs["data"].highlight == "compatible"
    assert nodes["needs_learner"].inputs["learner"].highlight == "incompatible"
    send_mouse(window, QEvent.Type.MouseButtonRelease, start, Qt.MouseButton.NoButton)
    assert nodes["add_constant"].inputs["data"].highlight is None


def test_wire_dropped_on_empty_canvas_offers_compatible_nodes(make_window, toy_registry, qtbot):
    window = toy_window(make_window, toy_registry)
    window.add_node("make_table", QPointF(0, 0))
    window.view.fit_all()
    drag(window, port_scene_pos(window, "make_table", "data", True), QPointF(0, 300))
    assert window.quick_add.isVisible()
    offered = {window.quick_add.list.item(i).data(Qt.ItemDataRole.UserRole + 1)
               for i in range(window.quick_add.list.count())}
    assert "add_constant" in offered and "needs_learner" not in offered
    qtbot.keyClicks(window.quick_add.edit, "add constant")
    qtbot.keyClick(window.quick_add.edit, Qt.Key.Key_Return)
    assert [str(e) for e in window.document.workflow.edges] == [
        "make_table.data -> add_constant.data"]
    window.document.undo_stack.undo()  # one step undoes add and connect together
    assert list(window.document.workflow.nodes) == ["make_table"]


def test_undo_and_redo_every_kind_of_edit(make_window, toy_registry):
    window = toy_window(make_window, toy_registry)
    workflow, stack = window.document.workflow, window.document.undo_stack
    window.add_node("make_table", QPointF(0, 0))
    window.add_node("add_constant", QPointF(0, 200))
    window.scene.connect_ports(window.scene.nodes["make_table"].outputs["data"],
                               window.scene.nodes["add_constant"].inputs["data"])
    window.select_nodes(["add_constant"])
    window.inspector.editors["amount"].input.setText("2.5")
    window.inspector.editors["amount"].input.editingFinished.emit()
    window.inspector.title_edit.setText("Plus")
    window.inspector.title_edit.editingFinished.emit()
    item = window.scene.nodes["make_table"]
    window.scene._press_positions = {"make_table": (item.pos().x(), item.pos().y())}
    item.setPos(item.pos() + QPointF(50, 10))
    window.scene._commit_moves()
    window.select_nodes(["make_table"])
    window.scene.delete_selection()
    assert list(workflow.nodes) == ["add_constant"] and workflow.edges == []

    expected = [  # state after each undo, newest first
        lambda: "make_table" in workflow.nodes and len(workflow.edges) == 1,
        lambda: workflow.nodes["make_table"].position == (-100.0, -36.0),
        lambda: workflow.nodes["add_constant"].title == "",
        lambda: workflow.nodes["add_constant"].params["amount"] == 1.0,
        lambda: workflow.edges == [],
        lambda: "add_constant" not in workflow.nodes,
        lambda: workflow.nodes == {},
    ]
    for check in expected:
        stack.undo()
        assert check()
    for _ in expected:
        stack.redo()
    assert list(workflow.nodes) == ["add_constant"]
    assert workflow.nodes["add_constant"].params["amount"] == 2.5
    assert window.scene.nodes["add_constant"].title == "Plus"


def test_invalid_parameter_is_marked_in_place_and_not_applied(make_window, toy_registry):
    window = toy_window(make_window, toy_registry)
    window.add_node("make_table", QPointF(0, 0))
    window.select_nodes(["make_table"])
    editor = window.inspector.editors["scale"]
    editor.input.setText("lots")
    editor.input.editingFinished.emit()
    assert not editor.error.isHidden() and "number" in editor.error.text()
    assert window.document.workflow.nodes["make_table"].params["scale"] == 1.0


def test_copy_paste_between_two_windows(make_window, toy_registry):
    first = toy_window(make_window, toy_registry)
    first.add_node("make_table", QPointF(0, 0))
    first.add_node("add_constant", QPointF(0, 200))
    first.document.workflow.connect("make_table", "data", "add_constant", "data")
    first.select_all()
    assert first.copy_selection()
    second = toy_window(make_window, toy_registry)
    second.paste()
    second.paste()
    workflow = second.document.workflow
    assert sorted(workflow.nodes) == ["add_constant", "add_constant_2", "make_table",
                                      "make_table_2"]
    assert len(workflow.edges) == 2
    second.document.undo_stack.undo()
    assert len(workflow.nodes) == 2


def test_save_and_open_round_trip(make_window, tmp_path, monkeypatch):
    window = make_window(Document.open(EXAMPLES / "housing_regression.axon.json",
                                       engine=Engine(cache=MemoryCache())))
    window.document.workflow.move_node("split", (10, 20))
    window.document.undo_stack.resetClean()
    assert window.isWindowModified()
    target = tmp_path / "copy.axon.json"
    assert window._save_to(target)
    assert not window.isWindowModified() and window.windowTitle().startswith("copy.axon.json")
    reopened = load_workflow(target)
    original = load_workflow(EXAMPLES / "housing_regression.axon.json")
    assert reopened.nodes["split"].position == (10.0, 20.0)
    reopened.nodes["split"].position = original.nodes["split"].position
    assert reopened.nodes == original.nodes and reopened.edges == original.edges
    assert reopened.annotations == original.annotations


def test_autosave_is_offered_back_after_a_crash(make_window, monkeypatch):
    window = make_window()
    window.add_node("split_data", QPointF(0, 0))
    written = window.autosave()
    assert written is not None and written.exists()
    assert window.autosave() is None  # nothing changed since
    # The app "crashes": the window is gone without a clean close.
    pending = recovery.pending_recoveries()
    assert len(pending) == 1
    monkeypatch.setattr(QMessageBox, "question",
                        staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes))
    (restored,) = restore_recoveries()
    try:
        assert "split_data" in restored.document.workflow.nodes
        assert restored.document.dirty
        assert recovery.pending_recoveries() == []
    finally:
        restored.document.undo_stack.setClean()
        restored.close()


def test_running_an_example_turns_every_badge_done_and_opens_each_viewer(make_window, qtbot):
    window = make_window(Document.open(EXAMPLES / "breast_cancer_classification.axon.json",
                                       engine=Engine(cache=MemoryCache())))
    window.run_all()
    qtbot.waitUntil(lambda: not window.runner.busy and window.act_run.isEnabled(),
                    timeout=60_000)
    states = {i: item.state for i, item in window.scene.nodes.items()}
    assert set(states.values()) == {NodeState.DONE}, states
    assert isinstance(window.open_viewer("score", "scored"), TableViewer)
    metrics = window.open_viewer("evaluate", "metrics")
    assert isinstance(metrics, MetricsViewer) and len(metrics.charts) >= 2
    model = window.open_viewer("train", "model")
    assert isinstance(model, ModelViewer) and model.weights.rowCount() == 30
    table = window.open_viewer("dataset", "data")
    assert table.model.columns[0] == "diagnosis"  # the label first, then the features
    table.show_column(1)
    qtbot.waitUntil(lambda: table.stats.rowCount() > 4 and not table.busy, timeout=30_000)
    assert table.stats.item(0, 1).text() == "float64"

    window.document.undo_stack.push(__import__("studio.gui.commands", fromlist=["x"])
                                    .SetParamCommand(window.document.workflow, "evaluate",
                                                     "threshold", 0.3))
    qtbot.waitUntil(lambda: window.scene.nodes["evaluate"].state == NodeState.OUTDATED)
    assert window.scene.nodes["score"].state == NodeState.DONE


def test_cancelling_a_run(make_window, toy_registry, qtbot):
    window = toy_window(make_window, toy_registry)
    window.add_node("make_table", QPointF(0, 0))
    window.add_node("sleep", QPointF(0, 200))
    window.document.workflow.set_param("sleep", "seconds", 60)
    window.document.workflow.connect("make_table", "data", "sleep", "data")
    window.run_all()
    qtbot.waitUntil(lambda: window.scene.nodes["sleep"].state == NodeState.RUNNING,
                    timeout=10_000)
    assert window.act_cancel.isEnabled()
    window.act_cancel.trigger()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=20_000)
    qtbot.waitUntil(lambda: window.scene.nodes["sleep"].state == NodeState.CANCELLED,
                    timeout=20_000)
    # The run's end arrives as a queued signal.
    qtbot.waitUntil(window.act_run.isEnabled, timeout=20_000)
    assert not window.act_cancel.isEnabled()


def test_a_badge_refresh_during_a_run_keeps_the_running_nodes(make_window, toy_registry,
                                                                qtbot):
    """An edit's badge refresh can reach the window after the run's first states
    (both are queued); it must not turn a running node back to 'not run'."""
    window = toy_window(make_window, toy_registry)
    window.add_node("make_table", QPointF(0, 0))
    window.add_node("sleep", QPointF(0, 200))
    window.document.workflow.connect("make_table", "data", "sleep", "data")
    window._run_started("r1", ["make_table", "sleep"])
    window._node_state("make_table", NodeState.DONE, None)
    window._node_state("sleep", NodeState.RUNNING, None)
    window.refresh_states()
    assert window.scene.nodes["sleep"].state == NodeState.RUNNING
    window._run_crashed("the engine stopped")  # an end without a record
    window._run_ended()
    assert window.scene.nodes["sleep"].state == NodeState.NOT_RUN
    assert window.act_run.isEnabled() and not window.act_cancel.isEnabled()


def test_invalid_workflow_is_reported_in_the_log_with_the_node(make_window, qtbot):
    window = make_window()
    window.add_node("train_model", QPointF(0, 0))
    window.run_all()
    qtbot.waitUntil(lambda: window.log.count() >= 2, timeout=10_000)
    texts = [window.log.item(i).text() for i in range(window.log.count())]
    assert any("Train Model" in t and "learner" in t.lower() for t in texts), texts


def test_examples_menu_lists_every_example(make_window):
    window = make_window()
    names = [a.toolTip() for a in window.examples_menu.actions()]
    assert sorted(Path(n).name for n in names) == sorted(
        p.name for p in EXAMPLES.glob("*.axon.json"))


@pytest.mark.skipif(shutil.which("true") is None, reason="needs a POSIX system")
def test_gui_start_does_not_import_tensorflow():
    import subprocess
    import sys

    code = ("import os, sys; os.environ['QT_QPA_PLATFORM']='offscreen';"
            "from studio.gui.app import create_application;"
            "from studio.gui.main_window import MainWindow;"
            "app = create_application(); w = MainWindow(); w.show(); app.processEvents();"
            "print('tensorflow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr


def test_publish_dialog_exports_serves_and_answers_a_test_request(make_window, qtbot, tmp_path):
    window = make_window(Document.open(EXAMPLES / "breast_cancer_classification.axon.json",
                                       engine=Engine(cache=MemoryCache())))
    window.publish()
    dialog = window.publish_dialog
    dialog.folder_edit.setText(str(tmp_path / "service"))
    dialog.publish()
    try:
        qtbot.waitUntil(lambda: dialog.handle is not None, timeout=60_000)
        assert (tmp_path / "service" / "manifest.json").is_file()
        assert dialog.api_key and dialog.api_key in dialog.endpoint.toPlainText()
        assert "curl" in dialog.samples.toPlainText()
        dialog.send_test()
        qtbot.waitUntil(lambda: dialog.response_view.toPlainText().startswith("{"),
                        timeout=30_000)
        answer = json.loads(dialog.response_view.toPlainText())
        assert answer["results"][0]["Scored Labels"] in ("benign", "malignant")
    finally:
        dialog.done(0)


def test_hardware_report_viewer_shows_figures_sweeps_and_sources(make_window, qtbot):
    from studio.gui.viewers.hardware_viewer import HardwareReportViewer

    window = make_window(Document.open(EXAMPLES / "hardware_digits_compare.axon.json",
                                       engine=Engine(cache=MemoryCache())))
    window.run_all()
    qtbot.waitUntil(lambda: not window.runner.busy and window.act_run.isEnabled(),
                    timeout=120_000)
    node_type = window.document.workflow.node_type("pcm")
    report_port = next(n for n, p in node_type.outputs.items()
                       if p.type.name == "HardwareReport")
    viewer = window.open_viewer("pcm", report_port)
    assert isinstance(viewer, HardwareReportViewer)
    assert viewer.metrics.rowCount() > 3 and viewer.assumptions.rowCount() > 3
    sources = [viewer.assumptions.item(r, 3).text() for r in range(viewer.assumptions.rowCount())]
    assert any("Le Gallo" in s or "aihwkit" in s or "Nandakumar" in s for s in sources)


def test_run_settings_choose_a_dask_cluster_and_results_match(make_window, qtbot):
    """The executor choice of the run settings: a real 2-worker LocalCluster."""
    from studio.gui.run_settings import RunSettings

    window = make_window(Document.open(EXAMPLES / "breast_cancer_classification.axon.json",
                                       engine=Engine(cache=MemoryCache())))
    window.runner.settings = RunSettings("dask-local", workers=2)
    window.run_all()
    qtbot.waitUntil(lambda: not window.runner.busy and window.act_run.isEnabled(),
                    timeout=120_000)
    texts = [window.log.item(i).text() for i in range(window.log.count())]
    assert any("Dask, local cluster of 2 workers" in t for t in texts), texts
    assert {item.state for item in window.scene.nodes.values()} == {NodeState.DONE}, texts
    on_dask = window.open_viewer("evaluate", "metrics")
    accuracy = on_dask.scalars.item(0, 1).text()
    window.runner.settings = RunSettings("local")
    window.document.workflow.set_param("evaluate", "threshold", 0.5000001)
    window.run_all()
    qtbot.waitUntil(lambda: not window.runner.busy and window.act_run.isEnabled(),
                    timeout=60_000)
    states = {i: item.state for i, item in window.scene.nodes.items()}
    # Scores computed on the cluster were brought back when the executor changed.
    assert states["score"] == NodeState.CACHED and states["evaluate"] == NodeState.DONE
    local = window.open_viewer("evaluate", "metrics")
    assert local.scalars.item(0, 1).text() == accuracy


def test_code_from_a_file_runs_only_after_the_user_trusts_it(make_window, qtbot, tmp_path,
                                                             monkeypatch):
    from studio.workflow import save_workflow

    workflow = Workflow()
    workflow.add_node("sample_dataset", {"dataset": "iris"}, node_id="data")
    workflow.add_node("execute_python_script", node_id="script")
    workflow.connect("data", "data", "script", next(iter(
        workflow.node_type("script").inputs)))
    path = save_workflow(workflow, tmp_path / "script.axon.json")
    window = make_window(Document.open(path, engine=Engine(cache=MemoryCache())))
    answers = iter([QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes])
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: next(answers)))
    window.run_all()
    assert not window.runner.busy and "not trusted" in window.status_label.text()
    window.run_all()
    qtbot.waitUntil(lambda: not window.runner.busy and window.act_run.isEnabled(),
                    timeout=30_000)
    assert window.scene.nodes["script"].state == NodeState.DONE


def test_results_computed_in_another_environment_are_marked_as_such(make_window, qtbot,
                                                                    tmp_path):
    from dataclasses import replace

    from studio.engine import DiskCache

    here, cache_dir = DiskCache(tmp_path / "here"), tmp_path / "shared-cache"
    workflow = load_workflow(EXAMPLES / "housing_regression.axon.json")
    with Engine(cache=here) as engine:
        assert engine.run(workflow).status == "succeeded"
        keys = engine.keys(workflow)
    shared = DiskCache(cache_dir)  # as if another machine had written its results
    for key in keys.values():
        entry = here.get(key)
        shared.put(key, replace(entry, origin=replace(entry.origin, environment="0" * 64,
                                                      host="lab-gpu-7")))
    window = make_window(Document.open(EXAMPLES / "housing_regression.axon.json",
                                       engine=Engine(cache=DiskCache(cache_dir))))
    window.run_all()
    qtbot.waitUntil(lambda: not window.runner.busy and window.act_run.isEnabled(),
                    timeout=60_000)
    item = window.scene.nodes["train"]
    assert item.state == NodeState.CACHED
    assert item.foreign and "lab-gpu-7" in item.foreign and "another environment" in item.foreign
    assert "lab-gpu-7" in item.toolTip()


def test_a_palette_double_click_adds_below_the_selected_node_wired_from_it(make_window,
                                                                           qtbot):
    window = make_window()
    palette = window.palette_panel
    palette.search.setText("Sample Dataset")
    qtbot.keyClick(palette.search, Qt.Key.Key_Return)
    (dataset,) = window.document.workflow.nodes
    palette.search.setText("Split Data")
    qtbot.keyClick(palette.search, Qt.Key.Key_Return)
    workflow = window.document.workflow
    split = next(n for n in workflow.nodes if n != dataset)
    assert [str(e) for e in workflow.edges] == [f"{dataset}.data -> {split}.data"]
    below = window.scene.nodes[split].pos() - window.scene.nodes[dataset].pos()
    assert below.y() > 0 and abs(below.x()) < 1
    palette.search.setText("Two-Class Logistic Regression")  # a source: beside, no wire
    qtbot.keyClick(palette.search, Qt.Key.Key_Return)
    learner = next(n for n in workflow.nodes if n not in (dataset, split))
    assert len(workflow.edges) == 1
    assert window.scene.nodes[learner].pos().x() < window.scene.nodes[split].pos().x()
    window.select_nodes([split])
    window.document.undo_stack.undo()  # the learner
    window.document.undo_stack.undo()  # the wire to Split Data, not the node
    assert split in workflow.nodes and workflow.edges == []


def test_the_model_viewer_charts_the_strongest_weights(make_window, qtbot):
    window = make_window(Document.open(EXAMPLES / "breast_cancer_classification.axon.json",
                                       engine=Engine(cache=MemoryCache())))
    window.run_all()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=60_000)
    model = window.open_viewer("train", "model")
    assert model.chart is not None and len(model.chart.names) == 20
    assert model.chart.names[0] == model.weights.item(0, 0).text()  # the largest first
