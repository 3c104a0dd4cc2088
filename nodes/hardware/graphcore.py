"""Graphcore Colossus GC2 (IPU): fp16 numerics, weight placement, micro-batch streaming, BSP timing.

Numerics are computed, not estimated: the network runs in numpy with fp16
weights and activations and fp32 accumulation (the IPU's mixed precision;
a product of two fp16 numbers is exact in fp32, so an fp32 sum of them is
the arithmetic the accumulators do, up to summation order), or in fp32.

Placement and timing are a model of the kind Poplar's IPUModel offers (it
too runs on the CPU and estimates cycles and memory). The weights stay on
the chips: a network is placed on the fewest chips whose tiles hold all its
weights (each layer's matrix cut into a grid of blocks, one per tile), and
the batch streams through them in micro-batches, the largest that fit the
memory the weights leave. A layer takes one superstep per micro-batch
(local multiply-accumulate, sync, exchange of the inputs) plus, when its
rows are split, a reduction superstep. A batch also pays the program launch
and its PCIe transfers to and from the host. The peak rates are
architectural (tiles x clock x flops per cycle), not measurements.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nodes.errors import NodeInputError
from nodes.hardware.base import DeviceRun, HardwareBackend, HardwareNode, Progress, Scorer
from nodes.hardware.report import Assumption
from nodes.hardware.sources import CONSTANTS, cite, constant
from nodes.models.network import DenseNetwork, apply_activation
from nodes.params import ChoiceParam, FloatParam, IntParam

# -- the chip (see nodes.hardware.sources) ------------------------------------------
TILES = constant("graphcore.tiles", 1216, "tiles", "jia_2019", "paper", "tiles per GC2 IPU")
TILE_MEMORY_BYTES = constant("graphcore.tile_memory_bytes", 256 * 1024, "bytes", "jia_2019",
                             "paper", "SRAM per tile (304 MiB per chip); a tile reads only "
                             "its own memory")
CLOCK_HZ = constant("graphcore.clock_hz", 1.6e9, "Hz", "jia_2019", "paper", "tile clock")
FLOPS_PER_CYCLE = {
    "fp32": constant("graphcore.fp32_flops_per_tile_cycle", 16, "flops", "jia_2019", "paper",
                     "single precision, per tile per cycle"),
    "mixed": constant("graphcore.mixed_flops_per_tile_cycle", 64, "flops", "jia_2019", "paper",
                      "fp16 products accumulated in fp32 (the AMP unit), per tile per cycle"),
}
PEAK_FLOPS = {
    "fp32": constant("graphcore.peak_fp32_flops", TILES * CLOCK_HZ * FLOPS_PER_CYCLE["fp32"],
                     "flop/s", "", "derived", "architectural peak: 1216 tiles x 1.6 GHz x 16 "
                     "= 31.1 TFLOPS, the figure Jia et al. quote (not a measurement)"),
    "mixed": constant("graphcore.peak_mixed_flops", TILES * CLOCK_HZ * FLOPS_PER_CYCLE["mixed"],
                      "flop/s", "", "derived", "architectural peak: 1216 tiles x 1.6 GHz x 64 "
                      "= 124.5 TFLOPS, the figure Jia et al. quote (not a measurement)"),
}
MEMORY_BANDWIDTH_BYTES_S = constant("graphcore.memory_bandwidth_bytes_s", 45e12, "B/s",
                                    "jia_2019", "paper", "aggregate tile SRAM bandwidth, "
                                    "theoretical (the seed article says 30 TB/s)")
EXCHANGE_BANDWIDTH_BYTES_S = constant("graphcore.exchange_bandwidth_bytes_s", 8e12, "B/s",
                                      "graphcore_seed", "vendor claim",
                                      "on-chip exchange, all tiles together")
IPU_LINK_BYTES_S = constant("graphcore.ipu_link_bytes_s", 2.5e12 / 8, "B/s", "graphcore_seed",
                            "vendor claim", "2.5 Tbps chip-to-chip over the IPU-Links")
PCIE_BYTES_S = constant("graphcore.pcie_bytes_s", 31.5e9, "B/s", "pcie_4", "published",
                        "PCIe Gen4 x16 (16 GT/s x 16 lanes x 128/130 / 8 bits) each way; the "
                        "C2 card's host link (Graphcore C2 product brief)")
PCIE_LATENCY_S = constant("graphcore.pcie_latency_s", 1e-6, "s", "", "estimate",
                          "one DMA transfer across PCIe (a round trip of the order of a "
                          "microsecond is typical of PCIe devices; no IPU figure used)")
LAUNCH_OVERHEAD_S = constant("graphcore.launch_overhead_s", 20e-6, "s", "", "estimate",
                             "host-side start and completion of one program run (engine run, "
                             "host sync and stream callbacks); no published IPU figure used")
SYNC_CYCLES = constant("graphcore.sync_cycles", 150, "cycles", "", "estimate",
                       "one chip-wide BSP synchronisation (about 0.1 us at 1.6 GHz); no "
                       "published figure used")
RESERVED_KIB_PER_TILE = constant("graphcore.reserved_kib_per_tile", 32, "KiB", "", "estimate",
                                 "code, vertex state and exchange buffers Poplar keeps on "
                                 "every tile (it varies by program; 1/8 of the tile assumed)")
MATMUL_EFFICIENCY = constant("graphcore.matmul_efficiency", 0.5, "of peak", "", "estimate",
                             "share of the peak arithmetic rate a tile's matrix product "
                             "reaches; Jia et al. (2019, section 5.1) measure matmul "
                             "throughput well below the peak in both precisions, but their "
                             "per-size figures could not be checked here, so 0.5 stays ours")
CARD_POWER_W = constant("graphcore.c2_card_power_w", 300.0, "W", "graphcore_c2", "datasheet",
                        "C2 card (two GC2 IPUs), board power")
POWER_PER_CHIP_W = constant("graphcore.power_per_chip_w", CARD_POWER_W / 2, "W", "", "derived",
                            "half the C2 card's 300 W: an upper bound, used at every load")
BYTES = {"fp16": 2, "fp32": 4}
MAX_CHIPS = 4096                             # IPU-POD scale; beyond it we stop trying


def peak_flops(precision: str, tiles: int = TILES) -> float:
    """Architectural peak floating-point operations per second: tiles x clock x flops per
    cycle per tile (31.1 TFLOPS fp32, 124.5 TFLOPS mixed on one chip)."""
    return tiles * CLOCK_HZ * FLOPS_PER_CYCLE[precision]


@dataclass
class GraphcoreSettings:
    """Numerics, placement and timing options (see the node's help)."""

    precision: str = "mixed"          # "mixed" (fp16 x fp16 -> fp32) or "fp32"
    efficiency: float = MATMUL_EFFICIENCY
    reserved_kib_per_tile: float = float(RESERVED_KIB_PER_TILE)
    when_too_big: str = "split"       # "split" over several chips, or "refuse"
    batch_size: int = 32
    max_batch: int = 256
    micro_batch: int = 0              # 0: the largest that fits the memory the weights leave


class DoesNotFit(Exception):
    """The network does not fit the chips allowed (the message says why)."""


@dataclass
class LayerPlan:
    """How one layer sits on the tiles: a grid of ``row_blocks`` x ``column_blocks``;
    ``cycles`` per superstep phase for one micro-batch."""

    name: str
    rows: int
    columns: int
    row_blocks: int
    column_blocks: int
    bytes_per_tile: float
    cycles: dict[str, float]

    @property
    def tiles(self) -> int:
        return self.row_blocks * self.column_blocks

    @property
    def block_rows(self) -> int:
        return math.ceil(self.rows / self.row_blocks)

    @property
    def block_columns(self) -> int:
        return math.ceil(self.columns / self.column_blocks)

    @property
    def total_cycles(self) -> float:
        return float(sum(self.cycles.values()))


@dataclass
class Placement:
    """Every layer's plan, the chips used, the memory of each tile and the micro-batch."""

    layers: list[LayerPlan]
    chips: int
    tile_bytes: np.ndarray
    usable_bytes_per_tile: float
    batch: int
    micro_batch: int
    notes: list[str] = field(default_factory=list)

    @property
    def tiles_used(self) -> int:
        return int(np.count_nonzero(self.tile_bytes))

    @property
    def micro_batches(self) -> int:
        return math.ceil(self.batch / self.micro_batch)


def plan_placement(shapes: list[tuple[int, int]], *, batch: int, settings: GraphcoreSettings,
                   names: list[str] | None = None) -> Placement:
    """Place layers of ``shapes`` (inputs, outputs) and stream ``batch`` rows through them.

    The chips: the fewest on which every weight fits, with buffers for one
    row. The micro-batch: the largest (up to ``batch``, or ``micro_batch``
    when set) whose inputs and partial sums fit the memory those weights
    leave; the batch then runs as ceil(batch / micro-batch) micro-batches on
    the same chips, so a bigger batch costs time, never chips. Raises
    DoesNotFit when ``when_too_big`` is ``refuse`` and one chip is not enough.
    """
    names = names or [f"dense_{i + 1}" for i in range(len(shapes))]
    weight_bytes, act_bytes = _byte_sizes(settings.precision)
    usable = TILE_MEMORY_BYTES - settings.reserved_kib_per_tile * 1024
    if usable <= 0:
        raise DoesNotFit("the reserved memory per tile leaves nothing for the network")
    smallest = weight_bytes + act_bytes + 4   # one weight, its input, one partial sum
    if smallest > usable:
        raise DoesNotFit(f"even one weight with its input and partial sum needs {smallest} "
                         f"bytes, more than the {usable:.0f} usable bytes of a tile")
    # A lower bound: every weight once, every layer's inputs and partial sums for one row.
    total = float(sum(r * c * weight_bytes + r * act_bytes + c * 4 for r, c in shapes))
    chips = max(1, math.ceil(total / (TILES * usable)))
    if settings.when_too_big == "refuse":
        reason = "its weights need more than the whole chip"
        if chips == 1:
            try:
                return _with_micro_batch(shapes, names, 1, batch, usable, settings)
            except DoesNotFit as error:
                reason = str(error)
        raise DoesNotFit(
            f"{reason}: the network needs at least {total / 2**20:.1f} MiB of tile memory "
            f"({settings.precision} weights and one row's buffers); one GC2 offers "
            f"{TILES * usable / 2**20:.1f} MiB ({TILES} tiles x {usable / 1024:.0f} KiB usable)")
    # Double the chips until the weights fit, then search back for the fewest.
    failed, placement = chips - 1, None
    while placement is None:
        try:
            placement = _place(shapes, names, chips, 1, usable, settings)
        except DoesNotFit as error:
            if chips >= MAX_CHIPS:
                raise DoesNotFit(f"{error} even on {MAX_CHIPS} chips") from None
            failed, chips = chips, min(2 * chips, MAX_CHIPS)
    while chips - failed > 1:
        middle = (failed + chips) // 2
        try:
            _place(shapes, names, middle, 1, usable, settings)
            chips = middle
        except DoesNotFit:
            failed = middle
    return _with_micro_batch(shapes, names, chips, batch, usable, settings)


def _with_micro_batch(shapes: list[tuple[int, int]], names: list[str], chips: int, batch: int,
                      usable: float, settings: GraphcoreSettings) -> Placement:
    """The placement on ``chips`` with the largest micro-batch that fits."""
    largest = max(1, min(batch, settings.micro_batch or batch))
    best = _place(shapes, names, chips, 1, usable, settings)   # raises when nothing fits
    low, high = 1, largest
    if largest > 1:
        try:
            best, low = _place(shapes, names, chips, largest, usable, settings), largest
        except DoesNotFit:
            while high - low > 1:
                middle = (low + high) // 2
                try:
                    best, low = _place(shapes, names, chips, middle, usable, settings), middle
                except DoesNotFit:
                    high = middle
    best.batch = batch
    return best


def _byte_sizes(precision: str) -> tuple[int, int]:
    size = BYTES["fp16" if precision == "mixed" else "fp32"]
    return size, size


def _place(shapes: list[tuple[int, int]], names: list[str], chips: int, micro_batch: int,
           usable: float, settings: GraphcoreSettings) -> Placement:
    tiles = TILES * chips
    tile_bytes = np.zeros(tiles)
    plans: dict[int, LayerPlan] = {}
    for index in sorted(range(len(shapes)), key=lambda i: -shapes[i][0] * shapes[i][1]):
        rows, columns = shapes[index]
        # The k-th entry: the memory left on the tile with the k-th most room.
        order = np.argsort(tile_bytes, kind="stable")
        room = usable - tile_bytes[order]
        plan = _plan_layer(names[index], rows, columns, micro_batch, tiles, room, chips,
                           settings)
        tile_bytes[order[:plan.tiles]] += plan.bytes_per_tile
        plans[index] = plan
    return Placement([plans[i] for i in range(len(shapes))], chips, tile_bytes, usable,
                     micro_batch, micro_batch)


def _plan_layer(name: str, rows: int, columns: int, batch: int, tiles: int, room: np.ndarray,
                chips: int, settings: GraphcoreSettings) -> LayerPlan:
    """The fastest grid of blocks for one layer that fits the roomiest tiles.

    ``room[k]`` is the memory left on the tile with the (k+1)-th most room,
    so a grid of k tiles fits when its per-tile memory is at most room[k-1].
    """
    weight_bytes, act_bytes = _byte_sizes(settings.precision)
    row_blocks = np.arange(1, min(rows, tiles) + 1)
    column_blocks = np.clip(tiles // row_blocks, 1, columns)
    block_rows = np.ceil(rows / row_blocks)
    block_columns = np.ceil(columns / column_blocks)
    memory = (block_rows * block_columns * weight_bytes + batch * block_rows * act_bytes
              + batch * block_columns * 4)
    cycles = _layer_cycles(block_rows, block_columns, row_blocks, batch, chips, rows,
                           settings)
    total = sum(cycles.values())
    fits = memory <= room[row_blocks * column_blocks - 1]
    if not fits.any():
        raise DoesNotFit(f"layer {name!r} ({rows} x {columns}) does not fit on {chips} "
                         f"chip{'s' if chips > 1 else ''}")
    best = int(np.argmin(np.where(fits, total, np.inf)))
    return LayerPlan(name, rows, columns, int(row_blocks[best]), int(column_blocks[best]),
                     float(memory[best]), {k: float(v[best]) for k, v in cycles.items()})


def _layer_cycles(block_rows: np.ndarray, block_columns: np.ndarray, row_blocks: np.ndarray,
                  batch: int, chips: int, rows: int,
                  settings: GraphcoreSettings) -> dict[str, np.ndarray]:
    """Cycles of each superstep phase for candidate grids and ``batch`` rows (vectorised
    over candidates)."""
    weight_bytes, act_bytes = _byte_sizes(settings.precision)
    macs_per_cycle = FLOPS_PER_CYCLE[settings.precision] / 2
    memory_bytes_per_cycle = MEMORY_BANDWIDTH_BYTES_S / (TILES * CLOCK_HZ)
    exchange_bytes_per_cycle = EXCHANGE_BANDWIDTH_BYTES_S / (TILES * CLOCK_HZ)
    # Superstep 1: multiply-accumulate a block; weights read once per micro-batch.
    arithmetic = batch * block_rows * block_columns / (macs_per_cycle * settings.efficiency)
    weight_reads = block_rows * block_columns * weight_bytes / memory_bytes_per_cycle
    compute = np.maximum(arithmetic, weight_reads)
    exchange_in = batch * block_rows * act_bytes / exchange_bytes_per_cycle
    # Superstep 2 (rows split): exchange fp32 partial sums and add them up.
    split = row_blocks > 1
    reduce_exchange = np.where(split, batch * block_columns * 4 / exchange_bytes_per_cycle, 0.0)
    reduce_compute = np.where(split, batch * block_columns / FLOPS_PER_CYCLE["fp32"], 0.0)
    sync = SYNC_CYCLES * (1 + split)
    # Inputs that cross to other chips go over the IPU-Links.
    crossing = batch * rows * act_bytes * (chips - 1) / chips
    links = np.full_like(compute, crossing / IPU_LINK_BYTES_S * CLOCK_HZ)
    return {"compute": compute, "exchange": exchange_in + reduce_exchange,
            "reduce": reduce_compute, "sync": sync.astype(float), "ipu_links": links}


def plan_cycles(plan: LayerPlan, batch: int, chips: int,
                settings: GraphcoreSettings) -> dict[str, float]:
    """The phases' cycles of ``plan``'s grid for ``batch`` rows (a short last micro-batch)."""
    cycles = _layer_cycles(np.array([plan.block_rows]), np.array([plan.block_columns]),
                           np.array([plan.row_blocks]), batch, chips, plan.rows, settings)
    return {k: float(v[0]) for k, v in cycles.items()}


PHASES = ("compute", "exchange", "reduce", "sync", "ipu_links")


def batch_timing(placement: Placement, n_inputs: int, n_outputs: int,
                 settings: GraphcoreSettings) -> dict[str, float]:
    """Seconds for one batch: launch, host transfers in and out, and every micro-batch's
    supersteps (the last one may be shorter)."""
    batch, micro = placement.batch, placement.micro_batch
    full, rest = divmod(batch, micro)
    act_bytes = _byte_sizes(settings.precision)[1]
    host_in = PCIE_LATENCY_S + batch * n_inputs * act_bytes / PCIE_BYTES_S
    host_out = PCIE_LATENCY_S + batch * n_outputs * 4 / PCIE_BYTES_S
    phases = dict.fromkeys(PHASES, 0.0)
    for plan in placement.layers:
        tail = plan_cycles(plan, rest, placement.chips, settings) if rest else {}
        for phase in PHASES:
            phases[phase] += (full * plan.cycles[phase] + tail.get(phase, 0.0)) / CLOCK_HZ
    device = sum(phases.values())
    return {"launch_s": LAUNCH_OVERHEAD_S, "host_transfer_s": host_in + host_out,
            "device_s": device, **{f"{k}_s": v for k, v in phases.items()},
            "batch_s": LAUNCH_OVERHEAD_S + host_in + host_out + device}


def forward(network: DenseNetwork, X: np.ndarray, precision: str) -> np.ndarray:
    """The network's outputs computed as the IPU computes them.

    ``mixed``: weights, biases and activations rounded to fp16, products
    accumulated in fp32, activation functions evaluated in fp32 and their
    results stored as fp16 (the last layer's kept in fp32). ``fp32``: all fp32.
    """
    storage = np.float16 if precision == "mixed" else np.float32
    values = X.astype(storage)
    last = len(network.layers) - 1
    for index, layer in enumerate(network.layers):
        weights = layer.weights.astype(storage).astype(np.float32)
        bias = layer.bias.astype(storage).astype(np.float32)
        z = values.astype(np.float32) @ weights + bias
        out = apply_activation(z, layer.activation).astype(np.float32)
        values = out if index == last else out.astype(storage)
    return values.astype(float)


def matmul_throughput(rows: int, columns: int, batch: int,
                      settings: GraphcoreSettings | None = None) -> dict[str, float]:
    """End-to-end and on-device TFLOPS of one (batch x rows) @ (rows x columns) product:
    what the bench prints."""
    settings = settings or GraphcoreSettings()
    placement = plan_placement([(rows, columns)], batch=batch, settings=settings)
    timing = batch_timing(placement, rows, columns, settings)
    flops = 2.0 * rows * columns * batch
    peak = peak_flops(settings.precision, TILES * placement.chips)
    return {"chips": placement.chips, "micro_batch": placement.micro_batch,
            "end_to_end_tflops": flops / timing["batch_s"] / 1e12,
            "device_tflops": flops / timing["device_s"] / 1e12, "peak_tflops": peak / 1e12,
            "end_to_end_fraction_of_peak": flops / timing["batch_s"] / peak,
            "batch_s": timing["batch_s"], "host_transfer_s": timing["host_transfer_s"]}


class GraphcoreBackend(HardwareBackend):
    """The GC2 backend: numerics in fp16/fp32, weight placement, streaming and BSP timing."""

    name = "Graphcore GC2"
    summary = ("fp16/fp32 numerics, weights placed on 1,216 tiles of 256 KiB per chip, "
               "micro-batches streamed through them, bulk-synchronous timing plus PCIe")
    resources_shown = (("chips", "chip"), ("tiles_used", "tile"))

    def __init__(self, settings: GraphcoreSettings | None = None) -> None:
        self.settings = settings or GraphcoreSettings()

    def placement(self, network: DenseNetwork, batch: int, node: str = "Run on Graphcore GC2"
                  ) -> Placement:
        try:
            return plan_placement([layer.shape for layer in network.layers], batch=batch,
                                  settings=self.settings,
                                  names=[layer.name for layer in network.layers])
        except DoesNotFit as error:
            raise NodeInputError(node, f"'{network.name}' does not fit: {error}.", port="model",
                                 fix="Set 'when_too_big' to split, lower "
                                     "'reserved_kib_per_tile', or use a smaller network."
                                 ) from None

    def timing(self, network: DenseNetwork, placement: Placement) -> dict[str, float]:
        """Seconds per batch: launch, host transfers and every micro-batch's supersteps."""
        return batch_timing(placement, network.n_inputs, network.n_outputs, self.settings)

    def run(self, network: DenseNetwork, X: np.ndarray, *, seed: int, scorer: Scorer,
            calibration: np.ndarray | None = None, progress: Progress | None = None,
            node: str = "Run on Graphcore GC2") -> DeviceRun:
        s = self.settings
        outputs = forward(network, X, s.precision)
        reference = forward(network, X, "fp32")
        placement = self.placement(network, s.batch_size, node)
        timing = self.timing(network, placement)
        single = self.timing(network, self.placement(network, 1, node))
        batches = sorted({2 ** k for k in range(int(math.log2(max(1, s.max_batch))) + 1)}
                         | {s.batch_size})
        sweep = []
        for batch in batches:
            plan = self.placement(network, batch, node)
            t = self.timing(network, plan)
            sweep.append({"batch_size": batch, "latency_s": t["batch_s"],
                          "throughput_samples_per_s": batch / t["batch_s"],
                          "device_s": t["device_s"], "host_transfer_s": t["host_transfer_s"],
                          "micro_batch": plan.micro_batch, "chips": plan.chips,
                          "tiles_used": plan.tiles_used})
        flops = 2.0 * network.macs_per_sample * s.batch_size
        power = POWER_PER_CHIP_W * placement.chips
        weight_bytes = _byte_sizes(s.precision)[0]
        peak = peak_flops(s.precision, TILES * placement.chips)
        metrics = {
            "latency_per_sample_s": single["batch_s"],
            "latency_per_batch_s": timing["batch_s"],
            "throughput_samples_per_s": s.batch_size / timing["batch_s"],
            "energy_per_inference_j": power * timing["batch_s"] / s.batch_size,
            "power_w": power,
            **{k: v for k, v in timing.items() if k != "batch_s"},
            "device_latency_per_sample_s": single["device_s"],
            "achieved_tflops": flops / timing["batch_s"] / 1e12,
            "device_tflops": flops / timing["device_s"] / 1e12,
            "peak_tflops": peak / 1e12,
            "fraction_of_peak": flops / timing["batch_s"] / peak,
            "micro_batch": placement.micro_batch,
            "micro_batches_per_batch": placement.micro_batches,
            "max_difference_vs_fp32": float(np.max(np.abs(outputs - reference))),
            "max_difference_vs_fp64": float(np.max(np.abs(outputs - scorer.digital_outputs))),
        }
        tile_bytes = placement.tile_bytes
        resources = {
            "chips": placement.chips, "tiles": TILES * placement.chips,
            "tiles_used": placement.tiles_used,
            "weights_bytes": int(network.macs_per_sample * weight_bytes),
            "memory_used_bytes": float(tile_bytes.sum()),
            "memory_available_bytes": TILES * placement.chips * TILE_MEMORY_BYTES,
            "max_bytes_per_tile": float(tile_bytes.max()),
            "mean_bytes_per_used_tile": float(tile_bytes[tile_bytes > 0].mean()),
            "usable_bytes_per_tile": placement.usable_bytes_per_tile,
        }
        layers = pd.DataFrame([{
            "layer": p.name, "inputs": p.rows, "outputs": p.columns,
            "row_blocks": p.row_blocks, "column_blocks": p.column_blocks, "tiles": p.tiles,
            "bytes_per_tile": p.bytes_per_tile,
            **{f"{k}_cycles_per_micro_batch": v for k, v in p.cycles.items()}}
            for p in placement.layers])
        histogram = pd.DataFrame({"tile": np.arange(len(tile_bytes)), "bytes": tile_bytes})
        return DeviceRun(
            outputs=outputs, metrics=metrics, resources=resources,
            assumptions=self.assumptions(),
            tables={"batch_sweep": pd.DataFrame(sweep), "layers": layers,
                    "tile_memory": histogram},
            plots=[{"table": "batch_sweep", "x": "batch_size",
                    "y": ["throughput_samples_per_s"], "log_x": True,
                    "title": "Throughput against batch size"},
                   {"table": "batch_sweep", "x": "batch_size",
                    "y": ["latency_s", "device_s", "host_transfer_s"], "log_x": True,
                    "title": "Latency per batch and its parts"},
                   {"table": "tile_memory", "x": "tile", "y": ["bytes"], "log_x": False,
                    "title": "Memory per tile"}],
            not_modelled=[
                "Poplar's real matmul planner, code size and vertex state (a fixed reserve per "
                "tile stands for them).",
                "Overlap of host transfers with compute, and pipelining micro-batches across "
                "chips (transfers and micro-batches run one after another).",
                "Power that varies with load (the card's board power is used at every load).",
                "Stochastic rounding (the IPU offers it for fp16; rounding here is to nearest).",
                "The exact summation order of the accumulators.",
            ] + placement.notes,
            settings={"precision": s.precision, "efficiency": s.efficiency,
                      "reserved_kib_per_tile": s.reserved_kib_per_tile,
                      "when_too_big": s.when_too_big, "max_batch": s.max_batch,
                      "micro_batch": s.micro_batch})

    def assumptions(self) -> list[Assumption]:
        s = self.settings
        c = CONSTANTS
        return [
            Assumption.of("Tiles", f"{TILES} tiles x 256 KiB SRAM (304 MiB)",
                          c["graphcore.tiles"]),
            Assumption.of("Clock", "1.6 GHz", c["graphcore.clock_hz"]),
            Assumption.of("Arithmetic per tile per cycle", "16 flops fp32, 64 flops mixed",
                          c["graphcore.mixed_flops_per_tile_cycle"]),
            Assumption.of("Peak (architectural)", "31.1 TFLOPS fp32, 124.5 TFLOPS mixed = "
                          "1216 tiles x 1.6 GHz x flops per cycle",
                          c["graphcore.peak_mixed_flops"]),
            Assumption("Matmul efficiency", f"{s.efficiency:g} of the peak arithmetic rate",
                       c["graphcore.matmul_efficiency"].note,
                       "estimate" if s.efficiency == MATMUL_EFFICIENCY else "setting"),
            Assumption.of("On-chip memory bandwidth", "45 TB/s (theoretical)",
                          c["graphcore.memory_bandwidth_bytes_s"]),
            Assumption.of("Exchange bandwidth", "8 TB/s on chip (~4.1 bytes per tile per cycle)",
                          c["graphcore.exchange_bandwidth_bytes_s"]),
            Assumption.of("Sync", f"{SYNC_CYCLES} cycles per superstep",
                          c["graphcore.sync_cycles"]),
            Assumption.of("Host link", "PCIe Gen4 x16, 31.5 GB/s each way",
                          c["graphcore.pcie_bytes_s"]),
            Assumption.of("PCIe latency", "1 us per transfer", c["graphcore.pcie_latency_s"]),
            Assumption.of("Launch overhead", "20 us per batch (program run and host sync)",
                          c["graphcore.launch_overhead_s"]),
            Assumption.of("Chip-to-chip", "IPU-Links, 2.5 Tbps", c["graphcore.ipu_link_bytes_s"]),
            Assumption("Reserved memory per tile", f"{s.reserved_kib_per_tile:g} KiB for code, "
                       "vertex state and exchange buffers",
                       c["graphcore.reserved_kib_per_tile"].note,
                       "estimate" if s.reserved_kib_per_tile == RESERVED_KIB_PER_TILE
                       else "setting"),
            Assumption.of("Power", f"{POWER_PER_CHIP_W:g} W per GC2 (half the C2 card's 300 W)",
                          c["graphcore.power_per_chip_w"]),
            Assumption("Placement", "weights stay on the fewest chips that hold them; the "
                       "batch streams through in micro-batches", cite("poplar_ipumodel"),
                       "modelling choice"),
            Assumption("Numerics", "fp16 weights and activations, fp32 accumulation"
                       if s.precision == "mixed" else "fp32 throughout", cite("ieee754"),
                       "modelling choice"),
            Assumption("Model kind", "a CPU model that estimates cycles and memory, like the "
                       "IPUModel", cite("poplar_ipumodel"), "modelling choice"),
        ]


class RunOnGraphcore(HardwareNode):
    """Run a trained network on a simulated Graphcore GC2 IPU in fp16 or fp32.

    Input 'model': a trained network of dense layers (Neural Network, or a
    Keras Dense network); input 'data': the rows to score (the model's
    feature columns; with the label column, accuracy is reported). Output
    'scored': 'data' with Score Model's columns ('Scored Labels', 'Scored
    Probabilities...'); output 'report': accuracy and agreement with the
    digital model, the largest output difference from fp32/fp64, latency
    (with its launch, PCIe and on-chip parts), throughput, energy, achieved
    and peak TFLOPS, chips, tiles and memory per tile, and the assumptions.

    The numerics are real: with 'precision' mixed, weights and activations
    are fp16 and sums fp32; fp32 runs in fp32. The weights are cut into
    blocks over the 1,216 tiles of 256 KiB (less 'reserved_kib_per_tile')
    of the fewest chips that hold them ('when_too_big' refuse: one chip or
    an error with the sizes). The batch ('batch_size') streams through in
    micro-batches, the largest that fit beside the weights ('micro_batch' 0)
    or the size you set, so the batch changes time, not chips. Timing is
    bulk-synchronous: per micro-batch and layer, compute at the
    architectural peak times 'efficiency', sync and exchange; per batch,
    the program launch and PCIe transfers to and from the host. The batch
    sweep shows latency and throughput for batch sizes 1 to 'max_batch'.
    Energy is half the C2 card's 300 W per chip times time.
    """

    type_id = "run_on_graphcore"
    version = 3
    title = "Run on Graphcore GC2"
    # The simulated IPU is deterministic: no seed, and a new workflow seed does
    # not re-run it.
    randomness = None
    seed = None

    precision = ChoiceParam("mixed", ["mixed", "fp32"],
                            help="mixed: fp16 weights/activations, fp32 sums; fp32: all fp32.")
    efficiency = FloatParam(MATMUL_EFFICIENCY, minimum=0.0, maximum=1.0,
                            exclusive_minimum=True,
                            help="Share of the peak arithmetic rate a layer reaches.")
    reserved_kib_per_tile = FloatParam(float(RESERVED_KIB_PER_TILE), minimum=0.0, maximum=255.0,
                                       help="Tile memory kept for code and buffers (KiB).")
    when_too_big = ChoiceParam("split", ["split", "refuse"],
                               help="Weights larger than one chip: spread them over the "
                                    "fewest chips that hold them, or refuse the network.")
    max_batch = IntParam(256, minimum=1, maximum=65_536,
                         help="Largest batch size in the batch sweep table.")
    micro_batch = IntParam(0, minimum=0, maximum=65_536,
                           help="Rows per micro-batch streamed through the chips; 0: the "
                                "largest that fits beside the weights.")

    @classmethod
    def migrate_params(cls, params: dict, from_version: int) -> dict:
        # Version 2 added 'micro_batch' (its default keeps version-1 files valid);
        # version 3 dropped 'seed', which the deterministic simulation never used.
        if from_version < 3:
            params.pop("seed", None)
        return params

    def make_backend(self) -> GraphcoreBackend:
        return GraphcoreBackend(GraphcoreSettings(
            precision=self.precision, efficiency=self.efficiency,
            reserved_kib_per_tile=self.reserved_kib_per_tile, when_too_big=self.when_too_big,
            batch_size=self.batch_size, max_batch=self.max_batch,
            micro_batch=self.micro_batch))
