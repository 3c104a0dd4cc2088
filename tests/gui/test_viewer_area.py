"""Outputs open large, several at once, beside the canvas or in windows of their own."""

from __future__ import annotations

from conftest import example_window, run_and_wait
from PySide6.QtWidgets import QApplication

from studio.gui.viewer_area import ViewerWindow


def test_several_outputs_open_side_by_side_and_one_moves_to_its_own_window(make_window,
                                                                           qtbot):
    window = example_window(make_window, "breast_cancer_classification")
    window.resize(1500, 900)
    run_and_wait(window, qtbot)
    assert window.viewer_area.isHidden()  # the canvas has the room until an output opens
    window.open_viewer("evaluate", "metrics")
    window.open_viewer("score", "scored")
    window.open_viewer("train", "model")
    area = window.viewer_area
    assert area.isVisible() and area.count() == 3
    canvas, viewers = window.workspace.sizes()
    assert viewers > canvas  # the outputs get the larger share
    page = area.widget(1)
    page.detach_button.click()
    assert area.count() == 2 and isinstance(page.window(), ViewerWindow)
    floating = page.window()
    assert floating.isVisible() and "Score Model" in floating.windowTitle()
    # Opening the same output again shows that window, it does not make a copy.
    window.open_viewer("score", "scored")
    assert area.count() == 2 and len(window.viewer_pages) == 3
    page.detach_button.click()  # back to the tabs
    QApplication.processEvents()
    assert area.count() == 3 and page.window() is window
    area.tabCloseRequested.emit(0)
    assert area.count() == 2 and len(window.viewer_pages) == 2


def test_closing_the_last_tab_gives_the_room_back_to_the_canvas(make_window, qtbot):
    window = example_window(make_window, "housing_regression")
    run_and_wait(window, qtbot)
    window.open_viewer("evaluate", "metrics")
    assert window.viewer_area.isVisible()
    window.viewer_area.tabCloseRequested.emit(0)
    assert window.viewer_area.isHidden() and window.viewer_pages == []


def test_a_popped_out_window_closes_its_page(make_window, qtbot):
    window = example_window(make_window, "housing_regression")
    run_and_wait(window, qtbot)
    window.open_viewer("evaluate", "metrics")
    (page,) = window.viewer_pages
    page.detach_button.click()
    page.window().close()
    QApplication.processEvents()
    assert window.viewer_pages == []
