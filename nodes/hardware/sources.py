"""The published sources behind the hardware backends' constants, cited by key.

Each backend's assumptions name one of these, so a report, the code and
docs/hardware.md cite the same thing in the same words.
"""

from __future__ import annotations

SOURCES: dict[str, str] = {
    # IBM phase-change memory
    "aihwkit_pcm": "IBM Analog Hardware Acceleration Kit (aihwkit), inference/noise/pcm.py, "
                   "PCMLikeNoiseModel; statistical model fitted on ~1 million PCM devices "
                   "(Nandakumar et al., ICECS 2019)",
    "aihwkit_tile": "aihwkit inference tile defaults (InferenceRPUConfig: DAC, ADC, output "
                    "noise, tile size, digital bias)",
    "aihwkit_docs": "aihwkit documentation, 'Analog AI inference with PCM' (pcm_inference)",
    "le_gallo_2023": "Le Gallo et al., 'A 64-core mixed-signal in-memory compute chip based on "
                     "phase-change memory for deep neural network inference', Nature "
                     "Electronics 2023 (arXiv 2212.02872)",
    "joshi_2020": "Joshi et al., 'Accurate deep neural network inference using computational "
                  "phase-change memory', Nature Communications 11:2473 (2020)",
    # SpiNNaker
    "spinnaker_chip": "SpiNNaker chip and machine figures (Furber et al., 'The SpiNNaker "
                      "project', Proc. IEEE 2014; SpiNNaker front-end energy model)",
    "spinnaker_energy": "SpiNNaker front-end energy model (sPyNNaker/SpiNNFrontEndCommon "
                        "compute_energy_used): chip idle/active power, energy per packet",
    "spynnaker_mapping": "sPyNNaker defaults: at most 256 neurons per core, 1 ms timestep, "
                         "16-bit fixed-point synaptic weights",
    "pynn_if_curr_exp": "PyNN IF_curr_exp standard cell defaults",
    "rueckauer_2017": "Rueckauer et al., 'Conversion of continuous-valued deep networks to "
                      "efficient event-driven networks for image classification', Frontiers in "
                      "Neuroscience 11:682 (2017)",
    "diehl_2015": "Diehl et al., 'Fast-classifying, high-accuracy spiking deep networks "
                  "through weight and threshold balancing', IJCNN 2015",
    "stromatias_2015": "Stromatias et al., 'Scalable energy-efficient, low-latency "
                       "implementations of trained spiking deep belief networks on SpiNNaker', "
                       "IJCNN 2015",
    # Graphcore
    "jia_2019": "Jia et al., 'Dissecting the Graphcore IPU Architecture via "
                "Microbenchmarking', arXiv 1912.03413 (2019)",
    "graphcore_seed": "Graphcore IPU overview article (the seed article of this project): "
                      "tiles, threads, IPU-Links, PCIe, exchange bandwidth",
    "graphcore_c2": "Graphcore C2 PCIe card product brief (2 GC2 IPUs per card, 300 W board)",
    "poplar_ipumodel": "Poplar SDK IPUModel: runs the program on the host CPU and estimates "
                       "cycles and memory (our model is of the same kind)",
    "ieee754": "IEEE 754 binary16 (half precision): 11-bit significand",
}


def cite(key: str) -> str:
    """The citation text of ``key`` (a KeyError for an unknown key is a bug of ours)."""
    return SOURCES[key]
