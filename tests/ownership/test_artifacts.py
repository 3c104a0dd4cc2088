"""The digest in run records, cached models, service bundles and the Lineage panel's API."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from nodes.data.datasets import dataset_info
from nodes.ownership.sidecar import sidecar_path
from studio.cli.main import main
from studio.engine import DiskCache, Engine
from studio.ownership.artifacts import ownership_manifest
from studio.ownership.lineage import (
    bundle_lineage,
    declared_lineage,
    model_lineage,
    model_ports,
    owner_statements,
    source_lineage,
)
from studio.workflow import load_workflow
from tests.ownership.helpers import training_workflow, write_loans

REPO = Path(__file__).resolve().parents[2]
REPO_DATA = REPO / "sample_datasets"
EXAMPLE = REPO / "examples" / "breast_cancer_classification.axon.json"


@pytest.fixture(scope="module")
def run_and_bundle(tmp_path_factory):
    """The breast-cancer example run, prepared as a service and exported as a bundle."""
    from studio.serve.bundle import export_bundle
    from studio.serve.prepare import prepare_scoring_workflow

    folder = tmp_path_factory.mktemp("bundle")
    workflow = load_workflow(EXAMPLE)
    workflow.info.extra.update(purpose="research", region="FR")
    with Engine() as engine:
        record = engine.run(workflow)
        scoring = prepare_scoring_workflow(workflow, engine, artifact_dir=folder / "stored")
    export_bundle(scoring, folder / "service")
    # The export wrote the ownership entry into the manifest (before any signing).
    manifest = json.loads((folder / "service" / "manifest.json").read_text())
    assert manifest["ownership"] == ownership_manifest(scoring)
    return record, scoring, folder


def test_the_record_holds_dataset_and_model_digests(run_and_bundle):
    record, _, _ = run_and_bundle
    ownership = record.ownership
    assert [d["name"] for d in record.lineage["datasets"]] == ["breast_cancer"]
    [dataset] = ownership["datasets"]
    deposit = dataset_info("breast_cancer")["deposit"]
    assert dataset["digest"]["root"] == deposit["root"] and dataset["matches_deposit"]
    assert dataset["owners"][0]["terms"]["license"] == "CC-BY-4.0"
    models = {m["node"]: m for m in ownership["models"]}
    assert models["train"]["traced"] and models["train"]["digest"]["rows"] == 398
    assert models["normalize"]["traced"] is False  # a fitted transform: all rows upstream
    assert models["normalize"]["derived_from"][0]["root"] == deposit["root"]
    assert ownership["use"]["purpose"] == "research" and ownership["override"] is None
    assert ownership["owners"]["uci-ml-repository"] == {"rows_read": 569, "models": 2}


def test_a_run_without_sidecars_has_no_ownership_and_no_extra_lineage(tmp_path):
    csv = tmp_path / "plain.csv"
    pd.read_csv(REPO_DATA / "iris.csv").to_csv(csv, index=False)
    document = json.loads(EXAMPLE.read_text())
    node = next(n for n in document["nodes"] if n["id"] == "dataset")
    node.update(type_id="import_csv", params={"path": str(csv), "label_column": "species"})
    flow = tmp_path / "plain.axon.json"
    flow.write_text(json.dumps(document))
    with Engine() as engine:
        record = engine.run(load_workflow(flow))
    assert record.status == "succeeded", record.to_dict()
    assert record.ownership is None
    assert [d["usage"] for d in record.lineage["datasets"]] == ["read"]


def test_a_cached_model_keeps_its_digest(tmp_path):
    workflow = load_workflow(EXAMPLE)
    cache = tmp_path / "cache"
    with Engine(cache=DiskCache(cache, memory_bytes=0)) as engine:
        first = engine.run(workflow)
    with Engine(cache=DiskCache(cache, memory_bytes=0)) as engine:
        second = engine.run(workflow)
        model = engine.outputs(workflow, "train")["model"]
    assert second.nodes["train"].cache_hit
    assert second.ownership["models"] == first.ownership["models"]
    assert model.ownership.root.hex() == first.ownership["models"][1]["digest"]["root"]


def test_the_bundle_manifest_entry_and_proofs_against_the_bundle(run_and_bundle, tmp_path,
                                                                 capsys):
    record, scoring, folder = run_and_bundle
    entry = ownership_manifest(scoring)
    [served] = entry["models"]
    trained = next(m for m in record.ownership["models"] if m["node"] == "train")
    assert served["digest"]["root"] == trained["digest"]["root"]
    assert entry["use"]["purpose"] == "research"
    assert entry["training_run"] == entry["use"]["run_id"]  # prepare's own training run
    bundle = folder / "service"
    proof = tmp_path / "proof.json"
    assert main(["audit", "prove", str(bundle), "--owner", "uci-ml-repository", "--out",
                 str(proof)]) == 0
    assert main(["audit", "verify", str(proof), str(bundle)]) == 0
    rows = pd.read_csv(REPO_DATA / "breast_cancer.csv").head(3)
    rows.to_csv(tmp_path / "rows.csv", index=False)
    assert main(["audit", "prove", str(bundle), "--row", str(tmp_path / "rows.csv"),
                 "--out", str(proof)]) == 0
    assert main(["audit", "verify", str(proof), str(bundle)]) == 0
    assert "verified" in capsys.readouterr().out


def test_the_lineage_panel_api(run_and_bundle, tmp_path):
    record, _, folder = run_and_bundle
    lineage = model_lineage(record, "train", runs_dir=tmp_path / "empty-store")
    assert lineage.name == "Logistic Regression" and lineage.traced
    assert [d.name for d in lineage.datasets] == ["breast_cancer"]
    [owner] = lineage.owners
    assert (owner.id, owner.rows, owner.license) == ("uci-ml-repository", 398, "CC-BY-4.0")
    assert lineage.use["region"] == "FR"
    assert [s.owner for s in lineage.statements] == ["uci-ml-repository"]
    service = bundle_lineage(folder / "service", statements=False)
    assert service.root == lineage.root and service.owners[0].rows == 398
    assert model_lineage(record, "evaluate") is None


def test_every_sample_datasets_deposit_is_what_reading_it_gives():
    from nodes.data.datasets import SAMPLE_DATASET_NAMES, SampleDataset
    from nodes.testing import run_node

    for name in SAMPLE_DATASET_NAMES:
        info = dataset_info(name)
        table = run_node(SampleDataset, {"dataset": name})["data"]
        assert table.ownership.digest().root.hex() == info["deposit"]["root"], name
        assert info["ownership"]["terms"]["license"], name  # every one names its license


def test_the_lineage_of_a_source_before_and_after_a_run(tmp_path):
    expires = (date.today() + timedelta(days=30)).isoformat()
    csv = write_loans(tmp_path, expires=expires, license="CC-BY-4.0")
    workflow = load_workflow(training_workflow(csv, tmp_path))
    store = tmp_path / "runs"
    declared = declared_lineage(workflow, "data", runs_dir=store)
    deposit = json.loads(sidecar_path(csv).read_text())["deposit"]
    assert (declared.kind, declared.run_id, declared.root) == ("dataset", None, deposit["root"])
    assert {o.id: o.rows for o in declared.owners} == {"alice": 40, "bob": 40, "carol": 40}
    assert {o.expires for o in declared.owners} == {expires}
    assert declared_lineage(workflow, "split") is None
    with Engine() as engine:
        record = engine.run(workflow)
    read = source_lineage(record, "data", runs_dir=store)
    assert read.root == declared.root and read.datasets[0].matches_deposit
    assert read.run_id == record.run_id and source_lineage(record, "train") is None
    assert model_ports(record, "train") == ["model"] and model_ports(record, "evaluate") == []
    # A run the store does not hold counts once it is given, and only once.
    [alone] = owner_statements(["alice"], runs_dir=store)
    assert alone.withdrawals == []
    [alice] = owner_statements(["alice"], runs_dir=store, records=[record, record.to_dict()])
    assert [(w.run_id, w.rows_read) for w in alice.withdrawals] == [(record.run_id, 40)]
