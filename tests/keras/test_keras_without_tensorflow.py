"""Without TensorFlow (the optional extra 'keras'), every Keras path says how to install it.

Each test runs a real interpreter in which TensorFlow and Keras cannot be
imported: a ``sitecustomize`` on PYTHONPATH puts ``None`` for them in
``sys.modules`` before anything else runs, which is what Python does for a
package that is not there (``import`` raises ModuleNotFoundError,
``importlib.util.find_spec`` answers None). Each subprocess first checks
that the block holds, so a test cannot pass by accident on TensorFlow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALL = "pip install 'axon-studio[keras]'"
TIMEOUT_S = 180

_BLOCKER = """\
import sys
for _name in ("tensorflow", "keras"):
    sys.modules[_name] = None  # as if not installed
"""

_CHECK_BLOCKED = """\
import importlib.util
assert importlib.util.find_spec("tensorflow") is None, "the TensorFlow block did not hold"
"""


@pytest.fixture
def without_tensorflow(tmp_path):
    """Run ``python -c CODE`` (or ``-m studio.cli.main ARGS``) where TensorFlow is absent."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_BLOCKER)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]),
           "AXON_STUDIO_CACHE_DIR": str(tmp_path / "cache")}

    def run(*args: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
        command = ([sys.executable, "-c", _CHECK_BLOCKED + textwrap.dedent(code)] if code
                   else [sys.executable, "-m", "studio.cli.main", *args])
        return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT_S, check=False)

    return run


def _learner_title(example: str) -> str:
    document = json.loads((ROOT / "examples" / example).read_text())
    return next(node["title"] for node in document["nodes"] if node["id"] == "learner")


def test_studio_run_names_the_keras_node_and_the_install_command(without_tensorflow):
    example = "keras_digits_dense.axon.json"
    process = without_tensorflow("run", str(ROOT / "examples" / example))
    output = process.stdout + process.stderr
    assert process.returncode == 1, output
    assert f"Node '{_learner_title(example)}': TensorFlow is not installed" in output
    assert INSTALL in output and "Traceback" not in output


def test_the_engine_reports_the_node_error_the_gui_shows(without_tensorflow):
    # The GUI shows the engine's node error; the engine is Qt-free, so ask it directly.
    example = "keras_housing_regression.axon.json"
    process = without_tensorflow(code=f"""
        from studio.engine import Engine
        from studio.workflow import load_workflow
        workflow = load_workflow({str(ROOT / "examples" / example)!r})
        with Engine() as engine:
            record = engine.run(workflow)
        learner = record.nodes["learner"]
        assert record.status == "failed", record.status
        assert learner.error_type == "NodeInputError", learner.error_type
        print(learner.error)
    """)
    assert process.returncode == 0, process.stderr
    assert process.stdout.startswith(f"Node '{_learner_title(example)}'"), process.stdout
    assert INSTALL in process.stdout


def test_a_stored_network_refuses_to_load_with_the_install_command(without_tensorflow,
                                                                     tmp_path):
    import numpy as np

    from nodes.models.keras_network import KerasNetwork

    rows = np.random.default_rng(0).normal(size=(40, 3))
    network = KerasNetwork(task="regression", layers=[{"type": "dense", "units": 4}],
                           epochs=1).fit(rows, rows[:, 0])
    network.save_artifact(tmp_path / "stored")
    process = without_tensorflow(code=f"""
        from nodes.models._keras_estimator import KerasNetwork
        from nodes.models._keras_runtime import TensorFlowMissingError
        try:
            KerasNetwork.load_artifact({str(tmp_path / "stored")!r})
        except TensorFlowMissingError as error:
            print(error)
        else:
            raise SystemExit("loaded without TensorFlow")
        fresh = KerasNetwork(task="regression")
        try:
            fresh.fit([[0.0], [1.0]], [0.0, 1.0])
        except TensorFlowMissingError as error:
            print(error)
    """)
    assert process.returncode == 0, process.stderr
    lines = process.stdout.strip().splitlines()
    assert len(lines) == 2, process.stdout
    assert all("need TensorFlow, which is not installed" in line and INSTALL in line
               for line in lines)


def test_doctor_names_the_extra_and_passes_without_it(without_tensorflow):
    process = without_tensorflow("doctor")
    line = next(line for line in process.stdout.splitlines() if "TensorFlow" in line)
    assert line.startswith("NO ") and INSTALL in line, line
    assert process.returncode == 0, process.stdout + process.stderr  # an optional extra


def test_the_catalog_and_other_workflows_need_no_tensorflow(without_tensorflow):
    process = without_tensorflow(
        "run", str(ROOT / "examples" / "breast_cancer_classification.axon.json"))
    assert process.returncode == 0, process.stdout + process.stderr
    listing = without_tensorflow("nodes", "--category", "Models")
    assert listing.returncode == 0 and "keras_neural_network" in listing.stdout
