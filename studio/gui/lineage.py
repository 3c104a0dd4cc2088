"""The Lineage panel (a dock): the data behind the selected model or service.

For the selected node it shows what the last run that made its model (or
fitted transform) says: the datasets, their owners with the rows each gave
and their terms (purposes, expiry, regions, exclusivity, license,
attribution), the data-ownership digest (the root and each owner's subtree
root), any terms overridden, and the statement of those owners. For a data
source it shows the dataset it read, or, before a run, what its sidecar
declares; Service Bundle… shows a bundle's. Everything comes from
``studio.ownership.lineage`` (Qt-free); making it reads the run history and
sidecars, so it runs on the thread pool, and only while the panel is shown.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.gui.background import BackgroundJob, check
from studio.gui.describe_dialog import source_file
from studio.gui.document import Document
from studio.ownership.lineage import (
    ArtifactLineage,
    OwnerTerms,
    bundle_lineage,
    declared_lineage,
    model_lineage,
    model_ports,
    owner_statements,
    source_lineage,
)
from studio.ownership.statement import OwnerStatement, Statement, format_statement
from studio.ownership.terms import today
from studio.workflow import Workflow

#: Owners listed (and given a statement) at most; a table owned row by row can have
#: thousands, and the rest are counted.
MAX_OWNERS = 50


@dataclass
class Shown:
    """What the panel shows: lineages (one per model port), or why there is none."""

    lineages: list[ArtifactLineage] = field(default_factory=list)
    message: str = ""


def find_lineage(workflow: Workflow, node_id: str | None, records: Sequence[Any],
                 bundle: Path | None, cancel: threading.Event) -> Shown:
    """The lineage to show for ``node_id`` (newest of ``records`` first) or ``bundle``.
    Reads the run store and sidecars: call it off the GUI thread."""
    if bundle is not None:
        found = bundle_lineage(bundle, statements=False)
        if found is None:
            return Shown(message=f"The service bundle {bundle} carries no data-ownership "
                                 "digest: its training data had no sidecar naming owners.")
        return Shown([_with_statements(found, records)])
    if node_id is None or node_id not in workflow.nodes:
        return Shown(message="Select a model, a fitted transform or a data source to see "
                             "the data it came from, its owners and their terms.")
    label = workflow.label(node_id)
    for record in reversed(records):
        check(cancel)
        ports = model_ports(record, node_id)
        if ports:
            lineages = [model_lineage(record, node_id, p, statements=False) for p in ports]
            return Shown([_with_statements(x, records) for x in lineages if x is not None])
        dataset = source_lineage(record, node_id, statements=False)
        if dataset is not None:
            return Shown([_with_statements(dataset, records)])
    check(cancel)
    from nodes.ownership.sidecar import SidecarError

    try:
        declared = declared_lineage(workflow, node_id, statements=False)
    except SidecarError as error:
        return Shown(message=f"'{label}': {error}. Fix: {error.fix}")
    if declared is not None:
        return Shown([_with_statements(declared, records)])
    file = source_file(workflow, node_id)
    if file is not None:
        return Shown(message=f"'{label}' reads {file.name}, which has no sidecar naming its "
                             "owners and terms: its runs record no data-ownership digest. "
                             "Describe Data Owners… attaches one.")
    return Shown(message=f"'{label}' made no model from owned data in this window's runs. "
                         "Run the workflow (F5), or select a model, a fitted transform or a "
                         "data source.")


def _with_statements(lineage: ArtifactLineage, records: Sequence[Any]) -> ArtifactLineage:
    owners = [o.id for o in lineage.owners][:MAX_OWNERS]
    lineage.statements = owner_statements(owners, records=records)
    return lineage


class LineagePanel(QWidget):
    """Datasets, owners, terms, digest and statement of the selected model or service."""

    #: Describe Data Owners… was asked for the selected node.
    describe_requested = Signal(str)
    #: The shown lineage changed (after the background work delivered it).
    shown = Signal(object)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        #: This window's finished runs, oldest first: at hand before the run store
        #: has them (statements count a run found in both once, by its id).
        self.records: list[Any] = []
        self.node_id: str | None = None
        self.bundle: Path | None = None
        self.current = Shown()
        self._pending = True
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.override = QLabel()
        self.override.setWordWrap(True)
        self.override.setStyleSheet("color: #eb3b5a;")
        self.override.hide()
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["", ""])
        self.tree.setHeaderHidden(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setWordWrap(True)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        copy = QAction("Copy Value", self.tree)
        copy.triggered.connect(self._copy_value)
        self.tree.addAction(copy)
        self.statement = QPlainTextEdit()
        self.statement.setReadOnly(True)
        self.statement.setPlaceholderText("The owners' statement appears here.")
        self.describe_button = QPushButton("Describe Data Owners…")
        self.describe_button.setToolTip("Attach owners and terms to the file the selected "
                                        "node reads")
        self.describe_button.clicked.connect(
            lambda: self.node_id and self.describe_requested.emit(self.node_id))
        self.bundle_button = QPushButton("Service Bundle…")
        self.bundle_button.setToolTip("Show the data behind a published service (a bundle "
                                      "folder)")
        self.bundle_button.clicked.connect(self._choose_bundle)
        buttons = QHBoxLayout()
        buttons.addWidget(self.describe_button)
        buttons.addWidget(self.bundle_button)
        buttons.addStretch(1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.tree)
        split.addWidget(self.statement)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.heading)
        layout.addWidget(self.override)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)
        self.job = BackgroundJob(self)
        self.job.finished.connect(self._show)
        self.job.failed.connect(lambda text: self._show(Shown(message=text)))
        self._update_buttons()

    # -- what to show --------------------------------------------------------------
    def show_node(self, node_id: str | None) -> None:
        self.node_id, self.bundle = node_id, None
        self._update_buttons()
        self.refresh()

    def show_bundle(self, folder: str | Path) -> None:
        self.bundle = Path(folder)
        self._update_buttons()
        self.refresh()

    def add_record(self, record: Any) -> None:
        """A run of this window finished: its lineage is the newest."""
        self.records.append(record)
        self.refresh()

    def refresh(self) -> None:
        """Make the lineage again, on the thread pool; waits while the panel is hidden
        (a tab behind the inspector) and starts when it is shown."""
        if not self.isVisible():
            self._pending = True
            return
        self._pending = False
        workflow = self.document.workflow.copy()
        node_id, records, bundle = self.node_id, list(self.records), self.bundle
        self.heading.setText("Reading the lineage…")
        self.job.start(lambda cancel: find_lineage(workflow, node_id, records, bundle, cancel))

    def showEvent(self, event: Any) -> None:  # noqa: N802
        super().showEvent(event)
        if self._pending:
            self.refresh()

    def _update_buttons(self) -> None:
        node_id = self.node_id
        self.describe_button.setVisible(
            self.bundle is None and node_id is not None
            and source_file(self.document.workflow, node_id) is not None)

    def _choose_bundle(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Service bundle folder")
        if folder:
            self.show_bundle(folder)

    def _copy_value(self) -> None:
        item = self.tree.currentItem()
        if item is not None:
            QGuiApplication.clipboard().setText(str(item.data(1, Qt.ItemDataRole.UserRole)
                                                    or item.text(1) or item.text(0)))

    # -- showing it ------------------------------------------------------------------
    def _show(self, shown: Shown) -> None:
        self.current = shown
        self.tree.clear()
        self.override.hide()
        if not shown.lineages:
            self.heading.setText(shown.message)
            self.statement.clear()
            self.shown.emit(shown)
            return
        first = shown.lineages[0]
        self.heading.setText(_heading(first))
        for lineage in shown.lineages:
            self._add_lineage(lineage, len(shown.lineages) > 1)
        overrides = [x.override for x in shown.lineages if x.override]
        if overrides:
            self.override.setText(_override_text(overrides[0]))
            self.override.show()
        statements = {s.owner: s for x in shown.lineages for s in x.statements}
        self.statement.setPlainText(_statement_text(list(statements.values())))
        self.tree.expandToDepth(0)
        self.shown.emit(shown)

    def _add_lineage(self, lineage: ArtifactLineage, titled: bool) -> None:
        parent: QTreeWidget | QTreeWidgetItem = self.tree
        if titled:
            parent = _item(self.tree, f"{lineage.kind} '{lineage.name}'", "")
        digest = _item(parent, "Digest", "")
        _item(digest, "root", _short(lineage.root), lineage.root)
        rows = "unknown" if lineage.rows is None else f"{lineage.rows:,}"
        how = ("traced row by row" if lineage.traced
               else "attributed to every owned row upstream")
        _item(digest, "rows", f"{rows} ({how})" if lineage.kind != "dataset" else rows)
        if lineage.use:
            use = lineage.use
            _item(digest, "use", f"purpose {use.get('purpose') or 'not declared'}, region "
                                 f"{use.get('region') or 'not declared'}, licensee "
                                 f"{use.get('licensee') or 'not declared'}, on "
                                 f"{use.get('date') or '?'}")
        owners = _item(parent, f"Owners ({len(lineage.owners)})", "")
        for owner in lineage.owners[:MAX_OWNERS]:
            _owner_item(owners, owner)
        if len(lineage.owners) > MAX_OWNERS:
            _item(owners, f"… and {len(lineage.owners) - MAX_OWNERS:,} more", "")
        datasets = _item(parent, f"Datasets ({len(lineage.datasets)})", "")
        for dataset in lineage.datasets:
            item = _item(datasets, dataset.name, "" if dataset.rows is None
                         else f"{dataset.rows:,} rows")
            _item(item, "SHA-256", _short(dataset.sha256), dataset.sha256)
            _item(item, "digest root", _short(dataset.root), dataset.root)
            _item(item, "sidecar", dataset.sidecar or "sample dataset", dataset.sidecar)
            if dataset.source:
                _item(item, "source", dataset.source)
            if dataset.matches_deposit is not None:
                matches = _item(item, "rows as deposited",
                                "yes" if dataset.matches_deposit else
                                "no: the rows read give another root than the deposit's")
                if not dataset.matches_deposit:
                    matches.setForeground(1, Qt.GlobalColor.darkYellow)
            owners_of = ", ".join(f"{o.name} ({o.rows:,} rows)" if o.rows is not None
                                  else o.name for o in dataset.owners[:MAX_OWNERS])
            _item(item, "owners", owners_of)
        if lineage.override:
            override = _item(parent, "Terms overridden", lineage.override.get("reason") or "")
            for violation in lineage.override.get("violations") or []:
                owner = violation.get("owner_name") or violation["owner"]
                _item(override, violation["term"], f"{violation['dataset']}: {owner}")


def _item(parent: QTreeWidget | QTreeWidgetItem, name: str, value: str,
          full: str | None = None) -> QTreeWidgetItem:
    item = QTreeWidgetItem(parent, [name, value])
    if full:
        item.setData(1, Qt.ItemDataRole.UserRole, full)
        item.setToolTip(1, full)
    elif value:
        item.setToolTip(1, value)
    return item


def _owner_item(parent: QTreeWidgetItem, owner: OwnerTerms) -> None:
    name = owner.name if owner.name == owner.id else f"{owner.name} ({owner.id})"
    item = _item(parent, name, "" if owner.rows is None else f"{owner.rows:,} rows")
    _item(item, "subtree root", _short(owner.root), owner.root)
    _item(item, "purposes", ", ".join(owner.purposes))
    expires = _item(item, "expires", owner.expires or "never")
    if owner.expires and owner.expires < today().isoformat():
        expires.setText(1, f"{owner.expires} (expired)")
        expires.setForeground(1, Qt.GlobalColor.red)
    _item(item, "regions", ", ".join(owner.regions))
    _item(item, "exclusive to", owner.exclusive_to or "no one (not exclusive)")
    _item(item, "license", owner.license or "not given")
    _item(item, "attribution", owner.attribution or "not given")


def _short(digest: str | None) -> str:
    return f"{digest[:16]}…" if digest else "none"


def _heading(lineage: ArtifactLineage) -> str:
    what = {"model": "Model", "transform": "Fitted transform", "service": "Service",
            "dataset": "Dataset"}.get(lineage.kind, lineage.kind.capitalize())
    where = f" ({lineage.node})" if lineage.node and lineage.node != lineage.name else ""
    when = (f"run {lineage.run_id}" if lineage.run_id
            else "its sidecar (deposit), before a run")
    rows = "" if lineage.rows is None else f", {lineage.rows:,} rows"
    owners = len(lineage.owners)
    return (f"<b>{what} '{lineage.name}'</b>{where}: from {when}{rows}, "
            f"{owners} owner{'s' if owners != 1 else ''}")


def _override_text(override: dict[str, Any]) -> str:
    terms = sorted({v["term"] for v in override.get("violations") or []})
    return (f"Terms overridden ({', '.join(terms) or 'none broken'}): "
            f"{override.get('reason')}")


def _statement_text(statements: list[OwnerStatement]) -> str:
    runs = {w.run_id for s in statements for w in s.withdrawals} | \
        {r.run_id for s in statements for r in s.refused}
    return format_statement(Statement(None, len(runs), statements))

