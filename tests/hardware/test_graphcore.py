"""Graphcore GC2: fp16 numerics, tile placement, memory limits and peak rates."""

from __future__ import annotations

import numpy as np
import pytest

from nodes.hardware.base import Scorer
from nodes.hardware.graphcore import (
    TILE_MEMORY_BYTES,
    TILES,
    DoesNotFit,
    GraphcoreBackend,
    GraphcoreSettings,
    forward,
    peak_flops,
    plan_placement,
)
from nodes.models.network import DenseLayer, DenseNetwork

FP16_UNIT_ROUNDOFF = 2.0 ** -11


def test_peak_rates_reproduce_the_measured_figures():
    assert round(peak_flops("fp32") / 1e12, 1) == 31.1
    assert round(peak_flops("mixed") / 1e12, 1) == 124.5
    assert peak_flops("mixed") == 4 * peak_flops("fp32")


def _linear_network(weights: np.ndarray, bias: np.ndarray) -> DenseNetwork:
    names = [f"x{i}" for i in range(weights.shape[0])]
    return DenseNetwork([DenseLayer(weights, bias, "identity")], names, "regression")


def test_mixed_precision_error_is_fp16_rounding_and_fp32_is_far_closer():
    rng = np.random.default_rng(0)
    weights, bias, X = rng.normal(size=(200, 1)), rng.normal(size=1), rng.normal(size=(500, 200))
    network = _linear_network(weights, bias)
    exact = network.forward(X)
    mixed, single = forward(network, X, "mixed"), forward(network, X, "fp32")
    # Inputs, weights and bias are rounded to fp16 (relative error <= 2^-11 each), the
    # products and sums carry fp32 error: |error| <= ~(2 u16 + n u32) sum |x||w| + u16 |b|.
    scale = np.abs(X) @ np.abs(weights) + np.abs(bias)
    error = np.abs(mixed - exact)
    assert np.all(error <= (2.01 * FP16_UNIT_ROUNDOFF + 200 * 2.0 ** -24) * scale)
    assert error.max() > 0.05 * FP16_UNIT_ROUNDOFF * scale.max()   # rounding did happen
    # Products of fp16 numbers are exact in fp32: the result is the fp32 sum of them.
    rounded = X.astype(np.float16).astype(float) @ weights.astype(np.float16).astype(float)
    rounded += bias.astype(np.float16).astype(float)
    np.testing.assert_allclose(mixed, rounded, rtol=0, atol=1e-4 * scale.max())
    assert np.abs(single - exact).max() < np.abs(mixed - exact).max() / 100


def test_the_report_gives_the_measured_tolerance(iris_network, iris_rows, iris_scorer):
    X, _ = iris_rows
    mixed = GraphcoreBackend().run(iris_network, X, seed=0, scorer=iris_scorer)
    single = GraphcoreBackend(GraphcoreSettings(precision="fp32")).run(
        iris_network, X, seed=0, scorer=iris_scorer)
    assert 0 < mixed.metrics["max_difference_vs_fp64"] < 1e-2
    assert single.metrics["max_difference_vs_fp64"] < 1e-5
    assert mixed.metrics["max_difference_vs_fp32"] == pytest.approx(
        np.abs(mixed.outputs - single.outputs).max())
    assert iris_scorer.score(mixed.outputs)["agreement"] >= 0.98


def test_placement_covers_every_weight_within_tile_memory():
    shapes = [(784, 512), (512, 512), (512, 10)]
    settings = GraphcoreSettings()
    placement = plan_placement(shapes, batch=16, settings=settings)
    usable = TILE_MEMORY_BYTES - settings.reserved_kib_per_tile * 1024
    assert placement.chips == 1 and placement.tile_bytes.max() <= usable
    assert placement.tiles_used <= TILES
    for plan, (rows, columns) in zip(placement.layers, shapes, strict=True):
        assert plan.tiles <= TILES
        block_rows = -(-rows // plan.row_blocks)
        block_columns = -(-columns // plan.column_blocks)
        assert block_rows * plan.row_blocks >= rows
        assert block_columns * plan.column_blocks >= columns
        assert plan.bytes_per_tile >= block_rows * block_columns * 2   # fp16 weights
    weights = sum(r * c * 2 for r, c in shapes)
    assert placement.tile_bytes.sum() >= weights
    # A bigger batch needs more memory for inputs and partial sums.
    assert plan_placement(shapes, batch=256, settings=settings).tile_bytes.sum() > \
        placement.tile_bytes.sum()


def test_a_network_too_big_for_one_chip_is_split_or_refused():
    shapes = [(20_000, 20_000)]          # 800 MB of fp16 weights > 304 MiB on chip
    with pytest.raises(DoesNotFit, match="one GC2 offers"):
        plan_placement(shapes, batch=8, settings=GraphcoreSettings(when_too_big="refuse"))
    split = plan_placement(shapes, batch=8, settings=GraphcoreSettings())
    assert split.chips >= 3 and split.tile_bytes.max() <= TILE_MEMORY_BYTES
    assert split.layers[0].cycles["ipu_links"] > 0
    fp32 = plan_placement(shapes, batch=8, settings=GraphcoreSettings(precision="fp32"))
    assert fp32.chips > split.chips


def test_throughput_grows_with_batch_and_compute_follows_the_efficiency(iris_network,
                                                                       iris_rows, iris_scorer):
    X, _ = iris_rows
    run = GraphcoreBackend(GraphcoreSettings(max_batch=64)).run(
        iris_network, X, seed=0, scorer=iris_scorer)
    sweep = run.tables["batch_sweep"]
    assert list(sweep["batch_size"]) == [1, 2, 4, 8, 16, 32, 64]
    assert np.all(np.diff(sweep["throughput_samples_per_s"]) > 0)
    assert np.all(np.diff(sweep["latency_s"]) >= 0)
    shapes = [(4096, 4096)]           # compute-bound at a large batch
    placements = [plan_placement(shapes, batch=512, settings=GraphcoreSettings(efficiency=e))
                  for e in (0.25, 0.5)]
    slow, fast = (p.layers[0] for p in placements)
    if (slow.row_blocks, slow.column_blocks) == (fast.row_blocks, fast.column_blocks):
        assert slow.cycles["compute"] == pytest.approx(2 * fast.cycles["compute"])
    assert slow.total_cycles > fast.total_cycles
    flops = 2 * 4096 * 4096 * 512
    chips = placements[1].chips
    assert flops / (fast.cycles["compute"] / 1.6e9) <= 0.5 * peak_flops("mixed", TILES * chips)


def test_the_node_refuses_or_splits_a_network_that_does_not_fit(iris_rows):
    from nodes.errors import NodeInputError

    rng = np.random.default_rng(0)
    layers = [DenseLayer(rng.normal(size=(4, 700)), np.zeros(700), "relu"),
              DenseLayer(rng.normal(size=(700, 1000)), np.zeros(1000), "relu"),
              DenseLayer(rng.normal(size=(1000, 3)), np.zeros(3), "softmax")]
    network = DenseNetwork(layers, ["a", "b", "c", "d"], "classification", [0, 1, 2])
    X, _ = iris_rows
    scorer = Scorer(network, network.forward(X))
    tight = dict(reserved_kib_per_tile=255.0)       # 1 KiB per tile: ~1.2 MB on a chip
    with pytest.raises(NodeInputError, match="does not fit") as error:
        GraphcoreBackend(GraphcoreSettings(when_too_big="refuse", max_batch=8, **tight)).run(
            network, X, seed=0, scorer=scorer, node="GC2")
    assert error.value.node == "GC2"
    run = GraphcoreBackend(GraphcoreSettings(max_batch=8, **tight)).run(
        network, X, seed=0, scorer=scorer)
    assert run.resources["chips"] >= 2
    assert run.resources["max_bytes_per_tile"] <= 1024
