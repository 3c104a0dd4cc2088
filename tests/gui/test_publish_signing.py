"""Issue 15: the app's Publish signs every bundle with the user's own key, made at the
first publish, and the local service it starts trusts only that key's public half.

Real widgets (offscreen), a real training run, a real service on 127.0.0.1 and the
real `studio keys verify` in a process of its own (where this process's memory of
the bundles it exported cannot vouch for them).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from studio.engine import Engine, MemoryCache
from studio.gui.document import Document
from studio.gui.publish import PublishDialog
from studio.serve import BundleError, load_bundle, new_key_pair
from studio.serve.signing import (
    ENV_KEYS_DIR,
    SIGNATURE_FILE,
    load_trusted_keys,
    user_key_pair,
    user_key_path,
    verify,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ROOT = EXAMPLES.parent
PUBLISH_TIMEOUT_MS = 120_000  # trains the example first; the machine is shared and loaded


@pytest.fixture
def keys_dir(tmp_path, monkeypatch) -> Path:
    """The user's key folder, inside the test's own folder (never the real home)."""
    folder = tmp_path / "user-keys"
    monkeypatch.setenv(ENV_KEYS_DIR, str(folder))
    return folder


@pytest.fixture
def dialog(qtbot, tmp_path, keys_dir):
    document = Document.open(EXAMPLES / "breast_cancer_classification.axon.json",
                             engine=Engine(cache=MemoryCache()))
    publish = PublishDialog(document, lambda workflow: None)
    qtbot.addWidget(publish)
    publish.folder_edit.setText(str(tmp_path / "service"))
    publish.show()
    yield publish
    publish.done(0)  # stops the local service


def _publish(dialog: PublishDialog, qtbot) -> None:
    started = time.perf_counter()
    dialog.publish()
    # Training, exporting and starting the server happen on a worker thread: the GUI
    # thread is back at once (training alone takes seconds here).
    assert time.perf_counter() - started < 2.0
    assert not dialog.publish_button.isEnabled()
    qtbot.waitUntil(dialog.publish_button.isEnabled, timeout=PUBLISH_TIMEOUT_MS)


def _keys(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "studio.cli.main", "keys", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def _rewrite_digests(bundle: Path) -> None:
    """What someone who can write the folder does after an edit: fix every digest."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    for relative in manifest["files"]:
        manifest["files"][relative] = hashlib.sha256((bundle / relative).read_bytes()).hexdigest()
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2))


def test_publish_makes_the_users_key_signs_and_serves_only_what_verifies(
        dialog, qtbot, keys_dir, tmp_path):
    private, public = keys_dir / "signing-key", keys_dir / "signing-key.pub"
    assert not private.exists()
    assert str(private) in dialog.signing_label.text()  # where the key will be, before

    _publish(dialog, qtbot)
    status = dialog.status.text()
    assert not status.startswith("Publishing failed"), status
    assert dialog.handle is not None
    assert private.is_file() and public.is_file()
    if sys.platform != "win32":
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
    key = dialog.signing_key
    assert key is not None and key.created
    # The dialog says the key was made, names its file, and shows its id.
    assert f"Made your signing key {private}" in status
    assert key.key_id in dialog.signing_label.text() and key.key_id in status
    assert f"--trust-key {public}" in dialog.endpoint.toPlainText()

    bundle = tmp_path / "service"
    trusted = load_trusted_keys([public])
    assert trusted[0].key_id == key.key_id
    # The signature in the bundle verifies with the public key file.
    assert verify((bundle / "manifest.json").read_bytes(),
                  (bundle / SIGNATURE_FILE).read_bytes(), trusted) == (key.key_id, None)
    # The running service verified it too (not the "exported by this process" shortcut).
    assert dialog.handle.bundle.verification.signed_by == key.key_id
    assert "signed by key" in dialog.handle.bundle.verification.note
    request = urllib.request.Request(
        f"{dialog.handle.url}/v1/score", method="POST",
        data=json.dumps({"records": [dialog.manifest["example"]["request"]]}).encode(),
        headers={"Authorization": f"Bearer {dialog.api_key}",
                 "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert json.loads(answer.read())["results"][0]["Scored Labels"] in ("benign",
                                                                             "malignant")
    # Another process, with only the public key file, accepts the bundle as published.
    checked = _keys("verify", str(bundle), "--trust-key", str(public))
    assert checked.returncode == 0, checked.stderr
    assert f"signed by key {key.key_id}" in checked.stdout

    # An edited bundle whose digests were rewritten to match: its signature fails.
    edited = tmp_path / "edited"
    shutil.copytree(bundle, edited)
    workflow = json.loads((edited / "scoring.axon.json").read_text())
    workflow["name"] = "not what was signed"
    (edited / "scoring.axon.json").write_text(json.dumps(workflow))
    _rewrite_digests(edited)
    signer, reason = verify((edited / "manifest.json").read_bytes(),
                            (edited / SIGNATURE_FILE).read_bytes(), trusted)
    assert signer is None and "does not match the manifest" in reason
    refused = _keys("verify", str(edited), "--trust-key", str(public))
    assert refused.returncode == 2
    assert "does not match the manifest" in refused.stderr and "Fix:" in refused.stderr
    with pytest.raises(BundleError, match="does not match the manifest"):
        load_bundle(edited, trust_keys=trusted)
    # A changed file with the signed manifest left alone: the signature holds, the digest
    # it pins does not.
    changed = tmp_path / "changed"
    shutil.copytree(bundle, changed)
    (changed / "scoring.axon.json").write_text(json.dumps(workflow))
    refused = _keys("verify", str(changed), "--trust-key", str(public))
    assert refused.returncode == 2
    assert "'scoring.axon.json' was changed after export" in refused.stderr

    # Publishing again signs with the same key, and says nothing of making one.
    key_bytes = private.read_bytes()
    _publish(dialog, qtbot)
    assert dialog.handle is not None, dialog.status.text()
    assert dialog.signing_key.key_id == key.key_id and not dialog.signing_key.created
    assert "Made your signing key" not in dialog.status.text()
    assert private.read_bytes() == key_bytes
    # The CLI knows the same key as the user's own.
    shown = _keys("show")
    assert shown.returncode == 0, shown.stderr
    assert f"Key id: {key.key_id}" in shown.stdout and str(private) in shown.stdout


def test_a_public_key_file_that_is_not_the_keys_own_half_stops_publish(
        dialog, qtbot, keys_dir, tmp_path):
    own = user_key_pair()
    _, stranger, stranger_id = new_key_pair(tmp_path / "stranger")
    own.public_path.write_bytes(stranger.read_bytes())
    _publish(dialog, qtbot)
    status = dialog.status.text()
    assert status.startswith("Publishing failed: The key file"), status
    assert str(own.public_path) in status and stranger_id in status and own.key_id in status
    assert "Fix: Delete" in status
    assert dialog.handle is None and not (tmp_path / "service").exists()


def test_a_missing_public_key_file_is_written_again_from_the_private_key(keys_dir):
    made = user_key_pair()
    assert made.created
    made.public_path.unlink()
    again = user_key_pair(create=False)
    assert not again.created and again.key_id == made.key_id
    assert load_trusted_keys([again.public_path])[0].key_id == made.key_id


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG folders are Linux's")
def test_the_users_key_lives_in_the_config_folder(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_KEYS_DIR, raising=False)
    # tests/gui/conftest.py points XDG_CONFIG_HOME into the test's folder.
    assert user_key_path() == tmp_path / "config" / "axon-studio" / "keys" / "signing-key"
