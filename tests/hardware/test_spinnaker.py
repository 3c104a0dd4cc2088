"""SpiNNaker: ANN-to-SNN conversion physics, the stock leaky cell, mapping, traffic and energy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nodes.errors import NodeInputError
from nodes.hardware.base import Scorer
from nodes.hardware.spinnaker import (
    CHIP_IDLE_POWER_W,
    CYCLES_PER_SYNAPTIC_EVENT,
    ENERGY_PER_BUSY_CYCLE_J,
    IF_CURR_EXP,
    PACKET_ENERGY_J,
    LeakyCell,
    SpiNNakerBackend,
    SpiNNakerSettings,
    convert,
    map_network,
    quantise_weights,
    simulate,
    stromatias_2015,
)
from nodes.models.network import DenseLayer, DenseNetwork


def _run(network, X, scorer, seed=0, **settings):
    return SpiNNakerBackend(SpiNNakerSettings(**settings)).run(network, X, seed=seed,
                                                             scorer=scorer)


def _dense_network(rng):
    """Weights with no zeros, so every synapse exists (the trained net has ~1e-10 weights
    that 16-bit fixed point rounds to nothing)."""
    layers = [DenseLayer(rng.normal(size=(4, 16)), rng.normal(0, 0.1, 16), "relu"),
              DenseLayer(rng.normal(size=(16, 3)), np.zeros(3), "softmax")]
    return DenseNetwork(layers, ["a", "b", "c", "d"], "classification", [0, 1, 2])


def test_accuracy_rises_towards_the_ann_as_simulated_time_grows(iris_network, iris_rows,
                                                                  iris_scorer):
    X, _ = iris_rows
    sweeps = [_run(iris_network, X, iris_scorer, seed=seed, timesteps=300,
                   sweep_timesteps=[3, 30, 300]).tables["timesteps_sweep"]
              for seed in range(3)]
    agreement = np.mean([s["agreement"].to_numpy() for s in sweeps], axis=0)
    accuracy = np.mean([s["accuracy"].to_numpy() for s in sweeps], axis=0)
    assert agreement[0] < agreement[1] <= agreement[2] + 0.02
    assert agreement[0] < 0.9 and agreement[2] >= 0.95
    digital = iris_scorer.digital_score()["digital_accuracy"]
    assert accuracy[0] < digital - 0.05 and abs(accuracy[2] - digital) <= 0.04


@pytest.mark.parametrize("encoding", ["current", "poisson"])
def test_firing_rates_are_proportional_to_normalised_activations(iris_network, iris_rows,
                                                                 encoding):
    X, _ = iris_rows
    settings = SpiNNakerSettings(input_encoding=encoding, max_input_rate_hz=500.0)
    spiking = convert(iris_network, X, settings)
    simulation = simulate(spiking, X, timesteps=1000, checkpoints=[], settings=settings,
                          rng=np.random.default_rng(0))
    hidden = iris_network.activations(X)[0] / spiking.scales[1]   # normalised ANN activity
    rates = simulation.counts[1] / 1000                           # spikes per timestep
    expected = spiking.spike_probability * np.clip(hidden, 0.0, 1.0)
    slope = float((rates * expected).sum() / (expected ** 2).sum())
    assert slope == pytest.approx(1.0, abs=0.05)
    assert np.corrcoef(rates.ravel(), expected.ravel())[0, 1] > 0.98
    # The input population fires at p |x| / lambda_0: regular trains exactly, Poisson on average.
    inputs = spiking.spike_probability * np.clip(np.abs(X) / spiking.scales[0], 0, 1) * 1000
    if encoding == "current":
        assert np.all(np.abs(simulation.counts[0] - inputs) <= 1 + 1e-9)
    else:
        assert simulation.counts[0].sum() == pytest.approx(inputs.sum(), rel=0.02)
    silent = hidden <= 0
    assert rates[silent].mean() < 0.005   # a neuron the ANN silences (nearly) stays silent


def test_the_stock_leaky_cell_follows_if_curr_exp():
    cell = LeakyCell()
    p = IF_CURR_EXP
    gap = p["v_thresh"] - p["v_rest"]
    # Below rheobase (R I < 15 mV) the membrane settles at V_rest + R I and never fires.
    v, current, refractory = np.full(1, p["v_rest"]), np.zeros(1), np.zeros(1, dtype=int)
    offset = np.array([0.9 * gap / cell.resistance])
    fired = [cell.step(v, current, np.zeros(1), offset, refractory)[0] for _ in range(500)]
    assert not any(fired)
    assert v[0] == pytest.approx(p["v_rest"] + cell.resistance * offset[0], abs=1e-6)
    # Above it, it fires with the period of the exact solution: tau_m ln(RI / (RI - gap)).
    offset = np.array([2.0 * gap / cell.resistance])
    v[:] = p["v_rest"]
    spikes = [cell.step(v, current, np.zeros(1), offset, refractory)[0] for _ in range(2000)]
    exact = p["tau_m"] * math.log(2.0 / (2.0 - 1.0))        # 13.9 ms
    assert sum(spikes) == 2000 // math.ceil(exact)          # a spike every 14th 1 ms step
    # A spike of normalised weight 1 on a leak-free membrane lifts it by the gap.
    assert cell.weight_scale * cell.init / (1 - cell.synapse_decay) * (
        1 - cell.membrane_decay) * cell.resistance == pytest.approx(gap)


def test_leaky_neurons_lose_rate_to_the_leak_but_converge(iris_network, iris_rows,
                                                          iris_scorer):
    X, _ = iris_rows
    leaky = _run(iris_network, X, iris_scorer, neuron_model="lif", timesteps=300,
                 sweep_timesteps=[])
    plain = _run(iris_network, X, iris_scorer, timesteps=300, sweep_timesteps=[])
    assert leaky.metrics["spikes_per_sample"] < plain.metrics["spikes_per_sample"]
    assert iris_scorer.score(leaky.outputs)["agreement"] >= 0.85
    assert any("IF_curr_exp" in a.value for a in leaky.assumptions)


def test_every_spike_is_traffic_and_the_first_layer_is_counted(iris_rows):
    X, _ = iris_rows
    network = _dense_network(np.random.default_rng(7))
    scorer = Scorer(network, network.forward(X))
    for encoding in ("poisson", "current"):
        run = _run(network, X, scorer, input_encoding=encoding, timesteps=50,
                   sweep_timesteps=[])
        spikes = run.tables["populations"].set_index("population")["spikes_per_sample"]
        inputs, hidden = spikes.iloc[0], spikes.iloc[1]
        assert inputs > 0      # the input population runs on the machine in both encodings
        # One packet per spike of a population with targets; the output population has none.
        assert run.metrics["packets_per_sample"] == pytest.approx(inputs + hidden)
        # Dense layers: a packet reaches every neuron of the next population.
        assert run.metrics["synaptic_events_per_sample"] == pytest.approx(
            inputs * 16 + hidden * 3)
        assert run.metrics["energy_packets_per_inference_j"] == pytest.approx(
            run.metrics["packets_per_sample"] * PACKET_ENERGY_J)
        assert run.metrics["energy_synaptic_events_per_inference_j"] == pytest.approx(
            run.metrics["synaptic_events_per_sample"] * CYCLES_PER_SYNAPTIC_EVENT
            * ENERGY_PER_BUSY_CYCLE_J)
        assert run.resources["cores"] == 3   # inputs, hidden, outputs


def test_energy_rises_with_spike_count(iris_rows):
    X, _ = iris_rows
    network = _dense_network(np.random.default_rng(7))
    scorer = Scorer(network, network.forward(X))
    runs = [_run(network, X, scorer, max_input_rate_hz=rate, timesteps=50, sweep_timesteps=[])
            for rate in (100.0, 300.0, 1000.0)]
    spikes = [r.metrics["spikes_per_sample"] + r.metrics["input_spikes_per_sample"]
              for r in runs]
    dynamic = [r.metrics["dynamic_energy_per_inference_j"] for r in runs]
    total = [r.metrics["energy_per_inference_j"] for r in runs]
    assert spikes[0] < spikes[1] < spikes[2]
    assert dynamic[0] < dynamic[1] < dynamic[2] and total[0] < total[1] < total[2]
    # What does not depend on activity stays: the same chips, idle for the same time.
    assert len({r.metrics["energy_idle_per_inference_j"] for r in runs}) == 1
    assert runs[0].metrics["energy_idle_per_inference_j"] == pytest.approx(
        CHIP_IDLE_POWER_W * 1 * 0.05)


def test_energy_falls_with_fewer_timesteps(iris_network, iris_rows, iris_scorer):
    X, _ = iris_rows
    run = _run(iris_network, X, iris_scorer, timesteps=100, sweep_timesteps=[10, 30, 100])
    sweep = run.tables["timesteps_sweep"]
    assert list(sweep["timesteps"]) == [10, 30, 100]
    assert np.all(np.diff(sweep["energy_per_inference_j"]) > 0)
    assert np.all(np.diff(sweep["dynamic_energy_per_inference_j"]) > 0)
    short = _run(iris_network, X, iris_scorer, timesteps=30, sweep_timesteps=[])
    assert short.metrics["energy_per_inference_j"] < run.metrics["energy_per_inference_j"]
    assert short.metrics["latency_per_sample_s"] == pytest.approx(0.03)


def test_stromatias_power_is_reproduced_within_30_percent_and_follows_activity():
    anchor = stromatias_2015()
    assert anchor["chips"] == 1 and anchor["cores"] == 4 + 2 + 2 + 1
    assert anchor["synaptic_events_per_s"] == pytest.approx(1.88e6)
    assert 0.7 <= anchor["ratio"] <= 1.3, anchor
    # Most of it is the chip's idle power: the activity adds tens of milliwatts at most.
    assert anchor["idle_power_w"] == CHIP_IDLE_POWER_W
    assert 0 < anchor["activity_power_w"] < 0.05


def test_mapping_uses_16_application_cores_per_chip():
    layers = [DenseLayer(np.ones((300, 3000)), np.zeros(3000), "relu"),
              DenseLayer(np.ones((3000, 10)), np.zeros(10), "softmax")]
    network = DenseNetwork(layers, [f"x{i}" for i in range(300)], "classification",
                           list(range(10)))
    mapping = map_network(network, SpiNNakerSettings(neurons_per_core=10))
    assert mapping["cores"] == 30 + 300 + 1
    assert mapping["chips"] == math.ceil(331 / 16) == 21
    assert mapping["boards"] == 1
    assert mapping["synapses"] == 300 * 3000 + 3000 * 10
    big = map_network(network, SpiNNakerSettings(neurons_per_core=1))
    assert big["chips"] == math.ceil(3310 / 16) == 207 and big["boards"] == math.ceil(207 / 48)
    assert big["machine_fraction"] == pytest.approx(3310 / 1_036_800)


def test_report_latency_follows_real_time(iris_network, iris_rows, iris_scorer):
    X, _ = iris_rows
    run = _run(iris_network, X, iris_scorer, timesteps=80, sweep_timesteps=[], batch_size=5)
    metrics, resources = run.metrics, run.resources
    assert metrics["latency_per_sample_s"] == pytest.approx(0.08)
    assert metrics["latency_per_batch_s"] == pytest.approx(0.4)
    assert metrics["throughput_samples_per_s"] == pytest.approx(12.5)
    assert metrics["power_w"] == pytest.approx(metrics["energy_per_inference_j"] / 0.08)
    assert resources["cores"] == 3 and resources["chips"] == 1
    assert 0 < metrics["busiest_core_load"] < 1
    assert {a.status for a in run.assumptions} >= {"paper", "derived", "estimate"}


def test_the_same_seed_reproduces_the_run_and_another_seed_does_not(iris_network, iris_rows,
                                                                    iris_scorer):
    X, _ = iris_rows
    first, again, other = (_run(iris_network, X, iris_scorer, seed=s, timesteps=20,
                                sweep_timesteps=[]) for s in (4, 4, 5))
    np.testing.assert_array_equal(first.outputs, again.outputs)
    assert first.metrics == again.metrics
    assert not np.array_equal(first.outputs, other.outputs)


def test_weights_are_held_in_fixed_point():
    weights = np.random.default_rng(0).normal(size=(20, 30))
    for bits in (16, 4):
        quantised, step = quantise_weights(weights, bits)
        assert step == 2.0 ** math.ceil(math.log2(np.abs(weights).max())) / (2 ** bits - 1)
        assert np.abs(quantised - weights).max() <= step / 2 + 1e-15
        assert np.allclose(quantised / step, np.round(quantised / step))


def test_hidden_layers_other_than_relu_are_refused():
    layers = [DenseLayer(np.ones((2, 3)), np.zeros(3), "tanh"),
              DenseLayer(np.ones((3, 2)), np.zeros(2), "softmax")]
    network = DenseNetwork(layers, ["a", "b"], "classification", [0, 1], name="tanh net")
    with pytest.raises(NodeInputError, match="'dense_1'.*'tanh'") as error:
        SpiNNakerBackend().check(network, "Run on SpiNNaker")
    assert error.value.node == "Run on SpiNNaker"
