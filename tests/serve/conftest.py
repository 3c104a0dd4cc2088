"""Fixtures for the web-service tests: trained example workflows, signed bundles, live servers.

Training and exporting take a second or two, so each example is trained,
prepared and exported once per session, signed with a session key pair;
tests that alter a bundle work on a copy (a copy lives in another folder,
so it gets no pass as "exported by this process": its signature decides).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from serve_helpers import EXAMPLES

from nodes.values import Table
from studio.engine import Engine
from studio.serve import (
    TrustedKey,
    export_bundle,
    load_bundle,
    load_trusted_keys,
    new_key_pair,
    prepare_scoring_workflow,
    start_server,
)
from studio.workflow import Workflow, load_workflow


@dataclass
class Trained:
    """An example workflow after a run, with its scoring pipeline and signed bundle."""

    workflow: Workflow
    engine: Engine
    scoring: Workflow
    bundle_dir: Path
    api_key: str
    manifest: dict[str, Any]

    def output(self, node_id: str, port: str) -> Any:
        return self.engine.outputs(self.workflow, node_id)[port]

    def test_rows(self) -> Table:
        """The rows Score Model scored in the app (split's 'test', before normalising)."""
        return self.output("split", "test")


@dataclass
class KeyPair:
    private: Path
    public: Path
    key_id: str

    @property
    def trusted(self) -> list[TrustedKey]:
        return load_trusted_keys([self.public])


@pytest.fixture(scope="session")
def signer(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    """The session's signing key (private) and its public half."""
    folder = tmp_path_factory.mktemp("keys")
    return KeyPair(*new_key_pair(folder / "signer"))


def _train(name: str, folder: Path, signer: KeyPair) -> Trained:
    workflow = load_workflow(EXAMPLES / name)
    engine = Engine(jobs=1)
    record = engine.run(workflow)
    assert record.status == "succeeded"
    scoring = prepare_scoring_workflow(workflow, engine, artifact_dir=folder / "artifacts")
    result = export_bundle(scoring, folder / "bundle", signing_key=signer.private)
    return Trained(workflow, engine, scoring, result.folder, result.api_key, result.manifest)


@pytest.fixture(scope="session")
def breast_cancer(tmp_path_factory: pytest.TempPathFactory, signer: KeyPair) -> Trained:
    trained = _train("breast_cancer_classification.axon.json",
                     tmp_path_factory.mktemp("breast_cancer"), signer)
    yield trained
    trained.engine.close()


@pytest.fixture(scope="session")
def housing(tmp_path_factory: pytest.TempPathFactory, signer: KeyPair) -> Trained:
    trained = _train("housing_regression.axon.json", tmp_path_factory.mktemp("housing"),
                     signer)
    yield trained
    trained.engine.close()


@pytest.fixture(scope="session")
def breast_cancer_server(breast_cancer: Trained, signer: KeyPair,
                         tmp_path_factory: pytest.TempPathFactory):
    """A real uvicorn server on 127.0.0.1 (free port) serving the breast cancer bundle."""
    data_dir = tmp_path_factory.mktemp("service-data")
    handle = start_server(load_bundle(breast_cancer.bundle_dir, trust_keys=signer.trusted),
                          max_body_bytes=256 * 1024, data_dir=data_dir)
    handle.data_dir = data_dir
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def housing_server(housing: Trained, signer: KeyPair):
    handle = start_server(load_bundle(housing.bundle_dir, trust_keys=signer.trusted))
    yield handle
    handle.stop()


@pytest.fixture
def bundle_copy(breast_cancer: Trained, tmp_path: Path) -> Path:
    target = tmp_path / "bundle"
    shutil.copytree(breast_cancer.bundle_dir, target)
    return target
