"""The use a run declares for its data, and an explicit override of the data's terms.

Run > Data Use… sets the workflow's settings ``purpose``, ``region`` and
``licensee`` (saved with the file, undoable, as ``studio run --purpose
--region`` sets them for one run) and can override the terms for the next
run only, with a reason: the reason and every term overridden go into the
run record and each model made from it (``studio.ownership.terms``). The
dialog says, for the use being typed, which terms would refuse it; that
check reads the sidecars, so it runs on the thread pool.

A run the terms refuse is kept in the run history (status ``refused``) so
the owners' statements list it, as ``studio run`` keeps it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from studio.gui.background import BackgroundJob
from studio.gui.document import Document
from studio.ownership.terms import TermsProblem, Use, today, use_of, violations
from studio.workflow import Workflow

#: The workflow settings the dialog edits (the override is never saved).
DECLARED = ("purpose", "region", "licensee")
#: Said with every refusal the app shows: where the app declares a use.
APP_FIX = ("In the app: Run > Data Use… declares the run's purpose, region and licensee, or "
           "overrides the terms for the next run with a reason; Describe Data Owners… "
           "(a source node's menu) records renewed terms.")


class SetUseCommand(QUndoCommand):
    """Set the declared use (an empty value removes the setting); undoable."""

    def __init__(self, workflow: Workflow, values: dict[str, str],
                 changed: Callable[[], None]) -> None:
        super().__init__("Set the data use")
        self.workflow = workflow
        self.changed = changed
        self.new = {k: values.get(k) or None for k in DECLARED}
        self.old = {k: workflow.info.extra.get(k) for k in DECLARED}

    def _apply(self, values: dict[str, Any]) -> None:
        extra = self.workflow.info.extra
        for key, value in values.items():
            if value is None:
                extra.pop(key, None)
            else:
                extra[key] = value
        self.changed()

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


class DataUse(QObject):
    """One window's data use: the override pending for its next run, and refusals
    kept in the run history."""

    #: A refused run was kept in the run history: its run id.
    refusal_kept = Signal(str)
    #: It could not be kept: why.
    refusal_not_kept = Signal(str)

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        #: The reason given to override the terms for the next run (None: none).
        self.override: str | None = None
        self._keeper = BackgroundJob(self)
        self._keeper.finished.connect(self.refusal_kept.emit)
        self._keeper.failed.connect(self.refusal_not_kept.emit)

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        """The pending override in the workflow's settings while a run takes its
        snapshot, and only then (it is never saved with the file)."""
        extra = self.document.workflow.info.extra
        if self.override:
            extra["override_terms"] = self.override
        try:
            yield
        finally:
            extra.pop("override_terms", None)

    def run_started(self) -> str | None:
        """A run took the override: it is used up. Returns its reason."""
        reason, self.override = self.override, None
        return reason

    def declare(self, values: dict[str, str], override: str | None,
                changed: Callable[[], None]) -> str:
        """Set the declared use (an undo command, when it changes) and the override for
        the next run; returns what to tell the user."""
        workflow = self.document.workflow
        if any((workflow.info.extra.get(k) or "") != (values.get(k) or "") for k in DECLARED):
            self.document.undo_stack.push(SetUseCommand(workflow, values, changed))
        self.override = override or None
        declared = ", ".join(f"{k} {v}" for k, v in values.items() if v) or "no use declared"
        return f"Data use: {declared}" + (f"; the terms are overridden for the next run "
                                          f"({self.override})" if self.override else "")

    def keep_refusal(self, refused: Sequence[TermsProblem]) -> None:
        """Keep the run the terms refused in the run history, on the thread pool."""
        refused = list(refused)
        snapshot = self.document.workflow.copy()
        path = self.document.path

        def work(_cancel: object) -> str:
            from studio.ownership.record import record_refusal

            return record_refusal(snapshot, refused, workflow_path=path, source="gui").run_id

        self._keeper.start(work)


def terms_refusals(problems: Sequence[Any]) -> list[TermsProblem]:
    """The problems that are refusals by the data's terms."""
    return [p for p in problems if isinstance(p, TermsProblem)]


def refusal_text(problem: Any) -> str:
    """A terms refusal as the app says it: what (dataset, owner, term), the fix, and
    where the app declares a use."""
    return f"{problem.message.rstrip('.')}. Fix: {problem.fix} {APP_FIX}"


class DataUseDialog(QDialog):
    """Purpose, region and licensee of the workflow's runs; an override for the next."""

    def __init__(self, document: Document, override: str | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Data use")
        self.document = document
        declared, _ = use_of(document.workflow)
        self.purpose = QLineEdit(declared.purpose or "")
        self.purpose.setPlaceholderText("e.g. research (checked against each dataset's terms)")
        self.region = QLineEdit(declared.region or "")
        self.region.setPlaceholderText("where the run happens, e.g. DE (EU and EEA name "
                                       "their members)")
        self.licensee = QLineEdit(declared.licensee or "")
        self.licensee.setPlaceholderText("for whom, when a dataset is lent exclusively")
        self.override_box = QCheckBox("Override the data's terms for the next run")
        self.override_box.setChecked(bool(override))
        self.reason = QLineEdit(override or "")
        self.reason.setPlaceholderText("why (required; written into the run record and "
                                       "every model made from it)")
        self.reason.setEnabled(bool(override))
        self.override_box.toggled.connect(self.reason.setEnabled)
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #eb3b5a;")
        form = QFormLayout()
        form.addRow("Purpose", self.purpose)
        form.addRow("Region", self.region)
        form.addRow("Licensee", self.licensee)
        form.addRow(self.override_box)
        form.addRow("Reason", self.reason)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Every dataset's terms are checked against this use and "
                                "today's date before any node runs. The purpose, region and "
                                "licensee are saved with the workflow; an override holds "
                                "for the next run only."))
        layout.addLayout(form)
        layout.addWidget(self.verdict)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(560, self.sizeHint().height())
        self._check = BackgroundJob(self)
        self._check.finished.connect(self._show_verdict)
        self._check.failed.connect(self.verdict.setText)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.check)
        for edit in (self.purpose, self.region, self.licensee):
            edit.textChanged.connect(self._timer.start)
        self.check()

    @property
    def checking(self) -> bool:
        """True until the verdict says what the terms make of the use as typed."""
        return self._timer.isActive() or self._check.busy

    def values(self) -> dict[str, str]:
        return {"purpose": self.purpose.text().strip(), "region": self.region.text().strip(),
                "licensee": self.licensee.text().strip()}

    def override(self) -> str | None:
        return self.reason.text().strip() if self.override_box.isChecked() else None

    def check(self) -> None:
        """Which terms would refuse the use as typed (on the thread pool: it reads the
        sidecars)."""
        values = {k: v or None for k, v in self.values().items()}
        use = Use(values["purpose"], values["region"], values["licensee"], today())
        snapshot = self.document.workflow.copy()
        self.verdict.setText("Checking the data's terms…")
        self._check.start(lambda _cancel: violations(snapshot, use=use)[0])

    def _show_verdict(self, found: list) -> None:
        if not found:
            self.verdict.setText("The terms of every dataset the workflow reads allow this "
                                 "use today.")
            self.verdict.setStyleSheet("")
            return
        lines = [f"• {v.message}" for v in found if v.first]
        self.verdict.setText("The data's terms refuse this use (a run is refused unless "
                             "you override them):\n" + "\n".join(lines))
        self.verdict.setStyleSheet("color: #a86400;")

    def _accept(self) -> None:
        if self.override_box.isChecked() and not self.reason.text().strip():
            self.error.setText("Give the reason for overriding the terms: it goes into the "
                               "run record and every model made from it.")
            self.reason.setFocus()
            return
        self.accept()

