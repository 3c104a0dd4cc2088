"""PCM: aihwkit's device model (programming noise, drift, read noise), tiles and periphery."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from nodes.hardware.base import Scorer
from nodes.hardware.pcm import (
    G_MAX_US,
    T0_S,
    PCMBackend,
    PCMChip,
    PCMSettings,
    RunOnPCM,
    core_mvm_joules,
    core_mvm_seconds,
    drift_parameters,
    map_layer,
    program,
    programming_sigma,
    split_sizes,
)
from nodes.models.network import DenseLayer, DenseNetwork

NOISE_FREE = PCMSettings(programming_noise=False, drift=False, read_noise=False,
                         output_noise=False, drift_compensation=False, sweep_times={})


def _quantisation_bound(X, weights, tile_size, omega, reduction=1.0):
    """Error bound of noise-free quantised tiles: a DAC half-step on every input and an ADC
    half-step on every output, in the tile's units (weights as held: raw, or scaled to max
    |w| = omega), times max|x| per vector (and the bound-management reduction)."""
    bound = np.zeros((len(X), weights.shape[1]))
    start = 0
    for size in split_sizes(weights.shape[0], tile_size):
        block = slice(start, start + size)
        start += size
        x_scale = np.abs(X[:, block]).max(axis=1, keepdims=True)
        w_max = np.abs(weights[block]).max()
        held = omega / w_max if omega > 0 else 1.0   # tile units per weight unit
        bound += x_scale * reduction * ((0.5 / 63) * np.abs(weights[block]).sum(axis=0)
                                        + 0.5 * (24 / 510) / held)
    return bound


@pytest.mark.parametrize("omega", [0.0, 1.0])
def test_without_noise_sources_the_device_is_the_digital_model_up_to_quantisation(omega):
    rng = np.random.default_rng(0)
    weights, bias = 0.3 * rng.normal(size=(40, 6)), rng.normal(size=6)
    network = DenseNetwork([DenseLayer(weights, bias, "identity")],
                           [f"x{i}" for i in range(40)], "regression")
    X = rng.normal(size=(300, 40))
    exact = network.forward(X)
    settings = dataclasses.replace(NOISE_FREE, tile_size=16, weight_scaling_omega=omega)
    unquantised = PCMChip(network, dataclasses.replace(settings, quantisation=False),
                          seed=0).forward(X, 0.0)[0]
    np.testing.assert_allclose(unquantised, exact, atol=1e-10)
    quantised, extra = PCMChip(network, settings, seed=0).forward(X, 0.0)
    assert extra["adc_saturated_fraction"] == 0 and extra["bound_management_fraction"] == 0
    bound = _quantisation_bound(X, weights, 16, omega)
    error = np.abs(quantised - exact)
    assert np.all(error <= bound + 1e-12)
    assert error.max() > 0.1 * bound.max()


def test_tiles_are_cut_in_near_equal_pieces_as_aihwkit_cuts_them():
    assert split_sizes(40, 16) == [14, 13, 13]
    assert split_sizes(600, 256) == [200, 200, 200]
    assert split_sizes(512, 512) == [512] and split_sizes(513, 512) == [257, 256]
    weights = np.arange(40 * 6, dtype=float).reshape(40, 6) + 1
    layer = map_layer(weights, np.zeros(6), "identity", 16, np.random.default_rng(0), False)
    assert (layer.row_tiles, layer.block_rows, layer.column_tiles) == (3, 14, 1)
    # Each tile's largest |w| maps to g_max: the targets give the weights back exactly.
    held = (layer.positive.target - layer.negative.target) / G_MAX_US
    rebuilt = held * layer.weight_max[:, None, :, None]
    piece_rows = layer.row_mask()
    np.testing.assert_allclose(rebuilt[piece_rows][:, 0, :], weights)


def test_weight_scaling_omega_sets_what_a_tile_holds(iris_network, iris_rows, iris_scorer):
    X, _ = iris_rows
    for omega, expected in ((0.0, None), (1.0, 1.0), (0.5, 0.5)):
        run = PCMBackend(PCMSettings(weight_scaling_omega=omega, sweep_times={})).run(
            iris_network, X, seed=0, scorer=iris_scorer)
        table = run.tables["layers"]
        if expected is None:   # aihwkit's default: the weights as trained
            np.testing.assert_allclose(table["largest_tile_weight"],
                                       table["max_abs_weight_per_tile"])
        else:
            np.testing.assert_allclose(table["largest_tile_weight"], expected)


def test_bound_management_reads_saturated_outputs_again_with_the_input_halved():
    rng = np.random.default_rng(3)
    weights = 3.0 * rng.normal(size=(40, 6))       # raw outputs well beyond the ADC bound
    network = DenseNetwork([DenseLayer(weights, np.zeros(6), "identity")],
                           [f"x{i}" for i in range(40)], "regression")
    X = rng.normal(size=(200, 40))
    exact = network.forward(X)
    settings = dataclasses.replace(NOISE_FREE, tile_size=40)
    managed, extra = PCMChip(network, settings, seed=0).forward(X, 0.0)
    clipped, clipped_extra = PCMChip(network, dataclasses.replace(
        settings, bound_management=False), seed=0).forward(X, 0.0)
    assert extra["bound_management_fraction"] > 0.5     # most vectors needed a re-read
    assert clipped_extra["adc_saturated_fraction"] > 0.5
    assert extra["adc_saturated_fraction"] < clipped_extra["adc_saturated_fraction"]
    # Re-read outputs are exact up to the quantisation of the halved input...
    assert np.all(np.abs(managed - exact) <= _quantisation_bound(X, weights, 40, 0.0, 16))
    # ...while clipped ones are wrong by what the bound cut off.
    assert np.abs(clipped - exact).max() > 10 * np.abs(managed - exact).max()


def test_programming_noise_and_drift_exponents_follow_the_fitted_model():
    rng = np.random.default_rng(1)
    for x in (0.1, 0.5, 0.9):
        target = np.full(200_000, x * G_MAX_US)
        devices = program(target, rng)
        sigma = 0.26348 + 1.9650 * x - 1.1731 * x ** 2
        assert programming_sigma(target[:1])[0] == pytest.approx(sigma)
        assert np.std(devices.programmed - target) == pytest.approx(sigma, rel=0.02)
        mu, spread = drift_parameters(target[:1])
        assert mu[0] == pytest.approx(np.clip(-0.0155 * np.log(x) + 0.0244, 0.049, 0.1))
        # nu = |N(mu, sigma)|: a folded normal; mu >> sigma here, so its mean is ~mu.
        assert devices.nu.mean() == pytest.approx(mu[0], rel=0.02)
        assert devices.nu.std() == pytest.approx(spread[0], rel=0.05)


def test_mean_conductance_decays_as_the_drift_law_for_the_sampled_nu():
    rng = np.random.default_rng(2)
    devices = program(np.full(100_000, 20.0), rng)
    for t in (1.0, 3600.0, 86_400.0 * 365):
        law = devices.programmed * ((t + T0_S) / T0_S) ** (-devices.nu)
        np.testing.assert_allclose(devices.conductance(t, None, read_noise=False), law)
        noisy = devices.conductance(t, rng)           # 1/f read noise, zero mean
        assert noisy.mean() == pytest.approx(law.mean(), rel=0.003)
        assert noisy.std() > law.std()                 # ...that spreads the reads
    # On a log-log plot the decay of each device is a straight line of slope -nu.
    times = np.array([10.0, 1e3, 1e5, 1e7])
    logs = np.log([devices.conductance(t, None, read_noise=False)[:50] for t in times])
    slopes = np.polyfit(np.log((times + T0_S) / T0_S), logs, 1)[0]
    np.testing.assert_allclose(slopes, -devices.nu[:50], rtol=1e-9)


def _accuracy_over_time(network, X, labels, times, seeds, compensate, settings=None):
    scorer = Scorer(network, network.forward(X), labels)
    return np.array([[scorer.score(PCMChip(network, settings or PCMSettings(), seed)
                                   .forward(X, t, compensate=compensate)[0])["accuracy"]
                      for t in times] for seed in seeds]).mean(axis=0)


@pytest.mark.parametrize("readout", ["one_hot", "all_ones"])
def test_drift_compensation_recovers_the_accuracy_drift_takes(offset_task, readout):
    network, X, labels = offset_task
    digital = float(np.mean(network.predict(X) == labels))
    drift_only = PCMSettings(programming_noise=False, read_noise=False, output_noise=False,
                             quantisation=False, compensation_readout=readout)
    year = [3.15e7]
    lost = _accuracy_over_time(network, X, labels, year, range(6), False, drift_only)[0]
    recovered = _accuracy_over_time(network, X, labels, year, range(6), True, drift_only)[0]
    assert lost < digital - 0.15
    # Most of the loss comes back; not all, since small conductances drift faster
    # (mu_nu grows as x falls) and a single factor per tile cannot undo that.
    assert (recovered - lost) / (digital - lost) >= 0.7
    assert recovered < digital
    # With every noise source on, compensation still wins on average.
    noisy = PCMSettings(compensation_readout=readout)
    noisy_lost = _accuracy_over_time(network, X, labels, year, range(12), False, noisy)[0]
    noisy_recovered = _accuracy_over_time(network, X, labels, year, range(12), True, noisy)[0]
    assert noisy_recovered > noisy_lost + 0.08


def test_more_time_since_programming_never_improves_expected_uncompensated_accuracy(
        offset_task):
    network, X, labels = offset_task
    times = [1.0, 3600.0, 86_400.0, 3.15e7, 3.15e8]
    expected = _accuracy_over_time(network, X, labels, times, range(16), False)
    assert np.all(np.diff(expected) <= 0.005), expected
    assert expected[-1] < expected[0] - 0.2


def test_tiles_devices_latency_and_energy(iris_network, iris_rows, iris_scorer):
    X, _ = iris_rows
    settings = PCMSettings(tile_size=8, sweep_times={"1 second": 1.0, "1 year": 3.15e7})
    run = PCMBackend(settings).run(iris_network, X, seed=0, scorer=iris_scorer)
    # 4 x 16 -> 1 x 2 tiles of 8; 16 x 3 -> 2 x 1 tiles.
    assert run.resources["crossbar_tiles"] == 4
    assert run.resources["devices"] == 2 * (4 * 16 + 16 * 3)
    assert list(run.tables["layers"]["tiles"]) == [2, 2]
    assert core_mvm_seconds("one_phase") == pytest.approx(133e-9, rel=0.01)
    assert run.metrics["latency_per_sample_s"] == pytest.approx(2 * core_mvm_seconds("one_phase"))
    assert run.metrics["energy_per_inference_j"] == pytest.approx(
        4 * core_mvm_joules("one_phase") * (8 / 256) ** 2)
    assert core_mvm_joules("four_phase") > core_mvm_joules("one_phase")
    sweep = run.tables["drift_sweep"]
    assert list(sweep["time_s"]) == [1.0, 3.15e7]
    assert {"accuracy_compensated", "accuracy_uncompensated"} <= set(sweep.columns)


def test_the_same_seed_reproduces_the_chip_and_the_sweep_reuses_it(iris_network, iris_rows,
                                                                  iris_scorer):
    X, _ = iris_rows
    settings = PCMSettings(sweep_times={"1 hour": 3600.0})
    first, again, other = (PCMBackend(settings).run(iris_network, X, seed=s, scorer=iris_scorer)
                           for s in (3, 3, 4))
    np.testing.assert_array_equal(first.outputs, again.outputs)
    assert not np.array_equal(first.outputs, other.outputs)
    # The run at 1 hour is the sweep's row at 1 hour: one programmed chip, read once.
    row = first.tables["drift_sweep"].iloc[0]
    assert row["accuracy_compensated"] == iris_scorer.score(first.outputs)["accuracy"]


def test_version_1_files_keep_version_1s_mapping():
    migrated = RunOnPCM.migrate_params({"tile_size": 128}, 1)
    assert migrated == {"tile_size": 128, "weight_scaling_omega": 1.0,
                        "compensation_readout": "all_ones", "bound_management": False}
    assert RunOnPCM.migrate_params({"tile_size": 128}, 2) == {"tile_size": 128}
    node = RunOnPCM(migrated)
    settings = node.make_backend().settings
    old = PCMSettings.version_1(tile_size=128)
    for name in ("weight_scaling_omega", "compensation_readout", "bound_management",
                 "tile_size"):
        assert getattr(settings, name) == getattr(old, name)
    defaults = RunOnPCM({}).make_backend().settings
    assert (defaults.weight_scaling_omega, defaults.compensation_readout,
            defaults.bound_management) == (0.0, "one_hot", True)   # aihwkit's
