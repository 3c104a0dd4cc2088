"""IBM phase-change memory (PCM): analog in-memory inference with aihwkit's device model.

Each layer's weights are cut into crossbar tiles of at most ``tile_size``
square; each weight is a differential pair of PCM devices (G+, G-) scaled
per tile so that the largest |w| maps to g_max = 25 uS. Devices suffer
programming noise, drift with a per-device exponent and 1/f read noise,
all as in aihwkit's ``PCMLikeNoiseModel`` (fitted on ~1 million devices).
Inputs pass a DAC (normalised per vector by max |x|, step 1/63), each
tile's outputs get additive noise and an ADC (bound 12, step 24/510); the
tiles' partial sums, the bias and the activation are digital. Global drift
compensation reads a known input right after programming and at time t
and scales each tile's outputs by the ratio. Everything is vectorised over
devices, tiles and samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from nodes.hardware.base import DeviceRun, HardwareBackend, HardwareNode, Progress, Scorer
from nodes.hardware.report import Assumption
from nodes.hardware.sources import cite
from nodes.models.network import DenseNetwork, apply_activation
from nodes.params import BoolParam, ChoiceParam, IntParam

# -- aihwkit PCMLikeNoiseModel and inference tile defaults ------------------------
G_MAX_US = 25.0
PROGRAMMING_NOISE_COEFFICIENTS = (0.26348, 1.9650, -1.1731)   # uS, in x = g_T / g_max
T0_S = 20.0
T_READ_S = 250e-9
RELATIVE_CONDUCTANCE_FLOOR = 1e-7
DAC_STEP = 1.0 / 63.0
ADC_BOUND = 12.0
ADC_STEP = 24.0 / 510.0
OUTPUT_NOISE = 0.06
# -- the 14 nm chip (Le Gallo et al. 2023) ---------------------------------------
CHIP_CORES = 64
CHIP_CORE_SIZE = 256
CHIP_MODES = {  # TOPS and TOPS/W of 8-bit MVMs on the whole chip
    "one_phase": {"tops": 63.1e12, "tops_per_w": 9.76e12},
    "four_phase": {"tops": 16.1e12, "tops_per_w": 2.48e12},
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


@dataclass
class PCMSettings:
    """Device, periphery and timing options (see the node's help)."""

    time_s: float = 3600.0
    tile_size: int = 256
    programming_noise: bool = True
    drift: bool = True
    read_noise: bool = True
    output_noise: bool = True
    quantisation: bool = True
    drift_compensation: bool = True
    mode: str = "one_phase"
    sweep_times: dict[str, float] = field(default_factory=lambda: dict(TIMES))
    batch_size: int = 32
    dac_step: float = DAC_STEP
    adc_step: float = ADC_STEP
    adc_bound: float = ADC_BOUND
    output_noise_std: float = OUTPUT_NOISE


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

@dataclass
class LayerArrays:
    """One layer on crossbar tiles.

    The (inputs, outputs) weight matrix is padded to ``row_tiles x
    block_rows`` by ``column_tiles x block_columns`` and viewed as
    (row_tiles, block_rows, column_tiles, block_columns); ``scale`` holds
    max |w| per tile, ``positive``/``negative`` the two devices of each pair.
    """

    rows: int
    columns: int
    row_tiles: int
    column_tiles: int
    block_rows: int
    block_columns: int
    scale: np.ndarray
    positive: ProgrammedDevices
    negative: ProgrammedDevices
    bias: np.ndarray
    activation: str

    @property
    def tiles(self) -> int:
        return self.row_tiles * self.column_tiles


def map_layer(weights: np.ndarray, bias: np.ndarray, activation: str, tile_size: int,
              rng: np.random.Generator, programming_noise: bool) -> LayerArrays:
    """Cut a layer into tiles and program each weight as a differential pair."""
    rows, columns = weights.shape
    row_tiles, column_tiles = math.ceil(rows / tile_size), math.ceil(columns / tile_size)
    block_rows, block_columns = math.ceil(rows / row_tiles), math.ceil(columns / column_tiles)
    padded = np.zeros((row_tiles * block_rows, column_tiles * block_columns))
    padded[:rows, :columns] = weights
    blocks = padded.reshape(row_tiles, block_rows, column_tiles, block_columns)
    scale = np.abs(blocks).max(axis=(1, 3))
    scale = np.where(scale > 0, scale, 1.0)
    normalised = blocks / scale[:, None, :, None]
    g_positive = np.clip(normalised, 0.0, 1.0) * G_MAX_US
    g_negative = np.clip(-normalised, 0.0, 1.0) * G_MAX_US
    return LayerArrays(rows, columns, row_tiles, column_tiles, block_rows, block_columns,
                       scale, program(g_positive, rng, noise=programming_noise),
                       program(g_negative, rng, noise=programming_noise), bias, activation)


@dataclass
class TileState:
    """Each tile's normalised weights at one read time, and its compensation factor."""

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
                                 settings.tile_size, rng, settings.programming_noise)
                       for layer in network.layers]
        self._baselines: list[np.ndarray] | None = None

    def state(self, layer: LayerArrays, t: float, rng: np.random.Generator) -> np.ndarray:
        s = self.settings
        g_pos = layer.positive.conductance(t, rng, drift=s.drift, read_noise=s.read_noise)
        g_neg = layer.negative.conductance(t, rng, drift=s.drift, read_noise=s.read_noise)
        return (g_pos - g_neg) / G_MAX_US

    def _reference(self, layer: LayerArrays, weights: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
        # Global drift compensation: read all-ones through each tile, sum |outputs|.
        ones = np.ones((1, layer.row_tiles, layer.block_rows))
        out = self._tile_outputs(ones, weights, rng)
        return np.abs(out).sum(axis=(0, 3))   # (row_tiles, column_tiles)

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

    def _tile_outputs(self, x: np.ndarray, weights: np.ndarray,
                      rng: np.random.Generator) -> np.ndarray:
        """Analog MVM of normalised inputs (n, row_tiles, block_rows) on every tile:
        output noise, ADC bound and step; returns (n, row_tiles, column_tiles, block_columns)."""
        s = self.settings
        out = np.einsum("nri,rico->nrco", x, weights, optimize=True)
        if s.output_noise:
            out = out + s.output_noise_std * rng.standard_normal(out.shape)
        if s.quantisation:
            out = np.clip(out, -s.adc_bound, s.adc_bound)
            out = np.round(out / s.adc_step) * s.adc_step
        return out

    def forward(self, X: np.ndarray, t: float, *, compensate: bool | None = None
                ) -> tuple[np.ndarray, dict[str, float]]:
        """The network's outputs on rows ``X`` read ``t`` seconds after programming."""
        s = self.settings
        states = self.read_at(t, compensate=compensate)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 3, int(round(t * 1e3))]))
        values = np.asarray(X, dtype=float)
        saturated = 0
        outputs = 0
        for layer, state in zip(self.layers, states, strict=True):
            n = len(values)
            padded = np.zeros((n, layer.row_tiles * layer.block_rows))
            padded[:, :layer.rows] = values
            x = padded.reshape(n, layer.row_tiles, layer.block_rows)
            x_scale = np.abs(x).max(axis=2)                       # (n, row_tiles)
            x_scale = np.where(x_scale > 0, x_scale, 1.0)
            x = x / x_scale[:, :, None]
            if s.quantisation:
                x = np.round(x / s.dac_step) * s.dac_step
            raw = np.einsum("nri,rico->nrco", x, state.weights, optimize=True)
            saturated += int(np.count_nonzero(np.abs(raw) > s.adc_bound))
            outputs += raw.size
            out = self._tile_outputs(x, state.weights, rng)
            # Undo the input and weight normalisation, compensate, sum the row tiles.
            out = out * (x_scale[:, :, None, None] * layer.scale[None, :, :, None]
                         * state.compensation[None, :, :, None])
            total = out.sum(axis=1).reshape(n, -1)[:, :layer.columns]
            values = apply_activation(total + layer.bias, layer.activation)
        return values, {"adc_saturated_fraction": saturated / max(1, outputs)}

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
            **extra,
        }
        y_columns = [c for c in sweep.columns if c not in ("time_s", "time")]
        layer_table = pd.DataFrame([
            {"layer": layer.name, "inputs": a.rows, "outputs": a.columns,
             "row_tiles": a.row_tiles, "column_tiles": a.column_tiles, "tiles": a.tiles,
             "devices": 2 * a.rows * a.columns, "max_abs_weight_per_tile": float(a.scale.max())}
            for layer, a in zip(network.layers, chip.layers, strict=True)])
        return DeviceRun(
            outputs=outputs, metrics=metrics, resources=resources,
            assumptions=self.assumptions(),
            tables={"drift_sweep": sweep, "layers": layer_table},
            plots=[{"table": "drift_sweep", "x": "time_s", "y": y_columns, "log_x": True,
                    "title": "Accuracy against time since programming"}] if rows else [],
            not_modelled=[
                "Bound management (inputs re-scaled when an ADC saturates): saturated "
                "outputs are clipped; 'adc_saturated_fraction' says how often.",
                "IR drop, wire resistance and device-to-device variation of g_max.",
                "Weight programming iterations (one noisy programming step per device).",
                "Temperature (drift and read noise as fitted at room temperature).",
                "Energy and time of the digital parts (bias, activation, partial sums).",
                "Precision differences between one-phase and four-phase modes (only their "
                "speed and energy differ here).",
            ],
            settings={"time_s": s.time_s, "tile_size": s.tile_size,
                      "programming_noise": s.programming_noise, "drift": s.drift,
                      "read_noise": s.read_noise, "output_noise": s.output_noise,
                      "quantisation": s.quantisation,
                      "drift_compensation": s.drift_compensation, "mode": s.mode})

    def assumptions(self) -> list[Assumption]:
        s = self.settings
        aihwkit = cite("aihwkit_pcm")
        tile = cite("aihwkit_tile")
        chip = cite("le_gallo_2023")
        return [
            Assumption("Weight mapping", "one differential pair per weight, per tile "
                       "scale = g_max / max|W|, g_max = 25 uS", aihwkit),
            Assumption("Programming noise", "sigma = 0.26348 + 1.9650 x - 1.1731 x^2 uS, "
                       "x = g_T / g_max; clipped at 0", aihwkit),
            Assumption("Drift exponent", "nu = |N(mu, sigma)|, mu = clip(-0.0155 ln x + "
                       "0.0244, 0.049, 0.1), sigma = clip(-0.0125 ln x - 0.0059, 0.008, 0.045)",
                       aihwkit),
            Assumption("Drift", "g(t) = g_prog ((t + t0) / t0)^(-nu), t0 = 20 s", aihwkit),
            Assumption("Read noise", "|g| Q_s sqrt(ln((t + t0 + t_read) / (2 t_read))) N(0,1), "
                       "Q_s = min(0.0088 / max(x^0.65, 1e-3), 0.2), t_read = 250 ns", aihwkit),
            Assumption("DAC", "inputs / max|x| per vector, step 1/63", tile),
            Assumption("ADC", "bound 12, step 24/510; output noise 0.06 (normalised units)",
                       tile),
            Assumption("Tile size", f"{s.tile_size} x {s.tile_size}",
                       chip + " (aihwkit's default is 512)",
                       "published" if s.tile_size in (256, 512) else "setting"),
            Assumption("Bias", "applied digitally", tile),
            Assumption("Drift compensation", "all-ones input read after programming and at "
                       "time t; outputs scaled by the ratio of summed |outputs| per tile",
                       aihwkit, "modelling choice"),
            Assumption("Chip rate", "63.1 TOPS, 9.76 TOPS/W one-phase; 16.1 TOPS, 2.48 TOPS/W "
                       "four-phase (8-bit MVM, 64 cores of 256x256)", chip),
            Assumption("MVM time per core", f"{core_mvm_seconds(s.mode) * 1e9:.0f} ns = 64 x "
                       "2 x 256^2 / chip TOPS", "derived from " + chip, "derived"),
            Assumption("Energy per core MVM", f"{core_mvm_joules(s.mode) * 1e9:.1f} nJ = "
                       "2 x 256^2 / chip TOPS/W, counted for every tile used", "derived from "
                       + chip, "derived"),
            Assumption("Pipelining", "layers run one after another per sample; successive "
                       "samples are pipelined, one per core MVM", "this model",
                       "modelling choice"),
            Assumption("Retention", "~10 years at room temperature; programmed in a few ns",
                       cite("aihwkit_docs")),
            Assumption("Accuracy anchor", "ResNet-32 on CIFAR-10: 93.7% after mapping, above "
                       "93.5% over one day with drift compensation", cite("joshi_2020")),
        ]


class RunOnPCM(HardwareNode):
    """Run a trained network on simulated IBM phase-change-memory crossbars.

    Input 'model': a trained network of dense layers (Neural Network, or a
    Keras Dense network); input 'data': the rows to score (the model's
    feature columns; with the label column, accuracy is reported). Output
    'scored': 'data' with Score Model's columns ('Scored Labels', 'Scored
    Probabilities...'); output 'report': accuracy and agreement with the
    digital model at 'time_since_programming', the drift sweep (accuracy
    at times from 1 second to 10 years, with and without drift
    compensation), latency and energy from the 14 nm chip's figures,
    crossbar tiles and devices, and every assumption.

    The device model is aihwkit's PCMLikeNoiseModel: each weight is a pair
    of devices (G+, G-) up to 25 uS, with 'programming_noise', 'drift'
    ((t + 20 s) / 20 s)^-nu with a random nu per device, and 1/f
    'read_noise'; inputs pass a DAC and outputs get 'output_noise' and an
    ADC ('quantisation'). Layers are cut into tiles of 'tile_size' (256 on
    the 14 nm chip, 512 in aihwkit). 'drift_compensation' rescales each
    tile's outputs by a reference read. 'mode' picks the chip's one-phase
    or four-phase figures for time and energy. With every noise source
    and quantisation off, the result equals the digital model's.
    """

    type_id = "run_on_pcm"
    version = 1
    title = "Run on PCM"

    time_since_programming = ChoiceParam("1 hour", list(TIMES),
                                         help="When the chip is read after its weights were "
                                              "programmed.")
    tile_size = IntParam(256, minimum=8, maximum=4096,
                         help="Rows and columns of one crossbar tile.")
    programming_noise = BoolParam(True, help="Programmed conductances miss their targets.")
    drift = BoolParam(True, help="Conductances decay with time since programming.")
    read_noise = BoolParam(True, help="1/f noise on every conductance read.")
    output_noise = BoolParam(True, help="Additive noise on every tile output (0.06).")
    quantisation = BoolParam(True, help="DAC (step 1/63) and ADC (bound 12, step 24/510).")
    drift_compensation = BoolParam(True, help="Rescale tile outputs by a reference read "
                                              "(global drift compensation).")
    mode = ChoiceParam("one_phase", list(CHIP_MODES),
                       help="The chip's one-phase or four-phase MVM, for time and energy.")
    drift_sweep = BoolParam(True, help="Also read the chip from 1 second to 10 years after "
                                       "programming (the drift sweep table).")

    def make_backend(self) -> PCMBackend:
        return PCMBackend(PCMSettings(
            time_s=TIMES[self.time_since_programming], tile_size=self.tile_size,
            programming_noise=self.programming_noise, drift=self.drift,
            read_noise=self.read_noise, output_noise=self.output_noise,
            quantisation=self.quantisation, drift_compensation=self.drift_compensation,
            mode=self.mode, sweep_times=dict(TIMES) if self.drift_sweep else {},
            batch_size=self.batch_size))
