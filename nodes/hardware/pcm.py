"""IBM phase-change memory (PCM): analog in-memory inference, aihwkit device model and defaults.

Each layer's weights are cut into crossbar tiles of at most ``tile_size``
square, in near-equal pieces as aihwkit's TileModuleArray cuts them. A tile
holds its weights as they are (aihwkit's default, ``weight_scaling_omega``
0) or scaled so their largest |w| is omega (the scale undone digitally).
Each weight is a pair of PCM devices (G+, G-), the tile's largest |w|
mapped to g_max = 25 uS, with programming noise, drift with a per-device
exponent and 1/f read noise, all as in aihwkit's ``PCMLikeNoiseModel``
(fitted on ~1 million devices). Inputs pass a DAC (normalised per vector by
max |x|, step 1/63); each tile's outputs get additive noise and an ADC
(bound 12, step 24/510) with aihwkit's iterative bound management (a
saturated vector is read again with its input halved, up to 16 times
smaller); partial sums, bias and activation are digital. Global drift
compensation reads the identity (one-hot vectors) through each tile right
after programming and at time t and scales its outputs by the ratio of the
mean |outputs|. Everything is vectorised over devices, tiles and samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from nodes.hardware.base import DeviceRun, HardwareBackend, HardwareNode, Progress, Scorer
from nodes.hardware.report import Assumption
from nodes.hardware.sources import CONSTANTS, cite, constant
from nodes.models.network import DenseNetwork, apply_activation
from nodes.params import BoolParam, ChoiceParam, FloatParam, IntParam

# -- aihwkit PCMLikeNoiseModel and inference tile defaults ------------------------
G_MAX_US = constant("pcm.g_max_us", 25.0, "uS", "aihwkit_pcm", "published",
                    "conductance the tile's largest |w| maps to (SinglePairConductanceConverter)")
PROGRAMMING_NOISE_COEFFICIENTS = tuple(
    constant(f"pcm.programming_noise_c{i}", c, "uS", "aihwkit_pcm", "published",
             "sigma_prog = c0 + c1 x + c2 x^2, x = g_T / g_max")
    for i, c in enumerate((0.26348, 1.9650, -1.1731)))
T0_S = constant("pcm.t0_s", 20.0, "s", "aihwkit_pcm", "published", "drift reference time")
T_READ_S = constant("pcm.t_read_s", 250e-9, "s", "aihwkit_pcm", "published",
                    "1/f read-noise integration time")
RELATIVE_CONDUCTANCE_FLOOR = constant("pcm.relative_conductance_floor", 1e-7, "", "aihwkit_pcm",
                                      "published", "x clipped at this before ln x")
DAC_STEP = constant("pcm.dac_step", 1.0 / 63.0, "of max |x|", "aihwkit_tile", "published",
                    "inp_res 1/(2^7 - 2) of the input range [-1, 1]")
ADC_BOUND = constant("pcm.adc_bound", 12.0, "", "aihwkit_tile", "published", "out_bound")
ADC_STEP = constant("pcm.adc_step", 24.0 / 510.0, "", "aihwkit_tile", "published",
                    "out_res 1/(2^9 - 2) of the output range [-12, 12]")
OUTPUT_NOISE = constant("pcm.output_noise", 0.06, "", "aihwkit_tile", "published", "out_noise")
BOUND_MANAGEMENT_LIMIT = constant(
    "pcm.bound_management_max_reduction", 16, "x", "aihwkit_tile", "published",
    "iterative bound management halves the input until the outputs fit, accepting the "
    "result once the reduction exceeds max_bm_res / inp_res = 0.25 x 63 (reductions 1..16)")
AIHWKIT_TILE_SIZE = constant("pcm.aihwkit_max_tile_size", 512, "rows/columns", "aihwkit_tile",
                             "published", "MappingParameter max_input_size / max_output_size")
# -- the 14 nm chip (Le Gallo et al. 2023) ---------------------------------------
CHIP_CORES = constant("pcm.chip_cores", 64, "cores", "le_gallo_2023", "paper", "cores per chip")
CHIP_CORE_SIZE = constant("pcm.chip_core_size", 256, "rows/columns", "le_gallo_2023", "paper",
                          "crossbar size of one core")
CHIP_MODES = {  # TOPS and TOPS/W of 8-bit MVMs on the whole chip
    mode: {"tops": constant(f"pcm.{mode}_tops", tops, "op/s", "le_gallo_2023", "paper",
                            f"8-bit MVM throughput, {mode.replace('_', '-')}"),
           "tops_per_w": constant(f"pcm.{mode}_tops_per_w", tpw, "op/J", "le_gallo_2023",
                                  "paper", f"8-bit MVM efficiency, {mode.replace('_', '-')}")}
    for mode, tops, tpw in (("one_phase", 63.1e12, 9.76e12), ("four_phase", 16.1e12, 2.48e12))
}

#: The times since programming a node may choose, in seconds.
TIMES = {"1 second": 1.0, "1 minute": 60.0, "1 hour": 3600.0, "1 day": 86_400.0,
         "1 week": 604_800.0, "1 month": 2_592_000.0, "1 year": 31_536_000.0,
         "10 years": 315_360_000.0}


def core_mvm_seconds(mode: str) -> float:
    """Derived: one 256x256 MVM (2 x 256^2 operations) at the chip's rate over 64 cores."""
    return CHIP_CORES * 2 * CHIP_CORE_SIZE ** 2 / CHIP_MODES[mode]["tops"]


def core_mvm_joules(mode: str) -> float:
    """Derived: 2 x 256^2 operations at the chip's TOPS/W."""
    return 2 * CHIP_CORE_SIZE ** 2 / CHIP_MODES[mode]["tops_per_w"]


constant("pcm.core_mvm_seconds_one_phase", core_mvm_seconds("one_phase"), "s", "", "derived",
         "64 cores x 2 x 256^2 operations / 63.1 TOPS")
constant("pcm.core_mvm_joules_one_phase", core_mvm_joules("one_phase"), "J", "", "derived",
         "2 x 256^2 operations / 9.76 TOPS/W")


@dataclass
class PCMSettings:
    """Device, periphery and timing options (see the node's help). The defaults are
    aihwkit's; ``PCMSettings.version_1()`` is this backend's behaviour before them."""

    time_s: float = 3600.0
    tile_size: int = 256
    programming_noise: bool = True
    drift: bool = True
    read_noise: bool = True
    output_noise: bool = True
    quantisation: bool = True
    drift_compensation: bool = True
    weight_scaling_omega: float = 0.0          # aihwkit default: no remapping
    compensation_readout: str = "one_hot"      # aihwkit: identity in, mean |out|
    bound_management: bool = True              # aihwkit: iterative
    mode: str = "one_phase"
    sweep_times: dict[str, float] = field(default_factory=lambda: dict(TIMES))
    batch_size: int = 32
    dac_step: float = DAC_STEP
    adc_step: float = ADC_STEP
    adc_bound: float = ADC_BOUND
    output_noise_std: float = OUTPUT_NOISE

    @classmethod
    def version_1(cls, **changes: Any) -> PCMSettings:
        """The mapping of this backend's version 1: each tile's weights scaled to
        max |w| = 1, an all-ones compensation read summing |outputs|, no bound management."""
        settings = {"weight_scaling_omega": 1.0, "compensation_readout": "all_ones",
                    "bound_management": False, **changes}
        return cls(**settings)


# -- devices ----------------------------------------------------------------------

def programming_sigma(g_target: np.ndarray) -> np.ndarray:
    """Programming noise std (uS): c0 + c1 x + c2 x^2 with x = g_T / g_max."""
    x = g_target / G_MAX_US
    c0, c1, c2 = PROGRAMMING_NOISE_COEFFICIENTS
    return c0 + c1 * x + c2 * x ** 2


def drift_parameters(g_target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of the drift exponent nu for target conductances ``g_target``."""
    x = np.maximum(np.abs(g_target / G_MAX_US), RELATIVE_CONDUCTANCE_FLOOR)
    mu = np.clip(-0.0155 * np.log(x) + 0.0244, 0.049, 0.1)
    sigma = np.clip(-0.0125 * np.log(x) - 0.0059, 0.008, 0.045)
    return mu, sigma


@dataclass
class ProgrammedDevices:
    """Target and programmed conductances (uS) and drift exponents of a set of devices."""

    target: np.ndarray
    programmed: np.ndarray
    nu: np.ndarray

    def conductance(self, t: float, rng: np.random.Generator | None, *, drift: bool = True,
                    read_noise: bool = True) -> np.ndarray:
        """Conductance read at ``t`` seconds after programming.

        Drift: g_prog ((t + t0) / t0)^(-nu). Read noise (1/f, accumulated since
        programming): + |g| Q_s sqrt(ln((t + t0 + t_read) / (2 t_read))) N(0, 1),
        Q_s = min(0.0088 / max((g_prog / g_max)^0.65, 1e-3), 0.2); clipped at 0.
        """
        g = self.programmed
        if drift and t > 0:
            g = g * ((t + T0_S) / T0_S) ** (-self.nu)
        if read_noise and rng is not None:
            q_s = np.minimum(0.0088 / np.maximum((self.programmed / G_MAX_US) ** 0.65, 1e-3),
                             0.2)
            elapsed = t + T0_S
            sigma = q_s * math.sqrt(math.log((elapsed + T_READ_S) / (2 * T_READ_S)))
            g = g + np.abs(g) * sigma * rng.standard_normal(g.shape)
        return np.maximum(g, 0.0)


def program(g_target: np.ndarray, rng: np.random.Generator, *, noise: bool = True
            ) -> ProgrammedDevices:
    """Program devices to ``g_target`` (uS): noisy conductances and per-device nu."""
    if noise:
        programmed = np.maximum(
            g_target + programming_sigma(g_target) * rng.standard_normal(g_target.shape), 0.0)
    else:
        programmed = g_target.copy()
    mu, sigma = drift_parameters(g_target)
    nu = np.abs(mu + sigma * rng.standard_normal(g_target.shape))
    return ProgrammedDevices(g_target, programmed, nu)


# -- crossbar tiles -----------------------------------------------------------------

def split_sizes(size: int, largest: int) -> list[int]:
    """Near-equal pieces of at most ``largest`` (aihwkit's TileModuleArray.get_split_sizes)."""
    if largest <= 0:
        return [size]
    pieces = (size + largest - 1) // largest
    base, extra = divmod(size, pieces)
    return [base + (i < extra) for i in range(pieces)]


def _padded_index(sizes: list[int]) -> tuple[np.ndarray, np.ndarray, int]:
    """For pieces of ``sizes``: each element's (piece, position), and the padded width."""
    width = max(sizes)
    piece = np.repeat(np.arange(len(sizes)), sizes)
    position = np.concatenate([np.arange(s) for s in sizes])
    return piece, position, width


def to_blocks(matrix: np.ndarray, row_sizes: list[int], column_sizes: list[int]) -> np.ndarray:
    """(rows, columns) -> (row_tiles, block_rows, column_tiles, block_columns), each piece
    zero padded to the largest."""
    r_piece, r_pos, width_rows = _padded_index(row_sizes)
    c_piece, c_pos, width_columns = _padded_index(column_sizes)
    out = np.zeros((len(row_sizes), width_rows, len(column_sizes), width_columns))
    out[r_piece[:, None], r_pos[:, None], c_piece[None, :], c_pos[None, :]] = matrix
    return out


@dataclass
class LayerArrays:
    """One layer on crossbar tiles.

    The (inputs, outputs) weight matrix is cut into ``row_sizes`` x
    ``column_sizes`` pieces, each zero-padded to (block_rows, block_columns)
    and stored as (row_tiles, block_rows, column_tiles, block_columns).
    ``weight_max``: max |w| of each tile's weights as trained; ``mapping_scale``:
    what the tile's outputs are multiplied by digitally (weight_max / omega,
    or 1 without remapping); ``tile_max``: the largest |w| the tile holds
    (mapped to g_max).
    """

    rows: int
    columns: int
    row_sizes: list[int]
    column_sizes: list[int]
    weight_max: np.ndarray
    mapping_scale: np.ndarray
    positive: ProgrammedDevices
    negative: ProgrammedDevices
    bias: np.ndarray
    activation: str

    @property
    def row_tiles(self) -> int:
        return len(self.row_sizes)

    @property
    def column_tiles(self) -> int:
        return len(self.column_sizes)

    @property
    def block_rows(self) -> int:
        return max(self.row_sizes)

    @property
    def block_columns(self) -> int:
        return max(self.column_sizes)

    @property
    def tiles(self) -> int:
        return self.row_tiles * self.column_tiles

    @property
    def tile_max(self) -> np.ndarray:
        return self.weight_max / self.mapping_scale

    def input_blocks(self, x: np.ndarray) -> np.ndarray:
        """(n, rows) -> (n, row_tiles, block_rows), zero padded."""
        piece, position, _ = _padded_index(self.row_sizes)
        out = np.zeros((len(x), self.row_tiles, self.block_rows))
        out[:, piece, position] = x
        return out

    def output_columns(self, out: np.ndarray) -> np.ndarray:
        """(n, column_tiles, block_columns) -> (n, columns)."""
        piece, position, _ = _padded_index(self.column_sizes)
        return out[:, piece, position]

    def row_mask(self) -> np.ndarray:
        """(row_tiles, block_rows): True where a tile row holds a weight (not padding)."""
        return _piece_mask(self.row_sizes)

    def column_mask(self) -> np.ndarray:
        """(column_tiles, block_columns): True where a tile column holds a weight."""
        return _piece_mask(self.column_sizes)


def _piece_mask(sizes: list[int]) -> np.ndarray:
    piece, position, width = _padded_index(sizes)
    mask = np.zeros((len(sizes), width), dtype=bool)
    mask[piece, position] = True
    return mask


def map_layer(weights: np.ndarray, bias: np.ndarray, activation: str, tile_size: int,
              rng: np.random.Generator, programming_noise: bool,
              omega: float = 0.0) -> LayerArrays:
    """Cut a layer into tiles and program each weight as a differential pair.

    With ``omega`` > 0 each tile's weights are scaled so that their largest
    |w| is omega (aihwkit's weight_scaling_omega); the devices then take the
    tile's largest |w| to g_max either way (SinglePairConductanceConverter).
    """
    rows, columns = weights.shape
    row_sizes, column_sizes = split_sizes(rows, tile_size), split_sizes(columns, tile_size)
    blocks = to_blocks(weights, row_sizes, column_sizes)
    weight_max = np.abs(blocks).max(axis=(1, 3))
    weight_max = np.where(weight_max > 0, weight_max, 1.0)
    mapping_scale = weight_max / omega if omega > 0 else np.ones_like(weight_max)
    normalised = blocks / weight_max[:, None, :, None]      # in [-1, 1]: x g_max = target
    g_positive = np.clip(normalised, 0.0, 1.0) * G_MAX_US
    g_negative = np.clip(-normalised, 0.0, 1.0) * G_MAX_US
    return LayerArrays(rows, columns, row_sizes, column_sizes, weight_max, mapping_scale,
                       program(g_positive, rng, noise=programming_noise),
                       program(g_negative, rng, noise=programming_noise), bias, activation)


@dataclass
class TileState:
    """Each tile's weights (in the units the tile holds) at one read time, and its
    drift compensation factor."""

    weights: np.ndarray       # (row_tiles, block_rows, column_tiles, block_columns)
    compensation: np.ndarray  # (row_tiles, column_tiles)


class PCMChip:
    """A network programmed onto PCM crossbars, read at any time after programming."""

    def __init__(self, network: DenseNetwork, settings: PCMSettings, seed: int) -> None:
        self.network = network
        self.settings = settings
        self.seed = seed
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
        self.layers = [map_layer(layer.weights, layer.bias, layer.activation,
                                 settings.tile_size, rng, settings.programming_noise,
                                 settings.weight_scaling_omega)
                       for layer in network.layers]
        self._baselines: list[np.ndarray] | None = None
        self.saturated = 0
        self.reads = 0
        self.reductions = 0

    def state(self, layer: LayerArrays, t: float, rng: np.random.Generator) -> np.ndarray:
        s = self.settings
        g_pos = layer.positive.conductance(t, rng, drift=s.drift, read_noise=s.read_noise)
        g_neg = layer.negative.conductance(t, rng, drift=s.drift, read_noise=s.read_noise)
        return (g_pos - g_neg) / G_MAX_US * layer.tile_max[:, None, :, None]

    def _reference(self, layer: LayerArrays, weights: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
        """Each tile's drift read-out: aihwkit's one-hot vectors and mean |output|, or
        version 1's all-ones vector and summed |output| (per (row_tile, column_tile))."""
        rows, columns = layer.row_mask(), layer.column_mask()
        if self.settings.compensation_readout == "one_hot":
            eye = np.eye(layer.block_rows)
            x = np.broadcast_to(eye[:, None, :], (layer.block_rows, layer.row_tiles,
                                                  layer.block_rows)) * rows[None, :, :]
            out, _ = self._tile_outputs(np.array(x), weights, rng)
            # Only real rows (inputs) and columns (outputs) of each tile are read.
            valid = rows.T[:, :, None, None] & columns[None, None, :, :]
            total = np.where(valid, np.abs(out), 0.0).sum(axis=(0, 3))
            count = valid.sum(axis=(0, 3))
            return total / np.maximum(count, 1)
        ones = rows[None, :, :].astype(float)
        out, _ = self._tile_outputs(ones, weights, rng)
        return np.where(columns[None, None], np.abs(out), 0.0).sum(axis=(0, 3))

    def read_at(self, t: float, *, compensate: bool | None = None) -> list[TileState]:
        """Every layer's tile weights read at ``t`` seconds, with compensation factors."""
        s = self.settings
        compensate = s.drift_compensation if compensate is None else compensate
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 1, int(round(t * 1e3))]))
        if compensate and self._baselines is None:
            base_rng = np.random.default_rng(np.random.SeedSequence([self.seed, 2]))
            self._baselines = [self._reference(layer, self.state(layer, 0.0, base_rng),
                                               base_rng) for layer in self.layers]
        # The chip's state at t does not depend on whether outputs are compensated.
        weights = [self.state(layer, t, rng) for layer in self.layers]
        reference_rng = np.random.default_rng(
            np.random.SeedSequence([self.seed, 4, int(round(t * 1e3))]))
        states = []
        for index, layer in enumerate(self.layers):
            factor = np.ones((layer.row_tiles, layer.column_tiles))
            if compensate:
                now = self._reference(layer, weights[index], reference_rng)
                factor = np.where(now > 0, self._baselines[index] / np.where(now > 0, now, 1),
                                  1.0)
            states.append(TileState(weights[index], factor))
        return states

    def _analog(self, x: np.ndarray, weights: np.ndarray, rng: np.random.Generator
                ) -> np.ndarray:
        """One analog MVM of normalised inputs (n, row_tiles, block_rows) on every tile:
        DAC, products, output noise, ADC step and bound -> (n, row_tiles, column_tiles,
        block_columns)."""
        s = self.settings
        if s.quantisation:
            x = np.round(np.clip(x, -1.0, 1.0) / s.dac_step) * s.dac_step
        out = np.einsum("nri,rico->nrco", x, weights, optimize=True)
        if s.output_noise:
            out = out + s.output_noise_std * rng.standard_normal(out.shape)
        if s.quantisation:
            out = np.round(out / s.adc_step) * s.adc_step
            out = np.clip(out, -s.adc_bound, s.adc_bound)
        return out

    def _tile_outputs(self, x: np.ndarray, weights: np.ndarray, rng: np.random.Generator
                      ) -> tuple[np.ndarray, np.ndarray]:
        """Tile outputs for inputs already normalised by max |x|, with aihwkit's iterative
        bound management: a tile whose outputs reach the ADC bound reads its input again
        halved (new noise), until it fits or the input is 16 times smaller. Returns the
        outputs (in the units of the unhalved input) and each vector's reduction."""
        s = self.settings
        out = self._analog(x, weights, rng)
        reduction = np.ones(out.shape[:3])
        self.reads += int(np.prod(out.shape[:3]))
        if not (s.quantisation and s.bound_management):
            self.saturated += int(np.count_nonzero((np.abs(out) >= s.adc_bound).any(axis=3)))
            return out, reduction
        factor = 1.0
        while factor < BOUND_MANAGEMENT_LIMIT:
            # Outputs of a re-read are already multiplied back by their reduction.
            failed = ((np.abs(out) >= s.adc_bound * reduction[..., None]).any(axis=3)
                      & (reduction == factor))
            if not failed.any():
                break
            factor *= 2
            n_idx, r_idx, c_idx = np.nonzero(failed)
            for r in np.unique(r_idx):
                for c in np.unique(c_idx[r_idx == r]):
                    pick = (r_idx == r) & (c_idx == c)
                    again = self._analog(x[n_idx[pick], r][:, None, :] / factor,
                                         weights[r:r + 1, :, c:c + 1, :], rng)
                    out[n_idx[pick], r, c] = again[:, 0, 0] * factor
            reduction[failed] = factor
        self.reductions += int(np.count_nonzero(reduction > 1))
        final = np.abs(out) >= s.adc_bound * reduction[..., None]
        self.saturated += int(np.count_nonzero(final.any(axis=3)))
        return out, reduction

    def forward(self, X: np.ndarray, t: float, *, compensate: bool | None = None
                ) -> tuple[np.ndarray, dict[str, float]]:
        """The network's outputs on rows ``X`` read ``t`` seconds after programming."""
        states = self.read_at(t, compensate=compensate)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 3, int(round(t * 1e3))]))
        values = np.asarray(X, dtype=float)
        self.saturated = self.reads = self.reductions = 0
        for layer, state in zip(self.layers, states, strict=True):
            x = layer.input_blocks(values)
            x_scale = np.abs(x).max(axis=2)                       # (n, row_tiles)
            x_scale = np.where(x_scale > 0, x_scale, 1.0)
            out, _ = self._tile_outputs(x / x_scale[:, :, None], state.weights, rng)
            # Undo the input normalisation and the weight remapping, compensate drift,
            # then add up the row tiles digitally.
            out = out * (x_scale[:, :, None, None] * layer.mapping_scale[None, :, :, None]
                         * state.compensation[None, :, :, None])
            total = layer.output_columns(out.sum(axis=1))
            values = apply_activation(total + layer.bias, layer.activation)
        reads = max(1, self.reads)
        return values, {"adc_saturated_fraction": self.saturated / reads,
                        "bound_management_fraction": self.reductions / reads}

    # -- resources ------------------------------------------------------------------
    def resources(self) -> dict[str, Any]:
        s = self.settings
        arrays = sum(layer.tiles for layer in self.layers)
        devices = sum(2 * layer.rows * layer.columns for layer in self.layers)
        return {"crossbar_tiles": arrays, "tile_size": s.tile_size,
                "devices": devices,
                "device_capacity": arrays * 2 * s.tile_size ** 2,
                "chips": math.ceil(arrays / CHIP_CORES) if s.tile_size <= CHIP_CORE_SIZE
                else math.ceil(arrays * (s.tile_size / CHIP_CORE_SIZE) ** 2 / CHIP_CORES)}


class PCMBackend(HardwareBackend):
    """The PCM backend: program once, read at a time after programming, sweep drift."""

    name = "IBM PCM"
    summary = ("aihwkit's PCM device model on crossbar tiles, DAC/ADC with bound management, "
               "drift and drift compensation; time and energy from the 14 nm chip")
    resources_shown = (("crossbar_tiles", "crossbar tile"), ("devices", "PCM device"))

    def __init__(self, settings: PCMSettings | None = None) -> None:
        self.settings = settings or PCMSettings()

    def run(self, network: DenseNetwork, X: np.ndarray, *, seed: int, scorer: Scorer,
            calibration: np.ndarray | None = None, progress: Progress | None = None,
            node: str = "Run on PCM") -> DeviceRun:
        s = self.settings
        chip = PCMChip(network, s, seed)
        outputs, extra = chip.forward(X, s.time_s)
        rows = []
        times = sorted(s.sweep_times.items(), key=lambda item: item[1])
        for step, (label, t) in enumerate(times):
            if progress is not None:
                progress(step / max(1, len(times)), f"drift sweep: {label}")
            row: dict[str, Any] = {"time_s": t, "time": label}
            for compensate, suffix in ((False, "uncompensated"), (True, "compensated")):
                scored = scorer.score(chip.forward(X, t, compensate=compensate)[0])
                row.update({f"{k}_{suffix}": v for k, v in scored.items()})
            rows.append(row)
        sweep = pd.DataFrame(rows)
        resources = chip.resources()
        layers = len(chip.layers)
        mvm_s = core_mvm_seconds(s.mode) * max(1.0, (s.tile_size / CHIP_CORE_SIZE) ** 2)
        latency = layers * mvm_s
        arrays = resources["crossbar_tiles"]
        energy = arrays * core_mvm_joules(s.mode) * (s.tile_size / CHIP_CORE_SIZE) ** 2
        metrics = {
            "time_since_programming_s": s.time_s,
            "latency_per_sample_s": latency,
            "latency_per_batch_s": latency + (s.batch_size - 1) * mvm_s,
            "throughput_samples_per_s": 1.0 / mvm_s,
            "energy_per_inference_j": energy,
            "power_w": energy / mvm_s,          # pipelined: one sample per core MVM
            **extra,
        }
        y_columns = [c for c in sweep.columns if c not in ("time_s", "time")]
        layer_table = pd.DataFrame([
            {"layer": layer.name, "inputs": a.rows, "outputs": a.columns,
             "row_tiles": a.row_tiles, "column_tiles": a.column_tiles, "tiles": a.tiles,
             "devices": 2 * a.rows * a.columns, "max_abs_weight_per_tile": float(
                 a.weight_max.max()), "largest_tile_weight": float(a.tile_max.max())}
            for layer, a in zip(network.layers, chip.layers, strict=True)])
        return DeviceRun(
            outputs=outputs, metrics=metrics, resources=resources,
            assumptions=self.assumptions(),
            tables={"drift_sweep": sweep, "layers": layer_table},
            plots=[{"table": "drift_sweep", "x": "time_s", "y": y_columns, "log_x": True,
                    "title": "Accuracy against time since programming"}] if rows else [],
            not_modelled=[
                "IR drop, wire resistance and device-to-device variation of g_max.",
                "Weight programming iterations (one noisy programming step per device).",
                "Temperature (drift and read noise as fitted at room temperature).",
                "Energy and time of the digital parts (bias, activation, partial sums) and of "
                "bound-management re-reads.",
                "Precision differences between one-phase and four-phase modes (only their "
                "speed and energy differ here).",
            ],
            settings={"time_s": s.time_s, "tile_size": s.tile_size,
                      "programming_noise": s.programming_noise, "drift": s.drift,
                      "read_noise": s.read_noise, "output_noise": s.output_noise,
                      "quantisation": s.quantisation,
                      "drift_compensation": s.drift_compensation,
                      "weight_scaling_omega": s.weight_scaling_omega,
                      "compensation_readout": s.compensation_readout,
                      "bound_management": s.bound_management, "mode": s.mode})

    def assumptions(self) -> list[Assumption]:
        s = self.settings
        c = CONSTANTS
        omega = s.weight_scaling_omega
        aihwkit_defaults = (omega == 0.0 and s.compensation_readout == "one_hot"
                            and s.bound_management)
        return [
            Assumption.of("Weight mapping", "one differential pair per weight; the tile's "
                          "largest |w| maps to g_max = 25 uS", c["pcm.g_max_us"]),
            Assumption("Weight scaling", "none: each tile holds the weights as trained "
                       "(aihwkit's default, weight_scaling_omega 0)" if omega == 0 else
                       f"each tile's weights scaled to max |w| = {omega:g}, undone digitally "
                       "(weight_scaling_omega)", cite("aihwkit_tile"),
                       "published" if omega == 0 else "setting"),
            Assumption.of("Programming noise", "sigma = 0.26348 + 1.9650 x - 1.1731 x^2 uS, "
                          "x = g_T / g_max; clipped at 0", c["pcm.programming_noise_c0"]),
            Assumption.of("Drift exponent", "nu = |N(mu, sigma)|, mu = clip(-0.0155 ln x + "
                          "0.0244, 0.049, 0.1), sigma = clip(-0.0125 ln x - 0.0059, 0.008, "
                          "0.045)", c["pcm.relative_conductance_floor"]),
            Assumption.of("Drift", "g(t) = g_prog ((t + t0) / t0)^(-nu), t0 = 20 s",
                          c["pcm.t0_s"]),
            Assumption.of("Read noise", "|g| Q_s sqrt(ln((t + t0 + t_read) / (2 t_read))) "
                          "N(0,1), Q_s = min(0.0088 / max(x^0.65, 1e-3), 0.2), t_read = 250 ns",
                          c["pcm.t_read_s"]),
            Assumption.of("DAC", "inputs / max|x| per vector, step 1/63", c["pcm.dac_step"]),
            Assumption.of("ADC", "bound 12, step 24/510; output noise 0.06 (in the units of "
                          "the tile's weights times normalised inputs)", c["pcm.adc_step"]),
            Assumption("Bound management", "iterative: a saturated tile output is read again "
                       "with its input halved, up to 16 times" if s.bound_management else
                       "none: saturated outputs are clipped", cite("aihwkit_tile"),
                       "published" if s.bound_management else "setting"),
            Assumption("Tile size", f"at most {s.tile_size} x {s.tile_size}, near-equal "
                       "pieces (the 14 nm chip's cores are 256, aihwkit's default is 512)",
                       cite("le_gallo_2023") if s.tile_size == CHIP_CORE_SIZE
                       else cite("aihwkit_tile") if s.tile_size == AIHWKIT_TILE_SIZE
                       else "node setting",
                       "paper" if s.tile_size == CHIP_CORE_SIZE else
                       "published" if s.tile_size == AIHWKIT_TILE_SIZE else "setting"),
            Assumption("Bias", "applied digitally", cite("aihwkit_tile"), "published"),
            Assumption("Drift compensation", "identity (one-hot vectors) read after programming "
                       "and at time t; outputs scaled by the ratio of the mean |outputs| per "
                       "tile" if s.compensation_readout == "one_hot" else
                       "all-ones vector read after programming and at time t; outputs scaled "
                       "by the ratio of the summed |outputs| per tile (this backend's "
                       "version 1)", cite("aihwkit_drift"),
                       "published" if s.compensation_readout == "one_hot" else "setting"),
            Assumption("aihwkit defaults", "all followed" if aihwkit_defaults else
                       "departed from by this node's settings", cite("aihwkit_tile"),
                       "published" if aihwkit_defaults else "setting"),
            Assumption.of("Chip rate", "63.1 TOPS, 9.76 TOPS/W one-phase; 16.1 TOPS, 2.48 "
                          "TOPS/W four-phase (8-bit MVM, 64 cores of 256x256)",
                          c["pcm.one_phase_tops"]),
            Assumption.of("MVM time per core", f"{core_mvm_seconds(s.mode) * 1e9:.0f} ns = 64 "
                          "x 2 x 256^2 / chip TOPS", c["pcm.core_mvm_seconds_one_phase"]),
            Assumption.of("Energy per core MVM", f"{core_mvm_joules(s.mode) * 1e9:.1f} nJ = "
                          "2 x 256^2 / chip TOPS/W, counted for every tile used",
                          c["pcm.core_mvm_joules_one_phase"]),
            Assumption("Pipelining", "layers run one after another per sample; successive "
                       "samples are pipelined, one per core MVM", "this model",
                       "modelling choice"),
            Assumption("Retention", "~10 years at room temperature; programmed in a few ns",
                       cite("aihwkit_docs"), "published"),
            Assumption("Accuracy anchor", "ResNet-32 on CIFAR-10: 93.7% after mapping, above "
                       "93.5% over one day with drift compensation, after hardware-aware "
                       "training (Hardware-Aware Neural Network offers it)",
                       cite("joshi_2020"), "paper"),
        ]


class RunOnPCM(HardwareNode):
    """Run a trained network on simulated IBM phase-change-memory crossbars.

    Input 'model': a trained network of dense layers (Neural Network,
    Hardware-Aware Neural Network, or a Keras Dense network); input 'data':
    the rows to score (the model's feature columns; with the label column,
    accuracy is reported). Output 'scored': 'data' with Score Model's
    columns ('Scored Labels', 'Scored Probabilities...'); output 'report':
    accuracy and agreement with the digital model at
    'time_since_programming', the drift sweep (accuracy at times from 1
    second to 10 years, with and without drift compensation), latency and
    energy from the 14 nm chip's figures, crossbar tiles and devices, and
    every assumption.

    The defaults are IBM aihwkit's: the device model is PCMLikeNoiseModel
    (each weight a pair of devices up to 25 uS, 'programming_noise',
    'drift' ((t + 20 s) / 20 s)^-nu with a random nu per device, 1/f
    'read_noise'); tiles hold the weights as trained
    ('weight_scaling_omega' 0; a value > 0 scales each tile's largest |w|
    to it, undoing it digitally); inputs pass a DAC and outputs get
    'output_noise' and an ADC ('quantisation') with iterative
    'bound_management'; 'drift_compensation' rescales each tile's outputs
    by a read of one-hot vectors ('compensation_readout' one_hot; all_ones
    is this node's version 1). Layers are cut into near-equal tiles of at
    most 'tile_size' (256 on the 14 nm chip, 512 in aihwkit). 'mode' picks
    the chip's one-phase or four-phase figures for time and energy. With
    every noise source and quantisation off, the result equals the digital
    model's. Files saved by version 1 keep version 1's mapping
    (weight_scaling_omega 1, all_ones, no bound management).
    """

    type_id = "run_on_pcm"
    version = 2
    title = "Run on PCM"

    time_since_programming = ChoiceParam("1 hour", list(TIMES),
                                         help="When the chip is read after its weights were "
                                              "programmed.")
    tile_size = IntParam(256, minimum=8, maximum=4096,
                         help="Most rows and columns of one crossbar tile.")
    programming_noise = BoolParam(True, help="Programmed conductances miss their targets.")
    drift = BoolParam(True, help="Conductances decay with time since programming.")
    read_noise = BoolParam(True, help="1/f noise on every conductance read.")
    output_noise = BoolParam(True, help="Additive noise on every tile output (0.06).")
    quantisation = BoolParam(True, help="DAC (step 1/63) and ADC (bound 12, step 24/510).")
    drift_compensation = BoolParam(True, help="Rescale tile outputs by a reference read "
                                              "(global drift compensation).")
    weight_scaling_omega = FloatParam(0.0, minimum=0.0, maximum=100.0,
                                      help="0: tiles hold the weights as trained (aihwkit's "
                                           "default); > 0: each tile's largest |w| is scaled "
                                           "to this and the scale undone digitally.")
    compensation_readout = ChoiceParam("one_hot", ["one_hot", "all_ones"],
                                       help="one_hot: aihwkit's identity read, mean |out|; "
                                            "all_ones: version 1's all-ones read, summed |out|.")
    bound_management = BoolParam(True, help="Re-read saturated tile outputs with the input "
                                            "halved (aihwkit's iterative bound management).")
    mode = ChoiceParam("one_phase", list(CHIP_MODES),
                       help="The chip's one-phase or four-phase MVM, for time and energy.")
    drift_sweep = BoolParam(True, help="Also read the chip from 1 second to 10 years after "
                                       "programming (the drift sweep table).")

    @classmethod
    def migrate_params(cls, params: dict[str, Any], from_version: int) -> dict[str, Any]:
        if from_version < 2:
            # Version 1 mapped weights its own way; a file saved then keeps its results.
            params = {"weight_scaling_omega": 1.0, "compensation_readout": "all_ones",
                      "bound_management": False, **params}
        return params

    def make_backend(self) -> PCMBackend:
        return PCMBackend(PCMSettings(
            time_s=TIMES[self.time_since_programming], tile_size=self.tile_size,
            programming_noise=self.programming_noise, drift=self.drift,
            read_noise=self.read_noise, output_noise=self.output_noise,
            quantisation=self.quantisation, drift_compensation=self.drift_compensation,
            weight_scaling_omega=self.weight_scaling_omega,
            compensation_readout=self.compensation_readout,
            bound_management=self.bound_management,
            mode=self.mode, sweep_times=dict(TIMES) if self.drift_sweep else {},
            batch_size=self.batch_size))
