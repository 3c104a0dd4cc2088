"""The hardware example workflows: the files are what the builders make, and they run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from studio.engine import Engine
from studio.workflow import dumps, load_workflow, loads

sys.path.insert(0, str(Path(__file__).parent))
from hardware_example_workflows import EXAMPLE_BUILDERS, EXAMPLES  # noqa: E402


@pytest.mark.parametrize("name", list(EXAMPLE_BUILDERS))
def test_the_saved_example_is_what_the_builder_makes(name):
    assert (EXAMPLES / name).read_text() == dumps(EXAMPLE_BUILDERS[name]())


@pytest.fixture(scope="module")
def engine():
    with Engine(jobs=2) as running:
        yield running


def test_the_digits_network_runs_on_all_four_backends_and_is_compared(engine):
    workflow = load_workflow(EXAMPLES / "hardware_digits_compare.axon.json")
    record = engine.run(workflow)
    assert record.status == "succeeded"
    comparison = engine.outputs(workflow, "compare")["comparison"].frame
    digital = engine.outputs(workflow, "evaluate")["metrics"].scalars["accuracy"]
    per_backend = {node: engine.outputs(workflow, f"evaluate_{node}")["metrics"]
                   for node in ("spinnaker", "gc2", "pcm", "tensai")}
    assert list(comparison["backend"]) == ["SpiNNaker", "Graphcore GC2", "IBM PCM",
                                           "ETA Compute TENSAI"]
    assert list(comparison["digital_accuracy"]) == pytest.approx([digital] * 4)
    accuracy = dict(zip(comparison["backend"], comparison["accuracy"], strict=True))
    assert accuracy["Graphcore GC2"] == pytest.approx(digital, abs=0.01)
    assert accuracy["ETA Compute TENSAI"] == pytest.approx(digital, abs=0.01)   # int8
    assert accuracy["SpiNNaker"] == pytest.approx(digital, abs=0.03)
    assert digital - 0.15 < accuracy["IBM PCM"] <= digital + 0.01
    assert per_backend["tensai"].scalars["accuracy"] == accuracy["ETA Compute TENSAI"]
    energy = dict(zip(comparison["backend"], comparison["energy_per_inference_j"], strict=True))
    # Joules per digit: SpiNNaker's idle chip over 100 ms dwarfs a microcontroller's cycles.
    assert energy["SpiNNaker"] > 1e4 * energy["ETA Compute TENSAI"]
    assert energy["ETA Compute TENSAI"] < 1e-6


def test_tensai_int8_and_spiking_are_compared_with_battery_life(engine):
    workflow = load_workflow(EXAMPLES / "hardware_tensai_int8_spiking.axon.json")
    assert engine.run(workflow).status == "succeeded"
    reports = {node: engine.outputs(workflow, node)["report"] for node in ("int8", "spiking")}
    int8, spiking = (reports[n].metrics for n in ("int8", "spiking"))
    assert int8["agreement"] >= 0.99 and spiking["agreement"] >= 0.95
    # This small dense network: more synaptic events over 32 timesteps than MACs.
    assert spiking["energy_per_inference_j"] > int8["energy_per_inference_j"]
    for metrics in (int8, spiking):     # once a minute, listening between: ~50 uW, years
        assert metrics["average_power_w"] == pytest.approx(50e-6, rel=0.01)
        assert 365 < metrics["battery_life_days"] < 3650


def test_hardware_aware_training_keeps_the_digits_network_accurate_on_pcm(engine):
    workflow = load_workflow(EXAMPLES / "hardware_pcm_aware_training.axon.json")
    assert engine.run(workflow).status == "succeeded"
    plain = engine.outputs(workflow, "plain_evaluate")["metrics"].scalars["accuracy"]
    aware = engine.outputs(workflow, "aware_evaluate")["metrics"].scalars["accuracy"]
    assert aware > plain + 0.05, (plain, aware)


def test_a_version_1_file_loads_its_compare_wires_and_keeps_version_1s_pcm():
    """A file saved before this change: Compare Hardware with 'first'..'third' wires and
    Run on PCM without the aihwkit-default parameters."""
    data = json.loads(dumps(EXAMPLE_BUILDERS["hardware_digits_compare.axon.json"]()))
    old_ports = iter(("first", "second", "third", "fourth"))
    for edge in data["edges"]:
        if edge["target"]["node"] == "compare":
            edge["target"]["port"] = next(old_ports)
    for node in data["nodes"]:
        if node["type_id"] == "compare_hardware":
            node["version"] = 1
        if node["type_id"] == "run_on_pcm":
            node["version"] = 1
            for name in ("weight_scaling_omega", "compensation_readout", "bound_management"):
                node["params"].pop(name, None)
    workflow = loads(json.dumps(data))
    wires = [(e.source, e.target_port) for e in workflow.edges if e.target == "compare"]
    assert wires == [("spinnaker", "reports"), ("gc2", "reports"), ("pcm", "reports"),
                     ("tensai", "reports")]
    params = workflow.nodes["pcm"].params
    assert (params["weight_scaling_omega"], params["compensation_readout"],
            params["bound_management"]) == (1.0, "all_ones", False)
