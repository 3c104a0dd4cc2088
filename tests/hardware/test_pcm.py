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
    core_mvm_joules,
    core_mvm_seconds,
    drift_parameters,
    program,
    programming_sigma,
)
from nodes.models.network import DenseLayer, DenseNetwork

NOISE_FREE = PCMSettings(programming_noise=False, drift=False, read_noise=False,
                         output_noise=False, drift_compensation=False, sweep_times={})


def test_without_noise_sources_the_device_is_the_digital_model_up_to_quantisation():
    rng = np.random.default_rng(0)
    weights, bias = rng.normal(size=(40, 6)), rng.normal(size=6)
    network = DenseNetwork([DenseLayer(weights, bias, "identity")],
                           [f"x{i}" for i in range(40)], "regression")
    X = rng.normal(size=(300, 40))
    exact = network.forward(X)
    exact_settings = dataclasses.replace(NOISE_FREE, quantisation=False, tile_size=16)
    unquantised = PCMChip(network, exact_settings, seed=0).forward(X, 0.0)[0]
    np.testing.assert_allclose(unquantised, exact, atol=1e-10)
    chip = PCMChip(network, dataclasses.replace(NOISE_FREE, tile_size=16), seed=0)
    quantised, extra = chip.forward(X, 0.0)
    assert extra["adc_saturated_fraction"] == 0
    # Error bound per row tile: DAC half-step on every input, ADC half-step on the output,
    # both in normalised units, scaled back by max|x| and max|w| of that tile.
    bound = np.zeros_like(exact)
    for start in range(0, 40, 16):
        block = slice(start, min(start + 16, 40))
        x_scale = np.abs(X[:, block]).max(axis=1, keepdims=True)
        w_scale = np.abs(weights[block]).max()
        w_norm = np.abs(weights[block]) / w_scale
        bound += x_scale * w_scale * ((0.5 / 63) * w_norm.sum(axis=0) + 0.5 * 24 / 510)
    error = np.abs(quantised - exact)
    assert np.all(error <= bound + 1e-12)
    assert error.max() > 0.1 * bound.max()


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


def test_drift_compensation_recovers_the_accuracy_drift_takes(offset_task):
    network, X, labels = offset_task
    digital = float(np.mean(network.predict(X) == labels))
    drift_only = PCMSettings(programming_noise=False, read_noise=False, output_noise=False,
                             quantisation=False)
    year = [3.15e7]
    lost = _accuracy_over_time(network, X, labels, year, range(6), False, drift_only)[0]
    recovered = _accuracy_over_time(network, X, labels, year, range(6), True, drift_only)[0]
    assert lost < digital - 0.15
    # Most of the loss comes back; not all, since small conductances drift faster
    # (mu_nu grows as x falls) and a single factor per tile cannot undo that.
    assert (recovered - lost) / (digital - lost) >= 0.7
    assert recovered < digital
    # With every noise source on, compensation still wins on average.
    noisy_lost = _accuracy_over_time(network, X, labels, year, range(12), False)[0]
    noisy_recovered = _accuracy_over_time(network, X, labels, year, range(12), True)[0]
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
