"""Run settings: where the nodes run (this process, or a Dask cluster), the memory
for results, and the MLflow tracking URI every run is also sent to."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.engine.cache import memory_budget
from studio.engine.executor import Executor

_MB = 1 << 20
#: What installs the MLflow client (an optional extra of Axon Studio).
MLFLOW_INSTALL = "pip install 'axon-studio[mlflow]'"
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")
_HOST_AND_PORT = re.compile(r"^[A-Za-z0-9.-]+:\d+(/\S*)?$")


def default_memory_mb() -> int:
    """A quarter of this machine's memory (1 GB where it cannot be told), in MB."""
    budget = memory_budget()
    return budget // _MB if budget else 1024


@dataclass(frozen=True)
class RunSettings:
    """``executor``: "local" (threads here), "dask-local" (a LocalCluster) or "dask"."""

    executor: str = "local"
    jobs: int = 0  # 0: one per core
    workers: int = 2
    scheduler: str = ""
    #: Memory for results kept between runs (the least recently used go past it).
    memory_mb: int = -1  # -1: default_memory_mb()
    #: Where every run is also logged in MLflow (a folder, file:///path, http://host:port);
    #: "": the local run store only.
    mlflow_uri: str = ""

    @property
    def memory_bytes(self) -> int:
        return (default_memory_mb() if self.memory_mb < 0 else self.memory_mb) * _MB

    def same_executor(self, other: RunSettings | None) -> bool:
        return other is not None and (self.executor, self.jobs, self.workers,
                                      self.scheduler) == (other.executor, other.jobs,
                                                          other.workers, other.scheduler)

    def describe(self) -> str:
        if self.executor == "dask-local":
            return f"Dask, local cluster of {self.workers} workers"
        if self.executor == "dask":
            return f"Dask cluster at {self.scheduler}"
        return "this process" + (f", {self.jobs} at once" if self.jobs else "")

    def make_executor(self) -> Executor | None:
        """Build the executor (slow for Dask: call it off the GUI thread)."""
        if self.executor == "local":
            from studio.engine.executor import InProcessExecutor

            return InProcessExecutor(self.jobs or None)
        from studio.engine.dask_executor import DaskExecutor

        if self.executor == "dask-local":
            return DaskExecutor(local_workers=self.workers)
        return DaskExecutor(self.scheduler)


def mlflow_uri_problem(text: str) -> str | None:
    """What is wrong with ``text`` as an MLflow tracking URI, or None ("" is fine:
    runs are then kept in the local run store only)."""
    text = text.strip()
    if not text:
        return None
    if "://" in text:
        if _URI.match(text):
            return None
        return (f"'{text}' is not a tracking URI: give a folder (a local file store), "
                "file:///path or http://host:5000.")
    if text.startswith("file:"):
        return None if text.removeprefix("file:").strip("/") else (
            "'file:' names no folder: give file:///path/to/mlruns.")
    if _HOST_AND_PORT.match(text):
        return f"A tracking server needs its scheme: http://{text}."
    folder = Path(text).expanduser()
    if folder.exists() and not folder.is_dir():
        return (f"{folder} is a file: an MLflow file store is a folder (it is created when "
                "missing). Give a folder, or http://host:5000.")
    return None


def absolute_mlflow_uri(text: str) -> str:
    """``text`` with a folder made absolute (the app's working folder is no place the
    user chose); URIs as they are."""
    text = text.strip()
    if not text or "://" in text or text.startswith("file:") or _HOST_AND_PORT.match(text):
        return text
    return str(Path(text).expanduser().resolve())


def mlflow_installed() -> bool:
    """Whether the MLflow client can be imported here (it is not imported now)."""
    try:
        return importlib.util.find_spec("mlflow") is not None
    except (ImportError, ValueError):
        return False


class RunSettingsDialog(QDialog):
    """Choose the executor, the memory for results and the MLflow tracking URI; applied
    when the next run starts."""

    def __init__(self, settings: RunSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Run settings")
        self.local = QRadioButton("In this process (independent branches run in parallel)")
        self.dask_local = QRadioButton("Dask: start a local cluster of worker processes")
        self.dask = QRadioButton("Dask: a running cluster (scheduler address)")
        group = QButtonGroup(self)
        for button in (self.local, self.dask_local, self.dask):
            group.addButton(button)
        {"local": self.local, "dask-local": self.dask_local,
         "dask": self.dask}[settings.executor].setChecked(True)
        self.jobs = QSpinBox()
        self.jobs.setRange(0, 256)
        self.jobs.setSpecialValueText("one per core")
        self.jobs.setValue(settings.jobs)
        self.workers = QSpinBox()
        self.workers.setRange(1, 64)
        self.workers.setValue(settings.workers)
        self.memory = QSpinBox()
        self.memory.setRange(0, max(default_memory_mb() * 4, 1024))
        self.memory.setSingleStep(256)
        self.memory.setSuffix(" MB")
        self.memory.setSpecialValueText("none: results are not kept between runs")
        self.memory.setValue(settings.memory_bytes // _MB)
        self.memory.setToolTip("Results of earlier runs kept in memory, so that a re-run "
                               "reuses them; past this size the least recently used go "
                               "(they stay in the disk cache). Default: a quarter of this "
                               "machine's memory.")
        self.scheduler = QLineEdit(settings.scheduler)
        self.scheduler.setPlaceholderText("tcp://host:8786")
        self.mlflow = QLineEdit(settings.mlflow_uri)
        self.mlflow.setPlaceholderText("empty: not sent; ./mlruns, file:///path or "
                                       "http://host:5000")
        self.mlflow.setToolTip("Every run is kept in the local run store; with a tracking "
                               "URI it is also logged to MLflow (parameters, metrics, "
                               "lineage, models). A folder is a local file store.")
        self.mlflow_note = QLabel()
        self.mlflow_note.setWordWrap(True)
        self.mlflow_note.setStyleSheet("color: #d68910;")
        self.mlflow_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.mlflow.textChanged.connect(self._mlflow_changed)
        self._mlflow_changed(self.mlflow.text())
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #eb3b5a;")
        form = QFormLayout()
        form.addRow(self.local)
        form.addRow("Nodes at once", self.jobs)
        form.addRow(self.dask_local)
        form.addRow("Workers", self.workers)
        form.addRow(self.dask)
        form.addRow("Scheduler", self.scheduler)
        form.addRow("Memory for results", self.memory)
        form.addRow("MLflow tracking URI", self.mlflow)
        form.addRow(self.mlflow_note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Results already computed stay valid: where a node ran does "
                                "not change its cache key."))
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def settings(self) -> RunSettings:
        kind = "dask-local" if self.dask_local.isChecked() else (
            "dask" if self.dask.isChecked() else "local")
        return RunSettings(kind, self.jobs.value(), self.workers.value(),
                           self.scheduler.text().strip(), self.memory.value(),
                           mlflow_uri=absolute_mlflow_uri(self.mlflow.text()))

    def _mlflow_changed(self, text: str) -> None:
        missing = bool(text.strip()) and not mlflow_installed()
        self.mlflow_note.setText(
            f"MLflow is not installed in this Python: {MLFLOW_INSTALL}, then restart the "
            "app. Until then runs are kept in the local run store only." if missing else "")
        self.mlflow_note.setVisible(missing)

    def _accept(self) -> None:
        settings = self.settings()
        if settings.executor == "dask" and not settings.scheduler.startswith(("tcp://",
                                                                             "tls://")):
            self.error.setText("Give the scheduler's address, e.g. tcp://host:8786.")
            return
        problem = mlflow_uri_problem(settings.mlflow_uri)
        if problem:
            self.error.setText(f"MLflow tracking URI: {problem}")
            self.mlflow.setFocus()
            return
        self.accept()
