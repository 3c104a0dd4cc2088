"""SpiNNaker: a trained ReLU network converted to a spiking network and simulated.

Conversion follows Rueckauer et al. (2017): weights and biases are
normalised layer by layer by a high percentile of the ANN's activations
(99.9 by default; the maximum as in Diehl et al. 2015 is an option), biases
become constant input currents, neurons integrate and fire with threshold 1
and reset by subtraction, and inputs arrive as Poisson spike trains (or as a
constant current). The simulation is clock-driven at sPyNNaker's 1 ms
timestep, vectorised over samples and neurons (one loop over timesteps).
The mapping onto the machine (neurons per core, cores per chip, chips per
board), the packets counted from the simulated spikes and the energy model
use the figures in :data:`nodes.hardware.sources.SOURCES`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from nodes.context import RunContext
from nodes.errors import NodeInputError
from nodes.hardware.base import DeviceRun, HardwareBackend, HardwareNode, Progress, Scorer
from nodes.hardware.report import Assumption
from nodes.hardware.sources import cite
from nodes.models.network import DenseNetwork, apply_activation
from nodes.params import ChoiceParam, FloatParam, IntParam, ListParam
from nodes.ports import TABLE, Input
from nodes.values import Table

# -- published figures (see nodes.hardware.sources) -----------------------------
TIMESTEP_S = 1e-3                 # sPyNNaker default timestep, real time
NEURONS_PER_CORE = 256            # sPyNNaker default maximum atoms per core
APPLICATION_CORES_PER_CHIP = 17   # 18 ARM968 cores, one runs the monitor (SCAMP)
CORES_PER_CHIP = 18
CHIPS_PER_BOARD = 48              # SpiNN-5 board
MACHINE_CORES = 1_036_800         # the million-core machine
SDRAM_PER_CHIP_BYTES = 128 * 2**20
CHIP_IDLE_POWER_W = 0.36          # front-end energy model
CHIP_FULL_LOAD_POWER_W = 1.0      # ~1 W per chip at full load
PACKET_ENERGY_J = 0.8e-9          # per multicast packet (front-end energy model)
SYNAPSE_WORD_BYTES = 4            # one 32-bit synaptic word per synapse (16-bit weight)
#: Derived: the full-load minus idle power shared evenly by the chip's cores.
CORE_ACTIVE_POWER_W = (CHIP_FULL_LOAD_POWER_W - CHIP_IDLE_POWER_W) / CORES_PER_CHIP

# PyNN IF_curr_exp defaults (mV, ms, nF)
IF_CURR_EXP = {"v_rest": -65.0, "cm": 1.0, "tau_m": 20.0, "tau_refrac": 0.1, "tau_syn_E": 5.0,
               "tau_syn_I": 5.0, "v_reset": -65.0, "v_thresh": -50.0}


@dataclass
class SpiNNakerSettings:
    """How the network is converted and simulated (see the node's help)."""

    timesteps: int = 100
    neuron_model: str = "if"            # "if" (Rueckauer) or "lif" (PyNN IF_curr_exp)
    input_encoding: str = "poisson"     # "poisson" or "current"
    max_input_rate_hz: float = 1000.0
    normalisation: str = "percentile"   # "percentile" (Rueckauer) or "max" (Diehl)
    percentile: float = 99.9
    readout: str = "spike_count"        # "spike_count" or "membrane"
    weight_bits: int = 16
    neurons_per_core: int = NEURONS_PER_CORE
    sweep_timesteps: list[int] = field(default_factory=lambda: [5, 10, 20, 50, 100, 200])
    batch_size: int = 32


@dataclass
class SpikingNetwork:
    """A converted network: normalised, quantised weights and bias currents per layer.

    ``scales`` are the normalisation factors lambda_0 (inputs) .. lambda_L;
    ``weights[l]`` is W_l * lambda_{l-1} / lambda_l quantised to the machine's
    fixed point, ``biases[l]`` is b_l / lambda_l; ``readout`` is what the
    output layer does (``spike_count``: it spikes; ``membrane``: it integrates).
    """

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    scales: list[float]
    readout: str
    output_activation: str
    spike_probability: float
    weight_steps: list[float]


@dataclass
class Simulation:
    """Spike counts and readouts of a simulated run.

    ``counts[l]``: spikes per sample and neuron of population l (0 = inputs)
    up to ``timesteps``; ``readouts``: the decoded outputs at each checkpoint.
    """

    counts: list[np.ndarray]
    readouts: dict[int, np.ndarray]
    timesteps: int
    saturated: float


def convert(network: DenseNetwork, calibration: np.ndarray,
            settings: SpiNNakerSettings) -> SpikingNetwork:
    """ANN-to-SNN conversion with activation-based normalisation (Rueckauer et al. 2017)."""
    quantile = 100.0 if settings.normalisation == "max" else settings.percentile
    activations = network.activations(calibration)
    scales = [_positive_percentile(np.abs(calibration), quantile)]
    readout = _effective_readout(network, settings)
    for index, layer in enumerate(network.layers):
        last = index == len(network.layers) - 1
        if last:
            # The output layer's pre-activations: spike counts follow relu(z).
            previous = activations[index - 1] if index else calibration
            values = previous @ layer.weights + layer.bias
        else:
            values = activations[index]
        scales.append(_positive_percentile(values, quantile))
    weights, biases, steps = [], [], []
    for index, layer in enumerate(network.layers):
        normalised = layer.weights * scales[index] / scales[index + 1]
        quantised, step = quantise_weights(normalised, settings.weight_bits)
        weights.append(quantised)
        steps.append(step)
        biases.append(layer.bias / scales[index + 1])
    probability = min(settings.max_input_rate_hz * TIMESTEP_S, 1.0)
    return SpikingNetwork(weights, biases, scales, readout, network.layers[-1].activation,
                          probability, steps)


def _positive_percentile(values: np.ndarray, quantile: float) -> float:
    positive = values[values > 0]
    if positive.size == 0:
        return 1.0
    return float(np.percentile(positive, quantile))


def _effective_readout(network: DenseNetwork, settings: SpiNNakerSettings) -> str:
    # Spike counts can rank classes only when there is one output neuron per class.
    if (settings.readout == "spike_count" and network.task == "classification"
            and network.n_outputs >= 2):
        return "spike_count"
    return "membrane"


def quantise_weights(weights: np.ndarray, bits: int) -> tuple[np.ndarray, float]:
    """Weights as the machine holds them: ``bits``-bit magnitudes (the sign is the
    synapse type, excitatory or inhibitory) on a power-of-two scale covering the
    largest weight. Returns the quantised weights and the step."""
    largest = float(np.max(np.abs(weights))) if weights.size else 0.0
    if largest == 0.0:
        return weights.copy(), 0.0
    step = 2.0 ** math.ceil(math.log2(largest)) / (2 ** bits - 1)
    return np.round(weights / step) * step, step


def simulate(spiking: SpikingNetwork, X: np.ndarray, *, timesteps: int,
             checkpoints: list[int], rng: np.random.Generator,
             settings: SpiNNakerSettings, progress: Progress | None = None) -> Simulation:
    """Run the spiking network on rows ``X`` for ``timesteps`` 1 ms steps.

    Integrate-and-fire (``if``): v += I; a neuron with v >= 1 spikes and v -= 1
    (one spike per step at most). Leaky (``lif``, PyNN IF_curr_exp in units
    where threshold - rest = 1): synaptic current decays with tau_syn, the
    membrane with tau_m, a spike resets v to v_reset (= rest). Poisson input:
    an input with normalised value x spikes with probability p|x| per step,
    p = max rate x 1 ms, through excitatory (x > 0) or inhibitory (x < 0)
    synapses. Biases are constant currents p * b / lambda.
    """
    p = spiking.spike_probability
    inputs = np.clip(X / spiking.scales[0], -1.0, 1.0)
    n = len(X)
    layers = len(spiking.weights)
    spiking_layers = layers if spiking.readout == "spike_count" else layers - 1
    v = [np.zeros((n, w.shape[1])) for w in spiking.weights]
    current = [np.zeros((n, w.shape[1])) for w in spiking.weights]
    counts = [np.zeros((n, X.shape[1]))] + [np.zeros((n, w.shape[1])) for w in spiking.weights]
    bias_current = [p * b for b in spiking.biases]
    leaky = settings.neuron_model == "lif"
    membrane_decay = math.exp(-1.0 / IF_CURR_EXP["tau_m"])
    synapse_decay = math.exp(-1.0 / IF_CURR_EXP["tau_syn_E"])
    saturated = 0
    checkpoints = sorted(set(checkpoints) | {timesteps})
    last_step = checkpoints[-1]
    readouts: dict[int, np.ndarray] = {}
    counts_at_end: list[np.ndarray] = counts
    magnitude, sign = np.abs(inputs), np.sign(inputs)
    for step in range(1, last_step + 1):
        if settings.input_encoding == "poisson":
            spikes = sign * (rng.random(inputs.shape) < p * magnitude)
            counts[0] += np.abs(spikes)
        else:
            spikes = p * inputs
        for index in range(layers):
            drive = spikes @ spiking.weights[index]
            if leaky and index < spiking_layers:
                current[index] = current[index] * synapse_decay + drive
                v[index] = (v[index] * membrane_decay + (1.0 - synapse_decay) * current[index]
                            + bias_current[index])
            else:
                # Reset by subtraction, or a non-spiking readout neuron that integrates.
                v[index] += drive + bias_current[index]
            if index < spiking_layers:
                fired = v[index] >= 1.0
                saturated += int(np.count_nonzero(v[index] >= 2.0))
                if leaky:
                    v[index][fired] = 0.0
                else:
                    v[index] -= fired
                counts[index + 1] += fired
                spikes = fired.astype(float)
        if step in checkpoints:
            readouts[step] = _decode(spiking, counts[-1], v[-1], step)
        if step == timesteps:
            counts_at_end = [c.copy() for c in counts]
        if progress is not None and step % 10 == 0:
            progress(step / last_step, f"timestep {step} of {last_step}")
    neuron_steps = n * last_step * sum(w.shape[1] for w in spiking.weights[:spiking_layers])
    return Simulation(counts_at_end, readouts, timesteps, saturated / max(1, neuron_steps))


def _decode(spiking: SpikingNetwork, counts: np.ndarray, v: np.ndarray,
            step: int) -> np.ndarray:
    """The network's outputs read from the output population at ``step``."""
    if spiking.readout == "spike_count":
        # The residual membrane breaks ties between equal counts.
        score = np.clip(counts + np.clip(v, 0.0, 1.0), 0.0, None)
        total = score.sum(axis=1, keepdims=True)
        uniform = np.full_like(score, 1.0 / score.shape[1])
        return np.where(total > 0, score / np.where(total > 0, total, 1.0), uniform)
    # Integrated current ~ step * p * z / lambda_L: undo the scaling, apply the activation.
    logits = v * spiking.scales[-1] / (step * spiking.spike_probability)
    return apply_activation(logits, spiking.output_activation)


class SpiNNakerBackend(HardwareBackend):
    """The SpiNNaker backend: conversion, simulation, mapping and energy."""

    name = "SpiNNaker"

    def __init__(self, settings: SpiNNakerSettings | None = None) -> None:
        self.settings = settings or SpiNNakerSettings()

    def check(self, network: DenseNetwork, node: str) -> None:
        super().check(network, node)
        for layer in network.layers[:-1]:
            if layer.activation != "relu":
                raise NodeInputError(
                    node, f"SpiNNaker runs rate-coded ReLU layers, but hidden layer "
                    f"'{layer.name}' of '{network.name}' uses '{layer.activation}'.",
                    port="model", fix="Train the network with ReLU hidden layers.")

    def run(self, network: DenseNetwork, X: np.ndarray, *, seed: int, scorer: Scorer,
            calibration: np.ndarray | None = None, progress: Progress | None = None,
            node: str = "Run on SpiNNaker") -> DeviceRun:
        s = self.settings
        spiking = convert(network, X if calibration is None else calibration, s)
        sweep = sorted({t for t in s.sweep_timesteps if t > 0} | {s.timesteps})
        simulation = simulate(spiking, X, timesteps=s.timesteps, checkpoints=sweep,
                              rng=np.random.default_rng(seed), settings=s, progress=progress)
        mapping = map_network(network, s)
        traffic = traffic_figures(spiking, simulation, s)
        n = len(X)
        wall_per_sample = s.timesteps * TIMESTEP_S
        energy = energy_per_sample(mapping, traffic["packets_per_sample"], wall_per_sample)
        rows = []
        for t in sweep:
            row = {"timesteps": t, "simulated_time_s": t * TIMESTEP_S,
                   **scorer.score(simulation.readouts[t])}
            rows.append(row)
        sweep_table = pd.DataFrame(rows)
        layer_rates = [float(c.mean() / s.timesteps / TIMESTEP_S) for c in simulation.counts]
        metrics = {
            "latency_per_sample_s": wall_per_sample,
            "latency_per_batch_s": wall_per_sample * s.batch_size,
            "throughput_samples_per_s": 1.0 / wall_per_sample,
            "energy_per_inference_j": energy["total"],
            "energy_idle_per_inference_j": energy["idle"],
            "energy_cores_per_inference_j": energy["cores"],
            "energy_packets_per_inference_j": energy["packets"],
            "energy_full_load_bound_per_inference_j": (
                mapping["chips"] * CHIP_FULL_LOAD_POWER_W * wall_per_sample
                + traffic["packets_per_sample"] * PACKET_ENERGY_J),
            "power_w": energy["total"] / wall_per_sample,
            **{k: float(v) for k, v in traffic.items()},
            "synaptic_events_per_s": traffic["synaptic_events_per_sample"] / wall_per_sample,
            "mean_firing_rate_hz": float(np.mean(layer_rates[1:])),
            "saturated_fraction": simulation.saturated,
        }
        layers = pd.DataFrame([
            {"population": name, "neurons": size, "cores": cores,
             "mean_rate_hz": rate, "spikes_per_sample": float(c.sum() / n)}
            for (name, size, cores), rate, c in zip(
                mapping["populations"], layer_rates if s.input_encoding == "poisson"
                else layer_rates[1:], simulation.counts if s.input_encoding == "poisson"
                else simulation.counts[1:], strict=True)])
        resources = {k: v for k, v in mapping.items() if k != "populations"}
        return DeviceRun(
            outputs=simulation.readouts[s.timesteps], metrics=metrics, resources=resources,
            assumptions=self.assumptions(spiking),
            tables={"timesteps_sweep": sweep_table, "populations": layers},
            plots=[{"table": "timesteps_sweep", "x": "timesteps",
                    "y": [c for c in ("accuracy", "agreement", "rmse_vs_digital", "rmse")
                          if c in sweep_table.columns],
                    "log_x": True, "title": "Accuracy against simulated time"}],
            not_modelled=[
                "Routing-table limits, packet drops and router congestion (every packet "
                "arrives in the same timestep).",
                "Synaptic delays: every connection has the minimum delay of one timestep.",
                "The state reset between samples (each sample starts from rest, as if the "
                "network had a pause of its own).",
                "Poisson sources and neurons share the same neurons-per-core limit.",
                "Chips that are booted but unused (the energy counts the chips used).",
                "Loading the network onto the machine and reading results back.",
            ],
            settings={"timesteps": s.timesteps, "neuron_model": s.neuron_model,
                      "input_encoding": s.input_encoding,
                      "max_input_rate_hz": s.max_input_rate_hz,
                      "normalisation": s.normalisation, "percentile": s.percentile,
                      "readout": spiking.readout, "weight_bits": s.weight_bits,
                      "neurons_per_core": s.neurons_per_core,
                      "normalisation_scales": spiking.scales,
                      "calibration_rows": len(X if calibration is None else calibration)})

    def assumptions(self, spiking: SpikingNetwork) -> list[Assumption]:
        s = self.settings
        quantile = "maximum" if s.normalisation == "max" else f"{s.percentile:g}th percentile"
        conversion = "diehl_2015" if s.normalisation == "max" else "rueckauer_2017"
        items = [
            Assumption("Conversion", f"weights x lambda_(l-1)/lambda_l, biases / lambda_l, "
                       f"lambda = {quantile} of the positive activations; threshold 1, "
                       + ("reset by subtraction" if s.neuron_model == "if"
                          else "leaky, reset to rest"), cite(conversion), "published"),
            Assumption("Timestep", "1 ms, real time", cite("spynnaker_mapping")),
            Assumption("Neurons per core", str(s.neurons_per_core), cite("spynnaker_mapping"),
                       "published" if s.neurons_per_core == NEURONS_PER_CORE else "setting"),
            Assumption("Weights", f"{s.weight_bits}-bit fixed point magnitudes, power-of-two "
                       "scale per layer, sign as excitatory/inhibitory synapse type",
                       cite("spynnaker_mapping"),
                       "published" if s.weight_bits == 16 else "setting"),
            Assumption("Application cores per chip", "17 of 18 (one runs SCAMP)",
                       cite("spinnaker_chip")),
            Assumption("Chips per board", "48 (SpiNN-5)", cite("spinnaker_chip")),
            Assumption("Machine size", f"{MACHINE_CORES:,} cores", cite("spinnaker_chip")),
            Assumption("Chip idle power", f"{CHIP_IDLE_POWER_W} W", cite("spinnaker_energy")),
            Assumption("Chip power at full load", f"{CHIP_FULL_LOAD_POWER_W} W",
                       cite("spinnaker_chip")),
            Assumption("Active power per used core",
                       f"(1 W - 0.36 W) / 18 cores = {CORE_ACTIVE_POWER_W * 1e3:.1f} mW",
                       "derived from the chip's idle and full-load power", "derived"),
            Assumption("Energy per multicast packet", "0.8 nJ", cite("spinnaker_energy")),
            Assumption("Packets", "one per spike of a population with outgoing connections",
                       cite("spinnaker_chip"), "modelling choice"),
            Assumption("SDRAM", "128 MB per chip, 4 bytes per synapse", cite("spinnaker_chip"),
                       "published"),
            Assumption("Input spike probability",
                       f"{spiking.spike_probability:g} per timestep at the largest input "
                       f"({s.max_input_rate_hz:g} Hz x 1 ms)"
                       if s.input_encoding == "poisson" else "constant current",
                       cite("diehl_2015"), "setting"),
            Assumption("Readout", "spike counts of the output population (ties broken by "
                       "the residual membrane); probabilities are shares of the output spikes"
                       if spiking.readout == "spike_count" else
                       "integrated input current of non-spiking output neurons, rescaled by "
                       "lambda_L and passed through the output activation",
                       cite("rueckauer_2017"), "modelling choice"),
            Assumption("Accuracy anchor", "spiking DBN on MNIST on SpiNNaker: 95%, 0.06 points "
                       "below software, ~0.3 W", cite("stromatias_2015"), "published"),
        ]
        if s.neuron_model == "lif":
            items.append(Assumption(
                "Leaky neuron", "tau_m 20 ms, tau_syn 5 ms, cm 1 nF, threshold 15 mV above "
                "rest, reset to rest, refractory 0.1 ms (shorter than a timestep: no effect)",
                cite("pynn_if_curr_exp")))
        return items


def map_network(network: DenseNetwork, settings: SpiNNakerSettings) -> dict[str, Any]:
    """Cores, chips, boards and SDRAM of the network on the machine.

    cores = sum over populations of ceil(n / neurons_per_core); chips at 17
    application cores each; boards of 48 chips.
    """
    populations = []
    if settings.input_encoding == "poisson":
        populations.append(("input (Poisson sources)", network.n_inputs))
    populations += [(layer.name, layer.shape[1]) for layer in network.layers]
    sizes = np.array([size for _, size in populations])
    per_population = np.ceil(sizes / settings.neurons_per_core).astype(int)
    cores = int(per_population.sum())
    chips = math.ceil(cores / APPLICATION_CORES_PER_CHIP)
    synapses = int(sum(np.count_nonzero(layer.weights) for layer in network.layers))
    sdram = synapses * SYNAPSE_WORD_BYTES
    return {
        "populations": [(name, int(size), int(c)) for (name, size), c in
                        zip(populations, per_population, strict=True)],
        "neurons": int(sizes.sum()), "synapses": synapses, "cores": cores, "chips": chips,
        "boards": math.ceil(chips / CHIPS_PER_BOARD),
        "machine_fraction": cores / MACHINE_CORES,
        "synaptic_matrix_bytes": sdram,
        "sdram_fraction_of_used_chips": sdram / (chips * SDRAM_PER_CHIP_BYTES),
    }


def traffic_figures(spiking: SpikingNetwork, simulation: Simulation,
                    settings: SpiNNakerSettings) -> dict[str, float]:
    """Spikes, packets and synaptic events per sample, counted from the simulation."""
    n = len(simulation.counts[0])
    sources = simulation.counts[:-1]      # populations with outgoing projections
    if settings.input_encoding != "poisson":
        sources = sources[1:]
        weights = spiking.weights[1:]
    else:
        weights = spiking.weights
    packets = float(sum(c.sum() for c in sources)) / n
    fan_out = [np.count_nonzero(w, axis=1) for w in weights]
    events = float(sum((c @ f).sum() for c, f in zip(sources, fan_out, strict=True))) / n
    spikes = float(sum(c.sum() for c in simulation.counts[1:])) / n
    return {"spikes_per_sample": spikes, "packets_per_sample": packets,
            "synaptic_events_per_sample": events}


def energy_per_sample(mapping: dict[str, Any], packets: float,
                      wall_time_s: float) -> dict[str, float]:
    """Idle power of the chips used, active power of the cores used, and packets."""
    idle = mapping["chips"] * CHIP_IDLE_POWER_W * wall_time_s
    cores = mapping["cores"] * CORE_ACTIVE_POWER_W * wall_time_s
    packet_energy = packets * PACKET_ENERGY_J
    return {"idle": idle, "cores": cores, "packets": packet_energy,
            "total": idle + cores + packet_energy}


class RunOnSpiNNaker(HardwareNode):
    """Run a trained network on a simulated SpiNNaker machine, as a spiking network.

    Input 'model': a trained network of dense layers with ReLU hidden layers
    (Neural Network, or a Keras Dense network); input 'data': the rows to
    score (the model's feature columns; with the label column, accuracy is
    reported); optional input 'calibration': rows whose activations set the
    normalisation (e.g. the training rows; by default the rows of 'data').
    Output 'scored': 'data' with Score Model's columns ('Scored Labels',
    'Scored Probabilities...'), so Evaluate Model works on it; output
    'report': accuracy and agreement with the digital model, latency,
    energy, cores/chips/boards, the timesteps sweep and every assumption.

    The network is converted as in Rueckauer et al. (2017): weights are
    normalised per layer by the 'percentile' of its activations
    ('normalisation' max: Diehl et al. 2015), biases become constant
    currents, integrate-and-fire neurons ('neuron_model' if) reset by
    subtraction; 'lif' uses PyNN's IF_curr_exp defaults. Inputs are Poisson
    spike trains up to 'max_input_rate_hz' (or a constant current). The
    network runs for 'timesteps' steps of 1 ms in real time; 'readout'
    reads the output spike counts or the output membranes. Accuracy
    approaches the digital model's as 'timesteps' grows; the sweep table
    shows it at each of 'sweep_timesteps'. Weights are held with
    'weight_bits' bits as on the machine (16). Cores = sum of
    ceil(neurons / 'neurons_per_core'), 17 application cores per chip, 48
    chips per board; energy counts chip idle power, active cores and 0.8 nJ
    per packet (one packet per spike).
    """

    type_id = "run_on_spinnaker"
    version = 1
    title = "Run on SpiNNaker"

    class Inputs:
        calibration = Input(TABLE, optional=True,
                            help="Rows that set the weight normalisation (default: 'data').")

    timesteps = IntParam(100, minimum=1, maximum=100_000,
                         help="Simulated time in 1 ms timesteps per sample.")
    neuron_model = ChoiceParam("if", ["if", "lif"],
                               help="if: integrate-and-fire, reset by subtraction; lif: leaky, "
                                    "PyNN IF_curr_exp defaults.")
    input_encoding = ChoiceParam("poisson", ["poisson", "current"],
                                 help="Inputs as Poisson spike trains or as a constant current.")
    max_input_rate_hz = FloatParam(1000.0, minimum=0.0, maximum=1000.0, exclusive_minimum=True,
                                   help="Poisson rate of the largest input (at most one spike "
                                        "per 1 ms step).")
    normalisation = ChoiceParam("percentile", ["percentile", "max"],
                                help="Scale each layer by a percentile of its activations "
                                     "(Rueckauer) or by their maximum (Diehl).")
    percentile = FloatParam(99.9, minimum=50.0, maximum=100.0,
                            help="Percentile of the positive activations used to normalise.")
    readout = ChoiceParam("spike_count", ["spike_count", "membrane"],
                          help="Predict from output spike counts, or from the output "
                               "neurons' membrane (integrated input).")
    weight_bits = IntParam(16, minimum=2, maximum=32,
                           help="Bits of each synaptic weight (16 on SpiNNaker).")
    neurons_per_core = IntParam(256, minimum=1, maximum=1024,
                                help="Most neurons one core simulates (256 in sPyNNaker).")
    sweep_timesteps = ListParam([5, 10, 20, 50, 100, 200],
                                item=IntParam(10, minimum=1, maximum=100_000),
                                help="Timesteps at which accuracy is also read out "
                                     "(the sweep table).")

    def make_backend(self) -> SpiNNakerBackend:
        return SpiNNakerBackend(SpiNNakerSettings(
            timesteps=self.timesteps, neuron_model=self.neuron_model,
            input_encoding=self.input_encoding, max_input_rate_hz=self.max_input_rate_hz,
            normalisation=self.normalisation, percentile=self.percentile, readout=self.readout,
            weight_bits=self.weight_bits, neurons_per_core=self.neurons_per_core,
            sweep_timesteps=list(self.sweep_timesteps), batch_size=self.batch_size))

    def run(self, ctx: RunContext, model: Any, data: Table,
            calibration: Table | None = None) -> dict[str, Any]:
        return super().run(ctx, model, data, calibration)
