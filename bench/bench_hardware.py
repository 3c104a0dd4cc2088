"""How fast are the simulated hardware backends on the digits MLP, and what do their models predict?

Workload: the 8x8 digits sample dataset (1,797 rows, 64 pixel features),
split 70/30 (seed 1), a scikit-learn MLPClassifier with 64 ReLU hidden
units (seed 0) trained on the 1,257 training rows; every backend scores
the 540 test rows (--short: the first 180) with its node's default
settings, the sweeps turned off so one device run is timed.

Figures (median of 5 repeats, --short 2, after an untimed warm-up):

- samples per second of each backend's run, against the digital forward
  pass of the same network in float64 numpy in the same run (the ratio
  is simulation time / digital time; targets: GC2 <= 40 (its ~1.5 ms of
  placement planning dominates on few rows), PCM <= 40,
  SpiNNaker <= 200, i.e. two digital passes per simulated timestep);
- SpiNNaker: synaptic events per second of the spiking simulation (100
  timesteps of 1 ms) against a plain dense-matrix reference that does the
  same timesteps as bare matrix products (spikes @ weights for every
  layer, no neuron dynamics, no Poisson draws, no bookkeeping). The
  reference touches every synapse every step; the simulation counts only
  synapses reached by a spike, so events/s are printed for both and the
  figure compares wall times (target <= 6).

Model figures printed (not timed; they come from the backends' constants,
docs/hardware.md):

- SpiNNaker: the power predicted for Stromatias et al.'s 784-500-500-10
  spiking DBN at their published rates, against their 0.3 W (predicted /
  published; the issue asks for 0.7-1.3);
- Graphcore GC2: end-to-end TFLOPS of large matrix products (launch, PCIe
  transfers and every micro-batch included) and on the device alone,
  against the architectural peak.

    python bench/bench_hardware.py [--short] [--results FILE]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence

import numpy as np
from report import Figure, machine_line, median, parse_args, print_figures, seconds, write_results
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from nodes.hardware.base import Scorer
from nodes.hardware.graphcore import GraphcoreBackend, GraphcoreSettings, matmul_throughput
from nodes.hardware.pcm import PCMBackend, PCMSettings
from nodes.hardware.spinnaker import (
    SpiNNakerBackend,
    SpiNNakerSettings,
    convert,
    stromatias_2015,
)
from nodes.hardware.tensai import TensaiBackend
from nodes.models.network import DenseNetwork, dense_network
from studio.cli.display import print_table

# SpiNNaker runs 100 timesteps, each at least one pass through the network: its target
# against one digital pass is 2 x timesteps. The reference target allows for the Poisson
# draws, threshold tests and spike counting the bare products leave out.
TARGETS = {"SpiNNaker": 200.0, "Graphcore GC2": 40.0, "IBM PCM": 40.0,
           "ETA Compute TENSAI": 40.0, "reference": 6.0}
#: (rows, columns, batch) of the matrix products whose GC2 TFLOPS are printed.
MATMULS = ((2048, 2048, 4096), (4096, 4096, 4096), (8192, 8192, 4096), (4096, 4096, 64))


def timed(function: Callable[[], object], repeats: int) -> float:
    function()  # warm-up: imports, BLAS threads, caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return median(times)


def dense_reference(network: DenseNetwork, X: np.ndarray, timesteps: int) -> None:
    """The same timesteps as bare dense products: what the simulation cannot avoid."""
    spiking = convert(network, X, SpiNNakerSettings())
    inputs = np.clip(X / spiking.scales[0], -1.0, 1.0)
    for _ in range(timesteps):
        values = inputs
        for weights in spiking.weights:
            values = values @ weights


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(__doc__.splitlines()[0], argv)
    repeats = 2 if args.short else 5
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=1,
                                                        stratify=y)
    if args.short:
        X_test, y_test = X_test[:180], y_test[:180]
    model = MLPClassifier((64,), max_iter=300, random_state=0).fit(X_train, y_train)
    network = dense_network(model)
    scorer = Scorer(network, network.forward(X_test), y_test)
    print(f"digits MLP 64-64-10 on {len(X_test)} rows; {machine_line()}")

    digital_s = timed(lambda: network.forward(X_test), repeats)
    timesteps = SpiNNakerSettings().timesteps
    backends = {
        "SpiNNaker": SpiNNakerBackend(SpiNNakerSettings(sweep_timesteps=[])),
        "Graphcore GC2": GraphcoreBackend(GraphcoreSettings(max_batch=32)),
        "IBM PCM": PCMBackend(PCMSettings(sweep_times={})),
        "ETA Compute TENSAI": TensaiBackend(),
    }
    rows, figures, runs, times = [], [], {}, {}
    for name, backend in backends.items():
        runs[name] = backend.run(network, X_test, seed=0, scorer=scorer)
        elapsed = timed(lambda b=backend: b.run(network, X_test, seed=0, scorer=scorer),
                        repeats)
        times[name] = elapsed
        agreement = scorer.score(runs[name].outputs)["agreement"]
        rows.append([name, seconds(elapsed), f"{len(X_test) / elapsed:,.0f}",
                     f"{elapsed / digital_s:,.1f}", f"{agreement:.3f}"])
        figures.append(Figure(f"{name} run / digital forward", elapsed, digital_s,
                              TARGETS[name], note=f"{len(X_test) / elapsed:,.0f} samples/s"))
    rows.append(["digital forward (float64)", seconds(digital_s),
                 f"{len(X_test) / digital_s:,.0f}", "1.0", "1.000"])
    print_table(["backend", "time", "samples/s", "x digital", "agreement"], rows, sys.stdout)

    simulation_s = times["SpiNNaker"]
    reference_s = timed(lambda: dense_reference(network, X_test, timesteps), repeats)
    events = runs["SpiNNaker"].metrics["synaptic_events_per_sample"] * len(X_test)
    dense_events = timesteps * len(X_test) * network.macs_per_sample
    print()
    print_table(["SpiNNaker simulation", "time", "synaptic events", "events/s"], [
        ["spiking simulation", seconds(simulation_s), f"{events:,.0f}",
         f"{events / simulation_s:,.0f}"],
        ["dense-matrix reference", seconds(reference_s), f"{dense_events:,.0f}",
         f"{dense_events / reference_s:,.0f}"],
    ], sys.stdout)
    figures.append(Figure("SpiNNaker simulation / dense reference", simulation_s, reference_s,
                          TARGETS["reference"],
                          note=f"{events / simulation_s:,.0f} synaptic events/s simulated, "
                               f"{dense_events / reference_s:,.0f} synapse updates/s dense"))
    print()
    print_model_figures()
    print()
    print_figures(figures)
    write_results(args.results, figures)
    return 0


def print_model_figures() -> None:
    """What the energy and timing models predict for published workloads."""
    anchor = stromatias_2015()
    print(f"SpiNNaker, Stromatias et al. 2015 (784-500-500-10 DBN, {anchor['cores']} cores on "
          f"{anchor['chips']} chip, {anchor['synaptic_events_per_s']:,.0f} synaptic events/s):")
    print_table(["predicted", "published", "predicted / published", "idle", "activity"], [[
        f"{anchor['predicted_power_w']:.3f} W", f"{anchor['published_power_w']:.3f} W",
        f"{anchor['ratio']:.2f}", f"{anchor['idle_power_w']:.3f} W",
        f"{anchor['activity_power_w'] * 1e3:.1f} mW"]], sys.stdout)
    print()
    print("Graphcore GC2, matrix products (mixed precision, efficiency 0.5 and 1.0):")
    rows = []
    for shape_rows, shape_columns, batch in MATMULS:
        for efficiency in (0.5, 1.0):
            m = matmul_throughput(shape_rows, shape_columns, batch,
                                  GraphcoreSettings(efficiency=efficiency))
            rows.append([f"{shape_rows}x{shape_columns}, batch {batch}", f"{efficiency:g}",
                         str(m["chips"]), str(m["micro_batch"]),
                         f"{m['end_to_end_tflops']:.1f}", f"{m['device_tflops']:.1f}",
                         f"{m['peak_tflops']:.1f}", f"{m['end_to_end_fraction_of_peak']:.0%}",
                         seconds(m["host_transfer_s"])])
    print_table(["matmul", "efficiency", "chips", "micro-batch", "end-to-end TFLOPS",
                 "device TFLOPS", "peak TFLOPS", "end-to-end / peak", "PCIe"], rows,
                sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
