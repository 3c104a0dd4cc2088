"""The benchmark workload: a synthetic classification table, the Axon Studio
workflow that trains and evaluates a logistic regression on it, and the same
computation written by hand with pandas + scikit-learn (the baseline).

The data is synthetic: scikit-learn's make_classification (20 features,
random_state 0), written to a CSV file in a temporary folder.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from nodes.testing import NodeHarness
from studio.engine import Engine, MemoryCache, RunRecord
from studio.workflow import Workflow

LABEL = "label"
N_FEATURES = 20
DATA_SEED = 0
TRAIN_FRACTION = 0.7
SPLIT_SEED = 0
#: Logistic Regression node parameters and the scikit-learn arguments they map to
#: (nodes/models/learners.py).
LEARNER_PARAMS = {"regularization_strength": 1.0, "max_iterations": 1000,
                  "tolerance": 1e-4, "seed": 0}
SKLEARN_LEARNER = {"C": 1.0, "max_iter": 1000, "tol": 1e-4, "random_state": 0}

ROWS_FULL = 200_000
ROWS_SHORT = 50_000


def write_synthetic_csv(folder: Path, rows: int) -> Path:
    """``rows`` synthetic rows (make_classification, 20 features, seed 0) as CSV."""
    features, labels = make_classification(n_samples=rows, n_features=N_FEATURES,
                                           random_state=DATA_SEED)
    frame = pd.DataFrame(features, columns=[f"f{i:02d}" for i in range(N_FEATURES)])
    frame[LABEL] = labels
    path = folder / f"synthetic_classification_{rows}.csv"
    frame.to_csv(path, index=False)
    return path


def build_workflow(csv_path: Path) -> Workflow:
    """Import CSV -> Split -> Normalize -> Apply Transformation -> Logistic
    Regression -> Train -> Score -> Evaluate, with the Workflow API."""
    workflow = Workflow()
    workflow.info.name = "Benchmark: logistic regression on synthetic data"
    workflow.add_node("import_csv", {"path": str(csv_path), "label_column": LABEL},
                      node_id="data")
    workflow.add_node("split_data", {"fraction": TRAIN_FRACTION, "shuffle": True,
                                     "seed": SPLIT_SEED, "stratify": False}, node_id="split")
    workflow.add_node("normalize_data", {"method": "zscore"}, node_id="normalize")
    workflow.add_node("apply_transformation", node_id="apply_normalization")
    workflow.add_node("logistic_regression", LEARNER_PARAMS, node_id="learner")
    workflow.add_node("train_model", node_id="train")
    workflow.add_node("score_model", node_id="score")
    workflow.add_node("evaluate_model", {"threshold": 0.5}, node_id="evaluate")
    for source, source_port, target, target_port in (
            ("data", "data", "split", "data"),
            ("split", "train", "normalize", "data"),
            ("split", "test", "apply_normalization", "data"),
            ("normalize", "transform", "apply_normalization", "transform"),
            ("learner", "learner", "train", "learner"),
            ("normalize", "data", "train", "data"),
            ("train", "model", "score", "model"),
            ("apply_normalization", "data", "score", "data"),
            ("score", "scored", "evaluate", "scored")):
        workflow.connect(source, source_port, target, target_port)
    return workflow


class StepClock:
    """Seconds per named step of the baseline script, keyed by the workflow node
    that does the same work (so the two can be compared line by line)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def mark(self, node_id: str) -> None:
        now = time.perf_counter()
        self.seconds[node_id] = self.seconds.get(node_id, 0.0) + now - self._last
        self._last = now


def baseline_script(csv_path: Path, clock: StepClock | None = None) -> dict[str, Any]:
    """What the workflow computes, written directly with pandas + scikit-learn."""
    clock = clock or StepClock()
    frame = pd.read_csv(csv_path)
    clock.mark("data")
    train, test = train_test_split(frame, train_size=TRAIN_FRACTION, random_state=SPLIT_SEED,
                                   shuffle=True)
    clock.mark("split")
    features = [c for c in frame.columns if c != LABEL]
    scaler = StandardScaler().fit(train[features].to_numpy(dtype=float))
    x_train = scaler.transform(train[features].to_numpy(dtype=float))
    clock.mark("normalize")
    x_test = scaler.transform(test[features].to_numpy(dtype=float))
    clock.mark("apply_normalization")
    learner = LogisticRegression(**SKLEARN_LEARNER)
    clock.mark("learner")
    model = learner.fit(x_train, train[LABEL].to_numpy())
    clock.mark("train")
    actual = test[LABEL].to_numpy()
    predicted = model.predict(x_test)
    probability = model.predict_proba(x_test)[:, 1]
    clock.mark("score")
    fpr, tpr, thresholds = skm.roc_curve(actual, probability, pos_label=1)
    result = {
        "accuracy": skm.accuracy_score(actual, predicted),
        "precision": skm.precision_score(actual, predicted, pos_label=1, zero_division=0),
        "recall": skm.recall_score(actual, predicted, pos_label=1, zero_division=0),
        "f1": skm.f1_score(actual, predicted, pos_label=1, zero_division=0),
        "auc": skm.roc_auc_score(actual, probability),
        "log_loss": skm.log_loss(actual, probability, labels=[0, 1]),
        "confusion_matrix": skm.confusion_matrix(actual, predicted, labels=[0, 1]),
        "roc": (fpr, tpr, thresholds),
    }
    clock.mark("evaluate")
    return result


class WorkflowFailed(RuntimeError):
    """A benchmark run whose status is not 'succeeded'; ``errors`` by node id."""

    def __init__(self, record: RunRecord) -> None:
        self.record = record
        self.errors = {n: r.error for n, r in record.nodes.items() if r.state == "failed"}
        super().__init__(f"the benchmark workflow did not succeed ({record.status}): "
                         f"{self.errors}")


@dataclass
class WorkflowRun:
    """One timed engine run and what it produced (outputs by node id and port)."""

    seconds: float
    record: RunRecord
    outputs: dict[str, dict[str, Any]]

    @property
    def metrics(self) -> dict[str, float]:
        return dict(self.outputs["evaluate"]["metrics"].scalars)


def timed_workflow_run(workflow: Workflow, engine: Engine | None = None) -> WorkflowRun:
    """Run the workflow (on a new Engine(jobs=1) with a fresh MemoryCache unless
    ``engine`` is given) and time it; collecting the outputs is not timed."""
    start = time.perf_counter()
    if engine is None:
        with Engine(cache=MemoryCache(), jobs=1) as engine:
            record = engine.run(workflow)
    else:
        record = engine.run(workflow)
    seconds = time.perf_counter() - start
    if record.status != "succeeded":
        raise WorkflowFailed(record)
    outputs = {}
    for node_id, node in record.nodes.items():
        entry = engine.cache.get(node.cache_key)
        if entry is None:
            raise RuntimeError(f"run {record.run_id} left no cached result for '{node_id}'")
        outputs[node_id] = entry.outputs
    return WorkflowRun(seconds, record, outputs)


def node_work_seconds(workflow: Workflow, run: WorkflowRun, nodes: list[str] | None = None,
                      repeats: int = 3) -> dict[str, float]:
    """Each node's own code, run alone with the node harness on the inputs the
    run gave it (no engine, no cache, no digests): the median of ``repeats``."""
    times: dict[str, float] = {}
    for node_id in nodes or list(run.record.nodes):
        node = workflow.nodes[node_id]
        node_type = workflow.registry.get(node.type_id)
        inputs = {edge.target_port: run.outputs[edge.source][edge.source_port]
                  for edge in workflow.incoming(node_id)}
        samples = []
        for _ in range(repeats):
            harness = NodeHarness(node_type, node.params, node_id=node_id)
            start = time.perf_counter()
            harness.run(**inputs)
            samples.append(time.perf_counter() - start)
        times[node_id] = statistics.median(samples)
    return times


def timed_baseline_run(csv_path: Path, clock: StepClock | None = None
                       ) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    result = baseline_script(csv_path, clock)
    return time.perf_counter() - start, result


def check_same_metrics(workflow_metrics: dict[str, float], baseline: dict[str, Any]) -> None:
    """Both computed the same thing: same accuracy exactly, the rest to rounding."""
    if workflow_metrics["accuracy"] != baseline["accuracy"]:
        raise AssertionError(f"accuracy differs: workflow {workflow_metrics['accuracy']!r}, "
                             f"baseline {baseline['accuracy']!r}")
    for name in ("precision", "recall", "f1", "auc", "log_loss"):
        if not np.isclose(workflow_metrics[name], baseline[name], rtol=1e-9, atol=0.0):
            raise AssertionError(f"{name} differs: workflow {workflow_metrics[name]!r}, "
                                 f"baseline {baseline[name]!r}")
