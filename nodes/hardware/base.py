"""The interface every simulated hardware backend implements, and the node they share.

A backend is configured with its settings, checks that it can run a
:class:`~nodes.models.network.DenseNetwork` (``check``) and runs it on rows
(``run``), returning a :class:`DeviceRun`: the network's outputs as the
device computed them plus its performance figures, resources, assumptions
and tables. :class:`HardwareNode` turns that into the two outputs every
hardware node has: a scored table (the columns of Score Model, so Evaluate
Model works on it) and a :class:`~nodes.hardware.report.HardwareReport`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from nodes.context import RunContext
from nodes.contract import Randomness, ScoringRole
from nodes.data.checks import require_columns, require_no_missing, require_numeric, require_rows
from nodes.errors import NodeInputError
from nodes.hardware.registry import BackendDescriptor, register_backend
from nodes.hardware.report import Assumption, HardwareReport
from nodes.models.network import DenseNetwork, dense_network, output_probabilities, predictions
from nodes.models.train_score import SCORED_LABELS, SCORED_PROBABILITIES
from nodes.node import Node
from nodes.params import IntParam, SeedParam
from nodes.ports import HARDWARE_REPORT, MODEL, TABLE, Input, Output
from nodes.values import Model, Table

Progress = Callable[[float, str], None]


def _no_progress(fraction: float, message: str = "") -> None:
    return None


@dataclass
class DeviceRun:
    """What a backend's run produced.

    ``outputs``: the last layer's outputs as the device computed them, in the
    same space as ``DenseNetwork.forward`` (class probabilities or values),
    one row per input row. ``metrics``: at least ``latency_per_sample_s``,
    ``latency_per_batch_s``, ``throughput_samples_per_s`` and
    ``energy_per_inference_j``.
    """

    outputs: np.ndarray
    metrics: dict[str, float]
    resources: dict[str, Any]
    assumptions: list[Assumption]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    plots: list[dict[str, Any]] = field(default_factory=list)
    not_modelled: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)


class Scorer:
    """Scores device outputs against the digital model and, when known, the labels."""

    def __init__(self, network: DenseNetwork, digital_outputs: np.ndarray,
                 labels: np.ndarray | None = None) -> None:
        self.network = network
        self.digital_outputs = digital_outputs
        self.digital_predictions = predictions(network, digital_outputs)
        self.labels = labels

    def score(self, outputs: np.ndarray) -> dict[str, float]:
        """``agreement`` and ``accuracy`` (classification) or ``rmse_vs_digital`` and
        ``rmse`` (regression) of device ``outputs``."""
        predicted = predictions(self.network, outputs)
        if self.network.task == "regression":
            result = {"rmse_vs_digital": _rmse(predicted, self.digital_predictions)}
            if self.labels is not None:
                result["rmse"] = _rmse(predicted, self.labels)
            return result
        result = {"agreement": float(np.mean(predicted == self.digital_predictions))}
        if self.labels is not None:
            result["accuracy"] = float(np.mean(predicted == self.labels))
        return result

    def digital_score(self) -> dict[str, float]:
        if self.labels is None:
            return {}
        if self.network.task == "regression":
            return {"digital_rmse": _rmse(self.digital_predictions, self.labels)}
        return {"digital_accuracy": float(np.mean(self.digital_predictions == self.labels))}


def _rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(a, dtype=float) - np.asarray(b, dtype=float)) ** 2)))


class HardwareBackend(ABC):
    """A simulated device that runs dense networks.

    A subclass with a ``name`` registers itself (:mod:`nodes.hardware.registry`)
    with its ``summary`` and ``resources_shown``, so Compare Hardware knows it.
    """

    #: The name reports and comparison tables use.
    name: ClassVar[str] = ""
    #: One line: what the backend simulates.
    summary: ClassVar[str] = ""
    #: (resource key, singular word): the resources that say how much hardware a run uses.
    resources_shown: ClassVar[tuple[tuple[str, str], ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            register_backend(BackendDescriptor(cls.name, cls.summary, cls.resources_shown))

    def check(self, network: DenseNetwork, node: str) -> None:
        """Raise NodeInputError (naming ``node`` and the layer) if the device cannot run it."""
        if network.task == "regression" and network.n_outputs != 1:
            raise NodeInputError(node, f"'{network.name}' predicts {network.n_outputs} values; "
                                 "the hardware nodes score one-output regression networks.",
                                 port="model")

    @abstractmethod
    def run(self, network: DenseNetwork, X: np.ndarray, *, seed: int, scorer: Scorer,
            calibration: np.ndarray | None = None, progress: Progress = _no_progress,
            node: str = "") -> DeviceRun:
        """Run ``network`` on rows ``X``; the same ``seed`` gives the same run.

        ``node`` names the node in errors the run may raise."""


def score_columns(network: DenseNetwork, outputs: np.ndarray) -> dict[str, np.ndarray]:
    """The columns Score Model adds, computed from last-layer ``outputs``."""
    columns = {SCORED_LABELS: predictions(network, outputs)}
    if network.task == "classification":
        probabilities = output_probabilities(outputs, network.classes or [])
        # A device may compute in fp32 or fp16: make each row sum to 1 in float64.
        total = probabilities.sum(axis=1, keepdims=True)
        probabilities = probabilities / np.where(total > 0, total, 1.0)
        if len(network.classes or []) == 2:
            columns[SCORED_PROBABILITIES] = probabilities[:, 1]
        else:
            for index, name in enumerate(network.classes or []):
                columns[f"{SCORED_PROBABILITIES}_{name}"] = probabilities[:, index]
    return columns


class HardwareNode(Node):
    """Base of the "Run on ..." nodes (no type_id: not a node type of its own).

    Subclasses set the title, docstring and parameters and build their
    backend in ``make_backend``.
    """

    category = "Hardware"
    # A simulated device run is an experiment, not a service step.
    scoring_role = ScoringRole.NOT_IN_SERVICE
    randomness = Randomness()

    class Inputs:
        model = Input(MODEL, help="A trained network (Neural Network or Keras Dense layers).")
        data = Input(TABLE, help="Rows to score: the model's feature columns (like Score "
                                 "Model's input); with its label column, accuracy is reported.")

    class Outputs:
        scored = Output(TABLE, help="The rows with the device's predictions, in Score Model's "
                                    "columns ('Scored Labels', 'Scored Probabilities...').")
        report = Output(HARDWARE_REPORT, help="Accuracy, agreement with the digital model, "
                                              "latency, throughput, energy, resources and "
                                              "assumptions of the device run.")

    batch_size = IntParam(32, minimum=1, maximum=1_000_000,
                          help="Rows per device batch, for the latency-per-batch figure.")
    seed = SeedParam(help="Random seed of the device run (noise, spikes); the same seed "
                          "reproduces the same run.")

    def make_backend(self) -> HardwareBackend:
        raise NotImplementedError

    def run(self, ctx: RunContext, model: Model, data: Table,
            calibration: Table | None = None) -> dict[str, Any]:
        ctx.progress(0.0, "compiling the network")
        network = dense_network(model, node=self.label, port="model")
        backend = self.make_backend()
        backend.check(network, self.label)
        X = self._features(data, network, "data", model)
        calibration_rows = (self._features(calibration, network, "calibration", model)
                            if calibration is not None else None)
        label_column = getattr(model, "label_column", None)
        labels = (data.frame[label_column].to_numpy()
                  if label_column and label_column in data.frame.columns else None)
        scorer = Scorer(network, network.forward(X), labels)
        device = backend.run(network, X, seed=self.seed, scorer=scorer,
                             calibration=calibration_rows, node=self.label,
                             progress=lambda f, m="": ctx.progress(0.05 + 0.9 * f, m))
        metrics = {**scorer.score(device.outputs), **scorer.digital_score(),
                   "max_output_difference": float(np.max(np.abs(
                       device.outputs - scorer.digital_outputs))),
                   **device.metrics}
        report = HardwareReport(
            backend=backend.name, model=network.name, rows=len(X), metrics=metrics,
            resources=device.resources, assumptions=device.assumptions, tables=device.tables,
            plots=device.plots, not_modelled=device.not_modelled,
            settings={**device.settings, "seed": self.seed, "batch_size": self.batch_size},
            model_digest=model.digest() if hasattr(model, "digest") else "",
            data_digest=data.digest())
        ctx.log("%s: %s", backend.name, ", ".join(
            f"{k}={metrics[k]:.4g}" for k in ("accuracy", "agreement", "rmse_vs_digital")
            if k in metrics))
        ctx.progress(1.0, "done")
        return {"scored": _scored_table(data, label_column, score_columns(network,
                                                                          device.outputs)),
                "report": report}

    def _features(self, table: Table, network: DenseNetwork, port: str,
                  model: Model) -> np.ndarray:
        features = network.feature_names
        require_rows(self.label, table, port=port)
        require_columns(self.label, table, features, port=port,
                        why=f" that '{network.name}' was trained on")
        require_numeric(self.label, table, features, port=port)
        require_no_missing(self.label, table, features, port=port)
        return table.frame[features].to_numpy(dtype=float)


def _scored_table(data: Table, label_column: str | None,
                  scores: dict[str, np.ndarray]) -> Table:
    # The same shape as Score Model's output: the input columns, then the scores.
    stale = set(data.columns_with_role("score")) | set(scores)
    base = data.frame.drop(columns=[c for c in data.frame.columns if c in stale])
    frame = pd.concat([base, pd.DataFrame(scores, index=base.index)], axis=1)
    roles = dict.fromkeys(scores, "score")
    if label_column and label_column in frame.columns and data.label_column is None:
        roles[label_column] = "label"
    return data.with_frame(frame, roles)
