"""Fixtures for the web-service tests: trained example workflows, bundles, live servers.

Training and exporting take a second or two, so each example is trained,
prepared and exported once per session; tests that alter a bundle work on
a copy.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nodes.values import Table
from studio.engine import Engine
from studio.serve import export_bundle, load_bundle, prepare_scoring_workflow, start_server
from studio.workflow import Workflow, load_workflow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@dataclass
class Trained:
    """An example workflow after a run, with its scoring pipeline and bundle."""

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


def _train(name: str, folder: Path) -> Trained:
    workflow = load_workflow(EXAMPLES / name)
    engine = Engine(jobs=1)
    record = engine.run(workflow)
    assert record.status == "succeeded"
    scoring = prepare_scoring_workflow(workflow, engine, artifact_dir=folder / "artifacts")
    result = export_bundle(scoring, folder / "bundle")
    return Trained(workflow, engine, scoring, result.folder, result.api_key, result.manifest)


@pytest.fixture(scope="session")
def breast_cancer(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    trained = _train("breast_cancer_classification.axon.json",
                     tmp_path_factory.mktemp("breast_cancer"))
    yield trained
    trained.engine.close()


@pytest.fixture(scope="session")
def housing(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    trained = _train("housing_regression.axon.json", tmp_path_factory.mktemp("housing"))
    yield trained
    trained.engine.close()


@pytest.fixture(scope="session")
def breast_cancer_server(breast_cancer: Trained, tmp_path_factory: pytest.TempPathFactory):
    """A real uvicorn server on 127.0.0.1 (free port) serving the breast cancer bundle."""
    data_dir = tmp_path_factory.mktemp("service-data")
    handle = start_server(load_bundle(breast_cancer.bundle_dir), max_body_bytes=256 * 1024,
                          data_dir=data_dir)
    handle.data_dir = data_dir
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def housing_server(housing: Trained):
    handle = start_server(load_bundle(housing.bundle_dir))
    yield handle
    handle.stop()


@pytest.fixture
def bundle_copy(breast_cancer: Trained, tmp_path: Path) -> Path:
    target = tmp_path / "bundle"
    shutil.copytree(breast_cancer.bundle_dir, target)
    return target
