"""The table viewer on a million rows (issue 13, item 2): selecting a column, sorting
and statistics never run on the GUI thread; results arrive by signal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import QPoint, Qt

from nodes.values import Table
from studio.gui.viewers.table_viewer import TableViewer

ROWS = 1_000_000


@pytest.fixture(scope="module")
def million_rows() -> Table:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=ROWS) for i in range(7)})
    frame["count"] = rng.integers(0, 1000, ROWS)
    frame["city"] = rng.choice(["Lisbon", "Oslo", "Quito", "Accra"], ROWS)
    frame["label"] = (frame["x0"] > 0).astype(int)
    return Table(frame, {"label": "label"})


def _viewer(qtbot, table: Table) -> TableViewer:
    viewer = TableViewer(table)
    qtbot.addWidget(viewer)
    viewer.resize(1000, 600)
    viewer.show()
    qtbot.waitUntil(lambda: not getattr(viewer, "busy", False), timeout=60_000)  # 1st column
    return viewer


def _columns(viewer: TableViewer) -> list[str]:
    """The columns in display order."""
    return getattr(viewer.model, "columns", list(viewer.table.frame.columns))


def _click_heading(qtbot, viewer: TableViewer, column: str) -> None:
    header = viewer.view.horizontalHeader()
    section = _columns(viewer).index(column)
    viewer.view.scrollTo(viewer.model.index(0, section))
    x = header.sectionViewportPosition(section) + header.sectionSize(section) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))


def _selected_cells(viewer: TableViewer) -> int:
    return sum(r.height() * r.width() for r in viewer.view.selectionModel().selection())


def test_clicking_a_column_heading_returns_at_once_and_statistics_follow(qtbot, million_rows):
    viewer = _viewer(qtbot, million_rows)
    before = [viewer.stats.item(r, 1).text() for r in range(viewer.stats.rowCount())]
    _click_heading(qtbot, viewer, "x3")
    # Back from the click: nothing a million rows long was selected or computed.
    assert _selected_cells(viewer) <= 1, "a whole column of cells was selected"
    assert [viewer.stats.item(r, 1).text() for r in range(viewer.stats.rowCount())] == before
    assert viewer.model.selected_column == viewer.model.columns.index("x3")
    with qtbot.waitSignal(viewer.statistics_shown, timeout=60_000) as shown:
        pass
    assert shown.args == ["x3"]
    stats = {viewer.stats.item(r, 0).text(): viewer.stats.item(r, 1).text()
             for r in range(viewer.stats.rowCount())}
    assert stats["count"] == f"{ROWS:,}"
    assert float(stats["mean"]) == pytest.approx(million_rows.frame["x3"].mean(), abs=1e-5)
    assert sum(viewer.histogram.counts) == ROWS


def test_a_newer_column_cancels_the_statistics_in_flight(qtbot, million_rows):
    viewer = _viewer(qtbot, million_rows)
    arrived: list[str] = []
    viewer.statistics_shown.connect(arrived.append)
    _click_heading(qtbot, viewer, "x1")
    _click_heading(qtbot, viewer, "city")
    qtbot.waitUntil(lambda: not viewer.busy, timeout=60_000)
    assert arrived == ["city"]
    assert viewer.histogram.counts and len(viewer.histogram.counts) == 4


def test_sorting_a_million_rows_happens_off_the_gui_thread(qtbot, million_rows):
    viewer = _viewer(qtbot, million_rows)
    _click_heading(qtbot, viewer, "x2")
    with qtbot.waitSignal(viewer.sorted, timeout=60_000) as done:
        viewer.sort_down.click()
        assert viewer.model.order is None  # still the old order: the work is elsewhere
    assert done.args == ["x2", False]
    column = viewer.model.columns.index("x2")
    shown = [float(viewer.model.data(viewer.model.index(r, column))) for r in range(50)]
    assert shown == sorted(shown, reverse=True)
    assert shown[0] == pytest.approx(million_rows.frame["x2"].max(), rel=1e-5)
    # The row headings still name each row's place in the table.
    first = int(viewer.model.headerData(0, Qt.Orientation.Vertical))
    assert first == int(million_rows.frame["x2"].to_numpy().argmax())
    viewer.view.verticalScrollBar().setValue(ROWS // 2)  # scrolling a sorted view
    viewer.view.viewport().repaint()
    viewer.unsort.click()
    assert viewer.model.order is None


def test_clicking_a_cell_selects_that_cell_only(qtbot, million_rows):
    viewer = _viewer(qtbot, million_rows)
    rect = viewer.view.visualRect(viewer.model.index(3, viewer.model.columns.index("count")))
    with qtbot.waitSignal(viewer.statistics_shown, timeout=60_000) as shown:
        qtbot.mouseClick(viewer.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert _selected_cells(viewer) == 1
    assert shown.args == ["count"]


def test_score_columns_come_first_and_headings_elide_with_a_tooltip(qtbot):
    frame = pd.DataFrame({"a_rather_long_feature_column_name": [1.0, 2.0], "label": [0, 1],
                          "Scored Labels": [0, 1], "Scored Probabilities": [0.2, 0.9]})
    table = Table(frame, {"label": "label", "Scored Labels": "score",
                          "Scored Probabilities": "score"})
    viewer = _viewer(qtbot, table)
    assert viewer.model.columns[:3] == ["Scored Labels", "Scored Probabilities", "label"]
    header = viewer.view.horizontalHeader()
    assert header.textElideMode() == Qt.TextElideMode.ElideRight
    long_one = viewer.model.columns.index("a_rather_long_feature_column_name")
    assert "a_rather_long_feature_column_name" in viewer.model.headerData(
        long_one, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
