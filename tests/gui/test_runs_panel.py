"""Run history in the app (issue 16): every GUI run kept in the run store, the Runs
panel listing, comparing and re-opening runs, a store that refuses a run, and MLflow.
Real windows, real runs, a real SQLite store and a real MLflow file store."""

from __future__ import annotations

import sys
import time
from dataclasses import replace

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QTabBar, QTreeWidgetItem

from studio.engine import NodeState
from studio.gui.main_window import MainWindow
from studio.gui.run_controller import RunController
from studio.gui.run_settings import MLFLOW_INSTALL, RunSettingsDialog
from studio.gui.runs_panel import CHANGED_ROLE, MAX_RUNS, RUN_COLUMNS
from studio.runs import RunStore
from tests.gui.conftest import (
    RUN_TIMEOUT_MS,
    example_window,
    log_texts,
    run_and_wait,
    toy_window,
)

EXAMPLE = "breast_cancer_classification"


@pytest.fixture(autouse=True)
def runs_dir(tmp_path, monkeypatch):
    """Each test its own run store: the panel lists what the test ran, nothing else."""
    folder = tmp_path / "runs"
    monkeypatch.setenv("AXON_STUDIO_RUNS_DIR", str(folder))
    return folder


def _tiny(window):
    window.add_node("make_table", QPointF(0, 0))
    window.add_node("add_constant", QPointF(0, 200))
    window.document.workflow.connect("make_table", "data", "add_constant", "data")


def show_runs(window, qtbot, count: int):
    """Run > Run History, then wait until the panel lists ``count`` runs."""
    panel = window.show_runs()
    qtbot.waitUntil(panel.isVisible)
    qtbot.waitUntil(lambda: not panel.job.busy and len(panel.listing.runs) == count
                    or bool(panel.listing.error), timeout=RUN_TIMEOUT_MS)
    return panel


def row(panel, index: int) -> dict[str, str]:
    item = panel.runs.topLevelItem(index)
    header = panel.runs.headerItem()
    return {header.text(c): item.text(c) for c in range(panel.runs.columnCount())}


def section(panel, title: str) -> QTreeWidgetItem:
    view = panel.comparison_view
    found = [view.topLevelItem(i) for i in range(view.topLevelItemCount())
             if view.topLevelItem(i).text(0).startswith(title)]
    assert found, f"no section {title!r} in the comparison"
    return found[0]


def children(item: QTreeWidgetItem) -> dict[str, QTreeWidgetItem]:
    return {item.child(i).text(0): item.child(i) for i in range(item.childCount())}


def run_twice_with_fraction(window, qtbot, fraction: float) -> None:
    run_and_wait(window, qtbot)
    window.document.workflow.set_param("split", "fraction", fraction)
    run_and_wait(window, qtbot)


def test_the_runs_dock_is_a_tab_by_the_run_log_and_leaves_no_stray_tab_bar(
        make_window, toy_registry, qtbot):
    window = toy_window(make_window, toy_registry)
    qtbot.waitExposed(window)

    def bars_with_runs() -> list[QTabBar]:
        QApplication.processEvents()
        return [bar for bar in window.findChildren(QTabBar)
                if bar.isVisible() and window.rect().intersects(bar.geometry())
                and "Runs" in [bar.tabText(i) for i in range(bar.count())]]

    assert not window.docks["runs"].isVisible()
    assert not bars_with_runs(), "a tab bar naming the hidden Runs dock is on screen"
    window.act_runs.trigger()  # Run > Run History
    assert window.docks["runs"].isVisible()
    assert window.tabifiedDockWidgets(window.docks["runs"]) == [window.docks["run_log"]]
    (bar,) = bars_with_runs()
    assert [bar.tabText(i) for i in range(bar.count())] == ["Run Log", "Runs"]


def test_a_gui_run_is_kept_in_the_run_store_by_the_worker_thread(make_window, toy_registry,
                                                                 qtbot):
    window = toy_window(make_window, toy_registry)
    _tiny(window)
    window.document.workflow.set_param("add_constant", "amount", 2.5)
    window.run_all()
    # The worker has stopped and the GUI thread has processed nothing since: the run
    # was kept by the worker thread, not by a slot on the GUI thread.
    assert window.runner.wait(60)
    (stored,) = RunStore().list()
    assert window.runner.busy, "the end has not reached the window, yet the run is stored"
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=RUN_TIMEOUT_MS)
    assert stored.source == "gui" and stored.status == "succeeded"
    assert stored.params["add_constant"]["amount"] == 2.5
    assert stored.workflow_path == ""  # untitled: no file
    assert stored.record["nodes"]["add_constant"]["state"] == "done"
    assert not [t for t in log_texts(window) if "run history" in t]


def test_the_panel_lists_two_runs_and_compare_shows_the_parameter_change_and_metric_delta(
        make_window, qtbot):
    window = example_window(make_window, EXAMPLE)
    panel = show_runs(window, qtbot, 0)
    assert window.docks["runs"].isVisible()
    assert panel.heading.text().startswith("No runs of breast_cancer_classification")
    # The list follows the runs by itself: it is read again when each run ends.
    run_and_wait(window, qtbot)
    qtbot.waitUntil(lambda: len(panel.listing.runs) == 1, timeout=RUN_TIMEOUT_MS)
    window.document.workflow.set_param("split", "fraction", 0.8)
    run_and_wait(window, qtbot)
    qtbot.waitUntil(lambda: len(panel.listing.runs) == 2, timeout=RUN_TIMEOUT_MS)
    assert panel.heading.text().startswith("2 runs of breast_cancer_classification")
    newest, older = row(panel, 0), row(panel, 1)
    assert set(RUN_COLUMNS) <= set(newest) and "accuracy" in newest
    assert newest["Status"] == older["Status"] == "succeeded"
    assert newest["Source"] == older["Source"] == "gui"
    assert newest["Seed"] == "0" and newest["Duration"]
    assert newest["When"] >= older["When"], "newest first"
    stored = RunStore().list(workflow_path=window.document.path)
    assert [newest["Run"], older["Run"]] == [r.run_id for r in stored]
    assert newest["accuracy"] == f"{stored[0].metrics['evaluate.metrics']['accuracy']:.6g}"
    assert not panel.compare_button.isEnabled()

    for index in (0, 1):
        panel.runs.topLevelItem(index).setSelected(True)
    assert panel.compare_button.isEnabled() and not panel.open_button.isEnabled()
    with qtbot.waitSignal(panel.compared, timeout=5_000) as compared:
        panel.compare_button.click()
    comparison = compared.args[0]
    assert (comparison.before.run_id, comparison.after.run_id) == (older["Run"], newest["Run"])

    parameters = children(section(panel, "Parameters (1 changed)"))
    fraction = parameters["Split Data \u00b7 fraction"]
    assert (fraction.text(1), fraction.text(2)) == ("0.7", "0.8")
    assert fraction.data(0, CHANGED_ROLE) and fraction.font(2).bold()
    assert len(parameters) == 1, f"only the fraction changed, not {list(parameters)}"

    metrics = children(section(panel, "Metrics"))
    accuracy = metrics["evaluate \u00b7 accuracy"]
    before = comparison.before.metrics["evaluate.metrics"]["accuracy"]
    after = comparison.after.metrics["evaluate.metrics"]["accuracy"]
    assert before != after, "a different split gives another accuracy"
    assert (accuracy.text(1), accuracy.text(2)) == (f"{before:.6g}", f"{after:.6g}")
    assert accuracy.text(3).startswith(f"{after - before:+.6g} (")
    assert accuracy.data(0, CHANGED_ROLE) and accuracy.font(1).bold()
    # Exactly the metrics that changed are highlighted.
    for metric in comparison.metric_deltas:
        item = metrics[f"evaluate \u00b7 {metric.name}"]
        assert bool(item.data(0, CHANGED_ROLE)) == metric.changed == item.font(2).bold()
    assert panel.comparison_heading.text().startswith(
        f"Before: run {older['Run']} ({older['When']}); after: run {newest['Run']} ")


def test_open_as_new_workflow_gives_the_old_parameter_values(make_window, qtbot):
    window = example_window(make_window, EXAMPLE)
    run_twice_with_fraction(window, qtbot, 0.8)
    panel = show_runs(window, qtbot, 2)
    panel.runs.topLevelItem(1).setSelected(True)  # the older run: fraction 0.7
    before = set(QApplication.topLevelWidgets())
    assert panel.open_button.isEnabled()
    panel.open_button.click()
    (opened,) = [w for w in QApplication.topLevelWidgets()
                 if isinstance(w, MainWindow) and w not in before and w.isVisible()]
    try:
        assert opened.document.path is None, "untitled: Save asks where to keep it"
        assert opened.document.workflow.node("split").params["fraction"] == 0.7
        assert window.document.workflow.node("split").params["fraction"] == 0.8
        assert set(opened.document.workflow.nodes) == set(window.document.workflow.nodes)
        assert panel.listing.runs[1].run_id in opened.status_label.text()
    finally:
        opened.document.undo_stack.setClean()
        opened.close()


def test_the_panel_reads_the_store_on_the_thread_pool(make_window, toy_registry, qtbot):
    window = toy_window(make_window, toy_registry)
    _tiny(window)
    panel = show_runs(window, qtbot, 0)
    run_and_wait(window, qtbot)
    qtbot.waitUntil(lambda: len(panel.listing.runs) == 1, timeout=RUN_TIMEOUT_MS)
    store = RunStore()
    (run,) = store.list()
    for number in range(MAX_RUNS + 5):  # more runs than the panel lists
        store.add(replace(run, run_id=f"{number:012x}"))
    started = time.perf_counter()
    panel.refresh()
    took = time.perf_counter() - started
    assert panel.job.busy and len(panel.listing.runs) == 1, "read on the thread pool"
    assert took < 0.05, f"refresh held the GUI thread {took * 1000:.0f} ms"
    qtbot.waitUntil(lambda: len(panel.listing.runs) == MAX_RUNS, timeout=RUN_TIMEOUT_MS)
    assert f"(the latest {MAX_RUNS})" in panel.heading.text()


def test_a_store_that_refuses_the_run_is_reported_and_the_results_are_shown(
        make_window, toy_registry, qtbot, tmp_path, monkeypatch):
    not_a_folder = tmp_path / "runs-file"
    not_a_folder.write_text("not a folder")
    monkeypatch.setenv("AXON_STUDIO_RUNS_DIR", str(not_a_folder))
    window = toy_window(make_window, toy_registry)
    _tiny(window)
    run_and_wait(window, qtbot)
    (note,) = [t for t in log_texts(window) if "run history" in t]
    assert "is not in the run history" in note and "is a file, not a folder" in note
    assert "AXON_STUDIO_RUNS_DIR names another folder" in note
    errors = [window.log.item(i) for i in range(window.log.count())
              if "run history" in window.log.item(i).text()]
    assert errors[0].foreground().color() == Qt.GlobalColor.red
    assert not [t for t in log_texts(window) if "Run stopped" in t]
    assert {i.state for i in window.scene.nodes.values()} == {NodeState.DONE}
    assert window.open_viewer("add_constant", "data") is not None, "the results are there"
    panel = show_runs(window, qtbot, 0)
    assert panel.heading.text().startswith("The run history cannot be read:")
    assert "is a file" in panel.heading.text()


def test_an_mlflow_file_store_receives_the_gui_run(make_window, qtbot, tmp_path,
                                                    monkeypatch):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    # The app sets MLflow's file-store switch itself; the test leaves it as it was.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "")
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE")
    window = example_window(make_window, EXAMPLE)
    dialog = RunSettingsDialog(window.runner.settings, window)
    dialog.mlflow.setText(str(tmp_path / "mlruns"))
    assert not dialog.mlflow_note.isVisibleTo(dialog), "MLflow is installed: no warning"
    window.runner.settings = dialog.settings()
    run_and_wait(window, qtbot)
    (stored,) = RunStore().list()
    assert stored.mlflow is not None, log_texts(window)
    assert [t for t in log_texts(window) if "logged to MLflow" in t and
            stored.mlflow["run_id"] in t]
    client = MlflowClient(tracking_uri=stored.mlflow["uri"])
    run = client.get_run(stored.mlflow["run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.tags["axon.source"] == "gui"
    assert run.data.tags["axon.run_id"] == stored.run_id
    assert run.data.params["split.fraction"] == "0.7"
    assert run.data.params["learner.regularization_strength"] == "1.0"
    accuracy = stored.metrics["evaluate.metrics"]["accuracy"]
    assert run.data.metrics["evaluate.metrics.accuracy"] == accuracy
    assert stored.mlflow["uri"].startswith("file:")
    # Remembered: the next window sends its runs to the same store.
    remembered = RunController(window.document).settings.mlflow_uri
    assert remembered == str((tmp_path / "mlruns").resolve())


def test_without_mlflow_the_dialog_says_how_to_install_it_and_runs_are_still_kept(
        make_window, toy_registry, qtbot, tmp_path, monkeypatch):
    # MLflow made unimportable the way Python itself does it (None in sys.modules).
    for name in [n for n in sys.modules if n == "mlflow" or n.startswith("mlflow.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "mlflow", None)
    window = toy_window(make_window, toy_registry)
    _tiny(window)
    dialog = RunSettingsDialog(window.runner.settings, window)
    assert not dialog.mlflow_note.isVisibleTo(dialog), "no URI: nothing to say"
    dialog.mlflow.setText(str(tmp_path / "mlruns"))
    assert dialog.mlflow_note.isVisibleTo(dialog)
    assert MLFLOW_INSTALL in dialog.mlflow_note.text()
    assert "not installed" in dialog.mlflow_note.text()
    window.runner.settings = dialog.settings()
    run_and_wait(window, qtbot)
    (note,) = [t for t in log_texts(window) if "MLflow" in t]
    assert "is kept in the run history but was not logged to MLflow" in note
    assert MLFLOW_INSTALL in note
    (stored,) = RunStore().list()
    assert stored.mlflow is None and stored.source == "gui"


@pytest.mark.parametrize("text, expected", [
    ("localhost:5000", "http://localhost:5000"),
    ("http://", "is not a tracking URI"),
    ("file:", "names no folder"),
])
def test_the_dialog_refuses_a_tracking_uri_that_is_not_one(make_window, toy_registry, qtbot,
                                                           text, expected):
    window = toy_window(make_window, toy_registry)
    dialog = RunSettingsDialog(window.runner.settings, window)
    dialog.show()
    dialog.mlflow.setText(text)
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert dialog.isVisible(), "refused: the dialog stays open"
    assert expected in dialog.error.text() and "MLflow tracking URI" in dialog.error.text()
    dialog.mlflow.setText("http://localhost:5000")
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert not dialog.isVisible() and dialog.result() == dialog.DialogCode.Accepted


def test_a_file_where_the_mlflow_folder_should_be_is_refused(make_window, toy_registry,
                                                              qtbot, tmp_path):
    blocker = tmp_path / "mlruns"
    blocker.write_text("")
    window = toy_window(make_window, toy_registry)
    dialog = RunSettingsDialog(window.runner.settings, window)
    dialog.show()
    dialog.mlflow.setText(str(blocker))
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert dialog.isVisible() and f"{blocker} is a file" in dialog.error.text()
    dialog.close()
