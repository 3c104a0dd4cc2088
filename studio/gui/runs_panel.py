"""The Runs panel (a dock): this workflow's runs, two compared side by side, one
re-opened as an untitled workflow.

The runs come from the run store (``studio.runs``, Qt-free), where the app
keeps every run as ``studio run`` does: those of this workflow's file, or, for
an untitled workflow, those of untitled runs with its name; newest first,
with when, status, duration, seed, source (cli, gui, api) and a few key
metrics. Compare puts two selected runs side by side: each parameter that
changed, every metric with its delta (``compare_runs``), the seed, the data
and the environment when they differ; changed values are highlighted. Open
as New Workflow rebuilds the selected run's workflow (``rebuild_workflow``)
for a new untitled window. Reading the store runs on the thread pool, and
only while the panel is shown.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nodes.errors import StudioError
from studio.cli.display import format_duration
from studio.engine.states import NodeState
from studio.gui.background import BackgroundJob, check
from studio.gui.document import Document
from studio.gui.theme import STATE_COLORS, WARNING_COLOR
from studio.runs import RunComparison, RunStore, StoredRun, compare_runs, rebuild_workflow

#: Runs listed at most (the newest); ``studio runs list`` reaches the rest.
MAX_RUNS = 200
#: Metrics given a column of their own, in this order of preference.
KEY_METRICS = ("accuracy", "auc", "f1", "r2", "rmse", "mae", "silhouette",
               "adjusted_rand_index")
METRIC_COLUMNS = 3
#: Item data (column 0) saying a comparison row differs between the runs.
CHANGED_ROLE = Qt.ItemDataRole.UserRole + 1
RUN_COLUMNS = ["Run", "When", "Status", "Duration", "Seed", "Source"]

_STATUS_COLORS = {"succeeded": STATE_COLORS[NodeState.DONE],
                  "failed": STATE_COLORS[NodeState.FAILED],
                  "cancelled": STATE_COLORS[NodeState.CANCELLED]}


@dataclass
class Listing:
    """What the panel lists: ``runs`` newest first, from the store file ``store``;
    ``scope`` says whose runs they are; ``error`` why there are none, if it failed."""

    runs: list[StoredRun] = field(default_factory=list)
    store: str = ""
    scope: str = ""
    error: str = ""


def list_runs(path: Path | None, name: str, cancel: threading.Event,
              limit: int = MAX_RUNS) -> Listing:
    """The runs of the workflow file ``path``, or of untitled runs named ``name`` when
    there is no file; newest first. Reads the run store: call it off the GUI thread."""
    scope = f"{path.name}" if path is not None else f"untitled '{name or 'Untitled'}'"
    try:
        store = RunStore()
        check(cancel)
        if path is not None:
            runs = store.list(workflow_path=path, limit=limit)
        else:
            runs = [r for r in store.list(workflow_name=name, limit=limit)
                    if not r.workflow_path]
    except StudioError as error:  # a runs folder that is a file, a damaged store
        return Listing(scope=scope, error=str(error))
    return Listing(runs, str(store.path), scope)


def key_metrics(runs: list[StoredRun], most: int = METRIC_COLUMNS) -> list[tuple[str, str]]:
    """The (output, metric) pairs given a column: the preferred ones that the runs
    have (``KEY_METRICS``), else the first ones seen."""
    seen: dict[tuple[str, str], None] = {}
    for run in runs:
        for output, scalars in run.metrics.items():
            for name in scalars:
                seen[(output, name)] = None
    preferred = sorted((pair for pair in seen if pair[1] in KEY_METRICS),
                       key=lambda pair: KEY_METRICS.index(pair[1]))
    return (preferred or list(seen))[:most]


def started_text(started: str) -> str:
    """A stored start time (UTC, ISO) in this machine's local time."""
    try:
        return datetime.fromisoformat(started).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return str(started)


def value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if value is None:
        return "n/a"
    return value if isinstance(value, str) else json.dumps(value)


def delta_text(before: float | None, after: float | None) -> str:
    """``after - before`` with its relative change ("" unless both are numbers)."""
    if before is None or after is None:
        return ""
    delta = after - before
    relative = f" ({delta / abs(before):+.2%})" if before else ""
    return f"{delta:+.6g}{relative}"


class RunsPanel(QWidget):
    """This workflow's runs from the run store; Compare and Open as New Workflow."""

    #: Open as New Workflow: the rebuilt Workflow and the StoredRun it came from.
    open_requested = Signal(object, object)
    #: The list was read again (a Listing), on the GUI thread.
    listed = Signal(object)
    #: Compare showed a RunComparison.
    compared = Signal(object)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.listing = Listing()
        self.comparison: RunComparison | None = None
        self._metric_columns: list[tuple[str, str]] = []
        self._pending = True
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.runs = QTreeWidget()
        self.runs.setRootIsDecorated(False)
        self.runs.setUniformRowHeights(True)
        self.runs.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.runs.setHeaderLabels(RUN_COLUMNS)
        self.runs.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.runs.setToolTip("Select two runs and press Compare; select one to open its "
                             "parameters as a new workflow")
        self.runs.itemSelectionChanged.connect(self._update_buttons)
        self.compare_button = QPushButton("Compare")
        self.compare_button.setToolTip("The two selected runs side by side: the parameters "
                                       "that changed and every metric's delta")
        self.compare_button.clicked.connect(self.compare_selected)
        self.open_button = QPushButton("Open as New Workflow")
        self.open_button.setToolTip("The selected run's workflow, with its parameters and "
                                    "seed, in a new untitled window")
        self.open_button.clicked.connect(self.open_selected)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Read the run history again (runs from studio run "
                                       "appear too)")
        self.refresh_button.clicked.connect(self.refresh)
        buttons = QHBoxLayout()
        for button in (self.compare_button, self.open_button, self.refresh_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.comparison_heading = QLabel("Select two runs and press Compare.")
        self.comparison_heading.setWordWrap(True)
        self.comparison_view = QTreeWidget()
        self.comparison_view.setHeaderLabels(["", "Before", "After", "Change"])
        self.comparison_view.header().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.comparison_view.setUniformRowHeights(True)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.heading)
        left_layout.addWidget(self.runs, 1)
        left_layout.addLayout(buttons)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.comparison_heading)
        right_layout.addWidget(self.comparison_view, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)
        self.job = BackgroundJob(self)
        self.job.finished.connect(self._show)
        self.job.failed.connect(lambda text: self._show(Listing(error=text)))
        self._update_buttons()

    # -- reading the store -----------------------------------------------------------
    def refresh(self) -> None:
        """Read this workflow's runs again, on the thread pool; waits while the panel is
        hidden (a tab behind the run log) and starts when it is shown."""
        if not self.isVisible():
            self._pending = True
            return
        self._pending = False
        path, name = self.document.path, self.document.workflow.info.name
        self.heading.setText("Reading the run history…")
        self.job.start(lambda cancel: list_runs(path, name, cancel))

    def showEvent(self, event: Any) -> None:  # noqa: N802
        super().showEvent(event)
        if self._pending:
            self.refresh()

    def _show(self, listing: Listing) -> None:
        chosen = {run.run_id for run in self.selected_runs()}
        self.listing = listing
        self.runs.clear()
        if listing.error:
            self.heading.setText(f"The run history cannot be read: {listing.error}")
            self.heading.setStyleSheet("color: #eb3b5a;")
        else:
            self.heading.setStyleSheet("")
            count = len(listing.runs)
            self.heading.setText(
                f"{count} run{'s' if count != 1 else ''} of {listing.scope}, newest first"
                + (f" (the latest {MAX_RUNS})" if count >= MAX_RUNS else "")
                if count else f"No runs of {listing.scope} yet: run the workflow (F5).")
            self.heading.setToolTip(f"Run store: {listing.store}")
        self._metric_columns = key_metrics(listing.runs)
        several = len({output for output, _ in self._metric_columns}) > 1
        self.runs.setHeaderLabels(RUN_COLUMNS + [
            f"{output.split('.')[0]}.{name}" if several else name
            for output, name in self._metric_columns])
        for run in listing.runs:
            item = self._run_item(run)
            item.setSelected(run.run_id in chosen)
        self._update_buttons()
        self.listed.emit(listing)

    def _run_item(self, run: StoredRun) -> QTreeWidgetItem:
        metrics = [value_text(run.metrics.get(output, {}).get(name))
                   if name in run.metrics.get(output, {}) else ""
                   for output, name in self._metric_columns]
        item = QTreeWidgetItem(self.runs, [
            run.run_id, started_text(run.started), run.status,
            format_duration(run.duration_s), str(run.seed), run.source, *metrics])
        item.setData(0, Qt.ItemDataRole.UserRole, run.run_id)
        color = _STATUS_COLORS.get(run.status)
        if color:
            item.setForeground(2, QBrush(QColor(color)))
        every = "\n".join(f"{output.split('.')[0]}.{name} = {value_text(value)}"
                          for output, scalars in run.metrics.items()
                          for name, value in scalars.items())
        tip = (f"Run {run.run_id} ({run.source}); in a terminal: studio runs show "
               f"{run.run_id}" + (f"\n{every}" if every else "")
               + (f"\nMLflow run {run.mlflow.get('run_id')} at {run.mlflow.get('uri')}"
                  if run.mlflow else ""))
        for column in range(item.columnCount()):
            item.setToolTip(column, tip)
        return item

    # -- selection, compare, open ----------------------------------------------------
    def selected_runs(self) -> list[StoredRun]:
        """The selected runs, newest first."""
        chosen = {item.data(0, Qt.ItemDataRole.UserRole) for item in self.runs.selectedItems()}
        return [run for run in self.listing.runs if run.run_id in chosen]

    def _update_buttons(self) -> None:
        count = len(self.selected_runs())
        self.compare_button.setEnabled(count == 2)
        self.open_button.setEnabled(count == 1)

    def compare_selected(self) -> RunComparison | None:
        """Show the two selected runs side by side (the older one as "before")."""
        runs = self.selected_runs()
        if len(runs) != 2:
            self.comparison_heading.setText("Select two runs (Ctrl+click) to compare them.")
            return None
        before, after = sorted(runs, key=lambda run: run.started)
        comparison = compare_runs(before, after)
        self.comparison = comparison
        self._show_comparison(comparison)
        self.compared.emit(comparison)
        return comparison

    def open_selected(self) -> bool:
        """Ask for the selected run's workflow in a new untitled window."""
        runs = self.selected_runs()
        if len(runs) != 1:
            return False
        try:
            workflow = rebuild_workflow(runs[0])
        except StudioError as error:  # a damaged store, a node type no longer installed
            self.heading.setText(f"Run {runs[0].run_id} cannot be opened: {error}")
            self.heading.setStyleSheet("color: #eb3b5a;")
            return False
        self.open_requested.emit(workflow, runs[0])
        return True

    # -- the comparison --------------------------------------------------------------
    def _show_comparison(self, comparison: RunComparison) -> None:
        before, after = comparison.before, comparison.after
        view = self.comparison_view
        view.clear()
        header = view.headerItem()
        header.setToolTip(1, f"Run {before.run_id}, {started_text(before.started)}")
        header.setToolTip(2, f"Run {after.run_id}, {started_text(after.started)}")
        note = ("" if comparison.same_workflow_file else
                f" Different workflow files: {before.workflow_path or 'none'} and "
                f"{after.workflow_path or 'none'}.")
        changed = len(comparison.parameter_changes) + len(comparison.changed_metrics)
        self.comparison_heading.setText(
            f"Before: run {before.run_id} ({started_text(before.started)}); after: run "
            f"{after.run_id} ({started_text(after.started)}). {changed} "
            f"difference{'s' if changed != 1 else ''} highlighted.{note}")

        parameters = _section(view, f"Parameters ({len(comparison.parameter_changes)} "
                                    "changed)")
        if comparison.seed[0] != comparison.seed[1]:
            _row(parameters, "Workflow seed", str(comparison.seed[0]),
                 str(comparison.seed[1]), "changed", True)
        if comparison.overrides[0] != comparison.overrides[1]:
            _row(parameters, "Overrides (--set)", " ".join(comparison.overrides[0]) or "none",
                 " ".join(comparison.overrides[1]) or "none", "changed", True)
        for change in comparison.parameter_changes:
            _row(parameters, f"{change.title} \u00b7 {change.name}", value_text(change.before),
                 value_text(change.after), "changed", True)
        for node_id, side in comparison.nodes_only_in.items():
            title = (before if side == "before" else after).titles.get(node_id, node_id)
            _row(parameters, f"{title} ({node_id})",
                 "in this run" if side == "before" else "absent",
                 "in this run" if side == "after" else "absent",
                 "removed" if side == "before" else "added", True)
        if not parameters.childCount():
            _row(parameters, "No parameter changed", "", "", "", False)

        metrics = _section(view, f"Metrics ({len(comparison.changed_metrics)} of "
                                 f"{len(comparison.metric_deltas)} changed)")
        for metric in comparison.metric_deltas:
            _row(metrics, f"{metric.output.split('.')[0]} \u00b7 {metric.name}",
                 value_text(metric.before), value_text(metric.after),
                 delta_text(metric.before, metric.after), metric.changed)
        if not metrics.childCount():
            _row(metrics, "Neither run has metrics (an Evaluate node)", "", "", "", False)

        if comparison.dataset_changes:
            data = _section(view, f"Data ({len(comparison.dataset_changes)} changed)")
            for name, (old, new) in comparison.dataset_changes.items():
                _row(data, name, _short(old), _short(new), "other rows", True)
        if not comparison.same_environment:
            environment = _section(view, "Environment (differs)")
            for name, (old, new) in comparison.package_changes.items():
                _row(environment, name, old or "absent", new or "absent", "changed", True)
            if not comparison.package_changes:
                _row(environment, "Host or platform", "", "", "differs", True)
        view.expandAll()


def _section(view: QTreeWidget, title: str) -> QTreeWidgetItem:
    item = QTreeWidgetItem(view, [title])
    font = item.font(0)
    font.setBold(True)
    item.setFont(0, font)
    item.setFirstColumnSpanned(True)
    return item


def _row(parent: QTreeWidgetItem, name: str, before: str, after: str, change: str,
         changed: bool) -> QTreeWidgetItem:
    item = QTreeWidgetItem(parent, [name, _cut(before), _cut(after), change])
    item.setData(0, CHANGED_ROLE, changed)
    for column, text in enumerate((name, before, after, change)):
        item.setToolTip(column, text)
    if changed:
        highlight = QColor(WARNING_COLOR)
        highlight.setAlpha(70)
        for column in range(4):
            item.setBackground(column, QBrush(highlight))
            if column:
                font = QFont(item.font(column))
                font.setBold(True)
                item.setFont(column, font)
    return item


def _cut(text: str, most: int = 80) -> str:
    """A value short enough for a cell (the tooltip has it whole)."""
    return text if len(text) <= most else text[:most - 1] + "…"


def _short(digest: str | None) -> str:
    return f"{digest[:12]}…" if digest else "absent"
