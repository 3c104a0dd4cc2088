"""The sources behind the hardware backends' constants, and the constants themselves.

Every number a backend uses is declared once with :func:`constant`: its
value, unit, the key of its :class:`Source` and its status. A report's
assumptions, the code and docs/hardware.md cite the same source in the same
words; ``tests/hardware/test_citations.py`` fails when a constant has no
source, names a source that is not here, or is missing from the tables of
docs/hardware.md.

Status words (the issue tracker and the docs use the same ones):

- ``datasheet``: a figure from the maker's datasheet, SDK or product brief;
- ``paper``: a figure published in a peer-reviewed paper or a technical report;
- ``published``: a documented default of public software (aihwkit, sPyNNaker,
  PyNN) or a standard;
- ``vendor claim``: a figure the maker states in press material, not measured
  by anyone else;
- ``derived``: computed from other constants (the note says how);
- ``estimate``: ours, with no published figure behind it (the note says why
  the number is plausible).
"""

from __future__ import annotations

from dataclasses import dataclass

#: The status a constant can have (see the module docstring).
CONSTANT_STATUSES = ("datasheet", "paper", "published", "vendor claim", "derived", "estimate")


@dataclass(frozen=True)
class Source:
    """A publication, datasheet or code base, with where to find it (``locator``)."""

    key: str
    citation: str
    short: str
    locator: str


SOURCES: dict[str, Source] = {}


def _source(key: str, short: str, citation: str, locator: str) -> None:
    SOURCES[key] = Source(key, citation, short, locator)


# -- IBM phase-change memory -------------------------------------------------------
_source("aihwkit_pcm", "aihwkit PCMLikeNoiseModel",
        "IBM Analog Hardware Acceleration Kit (aihwkit), PCMLikeNoiseModel and "
        "SinglePairConductanceConverter; statistical model fitted on ~1 million PCM devices "
        "(Nandakumar et al., ICECS 2019)",
        "github.com/IBM/aihwkit: src/aihwkit/inference/noise/pcm.py, "
        "src/aihwkit/inference/converter/conductance.py")
_source("aihwkit_tile", "aihwkit inference tile",
        "aihwkit InferenceRPUConfig defaults: IOParameters (DAC, ADC, output noise, noise "
        "and bound management), MappingParameter (weight scaling, tile sizes, digital bias), "
        "TileModuleArray splits",
        "github.com/IBM/aihwkit: src/aihwkit/simulator/parameters/io.py, "
        "src/aihwkit/simulator/parameters/mapping.py, src/aihwkit/simulator/tiles/array.py, "
        "src/rpucuda/rpu_forward_backward_pass.cpp")
_source("aihwkit_drift", "aihwkit GlobalDriftCompensation",
        "aihwkit GlobalDriftCompensation: one-hot (identity) read-out, mean |output|, "
        "baseline after programming, ratio applied to the tile outputs",
        "github.com/IBM/aihwkit: src/aihwkit/inference/compensation/drift.py, "
        "src/aihwkit/simulator/tiles/inference.py")
_source("aihwkit_hwa", "aihwkit hardware-aware training examples",
        "aihwkit hardware-aware training examples: WeightModifierType.ADD_NORMAL with "
        "std_dev 0.1 relative to the actual max |w|, once per mini-batch; weight clipping",
        "github.com/IBM/aihwkit: examples/05_simple_layer_hardware_aware.py, "
        "examples/06_lenet5_hardware_aware.py")
_source("aihwkit_docs", "aihwkit docs (pcm_inference)",
        "aihwkit documentation, 'Inference and PCM statistical model' (pcm_inference)",
        "github.com/IBM/aihwkit: docs/source/pcm_inference.rst")
_source("le_gallo_2023", "Le Gallo et al. 2023",
        "Le Gallo et al., 'A 64-core mixed-signal in-memory compute chip based on "
        "phase-change memory for deep neural network inference', Nature Electronics 6, "
        "680-693 (2023)", "doi:10.1038/s41928-023-01010-1; arXiv:2212.02872")
_source("joshi_2020", "Joshi et al. 2020",
        "Joshi et al., 'Accurate deep neural network inference using computational "
        "phase-change memory', Nature Communications 11:2473 (2020)",
        "doi:10.1038/s41467-020-16108-9")
# -- SpiNNaker ------------------------------------------------------------------------
_source("painkras_2013", "Painkras et al. 2013",
        "Painkras et al., 'SpiNNaker: A 1-W 18-Core System-on-Chip for Massively-Parallel "
        "Neural Network Simulation', IEEE Journal of Solid-State Circuits 48(8):1943-1953 "
        "(2013)", "doi:10.1109/JSSC.2013.2259038")
_source("spinnaker_front_end", "SpiNNaker front-end energy model",
        "SpiNNFrontEndCommon compute_energy_used: chip idle and active power and energy per "
        "spike packet, each constant credited there to Painkras et al. 2013",
        "github.com/SpiNNakerManchester/SpiNNFrontEndCommon: spinn_front_end_common/"
        "interface/interface_functions/compute_energy_used.py")
_source("furber_2014", "Furber et al. 2014",
        "Furber, Galluppi, Temple and Plana, 'The SpiNNaker project', Proceedings of the "
        "IEEE 102(5):652-665 (2014)", "doi:10.1109/JPROC.2014.2304638")
_source("spynnaker", "sPyNNaker",
        "sPyNNaker (PyNN on SpiNNaker) defaults and neuron kernels: at most 256 neurons per "
        "core, 1 ms timestep, 16-bit fixed-point weights, IF_curr_exp with exponential "
        "synapses and exact membrane integration",
        "github.com/SpiNNakerManchester/sPyNNaker: neural_modelling/src/neuron/models/"
        "neuron_model_lif_impl.h, .../synapse_types/synapse_types_exponential_impl.h")
_source("pynn_if_curr_exp", "PyNN IF_curr_exp",
        "PyNN standard cell IF_curr_exp and its default parameters",
        "neuralensemble.org/docs/PyNN/standardmodels.html")
_source("sharp_2012", "Sharp et al. 2012",
        "Sharp, Galluppi, Rast and Furber, 'Power-efficient simulation of detailed cortical "
        "microcircuits on SpiNNaker', Journal of Neuroscience Methods 210:110-118 (2012): "
        "4 chips, 10,000 neurons, 100 nJ per neuron per ms and 43 nJ per postsynaptic "
        "potential (whole-system averages)", "doi:10.1016/j.jneumeth.2012.03.001")
_source("stromatias_2015", "Stromatias et al. 2015",
        "Stromatias et al., 'Scalable energy-efficient, low-latency implementations of "
        "trained spiking deep belief networks on SpiNNaker', IJCNN 2015: 784-500-500-10 DBN on "
        "MNIST, 95% (0.06 points below software), 0.3 W", "doi:10.1109/IJCNN.2015.7280625")
_source("ne15_benchmark", "NE15 benchmark II",
        "NE15 benchmark 'Network II' (the spiking DBN of Stromatias et al. 2015): 1.5 kHz "
        "input rate, 1.88 million synaptic events per second, 2.97 kJ for 10,000 s",
        "github.com/NEvision/NE15 wiki: Benchmark-Network-II")
_source("rueckauer_2017", "Rueckauer et al. 2017",
        "Rueckauer et al., 'Conversion of continuous-valued deep networks to efficient "
        "event-driven networks for image classification', Frontiers in Neuroscience 11:682 "
        "(2017)", "doi:10.3389/fnins.2017.00682")
_source("diehl_2015", "Diehl et al. 2015",
        "Diehl et al., 'Fast-classifying, high-accuracy spiking deep networks through weight "
        "and threshold balancing', IJCNN 2015", "doi:10.1109/IJCNN.2015.7280696")
# -- Graphcore ---------------------------------------------------------------------------
_source("jia_2019", "Jia et al. 2019",
        "Jia, Tillman, Maggioni and Scarpazza, 'Dissecting the Graphcore IPU Architecture "
        "via Microbenchmarking', Citadel technical report (2019)", "arXiv:1912.03413")
_source("graphcore_seed", "IPU seed article",
        "Graphcore IPU overview article (the seed article of this project): tiles, threads, "
        "IPU-Links, PCIe, exchange bandwidth", "HARDWARE.md (project brief)")
_source("graphcore_c2", "Graphcore C2 product brief",
        "Graphcore C2 IPU-Processor PCIe card product brief: two GC2 IPUs, 300 W, PCIe Gen4 x16",
        "graphcore.ai (C2 card product brief)")
_source("pcie_4", "PCIe 4.0 specification",
        "PCI Express Base Specification 4.0: 16 GT/s per lane, 128b/130b encoding",
        "pcisig.com (PCIe Base Specification Revision 4.0)")
_source("poplar_ipumodel", "Poplar IPUModel",
        "Poplar SDK IPUModel: runs the program on the host CPU and estimates cycles and "
        "memory (our model is of the same kind)", "docs.graphcore.ai (Poplar user guide)")
_source("ieee754", "IEEE 754",
        "IEEE 754 binary16 (half precision): 11-bit significand", "IEEE Std 754-2019")
# -- ETA Compute TENSAI (ECM3532) -----------------------------------------------------------
_source("eta_seed", "IEEE Spectrum on ETA Compute",
        "IEEE Spectrum, 'ETA Compute debuts spiking neural network chip for edge AI' (and "
        "EE News): ~50 uW listening, ~500 uW computing, sub-threshold asynchronous logic, "
        "spiking and convolutional networks (ETA Compute's statements)",
        "spectrum.ieee.org (seed article of this project, HARDWARE.md)")
_source("wikichip_ecm3532", "WikiChip ECM3532",
        "WikiChip, 'ECM3532 - Eta Compute': 55 nm ULP, Arm Cortex-M3 and a dual-MAC NXP "
        "CoolFlux DSP16, 512 KiB flash, 352 KiB SRAM in all, 500 nA sleep with RTC, typical "
        "AI workloads under 1 mW", "en.wikichip.org/wiki/eta_compute/ecm353x/ecm3532")
_source("eejournal_ecm3532", "EE Journal on the ECM3532",
        "EE Journal, 'Machine Learning For a Few Dollars: Eta Compute's ECM3532': Cortex-M3 "
        "and CoolFlux DSP, 512 KB flash, 256 KB SRAM, 8 KB ROM, continuous voltage and "
        "frequency scaling", "eejournal.com/article/machine-learning-for-a-few-dollars/")
_source("eta_sdk", "ECM3532 SDK",
        "Eta Compute ECM3532 SDK as shipped in Edge Impulse's ECM3532 firmware: M3 and DSP "
        "clocks 20-100 MHz (default 60), supply rails 0.6-1.1 V, 256 KiB M3 SRAM, 400 KiB "
        "application flash in the linker script",
        "github.com/edgeimpulse/firmware-eta-compute-ecm3532: Platform/ECM3532/M3/hw/power/"
        "ecm3532/Kconfig, .../src/eta_pwr_gov.c, "
        "Applications/edge-impulse-ingestion/edge-impulse-ingestion.ld")
_source("cr2032", "CR2032 (IEC 60086)",
        "CR2032 lithium coin cell (IEC 60086): 3.0 V nominal, typical capacity 225 mAh",
        "IEC 60086; en.wikipedia.org/wiki/CR2032_battery (summary of maker datasheets)")


def cite(key: str) -> str:
    """The citation text of ``key`` (a KeyError for an unknown key is a bug of ours)."""
    return SOURCES[key].citation


@dataclass(frozen=True)
class Constant:
    """One number a backend uses: value, unit, source and status.

    ``name`` is "backend.what" (e.g. ``spinnaker.chip_idle_power_w``); docs/hardware.md
    has a table row for every name. ``source`` is a key of :data:`SOURCES` (may be
    empty only for ``derived`` and ``estimate``); ``note`` says how a derived figure
    is computed or why an estimate is plausible.
    """

    name: str
    value: float
    unit: str
    source: str
    status: str
    note: str = ""

    @property
    def citation(self) -> str:
        return SOURCES[self.source].citation if self.source else self.note


#: Every constant of every backend, by name.
CONSTANTS: dict[str, Constant] = {}


def constant(name: str, value: float, unit: str, source: str, status: str,
             note: str = "") -> float:
    """Declare a backend constant and return its value (so modules read like plain
    constants). Raises at import time when the declaration is incomplete."""
    if status not in CONSTANT_STATUSES:
        raise ValueError(f"{name}: status {status!r} is not one of {CONSTANT_STATUSES}")
    if source and source not in SOURCES:
        raise ValueError(f"{name}: unknown source {source!r}")
    if not source and status not in ("derived", "estimate"):
        raise ValueError(f"{name}: a {status} figure needs a source")
    if status in ("derived", "estimate") and not note:
        raise ValueError(f"{name}: say how the {status} figure is obtained (note)")
    existing = CONSTANTS.get(name)
    if existing is not None and existing.value != value:
        raise ValueError(f"{name} is declared twice with different values")
    CONSTANTS[name] = Constant(name, float(value), unit, source, status, note)
    return value


def constants_of(backend: str) -> list[Constant]:
    """The constants whose name starts with ``backend.``."""
    return [c for name, c in CONSTANTS.items() if name.startswith(backend + ".")]


def constant_row(constant: Constant) -> str:
    """The docs/hardware.md table row of ``constant`` (the citation test looks for it)."""
    source = SOURCES[constant.source].short if constant.source else "ours"
    return (f"| `{constant.name}` | {constant.value:.4g} {constant.unit} | {source} | "
            f"{constant.status} | {_cell(constant.note)} |")


def source_row(source: Source) -> str:
    """The docs/hardware.md sources table row of ``source``."""
    return (f"| `{source.key}` | {source.short} | {_cell(source.citation)} | "
            f"{_cell(source.locator)} |")


def _cell(text: str) -> str:
    # A pipe would end the table cell.
    return text.replace("|", "\\|")
