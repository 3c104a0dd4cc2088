"""Graphcore Colossus GC2 (IPU): fp16 numerics, tile placement and a bulk-synchronous timing model.

Numerics are computed, not estimated: the network runs in numpy with fp16
weights and activations and fp32 accumulation (the IPU's mixed precision;
a product of two fp16 numbers is exact in fp32, so an fp32 sum of them is
the arithmetic the accumulators do, up to summation order), or in fp32.

Placement and timing are a model of the kind Poplar's IPUModel offers (it
too runs on the CPU and estimates cycles and memory): each layer's weight
matrix is cut into a grid of blocks, one per tile, chosen to minimise the
layer's time within its share of every tile's 256 KiB; a layer takes one
superstep (local multiply-accumulate, sync, exchange of the inputs) plus,
when its rows are split, a reduction superstep. Peak rates are tiles x
clock x operations per cycle, which reproduces the measured 31.1 TFLOPS
(fp32) and 124.5 TFLOPS (mixed precision) of Jia et al. (2019).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nodes.errors import NodeInputError
from nodes.hardware.base import DeviceRun, HardwareBackend, HardwareNode, Progress, Scorer
from nodes.hardware.report import Assumption
from nodes.hardware.sources import cite
from nodes.models.network import DenseNetwork, apply_activation
from nodes.params import ChoiceParam, FloatParam, IntParam

# -- published and derived figures (see nodes.hardware.sources) -------------------
TILES = 1216
TILE_MEMORY_BYTES = 256 * 1024
CLOCK_HZ = 1.6e9                             # derived from the measured peaks (Jia et al.)
PEAK_FLOPS_MEASURED = {"fp32": 31.1e12, "mixed": 124.5e12}
#: Derived: measured peak / (tiles x clock) -> 16 and 64 flops per cycle per tile.
FLOPS_PER_CYCLE = {p: round(f / (TILES * CLOCK_HZ)) for p, f in PEAK_FLOPS_MEASURED.items()}
MEMORY_BANDWIDTH_BYTES_S = 45e12             # on-chip SRAM, theoretical (Jia et al.)
EXCHANGE_BANDWIDTH_BYTES_S = 8e12            # on-chip exchange (seed article)
PCIE_BYTES_S = 31.5e9                        # PCIe Gen4 x16 to the host
IPU_LINK_BYTES_S = 2.5e12 / 8                # 2.5 Tbps chip-to-chip
SYNC_CYCLES = 150                            # estimate: no published figure used
POWER_PER_CHIP_W = 150.0                     # estimate: half of the C2 card's 300 W
BYTES = {"fp16": 2, "fp32": 4}
MAX_CHIPS = 4096                             # IPU-POD scale; beyond it we stop trying


def peak_flops(precision: str, tiles: int = TILES) -> float:
    """Peak floating-point operations per second: tiles x clock x flops per cycle."""
    return tiles * CLOCK_HZ * FLOPS_PER_CYCLE[precision]


@dataclass
class GraphcoreSettings:
    """Numerics, placement and timing options (see the node's help)."""

    precision: str = "mixed"          # "mixed" (fp16 x fp16 -> fp32) or "fp32"
    efficiency: float = 0.5           # share of the peak arithmetic rate a matmul reaches
    reserved_kib_per_tile: float = 32.0   # code, vertex state, exchange buffers (estimate)
    when_too_big: str = "split"       # "split" over several chips, or "refuse"
    batch_size: int = 32
    max_batch: int = 256


class DoesNotFit(Exception):
    """The network does not fit the chips allowed (the message says why)."""


@dataclass
class LayerPlan:
    """How one layer sits on the tiles: a grid of ``row_blocks`` x ``column_blocks``."""

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
    def total_cycles(self) -> float:
        return float(sum(self.cycles.values()))


@dataclass
class Placement:
    """Every layer's plan, the chips used and the memory of each tile."""

    layers: list[LayerPlan]
    chips: int
    tile_bytes: np.ndarray
    usable_bytes_per_tile: float
    batch: int
    notes: list[str] = field(default_factory=list)

    @property
    def tiles_used(self) -> int:
        return int(np.count_nonzero(self.tile_bytes))


def plan_placement(shapes: list[tuple[int, int]], *, batch: int, settings: GraphcoreSettings,
                   names: list[str] | None = None) -> Placement:
    """Place layers of ``shapes`` (inputs, outputs) for ``batch`` rows on as few chips as fit.

    Layers are placed largest first; each takes the fastest grid of blocks
    whose per-tile memory (weight block, its slice of the inputs, fp32
    partial sums) fits the tiles with the most memory left. Raises
    DoesNotFit when ``when_too_big`` is ``refuse`` and one chip is not enough.
    """
    names = names or [f"dense_{i + 1}" for i in range(len(shapes))]
    weight_bytes, act_bytes = _byte_sizes(settings.precision)
    usable = TILE_MEMORY_BYTES - settings.reserved_kib_per_tile * 1024
    if usable <= 0:
        raise DoesNotFit("the reserved memory per tile leaves nothing for the network")
    smallest = weight_bytes + batch * (act_bytes + 4)   # one weight, its input, one sum
    if smallest > usable:
        raise DoesNotFit(f"even one weight with its inputs and partial sums for a batch of "
                         f"{batch} needs {smallest} bytes, more than the {usable:.0f} usable "
                         "bytes of a tile")
    # A lower bound: every weight once, every layer's inputs and partial sums once.
    total = float(sum(r * c * weight_bytes + batch * (r * act_bytes + c * 4)
                      for r, c in shapes))
    chips = max(1, math.ceil(total / (TILES * usable)))
    if settings.when_too_big == "refuse":
        reason = "its layers need more than the whole chip"
        if chips == 1:
            try:
                return _place(shapes, names, 1, batch, usable, settings)
            except DoesNotFit as error:
                reason = str(error)
        raise DoesNotFit(
            f"{reason}: the network needs at least {total / 2**20:.1f} MiB of tile memory for "
            f"a batch of {batch} ({settings.precision}); one GC2 offers "
            f"{TILES * usable / 2**20:.1f} MiB ({TILES} tiles x {usable / 1024:.0f} KiB usable)")
    # Double the chips until the network fits, then search back for the fewest.
    failed, placement = chips - 1, None
    while placement is None:
        try:
            placement = _place(shapes, names, chips, batch, usable, settings)
        except DoesNotFit as error:
            if chips >= MAX_CHIPS:
                raise DoesNotFit(f"{error} even on {MAX_CHIPS} chips") from None
            failed, chips = chips, min(2 * chips, MAX_CHIPS)
    while chips - failed > 1:
        middle = (failed + chips) // 2
        try:
            placement, chips = _place(shapes, names, middle, batch, usable, settings), middle
        except DoesNotFit:
            failed = middle
    return placement


def _byte_sizes(precision: str) -> tuple[int, int]:
    size = BYTES["fp16" if precision == "mixed" else "fp32"]
    return size, size


def _place(shapes: list[tuple[int, int]], names: list[str], chips: int, batch: int,
           usable: float, settings: GraphcoreSettings) -> Placement:
    tiles = TILES * chips
    tile_bytes = np.zeros(tiles)
    plans: dict[int, LayerPlan] = {}
    for index in sorted(range(len(shapes)), key=lambda i: -shapes[i][0] * shapes[i][1]):
        rows, columns = shapes[index]
        # The k-th entry: the memory left on the tile with the k-th most room.
        order = np.argsort(tile_bytes, kind="stable")
        room = usable - tile_bytes[order]
        plan = _plan_layer(names[index], rows, columns, batch, tiles, room, chips, settings)
        tile_bytes[order[:plan.tiles]] += plan.bytes_per_tile
        plans[index] = plan
    return Placement([plans[i] for i in range(len(shapes))], chips, tile_bytes, usable, batch)


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
    """Cycles of each superstep phase for candidate grids (vectorised over candidates)."""
    weight_bytes, act_bytes = _byte_sizes(settings.precision)
    macs_per_cycle = FLOPS_PER_CYCLE[settings.precision] / 2
    memory_bytes_per_cycle = MEMORY_BANDWIDTH_BYTES_S / (TILES * CLOCK_HZ)
    exchange_bytes_per_cycle = EXCHANGE_BANDWIDTH_BYTES_S / (TILES * CLOCK_HZ)
    # Superstep 1: multiply-accumulate a block; weights read once per batch.
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


class GraphcoreBackend(HardwareBackend):
    """The GC2 backend: numerics in fp16/fp32, tile placement and BSP timing."""

    name = "Graphcore GC2"

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
                                 fix="Set 'when_too_big' to split, lower 'batch_size', or use "
                                     "a smaller network.") from None

    def timing(self, network: DenseNetwork, placement: Placement) -> dict[str, float]:
        """Seconds per batch: host transfers plus every layer's supersteps."""
        batch = placement.batch
        act_bytes = _byte_sizes(self.settings.precision)[1]
        host_in = batch * network.n_inputs * act_bytes / PCIE_BYTES_S
        host_out = batch * network.n_outputs * 4 / PCIE_BYTES_S
        phases = {k: sum(p.cycles[k] for p in placement.layers) / CLOCK_HZ
                  for k in ("compute", "exchange", "reduce", "sync", "ipu_links")}
        device = sum(phases.values())
        return {"host_transfer_s": host_in + host_out, "device_s": device,
                **{f"{k}_s": v for k, v in phases.items()},
                "batch_s": host_in + host_out + device}

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
            try:
                plan = plan_placement([layer.shape for layer in network.layers], batch=batch,
                                      settings=s)
            except DoesNotFit:
                continue
            t = self.timing(network, plan)
            sweep.append({"batch_size": batch, "latency_s": t["batch_s"],
                          "throughput_samples_per_s": batch / t["batch_s"],
                          "chips": plan.chips, "tiles_used": plan.tiles_used})
        flops = 2.0 * network.macs_per_sample * s.batch_size
        power = POWER_PER_CHIP_W * placement.chips
        weight_bytes = _byte_sizes(s.precision)[0]
        metrics = {
            "latency_per_sample_s": single["batch_s"],
            "latency_per_batch_s": timing["batch_s"],
            "throughput_samples_per_s": s.batch_size / timing["batch_s"],
            "energy_per_inference_j": power * timing["batch_s"] / s.batch_size,
            "power_w": power,
            **{k: v for k, v in timing.items() if k != "batch_s"},
            "achieved_tflops": flops / timing["device_s"] / 1e12,
            "peak_tflops": peak_flops(s.precision, TILES * placement.chips) / 1e12,
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
            **{f"{k}_cycles": v for k, v in p.cycles.items()}} for p in placement.layers])
        histogram = pd.DataFrame({"tile": np.arange(len(tile_bytes)),
                                  "bytes": tile_bytes})
        return DeviceRun(
            outputs=outputs, metrics=metrics, resources=resources,
            assumptions=self.assumptions(),
            tables={"batch_sweep": pd.DataFrame(sweep), "layers": layers,
                    "tile_memory": histogram},
            plots=[{"table": "batch_sweep", "x": "batch_size",
                    "y": ["throughput_samples_per_s"], "log_x": True,
                    "title": "Throughput against batch size"},
                   {"table": "batch_sweep", "x": "batch_size", "y": ["latency_s"],
                    "log_x": True, "title": "Latency per batch"},
                   {"table": "tile_memory", "x": "tile", "y": ["bytes"], "log_x": False,
                    "title": "Memory per tile"}],
            not_modelled=[
                "Poplar's real matmul planner, code size and vertex state (a fixed reserve per "
                "tile stands for them).",
                "Overlap of host transfers with compute, and host-side latency.",
                "Power that varies with load (a constant power per chip is used).",
                "Stochastic rounding (the IPU offers it for fp16; rounding here is to nearest).",
                "The exact summation order of the accumulators.",
            ] + placement.notes,
            settings={"precision": s.precision, "efficiency": s.efficiency,
                      "reserved_kib_per_tile": s.reserved_kib_per_tile,
                      "when_too_big": s.when_too_big, "max_batch": s.max_batch})

    def assumptions(self) -> list[Assumption]:
        s = self.settings
        return [
            Assumption("Tiles", f"{TILES} tiles x 256 KiB SRAM (304 MiB)", cite("jia_2019")),
            Assumption("Peak fp32 / mixed precision", "31.1 / 124.5 TFLOPS", cite("jia_2019")),
            Assumption("Clock", "1.6 GHz", "derived from the measured peaks ("
                       + cite("jia_2019") + ")", "derived"),
            Assumption("Arithmetic per tile per cycle",
                       f"{FLOPS_PER_CYCLE['fp32']} flops fp32, {FLOPS_PER_CYCLE['mixed']} flops "
                       "mixed = peak / (1216 tiles x 1.6 GHz)", "derived", "derived"),
            Assumption("Matmul efficiency", f"{s.efficiency:g} of the peak arithmetic rate",
                       "node setting", "setting"),
            Assumption("On-chip memory bandwidth", "45 TB/s (theoretical)", cite("jia_2019")),
            Assumption("Exchange bandwidth", "8 TB/s on chip, i.e. ~4.1 bytes per tile per "
                       "cycle", cite("graphcore_seed"), "published"),
            Assumption("Sync", f"{SYNC_CYCLES} cycles per superstep",
                       "estimate (no published figure used)", "estimate"),
            Assumption("Host link", "PCIe Gen4 x16, 31.5 GB/s", cite("graphcore_seed")),
            Assumption("Chip-to-chip", "IPU-Links, 2.5 Tbps", cite("graphcore_seed")),
            Assumption("Reserved memory per tile", f"{s.reserved_kib_per_tile:g} KiB for code, "
                       "vertex state and exchange buffers", "estimate", "estimate"),
            Assumption("Power", f"{POWER_PER_CHIP_W:g} W per GC2 (half of the C2 card's 300 W)",
                       cite("graphcore_c2"), "estimate"),
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
    digital model, the largest output difference from fp32/fp64, latency,
    throughput, energy, tiles and memory per tile, and the assumptions.

    The numerics are real: with 'precision' mixed, weights and activations
    are fp16 and sums fp32; fp32 runs in fp32. Placement cuts each layer's
    weights into blocks over the 1,216 tiles of 256 KiB (less
    'reserved_kib_per_tile'); a network that does not fit one chip is split
    over several ('when_too_big' split) or refused. Timing is
    bulk-synchronous: per superstep compute at the measured peak times
    'efficiency', sync, and exchange at the on-chip bandwidth, plus PCIe
    transfers; the batch sweep shows latency and throughput for batch
    sizes 1 to 'max_batch'. Energy is an estimated 150 W per chip times time.
    """

    type_id = "run_on_graphcore"
    version = 1
    title = "Run on Graphcore GC2"

    precision = ChoiceParam("mixed", ["mixed", "fp32"],
                            help="mixed: fp16 weights/activations, fp32 sums; fp32: all fp32.")
    efficiency = FloatParam(0.5, minimum=0.0, maximum=1.0, exclusive_minimum=True,
                            help="Share of the peak arithmetic rate a layer reaches.")
    reserved_kib_per_tile = FloatParam(32.0, minimum=0.0, maximum=255.0,
                                       help="Tile memory kept for code and buffers (KiB).")
    when_too_big = ChoiceParam("split", ["split", "refuse"],
                               help="A network larger than one chip: split it over several "
                                    "chips, or refuse it.")
    max_batch = IntParam(256, minimum=1, maximum=65_536,
                         help="Largest batch size in the batch sweep table.")

    def make_backend(self) -> GraphcoreBackend:
        return GraphcoreBackend(GraphcoreSettings(
            precision=self.precision, efficiency=self.efficiency,
            reserved_kib_per_tile=self.reserved_kib_per_tile, when_too_big=self.when_too_big,
            batch_size=self.batch_size, max_batch=self.max_batch))
