"""Training throughput of the Keras network node against a plain Keras script.

The model is the book's first network: one hidden Dense layer of 512 ReLU
units and a softmax over 10 classes, RMSprop, sparse categorical
cross-entropy, accuracy, batch size 128. The data are synthetic rows of 64
features (scikit-learn's make_classification, 10 classes, seed 0; 20,000
rows and 5 epochs, --short 5,000 rows and 2 epochs).

- node: Train Model with a Neural Network (Keras) learner, through the node
  harness: the table checks, the clone, the tf.data pipeline (cache,
  shuffle, batch, prefetch), the progress/cancellation callback, the seeds.
- plain: the script one would write by hand: ``keras.Sequential`` with the
  same layers, ``compile``, ``fit(X, y, batch_size=128, epochs=...)`` on
  NumPy arrays.

Both build, compile and train a fresh model each time; one untimed warm-up
of each absorbs the TensorFlow import and first tracing; timed repetitions
(5, --short 2) alternate the two. Throughput = rows x epochs / seconds.
The figure compares the fastest repetition of each (like timeit: on a
shared machine the fastest run is the least disturbed one); the medians
are printed beside them.

Target: node throughput >= 0.95 x plain throughput (time ratio <= 1/0.95).

    python bench/bench_keras.py [--short] [--repeats N] [--results FILE]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd
from report import Figure, median, parse_args, print_figures, seconds, write_results
from sklearn.datasets import make_classification

from nodes.models._keras_runtime import keras_modules
from nodes.models.keras_network import NeuralNetworkKeras
from nodes.models.train_score import TrainModel
from nodes.testing import NodeHarness, run_node
from nodes.values import Table
from studio.cli.display import print_table

TARGET_THROUGHPUT_RATIO = 0.95
BATCH_SIZE = 128
FEATURES = 64
CLASSES = 10
UNITS = 512


def make_table(rows: int) -> Table:
    X, y = make_classification(n_samples=rows, n_features=FEATURES, n_informative=32,
                               n_classes=CLASSES, random_state=0)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(FEATURES)])
    frame["label"] = y
    return Table(frame, {"label": "label"})


def train_node(table: Table, epochs: int) -> float:
    learner = run_node(NeuralNetworkKeras, {
        "layers": [{"type": "dense", "units": UNITS, "activation": "relu"}],
        "optimizer": "rmsprop", "epochs": epochs, "batch_size": BATCH_SIZE})["learner"]
    harness = NodeHarness(TrainModel)
    start = time.perf_counter()
    model = harness.run(learner=learner, data=table)["model"]
    elapsed = time.perf_counter() - start
    assert len(model.estimator.history_["loss"]) == epochs
    return elapsed


def train_plain(X: np.ndarray, y: np.ndarray, epochs: int) -> float:
    _, keras = keras_modules()
    start = time.perf_counter()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((FEATURES,)),
                              keras.layers.Dense(UNITS, activation="relu"),
                              keras.layers.Dense(CLASSES, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(X, y, batch_size=BATCH_SIZE, epochs=epochs, verbose=0)
    elapsed = time.perf_counter() - start
    assert len(history.history["loss"]) == epochs
    return elapsed


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(__doc__.splitlines()[0], argv)
    rows, epochs = (5_000, 2) if args.short else (20_000, 5)
    table = make_table(rows)
    X = table.frame.drop(columns="label").to_numpy(dtype="float32")
    y = table.frame["label"].to_numpy()
    keras_modules()  # import TensorFlow before timing anything
    train_node(table, 1)
    train_plain(X, y, 1)
    node_times, plain_times = [], []
    for _ in range(args.repeats):
        node_times.append(train_node(table, epochs))
        plain_times.append(train_plain(X, y, epochs))
    node_s, plain_s = min(node_times), min(plain_times)
    samples = rows * epochs
    print(f"{rows} rows x {epochs} epochs, batch {BATCH_SIZE}, Dense {UNITS} ReLU + softmax "
          f"{CLASSES}, {args.repeats} repetitions")
    print_table(["trained by", "fastest", "samples/s", "median", "samples/s (median)"], [
        ["Neural Network (Keras) + Train Model", seconds(node_s), f"{samples / node_s:,.0f}",
         seconds(median(node_times)), f"{samples / median(node_times):,.0f}"],
        ["plain Keras script (fit on NumPy)", seconds(plain_s), f"{samples / plain_s:,.0f}",
         seconds(median(plain_times)), f"{samples / median(plain_times):,.0f}"],
    ], sys.stdout)
    ratio = plain_s / node_s
    print(f"throughput ratio node / plain: {ratio:.3f} (target >= {TARGET_THROUGHPUT_RATIO})")
    figure = Figure("keras training time, node / plain script", node_s, plain_s,
                    1 / TARGET_THROUGHPUT_RATIO,
                    note=f"throughput ratio {ratio:.3f}, target >= {TARGET_THROUGHPUT_RATIO}")
    print_figures([figure])
    write_results(args.results, [figure])
    return 0


if __name__ == "__main__":
    sys.exit(main())
