"""Graphcore GC2: fp16 numerics, weight placement, micro-batch streaming, host transfers."""

from __future__ import annotations

import numpy as np
import pytest

from nodes.errors import NodeInputError
from nodes.hardware.base import Scorer
from nodes.hardware.graphcore import (
    CLOCK_HZ,
    FLOPS_PER_CYCLE,
    LAUNCH_OVERHEAD_S,
    PCIE_BYTES_S,
    PCIE_LATENCY_S,
    TILE_MEMORY_BYTES,
    TILES,
    DoesNotFit,
    GraphcoreBackend,
    GraphcoreSettings,
    batch_timing,
    forward,
    matmul_throughput,
    peak_flops,
    plan_placement,
)
from nodes.hardware.sources import CONSTANTS
from nodes.models.network import DenseLayer, DenseNetwork

FP16_UNIT_ROUNDOFF = 2.0 ** -11


def test_peaks_are_architectural_products_of_the_published_tile_figures():
    # tiles, clock and flops per cycle are the published figures; the peaks are their
    # product (architectural, not measured) and match the figures Jia et al. quote.
    for name in ("graphcore.tiles", "graphcore.clock_hz", "graphcore.mixed_flops_per_tile_cycle"):
        assert CONSTANTS[name].status == "paper"
    for precision in ("fp32", "mixed"):
        constant = CONSTANTS[f"graphcore.peak_{precision}_flops"]
        assert constant.status == "derived" and "architectural" in constant.note
        assert peak_flops(precision) == TILES * CLOCK_HZ * FLOPS_PER_CYCLE[precision]
    assert round(peak_flops("fp32") / 1e12, 1) == 31.1
    assert round(peak_flops("mixed") / 1e12, 1) == 124.5


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
    assert placement.micro_batch == 16 and placement.micro_batches == 1
    for plan, (rows, columns) in zip(placement.layers, shapes, strict=True):
        assert plan.tiles <= TILES
        assert plan.block_rows * plan.row_blocks >= rows
        assert plan.block_columns * plan.column_blocks >= columns
        assert plan.bytes_per_tile >= plan.block_rows * plan.block_columns * 2   # fp16 weights
    assert placement.tile_bytes.sum() >= sum(r * c * 2 for r, c in shapes)


def test_batch_size_changes_time_not_chip_count():
    # Issue 19: a 2048x2048 fp32 layer landed on 83 chips at batch 4096. The weights
    # (16 MiB) fit one chip; the batch streams through it in micro-batches.
    settings = GraphcoreSettings(precision="fp32")
    placements = {b: plan_placement([(2048, 2048)], batch=b, settings=settings)
                  for b in (1, 64, 4096)}
    assert {p.chips for p in placements.values()} == {1}
    assert placements[4096].micro_batch < 4096 <= placements[4096].micro_batches * \
        placements[4096].micro_batch
    times = [batch_timing(p, 2048, 2048, settings)["device_s"] for p in placements.values()]
    assert times[0] < times[1] < times[2]
    usable = TILE_MEMORY_BYTES - settings.reserved_kib_per_tile * 1024
    assert placements[4096].tile_bytes.max() <= usable
    # An 8192x8192 layer (128 MiB of fp16) needs one chip, not 608, and cannot exceed its peak.
    big = matmul_throughput(8192, 8192, 4096)
    assert big["chips"] == 1
    assert big["device_tflops"] <= 0.5 * peak_flops("mixed") / 1e12 + 1e-9
    assert big["end_to_end_tflops"] < big["device_tflops"]


def test_latency_includes_launch_and_host_transfer(iris_network, iris_rows, iris_scorer):
    X, _ = iris_rows
    run = GraphcoreBackend(GraphcoreSettings(batch_size=16, max_batch=16)).run(
        iris_network, X, seed=0, scorer=iris_scorer)
    m = run.metrics
    bytes_in, bytes_out = 16 * 4 * 2, 16 * 3 * 4      # fp16 inputs in, fp32 outputs back
    assert m["host_transfer_s"] == pytest.approx(2 * PCIE_LATENCY_S
                                                 + (bytes_in + bytes_out) / PCIE_BYTES_S)
    assert m["launch_s"] == LAUNCH_OVERHEAD_S
    assert m["latency_per_batch_s"] == pytest.approx(m["launch_s"] + m["host_transfer_s"]
                                                     + m["device_s"])
    # One sample still pays the launch and the transfers: microseconds, not 0.24 us.
    assert m["latency_per_sample_s"] > LAUNCH_OVERHEAD_S + 2 * PCIE_LATENCY_S
    assert m["device_latency_per_sample_s"] < 1e-5
    # Wider inputs take longer to send.
    wide = matmul_throughput(4096, 16, 1024)
    narrow = matmul_throughput(16, 16, 1024)
    assert wide["host_transfer_s"] > narrow["host_transfer_s"]


def test_throughput_grows_with_batch_and_compute_follows_the_efficiency(iris_network,
                                                                       iris_rows, iris_scorer):
    X, _ = iris_rows
    run = GraphcoreBackend(GraphcoreSettings(max_batch=64)).run(
        iris_network, X, seed=0, scorer=iris_scorer)
    sweep = run.tables["batch_sweep"]
    assert list(sweep["batch_size"]) == [1, 2, 4, 8, 16, 32, 64]
    assert np.all(np.diff(sweep["throughput_samples_per_s"]) > 0)
    assert np.all(np.diff(sweep["latency_s"]) >= 0)
    assert set(sweep["chips"]) == {1}
    shapes = [(4096, 4096)]           # compute-bound at a large micro-batch
    placements = [plan_placement(shapes, batch=512, settings=GraphcoreSettings(efficiency=e))
                  for e in (0.25, 0.5)]
    slow, fast = (p.layers[0] for p in placements)
    if (slow.row_blocks, slow.column_blocks) == (fast.row_blocks, fast.column_blocks):
        assert slow.cycles["compute"] == pytest.approx(2 * fast.cycles["compute"])
    assert slow.total_cycles > fast.total_cycles
    flops = 2 * 4096 * 4096 * placements[1].micro_batch
    assert flops / (fast.cycles["compute"] / CLOCK_HZ) <= 0.5 * peak_flops("mixed") * (1 + 1e-9)


def test_a_network_too_big_for_one_chip_is_split_over_the_fewest_or_refused():
    shapes = [(20_000, 20_000)]          # 800 MB of fp16 weights > 304 MiB on chip
    with pytest.raises(DoesNotFit, match="one GC2 offers"):
        plan_placement(shapes, batch=8, settings=GraphcoreSettings(when_too_big="refuse"))
    split = plan_placement(shapes, batch=8, settings=GraphcoreSettings())
    usable = TILE_MEMORY_BYTES - 32 * 1024
    assert split.chips == 3 and split.tile_bytes.max() <= usable   # 763 MiB / 266 MiB
    assert split.layers[0].cycles["ipu_links"] > 0
    assert plan_placement(shapes, batch=1024, settings=GraphcoreSettings()).chips == split.chips
    fp32 = plan_placement(shapes, batch=8, settings=GraphcoreSettings(precision="fp32"))
    assert fp32.chips > split.chips


def test_the_node_refuses_or_splits_a_network_that_does_not_fit(iris_rows):
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
    assert set(run.tables["batch_sweep"]["chips"]) == {run.resources["chips"]}
