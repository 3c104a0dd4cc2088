"""Bundles: every file digested in the manifest; tampered or incomplete bundles refused.

These check the per-file digests on their own (``allow_unsigned``); the
signature over the manifest is tests/serve/test_signing.py."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

from studio.serve import BundleError, load_bundle
from studio.serve.auth import key_digest


def test_manifest_records_every_file_schema_lineage_and_environment(breast_cancer):
    folder, manifest = breast_cancer.bundle_dir, breast_cancer.manifest
    on_disk = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                     if p.is_file() and p.name not in ("manifest.json", "manifest.sig"))
    assert sorted(manifest["files"]) == on_disk
    for relative, digest in manifest["files"].items():
        assert hashlib.sha256((folder / relative).read_bytes()).hexdigest() == digest
    assert {"scoring.axon.json", "openapi.json", "README.md"} <= set(manifest["files"])
    assert "manifest.sig" not in manifest["files"]  # beside the manifest it signs
    assert any(name.endswith((".skops", "arrays.npz")) for name in manifest["files"])
    assert [e["name"] for e in manifest["output_schema"]] == ["Scored Labels",
                                                              "Scored Probabilities"]
    trained_on = {d for m in manifest["lineage"]["models"] for d in m["trained_on"]}
    assert trained_on == {d["sha256"] for d in manifest["lineage"]["datasets"]}
    assert manifest["environment"]["export"]["packages"]["scikit-learn"]
    # The key itself is never stored, only its digest.
    assert breast_cancer.api_key not in (folder / "manifest.json").read_text()
    assert manifest["auth"]["key_sha256"] == [key_digest(breast_cancer.api_key)]
    openapi = json.loads((folder / "openapi.json").read_text())
    assert "/v1/score" in openapi["paths"]


def test_loading_checks_and_loads(breast_cancer, signer):
    bundle = load_bundle(breast_cancer.bundle_dir, trust_keys=signer.trusted)
    assert bundle.verification.signed_by == signer.key_id
    assert bundle.pipeline.schema == breast_cancer.manifest["input_schema"]


def test_a_changed_model_file_is_refused(bundle_copy):
    model = next(bundle_copy.glob("models/train_model/arrays.npz"))
    data = bytearray(model.read_bytes())
    data[-10] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"models/train_model/arrays.npz' was changed"):
        load_bundle(bundle_copy, allow_unsigned=True)


def test_a_missing_file_is_refused(bundle_copy):
    (bundle_copy / "models" / "normalize_transform" / "meta.json").unlink()
    with pytest.raises(BundleError, match="meta.json' is missing"):
        load_bundle(bundle_copy, allow_unsigned=True)


def test_an_added_file_is_refused(bundle_copy):
    (bundle_copy / "models" / "extra.skops").write_bytes(b"\x00")
    with pytest.raises(BundleError, match="extra.skops' is not part of the exported bundle"):
        load_bundle(bundle_copy, allow_unsigned=True)


def test_a_consistently_retargeted_model_is_refused_by_its_lineage_digest(bundle_copy,
                                                                          housing):
    """Swapping in another model and fixing the manifest digests still fails: the
    scoring workflow pins each model's lineage digest."""
    import shutil

    target = bundle_copy / "models" / "train_model"
    shutil.rmtree(target)
    shutil.copytree(housing.bundle_dir / "models" / "train_model", target)
    manifest = json.loads((bundle_copy / "manifest.json").read_text())
    for relative in manifest["files"]:
        manifest["files"][relative] = hashlib.sha256(
            (bundle_copy / relative).read_bytes()).hexdigest()
    (bundle_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="is not the one recorded"):
        load_bundle(bundle_copy, allow_unsigned=True)


def test_a_folder_that_is_not_a_bundle_is_refused(tmp_path):
    with pytest.raises(BundleError, match="no manifest.json"):
        load_bundle(tmp_path, allow_unsigned=True)


def test_the_example_is_synthetic_never_a_training_row(breast_cancer, housing):
    """The manifest's example (in the README, the OpenAPI document and /v1/schema) is
    made up: medians rounded to three digits, not a row of the training data."""
    for trained, label in ((breast_cancer, "diagnosis"), (housing, "MEDV")):
        example = trained.manifest["example"]["request"]
        data = pd.concat([trained.output("split", "train").frame,
                          trained.output("split", "test").frame]).drop(columns=[label])
        assert set(example) == set(data.columns)
        for column, value in example.items():
            assert value == float(f"{value:.3g}")  # rounded: three significant digits
            assert data[column].min() <= value <= data[column].max()
        # No row of the data agrees with it in more than a few columns.
        agreeing = (data[list(example)] == pd.Series(example)).sum(axis=1)
        assert agreeing.max() <= len(example) // 3, agreeing.max()
