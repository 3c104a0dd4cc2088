"""Badges, the log and open viewers tell the same story (issue 13, item 5), and the
canvas says what keeps a node from running before any run."""

from __future__ import annotations

from conftest import example_window, log_texts, run_and_wait, toy_window
from PySide6.QtCore import QPointF

from studio.engine import NodeState
from studio.gui.commands import SetParamCommand


def _log_says(window, text: str) -> bool:
    return any(text in line for line in log_texts(window))


def test_a_skipped_node_reads_skipped_on_its_badge_as_in_the_log(make_window, toy_registry,
                                                                 qtbot):
    window = toy_window(make_window, toy_registry)
    workflow = window.document.workflow
    window.add_node("make_table", QPointF(0, 0))
    window.add_node("add_constant", QPointF(0, 300))
    workflow.connect("make_table", "data", "add_constant", "data")
    run_and_wait(window, qtbot)
    assert window.scene.nodes["add_constant"].state == NodeState.DONE
    # Now something that fails goes in between: 'Add Constant' had a result, but
    # this run skips it.
    window.add_node("fail", QPointF(0, 150))
    workflow.disconnect(workflow.edges[0])
    workflow.connect("make_table", "data", "fail", "data")
    workflow.connect("fail", "data", "add_constant", "data")
    run_and_wait(window, qtbot)
    assert _log_says(window, "Add Constant: skipped")
    assert window.scene.nodes["add_constant"].state == NodeState.SKIPPED
    assert window.scene.nodes["fail"].state == NodeState.FAILED
    # An edit upstream makes it outdated for real.
    window.document.undo_stack.push(SetParamCommand(workflow, "make_table", "rows", 7))
    qtbot.waitUntil(lambda: window.scene.nodes["add_constant"].state != NodeState.SKIPPED)
    assert window.scene.nodes["add_constant"].state in (NodeState.OUTDATED, NodeState.NOT_RUN)


def test_undoing_a_failing_change_shows_train_model_done_again(make_window, qtbot):
    window = example_window(make_window, "breast_cancer_classification")
    workflow, stack = window.document.workflow, window.document.undo_stack
    run_and_wait(window, qtbot)
    stack.push(SetParamCommand(workflow, "train", "label_column", "no such column"))
    run_and_wait(window, qtbot)
    assert window.scene.nodes["train"].state == NodeState.FAILED
    stack.undo()
    qtbot.waitUntil(lambda: window.scene.nodes["train"].state != NodeState.FAILED)
    states = {n: i.state for n, i in window.scene.nodes.items()}
    assert states["train"] in (NodeState.DONE, NodeState.CACHED), states
    assert states["score"] in (NodeState.DONE, NodeState.CACHED), states
    assert NodeState.OUTDATED not in states.values(), states


def test_an_open_viewer_is_marked_outdated_and_updates_after_the_next_run(make_window,
                                                                          qtbot):
    window = example_window(make_window, "breast_cancer_classification")
    workflow = window.document.workflow
    run_and_wait(window, qtbot)
    first = window.open_viewer("evaluate", "metrics")
    (page,) = window.viewer_pages
    assert not page.stale and page.banner.isHidden()
    window.document.undo_stack.push(SetParamCommand(workflow, "split", "fraction", 0.6))
    qtbot.waitUntil(lambda: page.stale)
    assert not page.banner.isHidden() and "Outdated" in page.banner_text.text()
    index = window.viewer_area.indexOf(page)
    assert "outdated" in window.viewer_area.tabToolTip(index)
    assert not window.viewer_area.tabIcon(index).isNull()
    run_and_wait(window, qtbot)
    assert not page.stale and page.viewer is not first  # the new result, in place
    assert window.viewer_area.tabIcon(index).isNull()
    # Undo back to the computed state: that result is in the cache, so it is shown.
    window.document.undo_stack.undo()
    qtbot.waitUntil(lambda: window.scene.nodes["evaluate"].state != NodeState.OUTDATED)
    assert not page.stale


def test_incomplete_nodes_carry_a_warning_badge_with_the_reason(make_window, qtbot):
    window = make_window()
    window.add_node("import_csv", QPointF(0, 0))
    window.add_node("train_model", QPointF(0, 200))
    qtbot.waitUntil(lambda: window.scene.nodes["train_model"].incomplete)
    train = window.scene.nodes["train_model"]
    assert train.state_text() == "incomplete"
    assert "Learner" in train.toolTip() and "Cannot run yet" in train.toolTip()
    assert window.scene.nodes["import_csv"].incomplete  # no file chosen yet
    window.add_node("logistic_regression", QPointF(-250, 0))
    window.document.workflow.connect("logistic_regression", "learner", "train_model",
                                     "learner")
    qtbot.waitUntil(lambda: not any("Learner" in p for p in train.problems))


def test_run_all_on_an_incomplete_workflow_names_the_nodes_by_title(make_window, qtbot):
    window = make_window()
    window.add_node("train_model", QPointF(0, 0))
    window.document.undo_stack.push(__import__("studio.gui.commands", fromlist=["x"])
                                    .RenameNodeCommand(window.document.workflow,
                                                       "train_model", "Fit the classifier"))
    window.run_all()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=60_000)
    status = window.status_label.text()
    assert "'Fit the classifier'" in status and "train_model" not in status
    problem_lines = [line for line in log_texts(window) if "Fit the classifier" in line]
    assert problem_lines and not any("train_model" in line for line in problem_lines)


def test_warnings_a_node_raises_reach_its_badge_and_the_log(make_window, qtbot, monkeypatch):
    """A logistic regression that cannot converge in one iteration says so."""
    import nodes.context

    # pytest records warnings per test by swapping warnings.showwarning, which
    # removes the engine's once-per-process router after the first test that
    # installed it; let this test's run install it again.
    monkeypatch.setattr(nodes.context, "_router_installed", False)
    window = example_window(make_window, "breast_cancer_classification")
    workflow = window.document.workflow
    learner = next(n for n in workflow.nodes if workflow.nodes[n].type_id
                   == "logistic_regression")
    params = workflow.node_type(learner).parameters
    iterations = next(n for n in params if "iter" in n)
    workflow.set_param(learner, iterations, params[iterations].minimum or 1)
    run_and_wait(window, qtbot)
    train = window.scene.nodes["train"]
    assert train.warnings, log_texts(window)
    assert "with warnings" in train.state_text() and "Warnings" in train.toolTip()
    assert any("warning" in line and "Train" in line for line in log_texts(window))
