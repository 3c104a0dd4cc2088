"""SpiNNaker: ANN-to-SNN conversion physics, mapping, traffic and energy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nodes.errors import NodeInputError
from nodes.hardware.base import Scorer
from nodes.hardware.spinnaker import (
    CHIP_IDLE_POWER_W,
    CORE_ACTIVE_POWER_W,
    PACKET_ENERGY_J,
    SpiNNakerBackend,
    SpiNNakerSettings,
    convert,
    map_network,
    quantise_weights,
    simulate,
)
from nodes.models.network import DenseLayer, DenseNetwork


def _run(network, X, scorer, seed=0, **settings):
    return SpiNNakerBackend(SpiNNakerSettings(**settings)).run(network, X, seed=seed,
                                                             scorer=scorer)


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
    silent = hidden <= 0
    if encoding == "current":
        assert rates[silent].max() <= 0.002   # a neuron the ANN silences stays silent
    else:
        assert rates[silent].mean() < 0.005   # ...but for the odd Poisson fluctuation


def test_spike_counts_drive_packets_synaptic_events_and_energy(iris_rows):
    X, _ = iris_rows
    rng = np.random.default_rng(7)
    # Weights with no zeros, so every synapse exists (the trained net has ~1e-10 weights
    # that 16-bit fixed point rounds to nothing).
    layers = [DenseLayer(rng.normal(size=(4, 16)), rng.normal(0, 0.1, 16), "relu"),
              DenseLayer(rng.normal(size=(16, 3)), np.zeros(3), "softmax")]
    network = DenseNetwork(layers, ["a", "b", "c", "d"], "classification", [0, 1, 2])
    scorer = Scorer(network, network.forward(X))
    runs = {rate: _run(network, X, scorer, max_input_rate_hz=rate, timesteps=50,
                       sweep_timesteps=[]) for rate in (1000.0, 250.0)}
    fast, slow = runs[1000.0], runs[250.0]
    table = fast.tables["populations"]
    spikes = table.set_index("population")["spikes_per_sample"]
    hidden, outputs = 16, 3
    # Every spike of a population with outgoing connections is one packet; the
    # output population has none. The network is dense: each packet reaches
    # every neuron of the next population.
    inputs_spikes, hidden_spikes = spikes.iloc[0], spikes.iloc[1]
    assert fast.metrics["packets_per_sample"] == pytest.approx(inputs_spikes + hidden_spikes)
    assert fast.metrics["synaptic_events_per_sample"] == pytest.approx(
        inputs_spikes * hidden + hidden_spikes * outputs)
    assert fast.metrics["energy_packets_per_inference_j"] == pytest.approx(
        fast.metrics["packets_per_sample"] * PACKET_ENERGY_J)
    # Fewer input spikes: fewer packets, less energy; the static power is unchanged.
    assert slow.metrics["packets_per_sample"] < 0.5 * fast.metrics["packets_per_sample"]
    assert slow.metrics["energy_per_inference_j"] < fast.metrics["energy_per_inference_j"]
    assert slow.metrics["energy_idle_per_inference_j"] == fast.metrics[
        "energy_idle_per_inference_j"] == CHIP_IDLE_POWER_W * 1 * 0.05


def test_mapping_counts_cores_chips_and_boards():
    layers = [DenseLayer(np.ones((300, 3000)), np.zeros(3000), "relu"),
              DenseLayer(np.ones((3000, 10)), np.zeros(10), "softmax")]
    network = DenseNetwork(layers, [f"x{i}" for i in range(300)], "classification",
                           list(range(10)))
    mapping = map_network(network, SpiNNakerSettings(neurons_per_core=10))
    assert mapping["cores"] == 30 + 300 + 1
    assert mapping["chips"] == math.ceil(331 / 17) == 20
    assert mapping["boards"] == 1
    assert mapping["synapses"] == 300 * 3000 + 3000 * 10
    big = map_network(network, SpiNNakerSettings(neurons_per_core=1))
    assert big["chips"] == math.ceil(3310 / 17) == 195 and big["boards"] == math.ceil(195 / 48)
    assert big["machine_fraction"] == pytest.approx(3310 / 1_036_800)


def test_report_energy_and_latency_follow_real_time(iris_network, iris_rows, iris_scorer):
    X, _ = iris_rows
    run = _run(iris_network, X, iris_scorer, timesteps=80, sweep_timesteps=[], batch_size=5)
    metrics, resources = run.metrics, run.resources
    assert metrics["latency_per_sample_s"] == pytest.approx(0.08)
    assert metrics["latency_per_batch_s"] == pytest.approx(0.4)
    assert metrics["throughput_samples_per_s"] == pytest.approx(12.5)
    assert metrics["energy_cores_per_inference_j"] == pytest.approx(
        resources["cores"] * CORE_ACTIVE_POWER_W * 0.08)
    assert resources["cores"] == 3 and resources["chips"] == 1
    assert {a.status for a in run.assumptions} >= {"published", "derived"}


def test_the_same_seed_reproduces_the_run_and_another_seed_does_not(iris_network, iris_rows,
                                                                    iris_scorer):
    X, _ = iris_rows
    first, again, other = (_run(iris_network, X, iris_scorer, seed=s, timesteps=20,
                                sweep_timesteps=[]) for s in (4, 4, 5))
    np.testing.assert_array_equal(first.outputs, again.outputs)
    assert first.metrics == again.metrics
    assert not np.array_equal(first.outputs, other.outputs)


def test_leaky_neurons_lose_rate_to_the_leak_but_converge(iris_network, iris_rows,
                                                          iris_scorer):
    X, _ = iris_rows
    leaky = _run(iris_network, X, iris_scorer, neuron_model="lif", timesteps=300,
                 sweep_timesteps=[])
    plain = _run(iris_network, X, iris_scorer, timesteps=300, sweep_timesteps=[])
    assert leaky.metrics["spikes_per_sample"] < plain.metrics["spikes_per_sample"]
    assert iris_scorer.score(leaky.outputs)["agreement"] >= 0.85


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
