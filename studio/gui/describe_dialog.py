"""Describe Data Owners…: attach owners and terms to the CSV or Parquet file a node reads.

The dialog writes the file's sidecar (``<file>.axon-data.json``) with
``studio data describe`` (``studio.ownership.describe``): owners of
every row, or per row through an owner column, the terms of every use, the
file's SHA-256 and the rows' digest (the deposit). The command runs in a
process of its own: reading and hashing every row of a large file holds
Python's interpreter lock for long stretches, which would freeze the window
if a thread of the app's did it. On an error the dialog stays open and says
what to change.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from nodes.ownership.sidecar import SidecarError, read_sidecar_file, sidecar_path
from studio.ownership.describe import Description, describe_command
from studio.workflow import Workflow


def source_file(workflow: Workflow, node_id: str) -> Path | None:
    """The file a dataset node reads (an Import Data node's 'path', resolved as a run
    resolves it), to attach a sidecar to; None for other nodes."""
    from nodes.data.files import paths_relative_to, resolve_path
    from nodes.file_access import FileAccess

    node = workflow.nodes.get(node_id)
    if node is None or node.type_id not in workflow.registry:
        return None
    node_type = workflow.registry.get(node.type_id)
    path = node.params.get("path")
    if getattr(node_type, "data_ownership", None) is None or not isinstance(path, str) \
            or not path:
        return None
    with paths_relative_to(FileAccess.for_workflow(workflow).base):
        return resolve_path(path)


def file_columns(path: Path) -> list[str]:
    """The column names of a CSV (its header) or Parquet file (its schema), to offer as
    the owner column; empty when they cannot be read."""
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            return [str(n) for n in pq.read_schema(path).names]
        import pandas as pd

        sep = "\t" if path.suffix.lower() == ".tsv" else ","
        return [str(c) for c in pd.read_csv(path, nrows=0, sep=sep).columns]
    except (OSError, ValueError, UnicodeDecodeError):
        return []


class _Describer(QObject):
    """Runs ``studio data describe`` in a process of its own; its sidecar comes back as
    a signal (the window never waits for it)."""

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.process: QProcess | None = None

    @property
    def busy(self) -> bool:
        return self.process is not None and \
            self.process.state() != QProcess.ProcessState.NotRunning

    def start(self, path: Path, description: Description, refresh: bool) -> None:
        process = QProcess(self)
        process.setProgram(sys.executable)
        process.setArguments(["-m", "studio.cli.main", *describe_command(
            path, description, refresh=refresh, force=not refresh), "--json"])
        process.setWorkingDirectory(str(path.parent))
        process.finished.connect(lambda code, _status: self._finished(process, code))
        process.errorOccurred.connect(lambda error: self._not_started(process, error))
        self.process = process
        process.start()

    def _not_started(self, process: QProcess, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:  # else `finished` says it
            self.failed.emit(f"studio data describe could not start: {process.errorString()}")

    def _finished(self, process: QProcess, code: int) -> None:
        out = bytes(process.readAllStandardOutput().data()).decode(errors="replace")
        err = bytes(process.readAllStandardError().data()).decode(errors="replace").strip()
        if code == 0:
            self.done.emit(json.loads(out))
        else:
            self.failed.emit(err.splitlines()[-1].removeprefix("error: ") if err
                             else f"studio data describe stopped (exit code {code})")


def _words(text: str) -> list[str]:
    return [w.strip() for w in text.replace(";", ",").split(",") if w.strip()]


class DescribeDialog(QDialog):
    """Owners and terms of one file, written as its sidecar."""

    #: The sidecar was written (its JSON, as a dict).
    described = Signal(object)

    def __init__(self, path: Path, columns: list[str] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self.setWindowTitle(f"Data owners of {self.path.name}")
        self.previous = self._previous()
        ownership = (self.previous or {}).get("ownership") or {}
        terms = ownership.get("terms") or {}
        per_row = ownership.get("owner_column")
        self.owners = QLineEdit(", ".join(
            o["id"] if o.get("name") in (None, o["id"]) else f"{o['id']}={o['name']}"
            for o in ([] if per_row else ownership.get("owners", []))))
        self.owners.setPlaceholderText("id or id=Name; several: joint owners of every row")
        self.owner_column = QComboBox()
        self.owner_column.setEditable(True)
        self.owner_column.addItems(["", *(columns or [])])
        self.owner_column.setCurrentText(per_row or "")
        self.owner_column.setToolTip("The column naming each row's owner (empty: the owners "
                                     "above own every row)")
        self.purposes = QLineEdit(", ".join(p for p in terms.get("purposes") or [] if p != "any"))
        self.purposes.setPlaceholderText("e.g. research, teaching (empty: any purpose)")
        self.expires = QLineEdit(terms.get("expires") or "")
        self.expires.setPlaceholderText("YYYY-MM-DD, the last day of use in UTC (empty: never)")
        self.regions = QLineEdit(", ".join(r for r in terms.get("regions") or [] if r != "any"))
        self.regions.setPlaceholderText("e.g. EU, US (empty: anywhere)")
        self.exclusive_to = QLineEdit(terms.get("exclusive_to") or "")
        self.exclusive_to.setPlaceholderText("a licensee: only its runs may use the rows")
        self.license = QLineEdit(terms.get("license") or "")
        self.license.setPlaceholderText("e.g. CC-BY-4.0")
        self.attribution = QLineEdit(terms.get("attribution") or "")
        self.source = QLineEdit((self.previous or {}).get("source") or "")
        self.description = QLineEdit((self.previous or {}).get("description") or "")
        self.keep_owners = QCheckBox("Keep its owners and terms, take only the terms given "
                                     "here (a new version of the file)")
        self.keep_owners.setVisible(self.previous is not None)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #eb3b5a;")
        self.status = QLabel()
        self.status.setWordWrap(True)
        form = QFormLayout()
        for label, widget in (("Owners", self.owners), ("Owner column", self.owner_column),
                              ("Purposes", self.purposes), ("Expires", self.expires),
                              ("Regions", self.regions), ("Exclusive to", self.exclusive_to),
                              ("License", self.license), ("Attribution", self.attribution),
                              ("Source", self.source), ("Description", self.description)):
            form.addRow(label, widget)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        intro = QLabel(f"Who owns the rows of {self.path} and on which terms they may be "
                       f"used. Saved beside it as {sidecar_path(self.path).name}, bound to "
                       "the file's SHA-256, with the rows' data-ownership digest; every run "
                       "checks these terms before any node runs.")
        intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        if self.previous is not None:
            layout.addWidget(QLabel("The file is described already: saving replaces its "
                                    "owners and terms."))
        layout.addLayout(form)
        layout.addWidget(self.keep_owners)
        layout.addWidget(self.error)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.resize(600, self.sizeHint().height())
        self.job = _Describer(self)
        self.job.done.connect(self._written)
        self.job.failed.connect(self._failed)

    def _previous(self) -> dict[str, Any] | None:
        target = sidecar_path(self.path)
        if not target.is_file():
            return None
        try:
            return read_sidecar_file(target)
        except SidecarError:
            return None  # a broken sidecar is replaced

    def description_given(self) -> Description:
        terms = {"purposes": _words(self.purposes.text()) or None,
                 "regions": _words(self.regions.text()) or None,
                 "expires": self.expires.text().strip() or None,
                 "exclusive_to": self.exclusive_to.text().strip() or None,
                 "attribution": self.attribution.text().strip() or None,
                 "license": self.license.text().strip() or None}
        return Description(owners=_words(self.owners.text()),
                           owner_column=self.owner_column.currentText().strip() or None,
                           terms=terms, source=self.source.text().strip() or None,
                           description=self.description.text().strip() or None)

    def save(self) -> None:
        """Write the sidecar, in a process of its own (it reads and hashes every row)."""
        self.error.clear()
        self.status.setText(f"Hashing the rows of {self.path.name}…")
        self.save_button.setEnabled(False)
        self.job.start(self.path, self.description_given(), self.keep_owners.isChecked())

    def _written(self, sidecar: dict[str, Any]) -> None:
        self.status.setText(f"Saved {sidecar_path(self.path)}.")
        self.save_button.setEnabled(True)
        self.described.emit(sidecar)
        self.accept()

    def _failed(self, text: str) -> None:
        self.status.clear()
        self.save_button.setEnabled(True)
        self.error.setText(text)
