"""SpiNNaker: a trained ReLU network converted to a spiking network, simulated, mapped and costed.

Conversion follows Rueckauer et al. (2017): weights and biases are
normalised layer by layer by a high percentile of the ANN's activations
(99.9 by default; the maximum as in Diehl et al. 2015 is an option), biases
become constant input currents, and inputs arrive as spikes from an input
population on the machine: Poisson sources, or integrate-and-fire neurons
driven by a constant current (regular spike trains). Hidden neurons are the
idealised integrate-and-fire neuron of the conversion literature (no leak,
reset by subtraction) or sPyNNaker's stock IF_curr_exp (leak, exponential
synapses, reset to rest). The simulation is clock-driven at sPyNNaker's
1 ms timestep, vectorised over samples and neurons (one loop over timesteps).

Every spike is counted: packets routed, synaptic events, row fetches of the
receiving cores, neuron and source updates. Energy is built from them and
from the chips' idle power (:func:`energy_breakdown`), with the figures in
:data:`nodes.hardware.sources.CONSTANTS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from nodes.errors import NodeInputError
from nodes.hardware.base import DeviceRun, HardwareBackend, HardwareNode, Progress, Scorer
from nodes.hardware.report import Assumption
from nodes.hardware.sources import CONSTANTS, cite, constant
from nodes.models.network import DenseLayer, DenseNetwork, apply_activation
from nodes.params import ChoiceParam, FloatParam, IntParam, ListParam
from nodes.ports import TABLE, Input

# -- the machine ---------------------------------------------------------------------
TIMESTEP_S = constant("spinnaker.timestep_s", 1e-3, "s", "spynnaker", "published",
                      "sPyNNaker's default timestep; the machine runs in real time")
NEURONS_PER_CORE = constant("spinnaker.neurons_per_core", 256, "neurons", "spynnaker",
                            "published", "sPyNNaker's default maximum atoms per core")
CORES_PER_CHIP = constant("spinnaker.cores_per_chip", 18, "cores", "painkras_2013", "paper",
                          "18 ARM968 processor nodes per chip")
APPLICATION_CORES_PER_CHIP = constant(
    "spinnaker.application_cores_per_chip", 16, "cores", "furber_2014", "paper",
    "of the 18 cores one runs the monitor (SCAMP) and one is kept spare for yield and "
    "fault tolerance")
CLOCK_HZ = constant("spinnaker.clock_hz", 180e6, "Hz", "painkras_2013", "paper",
                    "the nominal frequency at which the 1 W peak was measured (machines "
                    "often run their cores at 200 MHz)")
CHIPS_PER_BOARD = constant("spinnaker.chips_per_board", 48, "chips", "furber_2014", "paper",
                           "SpiNN-5 board")
MACHINE_CORES = constant("spinnaker.machine_cores", 1_036_800, "cores", "furber_2014",
                         "paper", "the million-core machine")
SDRAM_PER_CHIP_BYTES = constant("spinnaker.sdram_per_chip_bytes", 128 * 2**20, "bytes",
                                "painkras_2013", "paper", "128 MB SDRAM beside each chip")
SYNAPSE_WORD_BYTES = constant("spinnaker.synapse_word_bytes", 4, "bytes", "spynnaker",
                              "published", "one 32-bit synaptic word per synapse: 16-bit "
                              "weight, delay, synapse type and target index")
# -- energy: published chip figures ------------------------------------------------
CHIP_IDLE_POWER_W = constant("spinnaker.chip_idle_power_w", 0.36, "W", "painkras_2013",
                             "paper", "a booted chip with every core idle (the value the "
                             "SpiNNaker front-end energy model takes from this paper)")
CHIP_PEAK_POWER_W = constant("spinnaker.chip_peak_power_w", 1.0, "W", "painkras_2013",
                             "paper", "all 18 cores busy at the nominal frequency")
PACKET_ENERGY_J = constant("spinnaker.packet_energy_j", 0.8e-9, "J", "painkras_2013", "paper",
                           "energy of routing one multicast spike packet (the value the "
                           "front-end energy model takes from this paper)")
#: Derived: the energy one busy core cycle adds above idle.
ENERGY_PER_BUSY_CYCLE_J = constant(
    "spinnaker.energy_per_busy_cycle_j",
    (CHIP_PEAK_POWER_W - CHIP_IDLE_POWER_W) / (CORES_PER_CHIP * CLOCK_HZ), "J", "", "derived",
    "(peak 1 W - idle 0.36 W) / (18 cores x 180 MHz): the power a busy core adds above "
    "idle, per clock cycle")
# -- energy: cycles per event (ours) ------------------------------------------------
CYCLES_PER_SYNAPTIC_EVENT = constant(
    "spinnaker.cycles_per_synaptic_event", 15, "cycles", "", "estimate",
    "one synaptic word decoded and its weight added to a ring buffer; with 40 cycles per "
    "neuron update it lets a core meet SpiNNaker's design point (1,000 neurons with 1,000 "
    "synapses each at ~10 Hz, i.e. 10^7 events/s) at 180 MHz")
CYCLES_PER_NEURON_UPDATE = constant(
    "spinnaker.cycles_per_neuron_update", 40, "cycles", "", "estimate",
    "one fixed-point neuron state update and threshold test per timestep (ARM968, no FPU)")
CYCLES_PER_SOURCE_UPDATE = constant(
    "spinnaker.cycles_per_source_update", 20, "cycles", "", "estimate",
    "one Poisson source per timestep: a random draw and a comparison")
CYCLES_PER_ROW_FETCH = constant(
    "spinnaker.cycles_per_row_fetch", 100, "cycles", "", "estimate",
    "a core receiving a packet looks up the source's synaptic row and starts its DMA from "
    "SDRAM (per packet and receiving core)")
CYCLES_PER_CORE_TICK = constant(
    "spinnaker.cycles_per_core_tick", 500, "cycles", "", "estimate",
    "timer interrupt, DMA and recording bookkeeping of every used core every timestep")
# -- the anchor ----------------------------------------------------------------------
STROMATIAS_POWER_W = constant("spinnaker.stromatias_2015_power_w", 0.3, "W",
                              "stromatias_2015", "paper",
                              "784-500-500-10 spiking DBN on MNIST on one chip, in real time")
STROMATIAS_INPUT_RATE_HZ = constant("spinnaker.stromatias_2015_input_rate_hz", 1500.0, "Hz",
                                    "ne15_benchmark", "paper",
                                    "all 784 Poisson inputs together, per digit")
STROMATIAS_SYNAPTIC_EVENTS_PER_S = constant(
    "spinnaker.stromatias_2015_synaptic_events_per_s", 1.88e6, "events/s", "ne15_benchmark",
    "paper", "the DBN's synaptic events per second of simulated time")

# PyNN IF_curr_exp defaults (mV, ms, nF; sPyNNaker's stock leaky cell)
IF_CURR_EXP = {"v_rest": -65.0, "cm": 1.0, "tau_m": 20.0, "tau_refrac": 0.1, "tau_syn_E": 5.0,
               "tau_syn_I": 5.0, "v_reset": -65.0, "v_thresh": -50.0}
for _name, _value in IF_CURR_EXP.items():
    constant(f"spinnaker.if_curr_exp_{_name}", _value,
             {"cm": "nF"}.get(_name, "ms" if _name.startswith("tau") else "mV"),
             "pynn_if_curr_exp", "published", "PyNN IF_curr_exp default")


@dataclass
class SpiNNakerSettings:
    """How the network is converted and simulated (see the node's help)."""

    timesteps: int = 100
    neuron_model: str = "if"            # "if" (idealised, Rueckauer) or "lif" (IF_curr_exp)
    input_encoding: str = "poisson"     # "poisson" or "current" (regular spike trains)
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

    ``counts[l]``: spikes per sample and neuron of population l (0 = the input
    population) up to ``timesteps``; ``readouts``: the decoded outputs at each
    checkpoint; ``spike_totals[t]``: total spikes of every population up to
    checkpoint t (for the energy sweep).
    """

    counts: list[np.ndarray]
    readouts: dict[int, np.ndarray]
    timesteps: int
    saturated: float
    spike_totals: dict[int, list[float]] = field(default_factory=dict)


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


class LeakyCell:
    """sPyNNaker's IF_curr_exp step in physical units (mV, nA, MOhm, ms).

    Per 1 ms step: arriving weights add w * init to the synaptic current
    (init = tau_syn/dt (1 - exp(-dt/tau_syn))), the membrane moves exactly
    towards V_inf = V_rest + R (I_syn + I_offset) with factor exp(-dt/tau_m),
    R = tau_m / cm, a neuron at or above threshold spikes and is reset to
    V_reset, then the synaptic current decays by exp(-dt/tau_syn). A
    normalised weight of 1 becomes the current whose charge lifts a resting,
    leak-free membrane by exactly threshold - rest (``weight_scale`` nA); a
    normalised bias b becomes the constant current that adds b (threshold -
    rest) per step (``bias_scale`` nA).
    """

    def __init__(self) -> None:
        p = IF_CURR_EXP
        dt = TIMESTEP_S * 1e3
        self.resistance = p["tau_m"] / p["cm"]                       # MOhm
        self.membrane_decay = math.exp(-dt / p["tau_m"])
        self.synapse_decay = math.exp(-dt / p["tau_syn_E"])
        self.init = p["tau_syn_E"] / dt * (1.0 - self.synapse_decay)
        self.gap = p["v_thresh"] - p["v_rest"]                       # mV
        self.refractory_steps = int(round(p["tau_refrac"] / dt))     # 0.1 ms -> 0 steps
        gain = (1.0 - self.membrane_decay) * self.resistance          # mV per nA per step
        self.weight_scale = self.gap * (1.0 - self.synapse_decay) / (gain * self.init)
        self.bias_scale = self.gap / gain

    def step(self, v: np.ndarray, current: np.ndarray, arriving_na: np.ndarray,
             offset_na: np.ndarray, refractory: np.ndarray) -> np.ndarray:
        """Advance ``v`` (mV) and ``current`` (nA) one step in place; return who fired."""
        p = IF_CURR_EXP
        current += arriving_na * self.init
        v_inf = p["v_rest"] + self.resistance * (current + offset_na)
        moved = v_inf + (v - v_inf) * self.membrane_decay
        if self.refractory_steps:
            np.copyto(v, moved, where=refractory <= 0)
            refractory -= 1
        else:
            v[...] = moved
        fired = v >= p["v_thresh"]
        np.copyto(v, p["v_reset"], where=fired)
        if self.refractory_steps:
            refractory[fired] = self.refractory_steps
        current *= self.synapse_decay
        return fired


def simulate(spiking: SpikingNetwork, X: np.ndarray, *, timesteps: int,
             checkpoints: list[int], rng: np.random.Generator,
             settings: SpiNNakerSettings, progress: Progress | None = None) -> Simulation:
    """Run the spiking network on rows ``X`` for ``timesteps`` 1 ms steps.

    Inputs: an input neuron with normalised value x fires with probability
    p|x| per step (Poisson, p = max rate x 1 ms), or integrates the constant
    current p|x| and fires when it reaches 1 (regular spike trains, reset by
    subtraction); its spikes reach the next layer through excitatory (x > 0)
    or inhibitory (x < 0) synapses. Hidden neurons: ``if`` integrate-and-fire
    (v += I; a neuron with v >= 1 spikes and v -= 1; one spike per step at
    most) or ``lif`` (:class:`LeakyCell`). Biases are constant currents p b'.
    The membrane readout is a non-spiking integrator in normalised units.
    """
    p = spiking.spike_probability
    inputs = np.clip(X / spiking.scales[0], -1.0, 1.0)
    n = len(X)
    layers = len(spiking.weights)
    spiking_layers = layers if spiking.readout == "spike_count" else layers - 1
    leaky = settings.neuron_model == "lif"
    cell = LeakyCell() if leaky else None
    rest = IF_CURR_EXP["v_rest"]
    v = [np.full((n, w.shape[1]), rest if leaky and i < spiking_layers else 0.0)
         for i, w in enumerate(spiking.weights)]
    current = [np.zeros((n, w.shape[1])) for w in spiking.weights]
    refractory = [np.zeros((n, w.shape[1]), dtype=int) for w in spiking.weights]
    counts = [np.zeros((n, X.shape[1]))] + [np.zeros((n, w.shape[1])) for w in spiking.weights]
    bias_current = [p * b for b in spiking.biases]
    input_v = np.zeros_like(inputs)
    saturated = 0
    checkpoints = sorted(set(checkpoints) | {timesteps})
    last_step = checkpoints[-1]
    readouts: dict[int, np.ndarray] = {}
    totals: dict[int, list[float]] = {}
    counts_at_end: list[np.ndarray] = counts
    magnitude, sign = np.abs(inputs), np.sign(inputs)
    for step in range(1, last_step + 1):
        if settings.input_encoding == "poisson":
            fired_in = rng.random(inputs.shape) < p * magnitude
        else:
            input_v += p * magnitude
            fired_in = input_v >= 1.0
            input_v -= fired_in
        counts[0] += fired_in
        spikes = sign * fired_in
        for index in range(layers):
            drive = spikes @ spiking.weights[index]
            if index >= spiking_layers:
                # A non-spiking readout neuron integrates its input.
                v[index] += drive + bias_current[index]
                continue
            if leaky:
                fired = cell.step(v[index], current[index], drive * cell.weight_scale,
                                  bias_current[index] * cell.bias_scale, refractory[index])
            else:
                v[index] += drive + bias_current[index]
                fired = v[index] >= 1.0
                saturated += int(np.count_nonzero(v[index] >= 2.0))
                v[index] -= fired
            counts[index + 1] += fired
            spikes = fired.astype(float)
        if step in checkpoints:
            readouts[step] = _decode(spiking, counts[-1], _readout_membrane(v[-1], leaky and
                                     spiking.readout == "spike_count"), step)
            totals[step] = [float(c.sum()) for c in counts]
        if step == timesteps:
            counts_at_end = [c.copy() for c in counts]
        if progress is not None and step % 10 == 0:
            progress(step / last_step, f"timestep {step} of {last_step}")
    neuron_steps = n * last_step * sum(w.shape[1] for w in spiking.weights[:spiking_layers])
    return Simulation(counts_at_end, readouts, timesteps, saturated / max(1, neuron_steps),
                      totals)


def _readout_membrane(v: np.ndarray, leaky: bool) -> np.ndarray:
    """The output membrane in threshold units (0 at rest, 1 at threshold)."""
    if not leaky:
        return v
    return (v - IF_CURR_EXP["v_rest"]) / (IF_CURR_EXP["v_thresh"] - IF_CURR_EXP["v_rest"])


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


# -- mapping, traffic and energy -------------------------------------------------------

def map_network(network: DenseNetwork, settings: SpiNNakerSettings) -> dict[str, Any]:
    """Cores, chips, boards and SDRAM of the network on the machine.

    cores = sum over populations (the input population included) of
    ceil(n / neurons_per_core); chips at 16 application cores each; boards of
    48 chips.
    """
    sizes = [network.n_inputs] + [layer.shape[1] for layer in network.layers]
    poisson = settings.input_encoding == "poisson"
    names = ["input (Poisson sources)" if poisson else "input (current-driven neurons)"]
    names += [layer.name for layer in network.layers]
    # Poisson sources are cheaper to update than neurons (a draw, no state).
    kinds = ["source" if poisson else "neuron"] + ["neuron"] * len(network.layers)
    per_population = [math.ceil(size / settings.neurons_per_core) for size in sizes]
    cores = int(sum(per_population))
    chips = math.ceil(cores / APPLICATION_CORES_PER_CHIP)
    synapses = int(sum(np.count_nonzero(layer.weights) for layer in network.layers))
    sdram = synapses * SYNAPSE_WORD_BYTES
    return {
        "populations": [(name, int(size), int(c), kind) for name, size, c, kind in
                        zip(names, sizes, per_population, kinds, strict=True)],
        "neurons": int(sum(sizes)), "synapses": synapses, "cores": cores, "chips": chips,
        "boards": math.ceil(chips / CHIPS_PER_BOARD),
        "machine_fraction": cores / MACHINE_CORES,
        "synaptic_matrix_bytes": sdram,
        "sdram_fraction_of_used_chips": sdram / (chips * SDRAM_PER_CHIP_BYTES),
    }


@dataclass
class Activity:
    """What the machine does for one sample (or per second, for :func:`stromatias_2015`).

    ``spikes``: spikes of every population (input first); ``fan_out``: mean
    synapses per spike of each population that has targets; ``receiving_cores``:
    cores of the next population (each fetches the spike's synaptic row).
    """

    timesteps: float
    spikes: list[float]
    fan_out: list[float]
    receiving_cores: list[int]
    population_sizes: list[int]
    population_kinds: list[str]
    cores: int
    chips: int

    @property
    def packets(self) -> float:
        return float(sum(self.spikes[:len(self.fan_out)]))

    @property
    def synaptic_events(self) -> float:
        return float(sum(s * f for s, f in zip(self.spikes, self.fan_out, strict=False)))

    @property
    def row_fetches(self) -> float:
        return float(sum(s * c for s, c in zip(self.spikes, self.receiving_cores,
                                               strict=False)))

    @property
    def neuron_updates(self) -> float:
        return float(sum(n for n, k in zip(self.population_sizes, self.population_kinds,
                                           strict=True) if k == "neuron")) * self.timesteps

    @property
    def source_updates(self) -> float:
        return float(sum(n for n, k in zip(self.population_sizes, self.population_kinds,
                                           strict=True) if k == "source")) * self.timesteps


def activity(network: DenseNetwork, spike_totals: list[float], rows: int, timesteps: int,
             mapping: dict[str, Any]) -> Activity:
    """The per-sample activity of a simulated run (``spike_totals``: all rows' spikes
    of every population)."""
    fan_out = [float(np.count_nonzero(layer.weights)) / layer.shape[0] for layer in
               network.layers]
    cores = [c for _, _, c, _ in mapping["populations"]]
    return Activity(
        timesteps=timesteps, spikes=[t / rows for t in spike_totals], fan_out=fan_out,
        receiving_cores=cores[1:], population_sizes=[s for _, s, _, _ in mapping["populations"]],
        population_kinds=[k for _, _, _, k in mapping["populations"]],
        cores=mapping["cores"], chips=mapping["chips"])


def energy_breakdown(act: Activity) -> dict[str, float]:
    """Energy (J) of ``act``: idle chips, per-core timer ticks, neuron and source
    updates, synaptic events, row fetches and routed packets.

    idle = chips x 0.36 W x time; every busy cycle adds (1 W - 0.36 W) /
    (18 x 180 MHz); packets cost 0.8 nJ each.
    """
    seconds = act.timesteps * TIMESTEP_S
    cycle = ENERGY_PER_BUSY_CYCLE_J
    parts = {
        "idle": act.chips * CHIP_IDLE_POWER_W * seconds,
        "core_ticks": act.cores * act.timesteps * CYCLES_PER_CORE_TICK * cycle,
        "neuron_updates": act.neuron_updates * CYCLES_PER_NEURON_UPDATE * cycle,
        "source_updates": act.source_updates * CYCLES_PER_SOURCE_UPDATE * cycle,
        "synaptic_events": act.synaptic_events * CYCLES_PER_SYNAPTIC_EVENT * cycle,
        "row_fetches": act.row_fetches * CYCLES_PER_ROW_FETCH * cycle,
        "packets": act.packets * PACKET_ENERGY_J,
    }
    parts["total"] = float(sum(parts.values()))
    return parts


def busiest_core_load(act: Activity, neurons_per_core: int) -> float:
    """The largest share of a timestep's cycles one core needs (above 1: the
    network cannot keep real time with this mapping)."""
    budget = CLOCK_HZ * TIMESTEP_S
    steps = max(act.timesteps, 1e-12)
    loads = []
    for index, (size, kind) in enumerate(zip(act.population_sizes, act.population_kinds,
                                             strict=True)):
        cores = math.ceil(size / neurons_per_core)
        on_core = min(size, neurons_per_core)
        update = CYCLES_PER_SOURCE_UPDATE if kind == "source" else CYCLES_PER_NEURON_UPDATE
        cycles = CYCLES_PER_CORE_TICK + on_core * update
        if index > 0:   # synaptic input from the previous population, shared by its cores
            previous = act.spikes[index - 1] / steps
            cycles += previous * (act.fan_out[index - 1] * CYCLES_PER_SYNAPTIC_EVENT / cores
                                  + CYCLES_PER_ROW_FETCH)
        loads.append(cycles / budget)
    return float(max(loads))


def stromatias_2015() -> dict[str, float]:
    """The power this model predicts for Stromatias et al.'s 784-500-500-10 DBN at
    their published rates, against their 0.3 W.

    Their rates: 1,500 input spikes per second in all and 1.88 million synaptic
    events per second (NE15 benchmark). The hidden layers' spikes are not
    published separately; they are taken as equal, which is what makes the
    events add up: 1500 x 500 + h x 500 + h x 10 = 1.88e6.
    """
    sizes = [784, 500, 500, 10]
    network = DenseNetwork(
        [_placeholder_layer(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)],
        [f"pixel_{i}" for i in range(784)], "classification", list(range(10)))
    mapping = map_network(network, SpiNNakerSettings())
    inputs = STROMATIAS_INPUT_RATE_HZ
    hidden = (STROMATIAS_SYNAPTIC_EVENTS_PER_S - inputs * 500) / (500 + 10)
    second = Activity(
        timesteps=1.0 / TIMESTEP_S, spikes=[inputs, hidden, hidden, 0.0],
        fan_out=[500.0, 500.0, 10.0],
        receiving_cores=[c for _, _, c, _ in mapping["populations"]][1:],
        population_sizes=sizes, population_kinds=["source", "neuron", "neuron", "neuron"],
        cores=mapping["cores"], chips=mapping["chips"])
    energy = energy_breakdown(second)
    return {"predicted_power_w": energy["total"], "published_power_w": STROMATIAS_POWER_W,
            "ratio": energy["total"] / STROMATIAS_POWER_W,
            "idle_power_w": energy["idle"], "activity_power_w": energy["total"] - energy["idle"],
            "synaptic_events_per_s": second.synaptic_events, "cores": mapping["cores"],
            "chips": mapping["chips"]}


def _placeholder_layer(inputs: int, outputs: int) -> DenseLayer:
    return DenseLayer(np.ones((inputs, outputs)), np.zeros(outputs), "relu")


class SpiNNakerBackend(HardwareBackend):
    """The SpiNNaker backend: conversion, simulation, mapping and energy."""

    name = "SpiNNaker"
    summary = ("ANN-to-SNN conversion, spiking simulation at 1 ms steps, mapping onto "
               "cores/chips/boards, energy from idle power and counted spikes")
    resources_shown = (("cores", "core"), ("chips", "chip"), ("boards", "board"))

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
        n = len(X)
        act = activity(network, [float(c.sum()) for c in simulation.counts], n, s.timesteps,
                       mapping)
        energy = energy_breakdown(act)
        wall_per_sample = s.timesteps * TIMESTEP_S
        rows = []
        for t in sweep:
            at_t = energy_breakdown(activity(network, simulation.spike_totals[t], n, t, mapping))
            rows.append({"timesteps": t, "simulated_time_s": t * TIMESTEP_S,
                         **scorer.score(simulation.readouts[t]),
                         "energy_per_inference_j": at_t["total"],
                         "dynamic_energy_per_inference_j": at_t["total"] - at_t["idle"]})
        sweep_table = pd.DataFrame(rows)
        layer_rates = [float(c.mean() / s.timesteps / TIMESTEP_S) for c in simulation.counts]
        metrics = {
            "latency_per_sample_s": wall_per_sample,
            "latency_per_batch_s": wall_per_sample * s.batch_size,
            "throughput_samples_per_s": 1.0 / wall_per_sample,
            "energy_per_inference_j": energy["total"],
            **{f"energy_{k}_per_inference_j": v for k, v in energy.items() if k != "total"},
            "dynamic_energy_per_inference_j": energy["total"] - energy["idle"],
            "power_w": energy["total"] / wall_per_sample,
            "spikes_per_sample": float(sum(act.spikes[1:])),
            "input_spikes_per_sample": act.spikes[0],
            "packets_per_sample": act.packets,
            "synaptic_events_per_sample": act.synaptic_events,
            "row_fetches_per_sample": act.row_fetches,
            "neuron_updates_per_sample": act.neuron_updates,
            "synaptic_events_per_s": act.synaptic_events / wall_per_sample,
            "energy_per_synaptic_event_j": energy["total"] / max(act.synaptic_events, 1e-12),
            "mean_firing_rate_hz": float(np.mean(layer_rates[1:])),
            "busiest_core_load": busiest_core_load(act, s.neurons_per_core),
            "saturated_fraction": simulation.saturated,
        }
        table = pd.DataFrame([
            {"population": name, "neurons": size, "cores": cores, "kind": kind,
             "mean_rate_hz": rate, "spikes_per_sample": float(c.sum() / n)}
            for (name, size, cores, kind), rate, c in zip(
                mapping["populations"], layer_rates, simulation.counts, strict=True)])
        resources = {k: v for k, v in mapping.items() if k != "populations"}
        return DeviceRun(
            outputs=simulation.readouts[s.timesteps], metrics=metrics, resources=resources,
            assumptions=self.assumptions(spiking),
            tables={"timesteps_sweep": sweep_table, "populations": table},
            plots=[{"table": "timesteps_sweep", "x": "timesteps",
                    "y": [c for c in ("accuracy", "agreement", "rmse_vs_digital", "rmse")
                          if c in sweep_table.columns],
                    "log_x": True, "title": "Accuracy against simulated time"},
                   {"table": "timesteps_sweep", "x": "timesteps",
                    "y": ["energy_per_inference_j", "dynamic_energy_per_inference_j"],
                    "log_x": True, "title": "Energy per inference against simulated time"}],
            not_modelled=[
                "Routing-table limits, packet drops and router congestion (every packet "
                "arrives in the same timestep).",
                "Synaptic delays: every connection has the minimum delay of one timestep.",
                "The state reset between samples (each sample starts from rest, as if the "
                "network had a pause of its own).",
                "Cores that overrun their timestep ('busiest_core_load' above 1 says so; the "
                "simulation still keeps real time).",
                "Fixed-point (s16.15) neuron arithmetic: neuron states are float64 here; "
                "weights are quantised as on the machine.",
                "Chips that are booted but unused (the energy counts the chips used), board "
                "FPGAs, fans and the host.",
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
        c = CONSTANTS
        quantile = "maximum" if s.normalisation == "max" else f"{s.percentile:g}th percentile"
        conversion = "diehl_2015" if s.normalisation == "max" else "rueckauer_2017"
        neuron = ("idealised integrate-and-fire: no leak, threshold 1, reset by subtraction "
                  "(not a stock SpiNNaker cell)" if s.neuron_model == "if" else
                  "sPyNNaker's IF_curr_exp: leak, exponential synapses, reset to rest")
        items = [
            Assumption("Conversion", f"weights x lambda_(l-1)/lambda_l, biases / lambda_l, "
                       f"lambda = {quantile} of the positive activations", cite(conversion),
                       "paper"),
            Assumption("Neuron", neuron, cite("rueckauer_2017") if s.neuron_model == "if"
                       else cite("spynnaker"), "paper" if s.neuron_model == "if"
                       else "published"),
            Assumption.of("Timestep", "1 ms, real time", c["spinnaker.timestep_s"]),
            Assumption("Neurons per core", str(s.neurons_per_core), cite("spynnaker"),
                       "published" if s.neurons_per_core == NEURONS_PER_CORE else "setting"),
            Assumption("Weights", f"{s.weight_bits}-bit fixed point magnitudes, power-of-two "
                       "scale per layer, sign as excitatory/inhibitory synapse type",
                       cite("spynnaker"), "published" if s.weight_bits == 16 else "setting"),
            Assumption.of("Application cores per chip", "16 of 18 (one monitor, one spare)",
                          c["spinnaker.application_cores_per_chip"]),
            Assumption.of("Chips per board", "48 (SpiNN-5)", c["spinnaker.chips_per_board"]),
            Assumption.of("Machine size", f"{MACHINE_CORES:,} cores",
                          c["spinnaker.machine_cores"]),
            Assumption.of("Chip idle power", f"{CHIP_IDLE_POWER_W} W",
                          c["spinnaker.chip_idle_power_w"]),
            Assumption.of("Chip peak power", f"{CHIP_PEAK_POWER_W} W at 180 MHz, all cores busy",
                          c["spinnaker.chip_peak_power_w"]),
            Assumption.of("Energy per busy core cycle",
                          f"(1 W - 0.36 W) / (18 x 180 MHz) = "
                          f"{ENERGY_PER_BUSY_CYCLE_J * 1e12:.0f} pJ",
                          c["spinnaker.energy_per_busy_cycle_j"]),
            Assumption.of("Energy per routed packet", "0.8 nJ", c["spinnaker.packet_energy_j"]),
            Assumption.of("Cycles per synaptic event", str(CYCLES_PER_SYNAPTIC_EVENT),
                          c["spinnaker.cycles_per_synaptic_event"]),
            Assumption.of("Cycles per neuron update", str(CYCLES_PER_NEURON_UPDATE),
                          c["spinnaker.cycles_per_neuron_update"]),
            Assumption.of("Cycles per Poisson source update", str(CYCLES_PER_SOURCE_UPDATE),
                          c["spinnaker.cycles_per_source_update"]),
            Assumption.of("Cycles per row fetch", str(CYCLES_PER_ROW_FETCH),
                          c["spinnaker.cycles_per_row_fetch"]),
            Assumption.of("Cycles per core per timestep", str(CYCLES_PER_CORE_TICK),
                          c["spinnaker.cycles_per_core_tick"]),
            Assumption("Traffic", "every spike of a population with targets is one packet; "
                       "each receiving core fetches the row; each synapse reached is one "
                       "synaptic event; the input population is on the machine",
                       cite("furber_2014"), "modelling choice"),
            Assumption.of("SDRAM", "128 MB per chip, 4 bytes per synapse",
                          c["spinnaker.sdram_per_chip_bytes"]),
            Assumption("Input", f"{spiking.spike_probability:g} spikes per timestep at the "
                       f"largest input ({s.max_input_rate_hz:g} Hz x 1 ms), "
                       + ("Poisson" if s.input_encoding == "poisson" else
                          "regular (current-driven integrate-and-fire inputs)"),
                       cite("diehl_2015"), "setting"),
            Assumption("Readout", "spike counts of the output population (ties broken by "
                       "the residual membrane); probabilities are shares of the output spikes"
                       if spiking.readout == "spike_count" else
                       "integrated input current of non-spiking output neurons, rescaled by "
                       "lambda_L and passed through the output activation",
                       cite("rueckauer_2017"), "modelling choice"),
            Assumption.of("Energy anchor", "Stromatias' DBN: 0.3 W on one chip (this model: "
                          f"{stromatias_2015()['predicted_power_w']:.3f} W at their rates)",
                          c["spinnaker.stromatias_2015_power_w"]),
        ]
        if s.neuron_model == "lif":
            cell = LeakyCell()
            items.append(Assumption(
                "Leaky neuron", f"IF_curr_exp defaults: tau_m 20 ms, tau_syn 5 ms, cm 1 nF, "
                f"threshold 15 mV above rest, reset to rest, refractory 0.1 ms "
                f"({cell.refractory_steps} timesteps); a normalised weight of 1 is "
                f"{cell.weight_scale:.2f} nA, a normalised bias of 1 is "
                f"{cell.bias_scale:.1f} nA", cite("pynn_if_curr_exp"), "published"))
        return items


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
    energy and its parts, cores/chips/boards, the timesteps sweep (accuracy
    and energy) and every assumption.

    The network is converted as in Rueckauer et al. (2017): weights are
    normalised per layer by the 'percentile' of its activations
    ('normalisation' max: Diehl et al. 2015), biases become constant
    currents. 'neuron_model' if is the idealised integrate-and-fire neuron
    of that conversion (no leak, reset by subtraction), the best case for
    accuracy; lif is sPyNNaker's stock IF_curr_exp cell with PyNN's
    defaults (leak, 5 ms exponential synapses, reset to rest), what the
    machine runs out of the box. Inputs are an input population on the
    machine: Poisson sources up to 'max_input_rate_hz' ('input_encoding'
    poisson) or current-driven neurons that fire regularly (current). The
    network runs for 'timesteps' steps of 1 ms in real time; 'readout'
    reads the output spike counts or the output membranes. Weights are held
    with 'weight_bits' bits as on the machine (16). Cores = sum of
    ceil(neurons / 'neurons_per_core') over all populations, 16 application
    cores per chip, 48 chips per board. Energy = the chips' idle power over
    the simulated time plus, for every counted event (neuron update,
    synaptic event, row fetch, timer tick), its cycles at the energy of a
    busy core cycle, plus 0.8 nJ per routed packet: fewer spikes or fewer
    timesteps cost less.
    """

    type_id = "run_on_spinnaker"
    version = 2
    title = "Run on SpiNNaker"

    class Inputs:
        calibration = Input(TABLE, optional=True,
                            help="Rows that set the weight normalisation (default: 'data').")

    timesteps = IntParam(100, minimum=1, maximum=100_000,
                         help="Simulated time in 1 ms timesteps per sample.")
    neuron_model = ChoiceParam("if", ["if", "lif"],
                               help="if: idealised integrate-and-fire, reset by subtraction; "
                                    "lif: sPyNNaker's stock IF_curr_exp (PyNN defaults).")
    input_encoding = ChoiceParam("poisson", ["poisson", "current"],
                                 help="Input population: Poisson sources, or neurons driven by "
                                      "a constant current (regular spike trains).")
    max_input_rate_hz = FloatParam(1000.0, minimum=0.0, maximum=1000.0, exclusive_minimum=True,
                                   help="Rate of the largest input (at most one spike per 1 ms "
                                        "step).")
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
                                help="Timesteps at which accuracy and energy are also read "
                                     "out (the sweep table).")

    @classmethod
    def migrate_params(cls, params: dict[str, Any], from_version: int) -> dict[str, Any]:
        # Version 2 changed the machine model (16 application cores, the input population
        # on the machine, the energy model), not the parameters.
        return params

    def make_backend(self) -> SpiNNakerBackend:
        return SpiNNakerBackend(SpiNNakerSettings(
            timesteps=self.timesteps, neuron_model=self.neuron_model,
            input_encoding=self.input_encoding, max_input_rate_hz=self.max_input_rate_hz,
            normalisation=self.normalisation, percentile=self.percentile, readout=self.readout,
            weight_bits=self.weight_bits, neurons_per_core=self.neurons_per_core,
            sweep_timesteps=list(self.sweep_timesteps), batch_size=self.batch_size))

