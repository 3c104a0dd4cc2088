"""The hardware example workflows: the files are what the builders make, and they run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from studio.engine import Engine
from studio.workflow import dumps, load_workflow

sys.path.insert(0, str(Path(__file__).parent))
from hardware_example_workflows import EXAMPLE_BUILDERS, EXAMPLES  # noqa: E402


@pytest.mark.parametrize("name", list(EXAMPLE_BUILDERS))
def test_the_saved_example_is_what_the_builder_makes(name):
    assert (EXAMPLES / name).read_text() == dumps(EXAMPLE_BUILDERS[name]())


def test_the_digits_network_runs_on_all_three_backends_and_is_compared():
    workflow = load_workflow(EXAMPLES / "hardware_digits_compare.axon.json")
    with Engine(jobs=2) as engine:
        record = engine.run(workflow)
        comparison = engine.outputs(workflow, "compare")["comparison"].frame
        digital = engine.outputs(workflow, "evaluate")["metrics"].scalars["accuracy"]
        per_backend = {node: engine.outputs(workflow, f"evaluate_{node}")["metrics"]
                       for node in ("spinnaker", "gc2", "pcm")}
    assert record is not None
    assert list(comparison["backend"]) == ["SpiNNaker", "Graphcore GC2", "IBM PCM"]
    assert list(comparison["digital_accuracy"]) == pytest.approx([digital] * 3)
    accuracy = dict(zip(comparison["backend"], comparison["accuracy"], strict=True))
    assert accuracy["Graphcore GC2"] == pytest.approx(digital, abs=0.01)
    assert accuracy["SpiNNaker"] == pytest.approx(digital, abs=0.03)
    assert digital - 0.15 < accuracy["IBM PCM"] <= digital + 0.01
    assert per_backend["gc2"].scalars["accuracy"] == accuracy["Graphcore GC2"]
