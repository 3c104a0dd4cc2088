"""ETA Compute TENSAI: int8 numerics, memory limits, cycles, power modes and battery life."""

from __future__ import annotations

import numpy as np
import pytest

from nodes.errors import NodeInputError
from nodes.hardware.base import Scorer
from nodes.hardware.tensai import (
    APPLICATION_FLASH_BYTES,
    CYCLES_PER_NEURON_UPDATE,
    CYCLES_PER_REQUANTISATION,
    CYCLES_PER_SYNAPTIC_EVENT,
    DSP_SRAM_BYTES,
    ENERGY_PER_CYCLE_J,
    FLASH_CODE_RESERVE_BYTES,
    LISTEN_POWER_W,
    RunOnTensai,
    TensaiBackend,
    TensaiSettings,
    int8_forward,
    memory_need,
    quantise_network,
)
from nodes.models.network import DenseLayer, DenseNetwork
from nodes.testing import run_node


def _network(sizes, rng, activation="relu"):
    layers = [DenseLayer(rng.normal(size=(a, b)) / np.sqrt(a), rng.normal(0, 0.1, b),
                         activation if i < len(sizes) - 2 else "softmax")
              for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True))]
    return DenseNetwork(layers, [f"x{i}" for i in range(sizes[0])], "classification",
                        list(range(sizes[-1])))


def _run(network, X, **settings):
    backend = TensaiBackend(TensaiSettings(**settings))
    backend.check(network, "Run on TENSAI")
    return backend.run(network, X, seed=0, scorer=Scorer(network, network.forward(X)))


def test_int8_error_is_the_rounding_of_inputs_weights_and_bias():
    rng = np.random.default_rng(0)
    weights, bias = rng.normal(size=(30, 4)), rng.normal(size=4)
    network = DenseNetwork([DenseLayer(weights, bias, "identity")],
                           [f"x{i}" for i in range(30)], "regression")
    X = rng.normal(size=(400, 30))
    layers = quantise_network(network, X)
    q = layers[0]
    error = np.abs(int8_forward(layers, X) - network.forward(X))
    # Half a step on every input and every weight, and on the int32 bias.
    bound = (0.5 * q.input_scale * np.abs(weights).sum(axis=0)
             + 0.5 * q.weight_scale * np.abs(X).sum(axis=1, keepdims=True)
             + q.input_scale * q.weight_scale * (0.25 * 30 + 0.5))
    assert np.all(error <= bound)
    assert error.max() > 0.05 * bound.max()          # rounding did happen
    assert np.all(np.abs(layers[0].weights) <= 127) and layers[0].weights.dtype == np.int8


def test_int8_inference_agrees_with_the_digital_model(iris_network, iris_rows, iris_scorer):
    X, _ = iris_rows
    for processor in ("dsp", "m3"):
        run = TensaiBackend(TensaiSettings(processor=processor)).run(
            iris_network, X, seed=0, scorer=iris_scorer)
        assert iris_scorer.score(run.outputs)["agreement"] >= 0.97
        assert np.abs(run.outputs - iris_scorer.digital_outputs).max() < 0.1


def test_a_model_that_does_not_fit_is_refused_with_the_sizes():
    rng = np.random.default_rng(0)
    too_big = _network([64, 5000, 100], rng)       # 820,000 int8 weights
    need = memory_need(too_big, "int8")["flash_bytes"]
    room = (APPLICATION_FLASH_BYTES - FLASH_CODE_RESERVE_BYTES) / 1024
    assert need > room * 1024
    with pytest.raises(NodeInputError, match=f"{need / 1024:,.1f} KiB.*{room:,.0f} KiB") as error:
        TensaiBackend().check(too_big, "Run on TENSAI")
    assert error.value.node == "Run on TENSAI" and error.value.port == "model"
    wide = _network([4, 20_000, 3], rng)           # fits the flash, not the DSP's memory
    assert memory_need(wide, "int8")["sram_bytes"] > DSP_SRAM_BYTES
    with pytest.raises(NodeInputError, match="DSP memory offers 96 KiB"):
        TensaiBackend(TensaiSettings(processor="dsp")).check(wide, "Run on TENSAI")
    TensaiBackend(TensaiSettings(processor="m3")).check(wide, "Run on TENSAI")   # 224 KiB


def test_listen_power_is_microwatts_and_sets_the_average_at_a_low_duty_cycle(iris_network,
                                                                         iris_rows):
    X, _ = iris_rows
    run = _run(iris_network, X, inferences_per_hour=1.0)
    m = run.metrics
    assert 1e-6 <= m["listen_power_w"] == LISTEN_POWER_W < 1e-3
    assert m["average_power_w"] == pytest.approx(LISTEN_POWER_W, rel=0.01)
    asleep = _run(iris_network, X, inferences_per_hour=1.0, between_inferences="sleep")
    assert asleep.metrics["average_power_w"] < 0.1 * m["average_power_w"]
    assert asleep.metrics["battery_life_days"] > 10 * m["battery_life_days"]


def test_energy_and_time_follow_the_counted_cycles(iris_network, iris_rows):
    X, _ = iris_rows
    base = _run(iris_network, X)
    m = base.metrics
    assert m["energy_per_inference_j"] == pytest.approx(m["cycles_per_inference"]
                                                        * ENERGY_PER_CYCLE_J)
    assert m["latency_per_sample_s"] == pytest.approx(m["cycles_per_inference"] / 60e6)
    assert m["throughput_samples_per_s"] == pytest.approx(1 / m["latency_per_sample_s"])
    # A faster clock: less time, the same energy per inference, more power.
    fast = _run(iris_network, X, clock_hz=100e6).metrics
    assert fast["latency_per_sample_s"] == pytest.approx(0.6 * m["latency_per_sample_s"])
    assert fast["energy_per_inference_j"] == pytest.approx(m["energy_per_inference_j"])
    assert fast["power_w"] > m["power_w"]
    # The M3 takes more cycles per MAC than the dual-MAC DSP; a wider network more MACs.
    assert _run(iris_network, X, processor="m3").metrics["cycles_per_inference"] > \
        m["cycles_per_inference"]
    # Each extra MAC costs half a DSP cycle (two MACs, half busy), each extra output its
    # requantisation: the energy grows by exactly those cycles.
    rng = np.random.default_rng(1)
    small, large = _network([4, 16, 3], rng), _network([4, 256, 3], rng)
    extra_cycles = ((large.macs_per_sample - small.macs_per_sample) / (2 * 0.5)
                    + (256 - 16) * CYCLES_PER_REQUANTISATION)
    assert (_run(large, X).metrics["energy_per_inference_j"]
            - _run(small, X).metrics["energy_per_inference_j"]) == pytest.approx(
        extra_cycles * ENERGY_PER_CYCLE_J)


def test_battery_life_is_capacity_over_average_power(iris_network, iris_rows):
    X, _ = iris_rows
    run = _run(iris_network, X, inferences_per_hour=3600.0, battery_mah=100.0, battery_v=3.0)
    m = run.metrics
    rate = 1.0
    expected = (LISTEN_POWER_W * (1 - rate * m["latency_per_sample_s"])
                + rate * m["energy_per_inference_j"])
    assert m["average_power_w"] == pytest.approx(expected)
    assert m["battery_life_days"] == pytest.approx(100e-3 * 3600 * 3.0 / expected / 86_400)
    table = run.tables["battery"]
    assert np.all(np.diff(table["battery_life_days"]) < 0)     # more inferences, shorter life


def test_spiking_inference_costs_more_with_more_timesteps_and_converges(iris_network,
                                                                        iris_rows,
                                                                        iris_scorer):
    X, _ = iris_rows
    runs = {t: _run(iris_network, X, inference="spiking", timesteps=t) for t in (8, 64)}
    short, long = runs[8].metrics, runs[64].metrics
    assert long["synaptic_events_per_inference"] > 4 * short["synaptic_events_per_inference"]
    extra_cycles = ((long["synaptic_events_per_inference"]
                     - short["synaptic_events_per_inference"]) * CYCLES_PER_SYNAPTIC_EVENT["dsp"]
                    + (long["neuron_updates_per_inference"]
                       - short["neuron_updates_per_inference"]) * CYCLES_PER_NEURON_UPDATE)
    assert long["energy_per_inference_j"] - short["energy_per_inference_j"] == pytest.approx(
        extra_cycles * ENERGY_PER_CYCLE_J)
    assert long["energy_per_inference_j"] > short["energy_per_inference_j"]
    assert iris_scorer.score(runs[64].outputs)["agreement"] >= 0.9
    assert iris_scorer.score(runs[64].outputs)["agreement"] >= \
        iris_scorer.score(runs[8].outputs)["agreement"]


def test_the_node_reports_memory_power_and_every_status(iris_model, iris_split):
    outputs = run_node(RunOnTensai, {"inferences_per_hour": 120}, model=iris_model,
                       data=iris_split["test"], calibration=iris_split["train"])
    report = outputs["report"]
    assert report.backend == "ETA Compute TENSAI"
    assert report.resources["flash_used_bytes"] == 4 * 16 + 16 * 3 + 4 * (16 + 3)
    assert report.settings["calibration_rows"] == len(iris_split["train"].frame)
    statuses = {a.status for a in report.assumptions}
    assert {"datasheet", "vendor claim", "derived", "estimate", "setting"} <= statuses
    assert report.metrics["accuracy"] >= 0.9
