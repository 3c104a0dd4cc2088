"""Runs off the GUI thread (issue 13, item 8: the flaky trust test).

The race: the worker thread could finish a whole run before the GUI thread
had processed any of its queued signals. ``runner.busy`` (then: "the thread
is alive") already said False while badges and buttons had not heard of the
run at all, so a test waiting for "not busy" read them too early (on a
loaded machine it did). A run is now busy until its end is delivered.
"""

from __future__ import annotations

from conftest import run_and_wait, toy_window
from PySide6.QtCore import QPointF

from studio.engine import NodeState


def _tiny(window):
    window.add_node("make_table", QPointF(0, 0))
    window.add_node("add_constant", QPointF(0, 200))
    window.document.workflow.connect("make_table", "data", "add_constant", "data")


def test_a_run_is_busy_until_its_end_reaches_the_gui_thread(make_window, toy_registry, qtbot):
    window = toy_window(make_window, toy_registry)
    _tiny(window)
    window.run_all()
    # The worker finishes while the GUI thread processes nothing: exactly what a
    # loaded machine does to the app between two event-loop turns.
    assert window.runner.wait(60)
    assert window.runner.busy, "the run's end has not reached the window yet"
    assert window.scene.nodes["add_constant"].state != NodeState.DONE
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=60_000)
    # Once it is not busy, everything the run said has been delivered.
    assert {i.state for i in window.scene.nodes.values()} == {NodeState.DONE}
    assert window.act_run.isEnabled() and not window.act_cancel.isEnabled()


def test_run_ended_is_announced_once_after_the_last_state(make_window, toy_registry, qtbot):
    window = toy_window(make_window, toy_registry)
    _tiny(window)
    seen: list[str] = []
    window.runner.node_state.connect(lambda node_id, state, *_: seen.append(state.value))
    window.runner.run_ended.connect(lambda: seen.append("end"))
    with qtbot.waitSignal(window.runner.run_ended, timeout=60_000):
        window.run_all()
    assert seen[-1] == "end" and seen.count("end") == 1
    assert seen.count("done") == 2


def test_a_second_run_is_refused_while_one_is_busy(make_window, toy_registry, qtbot):
    window = toy_window(make_window, toy_registry)
    _tiny(window)
    window.document.workflow.add_node("sleep", {"seconds": 30}, node_id="nap")
    window.document.workflow.connect("add_constant", "data", "nap", "data")
    window.run_all()
    assert not window.runner.start(None)
    window.runner.cancel()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=60_000)
    assert window.scene.nodes["nap"].state in (NodeState.CANCELLED, NodeState.NOT_RUN)


def test_the_memory_for_results_is_applied_at_the_next_run_and_remembered(
        make_window, toy_registry, qtbot):
    from dataclasses import replace

    from studio.gui.run_controller import RunController
    from studio.gui.run_settings import RunSettingsDialog, default_memory_mb

    window = toy_window(make_window, toy_registry)
    _tiny(window)
    run_and_wait(window, qtbot)
    cache = window.document.engine.cache
    assert cache.memory_keys(), "results are kept in memory by default"
    # The dialog shows the default (a quarter of the machine's memory) and returns a choice.
    dialog = RunSettingsDialog(window.runner.settings, window)
    assert dialog.memory.value() == default_memory_mb()
    dialog.memory.setValue(0)
    window.runner.settings = dialog.settings()
    assert not window.runner.settings.same_executor(None)
    assert cache.memory_keys(), "nothing changes before the next run"
    window.document.workflow.set_param("add_constant", "amount", 2.0)
    run_and_wait(window, qtbot)
    assert cache.size_bytes == 0 and all(
        not entry.outputs.get("data") for entry in
        (cache.get_checked(key)[0] for key in cache.memory_keys())), "tables were kept"
    # Remembered: the next window starts with it, and the executor was not rebuilt for it.
    assert RunController(window.document).settings.memory_mb == 0
    assert replace(window.runner.settings, memory_mb=5).same_executor(window.runner.settings)
