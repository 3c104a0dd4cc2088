"""The Publish dialog: trained workflow -> scoring pipeline -> bundle -> local service.

Every slow step (preparing runs the training branch, exporting writes the
bundle, the server starts, a test request goes over HTTP) runs on a worker
thread; results come back as signals, so the window never freezes.

Every bundle is signed with the user's own key (``studio.serve.signing.
user_key_pair``, made at the first publish and named in the status line),
and the local service trusts only its public half: it verifies the
signature as ``studio serve --trust-key`` does, never ``--allow-unsigned``.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from nodes.errors import StudioError
from studio.gui.document import Document
from studio.serve.signing import (
    SIGNATURE_FILE,
    UserKeyPair,
    user_key_pair,
    user_key_path,
    verify,
)
from studio.workflow import Workflow


class _Worker(QObject):
    """Runs one callable on a thread; reports its result or its error."""

    done = Signal(object)
    failed = Signal(str)

    def start(self, work: Callable[[], Any]) -> None:
        def target() -> None:
            try:
                self.done.emit(work())
            except StudioError as error:
                self.failed.emit(str(error))
            except Exception as error:  # shown in the dialog, never a silent stop
                self.failed.emit(f"{type(error).__name__}: {error}")

        threading.Thread(target=target, name="axon-publish", daemon=True).start()


def _serve_verified(folder: Path, api_key: str, key: UserKeyPair) -> Any:
    """Start the local service on the bundle, trusting only ``key``'s public file.

    ``load_bundle`` would also accept the bundle as exported by this process;
    the service is started only when the signature itself verified.
    """
    from studio.serve import BundleError, load_bundle, start_server
    from studio.serve.bundle import MANIFEST

    bundle = load_bundle(folder, trust_keys=[key.trusted])
    if bundle.verification.signed_by != key.key_id:
        signature = folder / SIGNATURE_FILE
        _, reason = verify((folder / MANIFEST).read_bytes(),
                           signature.read_bytes() if signature.is_file() else None,
                           [key.trusted])
        raise BundleError(str(folder), [f"your public key {key.public_path} does not verify "
                                        f"it: {reason}"],
                          fix="Publish again; if it fails again, delete "
                              f"'{key.public_path}' (it is written again from the key).")
    return start_server(bundle, api_key=api_key)


class PublishDialog(QDialog):
    """Prepare, export and (optionally) serve the current workflow."""

    def __init__(self, document: Document, open_workflow: Callable[[Workflow], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Publish as a web service")
        self.resize(760, 600)
        self.document = document
        self.open_workflow = open_workflow
        self.scoring: Workflow | None = None
        self.handle: Any = None
        self.api_key: str | None = None
        self.manifest: dict[str, Any] | None = None
        stem = (document.path.name.removesuffix(".axon.json") if document.path
                else "workflow")
        default_folder = (document.path.parent if document.path else Path.home()) / \
            f"{stem}-service"
        self.folder_edit = QLineEdit(str(default_folder))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit)
        folder_row.addWidget(browse)
        self.serve_box = QCheckBox("Start a local service on 127.0.0.1 after exporting")
        self.serve_box.setChecked(True)
        self.signing_key: UserKeyPair | None = None
        self.signing_label = QLabel(f"your own key, {user_key_path()} (made at the first "
                                    "publish if there is none)")
        self.signing_label.setWordWrap(True)
        self.signing_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel("Publishing prepares the scoring pipeline from the last run: "
                             "training nodes are replaced by the fitted models.")
        self.status.setWordWrap(True)
        self.publish_button = QPushButton("Prepare and export")
        self.publish_button.setDefault(True)
        self.publish_button.clicked.connect(self.publish)
        self.show_pipeline = QPushButton("Open scoring pipeline")
        self.show_pipeline.setEnabled(False)
        self.show_pipeline.clicked.connect(lambda: self.scoring and self.open_workflow(
            self.scoring))
        form = QFormLayout()
        form.addRow("Bundle folder", folder_row)
        form.addRow("Signing key", self.signing_label)
        form.addRow("", self.serve_box)
        buttons = QHBoxLayout()
        buttons.addWidget(self.publish_button)
        buttons.addWidget(self.show_pipeline)
        buttons.addStretch(1)
        self.details = QTabWidget()
        self.endpoint = QPlainTextEdit()
        self.endpoint.setReadOnly(True)
        self.details.addTab(self.endpoint, "Endpoint and key")
        self.samples = QPlainTextEdit()
        self.samples.setReadOnly(True)
        self.details.addTab(self.samples, "Sample requests")
        test_page = QWidget()
        test_layout = QVBoxLayout(test_page)
        self.request_edit = QPlainTextEdit()
        self.request_edit.setPlaceholderText('{"column": value, ...}')
        self.send_button = QPushButton("Send")
        self.send_button.setEnabled(False)
        self.send_button.clicked.connect(self.send_test)
        self.response_view = QPlainTextEdit()
        self.response_view.setReadOnly(True)
        test_layout.addWidget(QLabel("One record as JSON:"))
        test_layout.addWidget(self.request_edit)
        test_layout.addWidget(self.send_button)
        test_layout.addWidget(QLabel("Answer:"))
        test_layout.addWidget(self.response_view)
        self.details.addTab(test_page, "Test")
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.details)
        layout.addWidget(close)
        self._worker = _Worker(self)
        self._worker.done.connect(self._published)
        self._worker.failed.connect(self._failed)
        self._tester = _Worker(self)
        self._tester.done.connect(self.response_view.setPlainText)
        self._tester.failed.connect(self.response_view.setPlainText)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Bundle folder", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def publish(self) -> None:
        from studio.serve import export_bundle, prepare_scoring_workflow

        workflow = self.document.workflow.copy()
        engine = self.document.engine
        folder = Path(self.folder_edit.text()).expanduser()
        serve = self.serve_box.isChecked()
        old_handle, self.handle = self.handle, None  # stopped first thing below
        self.send_button.setEnabled(False)

        def work() -> dict[str, Any]:
            if old_handle is not None:
                old_handle.stop()
            key = user_key_pair()  # first: a key problem is told before the slow steps
            scoring = prepare_scoring_workflow(workflow, engine)
            result = export_bundle(scoring, folder, overwrite=True,
                                   signing_key=key.private_key)
            handle = _serve_verified(result.folder, result.api_key, key) if serve else None
            return {"scoring": scoring, "result": result, "handle": handle, "key": key}

        self.publish_button.setEnabled(False)
        self.status.setText("Preparing the scoring pipeline and exporting the bundle…")
        self._worker.start(work)

    def _published(self, outcome: dict[str, Any]) -> None:
        self.publish_button.setEnabled(True)
        self.scoring = outcome["scoring"]
        result, self.handle = outcome["result"], outcome["handle"]
        self.api_key, self.manifest = result.api_key, result.manifest
        key = self.signing_key = outcome["key"]
        self.show_pipeline.setEnabled(True)
        serve_elsewhere = f"studio serve {result.folder} --trust-key {key.public_path}"
        url = self.handle.url if self.handle else f"(not started: `{serve_elsewhere}`)"
        self.signing_label.setText(f"key {key.key_id}: {key.private_path} (public key: "
                                   f"{key.public_path})")
        made = (f"Made your signing key {key.private_path} (key {key.key_id}; its public "
                f"key, for servers, is {key.public_path}). " if key.created else "")
        self.status.setText(
            f"{made}Exported to {result.folder}, signed with key {key.key_id}." + (
                f" Serving at {self.handle.url}: the service verified the signature with "
                f"{key.public_path}." if self.handle else ""))
        example = result.manifest.get("example", {}).get("request", {})
        self.endpoint.setPlainText(
            f"Bundle: {result.folder}\nSigned by key {key.key_id} ({key.public_path})\n"
            f"Service: {url}\nScore: POST {url}/v1/score\n"
            f"Classic: POST {url}/workspaces/local/services/{result.manifest['name']}/execute"
            f"?api-version=2.0\nDocs: {url}/docs\n\nServe it elsewhere (copy the public key "
            f"there):\n{serve_elsewhere}\n\nAPI key (shown once, stored hashed in the "
            f"bundle):\n{self.api_key}")
        body = json.dumps({"records": [example]})
        self.samples.setPlainText(
            f"curl -s -X POST {url}/v1/score \\\n  -H 'Authorization: Bearer {self.api_key}' "
            f"\\\n  -H 'Content-Type: application/json' \\\n  -d '{body}'\n\n"
            "import requests\n"
            f"answer = requests.post('{url}/v1/score',\n"
            f"    headers={{'Authorization': 'Bearer {self.api_key}'}},\n"
            f"    json={body})\nprint(answer.json())\n")
        self.request_edit.setPlainText(json.dumps(example, indent=2))
        self.send_button.setEnabled(self.handle is not None)
        self.details.setCurrentIndex(0)

    def _failed(self, message: str) -> None:
        self.publish_button.setEnabled(True)
        self.status.setText(f"Publishing failed: {message}")

    def send_test(self) -> None:
        if self.handle is None:
            return
        try:
            record = json.loads(self.request_edit.toPlainText())
        except ValueError as error:
            self.response_view.setPlainText(f"The record is not valid JSON: {error}")
            return
        url, key = self.handle.url, self.api_key

        def work() -> str:
            request = urllib.request.Request(
                f"{url}/v1/score", data=json.dumps({"records": [record]}).encode(),
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                method="POST")
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    return json.dumps(json.loads(answer.read()), indent=2)
            except urllib.error.HTTPError as error:
                return f"HTTP {error.code}: {error.read().decode(errors='replace')}"

        self.response_view.setPlainText("Sending…")
        self._tester.start(work)

    def done(self, result: int) -> None:  # stop the local service with the dialog
        if self.handle is not None:
            handle, self.handle = self.handle, None
            threading.Thread(target=handle.stop, daemon=True).start()
        super().done(result)
