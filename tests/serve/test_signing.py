"""Issue 15, finding 1: an edited bundle whose digests were rewritten to match is refused,
because the manifest (which pins every digest) is signed; stored code never runs
without --trust, signed or not."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from serve_helpers import ServeProcess, studio

from studio.serve import BundleError, load_bundle, new_key_pair, sign_bundle, start_server
from studio.serve.signing import KeyFileError, load_signing_key, load_trusted_keys
from studio.workflow import load_workflow, save_workflow


def _rewrite_digests(bundle: Path) -> None:
    """What an attacker who can write the folder does: make every digest match again."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    for relative in manifest["files"]:
        manifest["files"][relative] = hashlib.sha256((bundle / relative).read_bytes()).hexdigest()
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2))


def _add_script(bundle: Path, marker: Path) -> None:
    """An Execute Python Script node in the scoring workflow, feeding Score Model's rows."""
    workflow = load_workflow(bundle / "scoring.axon.json")
    code = (f"from pathlib import Path\n\ndef azureml_main(dataframe1=None, dataframe2=None):\n"
            f"    Path({str(marker)!r}).write_text('ran')\n    return dataframe1\n")
    workflow.add_node("execute_python_script", {"code": code}, node_id="script")
    save_workflow(workflow, bundle / "scoring.axon.json")


def test_an_added_script_with_rewritten_digests_is_refused_and_never_runs(bundle_copy, signer,
                                                                         tmp_path):
    marker = tmp_path / "the-code-ran"
    _add_script(bundle_copy, marker)
    _rewrite_digests(bundle_copy)
    with pytest.raises(BundleError, match="does not match the manifest: the manifest was "
                                          "changed after it was signed"):
        load_bundle(bundle_copy, trust_keys=signer.trusted, trusted=True)
    # Without a signature check the digests now agree, but stored code still needs --trust.
    with pytest.raises(BundleError, match="not been trusted") as refused:
        load_bundle(bundle_copy, allow_unsigned=True)
    assert "--trust" in str(refused.value)
    assert not marker.exists()


def test_stored_code_stays_refused_without_trust_even_when_signed(bundle_copy, signer,
                                                                  tmp_path):
    """Signing says who made a bundle; trusting its code is a separate, explicit step."""
    marker = tmp_path / "the-code-ran"
    _add_script(bundle_copy, marker)
    _rewrite_digests(bundle_copy)
    sign_bundle(bundle_copy, signer.private)  # the signer vouches for this very bundle
    with pytest.raises(BundleError, match="not been trusted"):
        load_bundle(bundle_copy, trust_keys=signer.trusted)
    assert not marker.exists()
    refused = studio("serve", bundle_copy, "--trust-key", signer.public, cwd=tmp_path)
    assert refused.returncode == 2 and "not been trusted" in refused.stderr
    assert "--trust" in refused.stderr and not marker.exists()


def test_a_swapped_model_with_rewritten_digests_is_refused(bundle_copy, housing, signer):
    """The issue's second edit: another model in place of the trained one, its lineage
    digest in scoring.axon.json and the manifest's digests rewritten to match."""
    target = bundle_copy / "models" / "train_model"
    shutil.rmtree(target)
    shutil.copytree(housing.bundle_dir / "models" / "train_model", target)
    workflow = load_workflow(bundle_copy / "scoring.axon.json")
    housing_workflow = load_workflow(housing.bundle_dir / "scoring.axon.json")
    workflow.set_param("train_model", "sha256",
                       housing_workflow.nodes["train_model"].params["sha256"])
    save_workflow(workflow, bundle_copy / "scoring.axon.json")
    _rewrite_digests(bundle_copy)
    with pytest.raises(BundleError, match="manifest was changed after it was signed"):
        load_bundle(bundle_copy, trust_keys=signer.trusted)


def test_unsigned_foreign_and_damaged_signatures_are_refused_naming_why(bundle_copy, signer,
                                                                         tmp_path):
    (bundle_copy / "manifest.sig").unlink()
    with pytest.raises(BundleError, match=r"not signed \(no manifest.sig\)"):
        load_bundle(bundle_copy, trust_keys=signer.trusted)
    assert load_bundle(bundle_copy, allow_unsigned=True).verification.signed_by is None
    _, other_public, other_id = new_key_pair(tmp_path / "other")
    sign_bundle(bundle_copy, tmp_path / "other")
    with pytest.raises(BundleError, match=f"signed by key {other_id}, which is not a trusted "
                                          "key") as foreign:
        load_bundle(bundle_copy, trust_keys=signer.trusted)
    assert signer.key_id in str(foreign.value)
    # Any of several trusted keys will do.
    both = [*signer.trusted, *load_trusted_keys([other_public])]
    assert load_bundle(bundle_copy, trust_keys=both).verification.signed_by == other_id
    document = json.loads((bundle_copy / "manifest.sig").read_text())
    flipped = bytearray(base64.b64decode(document["signature"]))
    flipped[0] ^= 1
    document["signature"] = base64.b64encode(bytes(flipped)).decode()
    (bundle_copy / "manifest.sig").write_text(json.dumps(document))
    with pytest.raises(BundleError, match="does not match the manifest"):
        load_bundle(bundle_copy, trust_keys=both)
    (bundle_copy / "manifest.sig").write_text("not a signature")
    with pytest.raises(BundleError, match="not a signature file"):
        load_bundle(bundle_copy, trust_keys=both)


def test_signing_a_tampered_bundle_is_refused(bundle_copy, signer):
    (bundle_copy / "README.md").write_text("edited")
    with pytest.raises(BundleError, match="README.md' was changed"):
        sign_bundle(bundle_copy, signer.private)


def test_a_bundle_this_process_exported_is_served_without_a_key_but_a_copy_is_not(
        breast_cancer, bundle_copy):
    """The app's Publish exports and serves in one go: the manifest it just wrote (which
    pins every file) is its own proof. A copy elsewhere must show a signature."""
    bundle = load_bundle(breast_cancer.bundle_dir)
    assert bundle.verification.note.startswith("exported by this process")
    with pytest.raises(BundleError, match="but no key is trusted"):
        load_bundle(bundle_copy, trust_keys=())
    with start_server(breast_cancer.bundle_dir) as handle:
        assert httpx.get(handle.url + "/ready").status_code == 200


def test_key_files_are_checked(tmp_path, signer):
    with pytest.raises(KeyFileError, match="already exists"):
        new_key_pair(signer.private)
    with pytest.raises(KeyFileError, match="does not exist"):
        load_signing_key(tmp_path / "missing")
    (tmp_path / "junk").write_text("hello")
    (tmp_path / "junk").chmod(0o600)
    with pytest.raises(KeyFileError, match="does not hold an Ed25519 private key"):
        load_signing_key(tmp_path / "junk")
    with pytest.raises(KeyFileError, match="does not hold an Ed25519 public key"):
        load_trusted_keys([tmp_path / "junk"])
    # An OpenSSH public key line of the same key is accepted as well.
    key = load_signing_key(signer.private)
    ssh = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                        serialization.PublicFormat.OpenSSH)
    (tmp_path / "signer_ssh.pub").write_bytes(ssh + b" someone@example\n")
    assert load_trusted_keys([tmp_path / "signer_ssh.pub"])[0].key_id == signer.key_id


def test_serve_of_a_workflow_signs_its_session_bundle(tmp_path):
    """`studio serve WORKFLOW` exports a bundle then and there: signed by a key that
    lives only in that session, and checked like any other."""
    server = ServeProcess(Path(__file__).resolve().parents[2] / "examples" /
                          "housing_regression.axon.json", cwd=tmp_path)
    try:
        server.wait_ready()
        ready = httpx.get(server.url + "/ready").json()
    finally:
        server.stop()
    assert ready["checks"]["bundle"].startswith("signed by key")
    assert "this session" in ready["checks"]["bundle"]
