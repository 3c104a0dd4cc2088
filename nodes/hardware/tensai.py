"""ETA Compute TENSAI (ECM3532): int8 or spiking inference on a Cortex-M3 + CoolFlux DSP.

The chip: an Arm Cortex-M3 and a dual-MAC NXP CoolFlux DSP16, 512 KiB of
flash (400 KiB of it for the application in the SDK's linker script), 256
KiB of M3 SRAM and 352 KiB of SRAM in all, clocks of 20-100 MHz, and ETA
Compute's statements of ~50 uW while listening for a wake-up and ~500 uW
while computing.

Two ways to run a trained dense network, both computed, not estimated:

- ``int8``: the layer-by-layer integer kernels of TENSAI's CNN flow
  (TensorFlow Lite Micro style): int8 weights per output channel, int8
  activations with a scale and zero point per tensor calibrated on rows,
  int32 accumulators, requantisation between layers, the last layer
  dequantised for the output activation.
- ``spiking``: the network converted to integrate-and-fire neurons as on
  SpiNNaker (:mod:`nodes.hardware.spinnaker`), with int8 weights and
  regular input spike trains; the processor accumulates one weight per
  synaptic event.

The network must fit: its weights in the application flash and its working
memory in the SRAM of the processor that runs it, or it is refused with the
sizes. Time = counted cycles / clock; energy = cycles x the energy of a
compute cycle (ETA Compute's 500 uW at the SDK's default 60 MHz); between
inferences the chip listens (50 uW) or sleeps, and a battery lasts what the
duty cycle leaves of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nodes.errors import NodeInputError
from nodes.hardware.base import DeviceRun, HardwareBackend, HardwareNode, Progress, Scorer
from nodes.hardware.report import Assumption
from nodes.hardware.sources import CONSTANTS, cite, constant
from nodes.hardware.spinnaker import SpiNNakerSettings, convert, simulate
from nodes.models.network import DenseNetwork, apply_activation
from nodes.params import ChoiceParam, FloatParam, IntParam
from nodes.ports import TABLE, Input

KIB = 1024
# -- memory and clocks ---------------------------------------------------------------
FLASH_BYTES = constant("tensai.flash_bytes", 512 * KIB, "bytes", "wikichip_ecm3532", "datasheet",
                       "on-chip flash (EE Journal and the SDK say the same)")
APPLICATION_FLASH_BYTES = constant(
    "tensai.application_flash_bytes", 400 * KIB, "bytes", "eta_sdk", "datasheet",
    "flash the SDK's linker script leaves the application (after the 24 KiB bootloader and "
    "the 88 KiB DSP image)")
M3_SRAM_BYTES = constant("tensai.m3_sram_bytes", 256 * KIB, "bytes", "eta_sdk", "datasheet",
                         "Cortex-M3 SRAM (CONFIG_CHIP_RAM_SIZE 0x40000; EE Journal: 256 KB)")
TOTAL_SRAM_BYTES = constant("tensai.total_sram_bytes", 352 * KIB, "bytes", "wikichip_ecm3532",
                            "datasheet", "all SRAM of the chip")
DSP_SRAM_BYTES = constant("tensai.dsp_sram_bytes", TOTAL_SRAM_BYTES - M3_SRAM_BYTES, "bytes",
                          "", "derived", "352 KiB in all - 256 KiB of M3 SRAM = the DSP's "
                          "own memories")
CLOCK_MIN_HZ = constant("tensai.clock_min_hz", 20e6, "Hz", "eta_sdk", "datasheet",
                        "lowest M3 / DSP clock the SDK configures")
CLOCK_MAX_HZ = constant("tensai.clock_max_hz", 100e6, "Hz", "eta_sdk", "datasheet",
                        "highest M3 / DSP clock the SDK configures")
CLOCK_DEFAULT_HZ = constant("tensai.clock_default_hz", 60e6, "Hz", "eta_sdk", "datasheet",
                            "the SDK's default M3 and DSP clock")
DSP_MACS_PER_CYCLE = constant("tensai.dsp_macs_per_cycle", 2, "MAC/cycle", "wikichip_ecm3532",
                              "datasheet", "the CoolFlux DSP16 has two MAC units")
# -- power ---------------------------------------------------------------------------
LISTEN_POWER_W = constant("tensai.listen_power_w", 50e-6, "W", "eta_seed", "vendor claim",
                          "listening for a wake-up (keyword) event")
COMPUTE_POWER_W = constant("tensai.compute_power_w", 500e-6, "W", "eta_seed", "vendor claim",
                           "running a network")
SLEEP_CURRENT_A = constant("tensai.sleep_current_a", 500e-9, "A", "wikichip_ecm3532",
                           "datasheet", "sleep with the real-time clock on")
COMPUTE_POWER_CLOCK_HZ = constant(
    "tensai.compute_power_clock_hz", 60e6, "Hz", "", "estimate",
    "the clock the 500 uW claim is taken to hold at (ETA Compute states no clock; the SDK's "
    "default is assumed)")
ENERGY_PER_CYCLE_J = constant(
    "tensai.energy_per_cycle_j", COMPUTE_POWER_W / COMPUTE_POWER_CLOCK_HZ, "J", "", "derived",
    "500 uW / 60 MHz: the energy of one compute cycle, the same at every clock (voltage "
    "scaling at low clocks would lower it; not modelled)")
# -- cycles (ours) -------------------------------------------------------------------
DSP_MAC_UTILISATION = constant(
    "tensai.dsp_mac_utilisation", 0.5, "of peak", "", "estimate",
    "share of the DSP's two MACs per cycle an int8 dense kernel keeps busy (operand loads "
    "and loop control take the rest)")
M3_CYCLES_PER_MAC = constant(
    "tensai.m3_cycles_per_mac", 4, "cycles", "", "estimate",
    "an int8 MAC on a Cortex-M3 without SIMD: two loads, a multiply-accumulate and loop "
    "overhead")
CYCLES_PER_REQUANTISATION = constant(
    "tensai.cycles_per_requantisation", 10, "cycles", "", "estimate",
    "scale, round, add the zero point and clamp one int32 output to int8")
CYCLES_PER_LAYER = constant("tensai.cycles_per_layer", 2000, "cycles", "", "estimate",
                            "kernel call, pointers and DMA setup of one layer")
CYCLES_PER_SYNAPTIC_EVENT = {
    "dsp": constant("tensai.dsp_cycles_per_synaptic_event", 2, "cycles", "", "estimate",
                    "load one int8 weight and add it to a membrane"),
    "m3": constant("tensai.m3_cycles_per_synaptic_event", 3, "cycles", "", "estimate",
                   "load one int8 weight and add it to a membrane"),
}
CYCLES_PER_NEURON_UPDATE = constant("tensai.cycles_per_neuron_update", 6, "cycles", "",
                                    "estimate", "add the bias, compare with the threshold, "
                                    "subtract on a spike, per neuron and timestep")
# -- reserves (ours) and the battery ---------------------------------------------------
FLASH_CODE_RESERVE_BYTES = constant(
    "tensai.flash_code_reserve_bytes", 64 * KIB, "bytes", "", "estimate",
    "application code, inference runtime and constants besides the weights")
SRAM_RESERVE_BYTES = constant(
    "tensai.sram_reserve_bytes", 32 * KIB, "bytes", "", "estimate",
    "stack, heap, RTOS and sensor buffers (the SDK alone keeps a 12 KiB heap and 4.5 KiB of "
    "shared memory)")
BATTERY_MAH = constant("tensai.battery_capacity_mah", 225.0, "mAh", "cr2032", "datasheet",
                       "a CR2032 coin cell's typical capacity")
BATTERY_V = constant("tensai.battery_voltage_v", 3.0, "V", "cr2032", "datasheet",
                     "a CR2032's nominal voltage")


@dataclass
class TensaiSettings:
    """How the network runs on the chip and how often (see the node's help)."""

    inference: str = "int8"             # "int8" or "spiking"
    processor: str = "dsp"              # "dsp" or "m3"
    clock_hz: float = CLOCK_DEFAULT_HZ
    timesteps: int = 32                 # spiking only
    between_inferences: str = "listen"  # "listen" or "sleep"
    inferences_per_hour: float = 60.0
    battery_mah: float = BATTERY_MAH
    battery_v: float = BATTERY_V
    batch_size: int = 32


@dataclass
class QuantisedLayer:
    """One int8 layer: weights (int8, per output channel scale), int32 bias, and the
    scale / zero point of its input and output tensors."""

    weights: np.ndarray
    weight_scale: np.ndarray
    bias: np.ndarray
    input_scale: float
    input_zero: int
    output_scale: float
    output_zero: int
    activation: str


def _tensor_quantisation(low: float, high: float) -> tuple[float, int]:
    """Asymmetric int8 scale and zero point covering [low, high] (which holds 0)."""
    low, high = min(low, 0.0), max(high, 0.0)
    scale = (high - low) / 255.0 if high > low else 1.0
    zero = int(round(-128 - low / scale))
    return scale, int(np.clip(zero, -128, 127))


def quantise_network(network: DenseNetwork, calibration: np.ndarray) -> list[QuantisedLayer]:
    """int8 weights per output channel (symmetric) and activation ranges from
    ``calibration`` (min and max of every tensor)."""
    values = np.asarray(calibration, dtype=float)
    in_scale, in_zero = _tensor_quantisation(float(values.min()), float(values.max()))
    layers = []
    for index, layer in enumerate(network.layers):
        last = index == len(network.layers) - 1
        w_scale = np.abs(layer.weights).max(axis=0) / 127.0
        w_scale = np.where(w_scale > 0, w_scale, 1.0)
        weights = np.clip(np.round(layer.weights / w_scale), -127, 127).astype(np.int8)
        bias = np.round(layer.bias / (in_scale * w_scale)).astype(np.int64)
        z = values @ layer.weights + layer.bias
        out = z if last else apply_activation(z, layer.activation)
        out_scale, out_zero = _tensor_quantisation(float(out.min()), float(out.max()))
        layers.append(QuantisedLayer(weights, w_scale, bias, in_scale, in_zero, out_scale,
                                     out_zero, layer.activation))
        values, in_scale, in_zero = out, out_scale, out_zero
    return layers


def int8_forward(layers: list[QuantisedLayer], X: np.ndarray) -> np.ndarray:
    """The network's outputs computed with int8 tensors and int32 accumulators."""
    first = layers[0]
    q = np.clip(np.round(np.asarray(X, dtype=float) / first.input_scale) + first.input_zero,
                -128, 127).astype(np.int64)
    for index, layer in enumerate(layers):
        accumulator = (q - layer.input_zero) @ layer.weights.astype(np.int64) + layer.bias
        real = accumulator * (layer.input_scale * layer.weight_scale)
        if index == len(layers) - 1:
            return apply_activation(real, layer.activation)
        q = np.round(real / layer.output_scale) + layer.output_zero
        if layer.activation == "relu":
            q = np.maximum(q, layer.output_zero)   # ReLU fused into the clamp
        elif layer.activation != "identity":
            # Other activations are applied on the dequantised value (a lookup table on the
            # chip), then requantised.
            q = np.round(apply_activation((q - layer.output_zero) * layer.output_scale,
                                          layer.activation) / layer.output_scale
                         ) + layer.output_zero
        q = np.clip(q, -128, 127).astype(np.int64)
    raise AssertionError("unreachable")


def memory_need(network: DenseNetwork, inference: str) -> dict[str, int]:
    """Bytes of flash (int8 weights, int32 biases) and of working SRAM the network needs."""
    flash = int(sum(layer.weights.size + 4 * layer.bias.size for layer in network.layers))
    widths = [network.n_inputs] + [layer.shape[1] for layer in network.layers]
    if inference == "int8":
        # Two int8 activation buffers (in, out) and the int32 accumulators of one layer.
        sram = max(a + b + 4 * b for a, b in zip(widths[:-1], widths[1:], strict=True))
    else:
        # An int32 membrane and a spike flag per neuron, the input currents of the inputs.
        sram = 5 * sum(widths[1:]) + 5 * widths[0]
    return {"flash_bytes": flash, "sram_bytes": int(sram)}


def average_power(background_w: float, energy_j: float, latency_s: float,
                  inferences_per_hour: float) -> float:
    """Mean power when the chip computes ``inferences_per_hour`` times (each ``energy_j``
    over ``latency_s``) and spends the rest of the time at ``background_w``."""
    rate = min(inferences_per_hour / 3600.0, 1.0 / latency_s)
    return background_w * (1.0 - rate * latency_s) + energy_j * rate


class TensaiBackend(HardwareBackend):
    """The TENSAI backend: int8 or spiking numerics, memory limits, cycles, power modes."""

    name = "ETA Compute TENSAI"
    summary = ("int8 or spiking inference on the ECM3532's CoolFlux DSP or Cortex-M3, within "
               "its flash and SRAM; energy per inference, listen/sleep power, battery life")
    resources_shown = (("flash_used_bytes", "flash byte"), ("sram_used_bytes", "SRAM byte"))

    def __init__(self, settings: TensaiSettings | None = None) -> None:
        self.settings = settings or TensaiSettings()

    def check(self, network: DenseNetwork, node: str) -> None:
        super().check(network, node)
        s = self.settings
        need = memory_need(network, s.inference)
        flash = APPLICATION_FLASH_BYTES - FLASH_CODE_RESERVE_BYTES
        sram = (DSP_SRAM_BYTES if s.processor == "dsp" else M3_SRAM_BYTES) - (
            0 if s.processor == "dsp" else SRAM_RESERVE_BYTES)
        if need["flash_bytes"] > flash:
            raise NodeInputError(
                node, f"'{network.name}' needs {need['flash_bytes'] / KIB:,.1f} KiB of int8 "
                f"weights and int32 biases; TENSAI's application flash holds "
                f"{flash / KIB:,.0f} KiB for them ({APPLICATION_FLASH_BYTES // KIB} KiB less "
                f"{FLASH_CODE_RESERVE_BYTES // KIB} KiB of code).", port="model",
                fix="Use fewer or smaller hidden layers.")
        if need["sram_bytes"] > sram:
            where = "DSP memory" if s.processor == "dsp" else "M3 SRAM"
            raise NodeInputError(
                node, f"'{network.name}' needs {need['sram_bytes'] / KIB:,.1f} KiB of working "
                f"memory for {s.inference} inference; the {where} offers {sram / KIB:,.0f} KiB.",
                port="model", fix="Use narrower layers, or the other processor.")
        if s.inference == "spiking":
            for layer in network.layers[:-1]:
                if layer.activation != "relu":
                    raise NodeInputError(
                        node, f"spiking inference needs ReLU hidden layers, but '{layer.name}' "
                        f"of '{network.name}' uses '{layer.activation}'.", port="model",
                        fix="Train with ReLU hidden layers, or use int8 inference.")

    def run(self, network: DenseNetwork, X: np.ndarray, *, seed: int, scorer: Scorer,
            calibration: np.ndarray | None = None, progress: Progress | None = None,
            node: str = "Run on TENSAI") -> DeviceRun:
        s = self.settings
        rows = X if calibration is None else calibration
        layer_rows = []
        if s.inference == "int8":
            quantised = quantise_network(network, rows)
            outputs = int8_forward(quantised, X)
            cycles = 0.0
            for layer, q in zip(network.layers, quantised, strict=True):
                macs = layer.weights.size
                mac_cycles = (macs / (DSP_MACS_PER_CYCLE * DSP_MAC_UTILISATION)
                              if s.processor == "dsp" else macs * M3_CYCLES_PER_MAC)
                layer_cycles = (mac_cycles + layer.shape[1] * CYCLES_PER_REQUANTISATION
                                + CYCLES_PER_LAYER)
                cycles += layer_cycles
                layer_rows.append({"layer": layer.name, "inputs": layer.shape[0],
                                   "outputs": layer.shape[1], "macs": macs,
                                   "cycles": layer_cycles, "input_scale": q.input_scale,
                                   "output_scale": q.output_scale})
            activity: dict[str, float] = {"macs_per_inference": float(network.macs_per_sample)}
        else:
            spiking_settings = SpiNNakerSettings(timesteps=s.timesteps, input_encoding="current",
                                                 weight_bits=7, sweep_timesteps=[])
            spiking = convert(network, rows, spiking_settings)
            simulation = simulate(spiking, X, timesteps=s.timesteps, checkpoints=[],
                                  rng=np.random.default_rng(seed), settings=spiking_settings,
                                  progress=progress)
            outputs = simulation.readouts[s.timesteps]
            n = len(X)
            spikes = [float(c.sum()) / n for c in simulation.counts]
            events = sum(sp * np.count_nonzero(layer.weights) / layer.shape[0]
                         for sp, layer in zip(spikes, network.layers, strict=False))
            neurons = sum(layer.shape[1] for layer in network.layers) + network.n_inputs
            updates = neurons * s.timesteps
            cycles = (events * CYCLES_PER_SYNAPTIC_EVENT[s.processor]
                      + updates * CYCLES_PER_NEURON_UPDATE
                      + len(network.layers) * CYCLES_PER_LAYER)
            for layer, sp in zip(network.layers, spikes[1:], strict=True):
                layer_rows.append({"layer": layer.name, "inputs": layer.shape[0],
                                   "outputs": layer.shape[1], "spikes_per_sample": sp})
            activity = {"synaptic_events_per_inference": float(events),
                        "neuron_updates_per_inference": float(updates),
                        "spikes_per_inference": float(sum(spikes[1:])),
                        "input_spikes_per_inference": spikes[0]}
        latency = cycles / s.clock_hz
        energy = cycles * ENERGY_PER_CYCLE_J
        compute_power = ENERGY_PER_CYCLE_J * s.clock_hz
        sleep_power = SLEEP_CURRENT_A * s.battery_v
        background = LISTEN_POWER_W if s.between_inferences == "listen" else sleep_power
        duty = min(1.0, s.inferences_per_hour / 3600.0 * latency)
        average = average_power(background, energy, latency, s.inferences_per_hour)
        battery_j = s.battery_mah * 1e-3 * 3600.0 * s.battery_v
        need = memory_need(network, s.inference)
        metrics = {
            "latency_per_sample_s": latency,
            "latency_per_batch_s": latency * s.batch_size,
            "throughput_samples_per_s": 1.0 / latency,
            "energy_per_inference_j": energy,
            "power_w": compute_power,
            "cycles_per_inference": cycles,
            "listen_power_w": LISTEN_POWER_W,
            "sleep_power_w": sleep_power,
            "duty_cycle": duty,
            "average_power_w": average,
            "battery_life_days": battery_j / average / 86_400.0,
            **activity,
        }
        resources = {"processor": s.processor, "flash_used_bytes": need["flash_bytes"],
                     "flash_available_bytes": APPLICATION_FLASH_BYTES - FLASH_CODE_RESERVE_BYTES,
                     "sram_used_bytes": need["sram_bytes"],
                     "sram_available_bytes": (DSP_SRAM_BYTES if s.processor == "dsp"
                                              else M3_SRAM_BYTES - SRAM_RESERVE_BYTES),
                     "clock_hz": s.clock_hz}
        rates = [1, 6, 60, 600, 3600, 36_000]
        battery_table = pd.DataFrame([{
            "inferences_per_hour": r,
            "average_power_w": average_power(background, energy, latency, r),
            "battery_life_days": battery_j / average_power(background, energy, latency, r)
            / 86_400} for r in rates])
        return DeviceRun(
            outputs=outputs, metrics=metrics, resources=resources,
            assumptions=self.assumptions(),
            tables={"layers": pd.DataFrame(layer_rows), "battery": battery_table},
            plots=[{"table": "battery", "x": "inferences_per_hour", "y": ["battery_life_days"],
                    "log_x": True, "title": "Battery life against inferences per hour"}],
            not_modelled=[
                "Voltage scaling with the clock (the energy per cycle is the same at every "
                "clock; ETA Compute's CVFS would lower it at low clocks).",
                "Sensor, ADC, radio and memory power besides the vendor's figures.",
                "Wake-up latency and energy between listen or sleep and compute.",
                "The DSP and the M3 working at the same time (one runs a network).",
                "Fixed-point requantisation multipliers (rounding here is float, to nearest).",
                "Battery self-discharge, temperature and the capacity lost at high currents.",
            ],
            settings={"inference": s.inference, "processor": s.processor,
                      "clock_hz": s.clock_hz, "timesteps": s.timesteps,
                      "between_inferences": s.between_inferences,
                      "inferences_per_hour": s.inferences_per_hour,
                      "battery_mah": s.battery_mah, "battery_v": s.battery_v,
                      "calibration_rows": len(rows)})

    def assumptions(self) -> list[Assumption]:
        s = self.settings
        c = CONSTANTS
        items = [
            Assumption.of("Flash", "512 KiB, 400 KiB for the application",
                          c["tensai.application_flash_bytes"]),
            Assumption.of("Flash for weights", "400 KiB less 64 KiB of code",
                          c["tensai.flash_code_reserve_bytes"]),
            Assumption.of("M3 SRAM", "256 KiB (32 KiB kept for stack, heap and buffers)",
                          c["tensai.m3_sram_bytes"]),
            Assumption.of("DSP memory", "352 KiB - 256 KiB = 96 KiB", c["tensai.dsp_sram_bytes"]),
            Assumption("Clock", f"{s.clock_hz / 1e6:g} MHz (20-100 MHz)", cite("eta_sdk"),
                       "datasheet" if s.clock_hz == CLOCK_DEFAULT_HZ else "setting"),
            Assumption.of("Listen power", "50 uW", c["tensai.listen_power_w"]),
            Assumption.of("Compute power", "500 uW", c["tensai.compute_power_w"]),
            Assumption.of("Clock of the compute power", "60 MHz",
                          c["tensai.compute_power_clock_hz"]),
            Assumption.of("Energy per cycle", f"500 uW / 60 MHz = "
                          f"{ENERGY_PER_CYCLE_J * 1e12:.1f} pJ", c["tensai.energy_per_cycle_j"]),
            Assumption.of("Sleep current", "500 nA with the RTC on", c["tensai.sleep_current_a"]),
            Assumption("Supply voltage", "0.6-1.1 V rails (the SDK's buck settings); the seed "
                       "article's 'near 0.2 V' is not what the SDK configures", cite("eta_sdk"),
                       "datasheet"),
            Assumption("Battery", f"{s.battery_mah:g} mAh at {s.battery_v:g} V",
                       cite("cr2032"), "datasheet" if (s.battery_mah, s.battery_v) == (
                           BATTERY_MAH, BATTERY_V) else "setting"),
            Assumption("Duty cycle", f"{s.inferences_per_hour:g} inferences per hour, "
                       f"{s.between_inferences} between them", "node setting", "setting"),
            Assumption("Unsupervised spiking learning", "ETA Compute's claim that spiking "
                       "networks learn unsupervised from a tenth of the pixel data is not "
                       "modelled (networks are trained digitally and converted)",
                       cite("eta_seed"), "vendor claim"),
        ]
        if s.inference == "int8":
            items += [
                Assumption("Numerics", "int8 weights per output channel, int8 activations "
                           "per tensor (calibrated min/max), int32 accumulators, float "
                           "requantisation, last layer dequantised", "this model",
                           "modelling choice"),
                Assumption.of("DSP MACs", "2 per cycle, half of them kept busy",
                              c["tensai.dsp_mac_utilisation"]) if s.processor == "dsp" else
                Assumption.of("M3 MAC", "4 cycles per int8 MAC", c["tensai.m3_cycles_per_mac"]),
                Assumption.of("Requantisation", "10 cycles per output",
                              c["tensai.cycles_per_requantisation"]),
                Assumption.of("Layer overhead", "2,000 cycles per layer",
                              c["tensai.cycles_per_layer"]),
            ]
        else:
            items += [
                Assumption("Numerics", f"integrate-and-fire neurons (reset by subtraction), "
                           f"7-bit weight magnitudes and a sign, regular input spike trains, "
                           f"{s.timesteps} timesteps", cite("rueckauer_2017"), "paper"),
                Assumption.of("Synaptic event", f"{CYCLES_PER_SYNAPTIC_EVENT[s.processor]} "
                              "cycles", c[f"tensai.{s.processor}_cycles_per_synaptic_event"]),
                Assumption.of("Neuron update", "6 cycles per neuron and timestep",
                              c["tensai.cycles_per_neuron_update"]),
            ]
        return items


class RunOnTensai(HardwareNode):
    """Run a trained network on a simulated ETA Compute TENSAI (ECM3532) microcontroller.

    Input 'model': a trained network of dense layers (Neural Network,
    Hardware-Aware Neural Network, or a Keras Dense network); input 'data':
    the rows to score; optional input 'calibration': rows that set the int8
    activation ranges or the spiking normalisation (default: 'data').
    Output 'scored': 'data' with Score Model's columns; output 'report':
    accuracy and agreement with the digital model, latency, inferences per
    second, energy per inference, listen, sleep and average power, battery
    life at the duty cycle, flash and SRAM used, and every assumption with
    its status (datasheet, vendor claim, derived, estimate).

    'inference' int8 runs TENSAI's integer (CNN) kernels: int8 weights and
    activations, int32 sums; spiking converts the network to
    integrate-and-fire neurons run for 'timesteps' steps (ReLU hidden
    layers only). 'processor' picks the dual-MAC CoolFlux DSP (96 KiB of
    working memory) or the Cortex-M3 (256 KiB SRAM); 'clock_mhz' sets the
    clock (20-100 MHz). The int8 weights must fit the application flash and
    the working memory the processor's SRAM: a network that does not is
    refused with the sizes. Energy per inference = counted cycles x (500 uW
    / 60 MHz), ETA Compute's compute power at the SDK's default clock;
    between inferences the chip listens (50 uW, 'between_inferences'
    listen) or sleeps (500 nA); 'inferences_per_hour' and the battery
    ('battery_mah', 'battery_v', a CR2032 by default) give the battery life.
    """

    type_id = "run_on_tensai"
    version = 1
    title = "Run on TENSAI"

    class Inputs:
        calibration = Input(TABLE, optional=True,
                            help="Rows that set the int8 ranges or the spiking normalisation "
                                 "(default: 'data').")

    inference = ChoiceParam("int8", ["int8", "spiking"],
                            help="int8: integer layer kernels (TENSAI's CNN flow); spiking: "
                                 "integrate-and-fire neurons.")
    processor = ChoiceParam("dsp", ["dsp", "m3"],
                            help="The CoolFlux DSP (2 MACs per cycle) or the Cortex-M3.")
    clock_mhz = FloatParam(60.0, minimum=20.0, maximum=100.0, help="Processor clock (MHz).")
    timesteps = IntParam(32, minimum=1, maximum=10_000,
                         help="Spiking inference: timesteps per sample.")
    between_inferences = ChoiceParam("listen", ["listen", "sleep"],
                                     help="Power mode between inferences: listening for a "
                                          "wake-up (50 uW) or asleep (500 nA).")
    inferences_per_hour = FloatParam(60.0, minimum=0.0, maximum=3.6e7,
                                     help="How often the network runs, for average power and "
                                          "battery life.")
    battery_mah = FloatParam(225.0, minimum=0.001, maximum=1e6,
                             help="Battery capacity (mAh); a CR2032 holds about 225.")
    battery_v = FloatParam(3.0, minimum=0.5, maximum=48.0, help="Battery voltage (V).")

    def make_backend(self) -> TensaiBackend:
        return TensaiBackend(TensaiSettings(
            inference=self.inference, processor=self.processor,
            clock_hz=self.clock_mhz * 1e6, timesteps=self.timesteps,
            between_inferences=self.between_inferences,
            inferences_per_hour=self.inferences_per_hour, battery_mah=self.battery_mah,
            battery_v=self.battery_v, batch_size=self.batch_size))

