"""A trained network's weights and layer structure, as plain numpy arrays.

The hardware backends (``nodes.hardware``) compile networks of dense layers;
they read them through this small interface rather than through each
library's own objects::

    network = dense_network(model)          # a Model, an MLP, or anything with
    network.layers[0].weights.shape         # .to_dense_network()
    probabilities = network.forward(X)

Supported directly: scikit-learn ``MLPClassifier`` and ``MLPRegressor``
(optionally behind affine scalers in a ``Pipeline``, which are folded into the
first layer), and any object with a ``to_dense_network()`` method returning a
:class:`DenseNetwork` (the Keras wrapper implements it). Anything else is a
:class:`~nodes.errors.NodeInputError` that names what is not supported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nodes.errors import NodeInputError

#: Activations a dense layer may have (the names used across the catalog).
ACTIVATIONS = ("relu", "identity", "softmax", "sigmoid", "tanh")

# scikit-learn's names for the same functions.
_SKLEARN_ACTIVATIONS = {"relu": "relu", "identity": "identity", "logistic": "sigmoid",
                        "tanh": "tanh", "softmax": "softmax"}
# Scalers whose transform is x * scale + offset per column, so they fold into
# the first layer's weights exactly.
_AFFINE_SCALERS = ("StandardScaler", "MinMaxScaler", "MaxAbsScaler")


@dataclass
class DenseLayer:
    """One fully connected layer: ``activation(x @ weights + bias)``.

    ``weights`` has shape (inputs, outputs); ``bias`` shape (outputs,).
    ``name`` is what errors and reports call the layer (e.g. "dense_1").
    """

    weights: np.ndarray
    bias: np.ndarray
    activation: str
    name: str = ""

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.weights.shape[0]), int(self.weights.shape[1]))


@dataclass
class DenseNetwork:
    """A feed-forward network of dense layers, in order from input to output.

    ``feature_names`` are the input columns in order; ``task`` is
    ``classification`` or ``regression``; ``classes`` the class labels in the
    order of the probabilities :meth:`predict_proba` returns. A two-class
    network may end in one sigmoid unit (the probability of ``classes[1]``).
    """

    layers: list[DenseLayer]
    feature_names: list[str]
    task: str
    classes: list[Any] | None = None
    name: str = "network"
    source: str = ""
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.layers:
            raise ValueError("a DenseNetwork needs at least one layer")
        if self.task not in ("classification", "regression"):
            raise ValueError(f"task must be classification or regression, not {self.task!r}")
        width = len(self.feature_names)
        for index, layer in enumerate(self.layers):
            layer.weights = np.asarray(layer.weights, dtype=float)
            layer.bias = np.asarray(layer.bias, dtype=float).reshape(-1)
            layer.name = layer.name or f"dense_{index + 1}"
            if layer.activation not in ACTIVATIONS:
                raise ValueError(f"layer {layer.name!r}: activation {layer.activation!r} is not "
                                 f"one of {ACTIVATIONS}")
            if layer.weights.ndim != 2 or layer.weights.shape[0] != width:
                raise ValueError(f"layer {layer.name!r}: weights {layer.weights.shape} do not "
                                 f"take {width} inputs")
            if layer.bias.shape != (layer.weights.shape[1],):
                raise ValueError(f"layer {layer.name!r}: bias {layer.bias.shape} does not match "
                                 f"{layer.weights.shape[1]} outputs")
            width = layer.weights.shape[1]
        if self.task == "classification":
            if not self.classes or len(self.classes) < 2:
                raise ValueError("a classification network needs at least two classes")
            expected = 1 if len(self.classes) == 2 and width == 1 else len(self.classes)
            if width != expected:
                raise ValueError(f"{width} output units for {len(self.classes)} classes")

    # -- structure -----------------------------------------------------------
    @property
    def n_inputs(self) -> int:
        return len(self.feature_names)

    @property
    def n_outputs(self) -> int:
        return self.layers[-1].shape[1]

    @property
    def macs_per_sample(self) -> int:
        """Multiply-accumulates of one forward pass (weights only, no biases)."""
        return int(sum(layer.weights.size for layer in self.layers))

    @property
    def parameter_count(self) -> int:
        return int(sum(layer.weights.size + layer.bias.size for layer in self.layers))

    def describe(self) -> list[dict[str, Any]]:
        """One row per layer: name, inputs, outputs, activation."""
        return [{"layer": layer.name, "inputs": layer.shape[0], "outputs": layer.shape[1],
                 "activation": layer.activation} for layer in self.layers]

    # -- computing -----------------------------------------------------------
    def activations(self, X: np.ndarray) -> list[np.ndarray]:
        """The output of every layer (after its activation), in float64."""
        outputs = []
        values = np.asarray(X, dtype=float)
        for layer in self.layers:
            values = apply_activation(values @ layer.weights + layer.bias, layer.activation)
            outputs.append(values)
        return outputs

    def forward(self, X: np.ndarray) -> np.ndarray:
        """The last layer's output for rows ``X`` (float64)."""
        return self.activations(X)[-1]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, one column per class (classification only)."""
        return output_probabilities(self.forward(X), self.classes or [])

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted classes, or values for regression."""
        return predictions(self, self.forward(X))


def apply_activation(values: np.ndarray, activation: str) -> np.ndarray:
    """``activation`` applied to pre-activations ``values`` (rows are samples)."""
    if activation == "relu":
        return np.maximum(values, 0.0)
    if activation == "identity":
        return values
    if activation == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * values))  # overflow-free logistic
    if activation == "tanh":
        return np.tanh(values)
    if activation == "softmax":
        shifted = values - values.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        return exp / exp.sum(axis=1, keepdims=True)
    raise ValueError(f"unknown activation {activation!r}")


def output_probabilities(outputs: np.ndarray, classes: list[Any]) -> np.ndarray:
    """Probabilities per class from a classifier's last-layer outputs."""
    if outputs.shape[1] == 1 and len(classes) == 2:
        positive = outputs[:, 0]
        return np.column_stack([1.0 - positive, positive])
    return outputs


def predictions(network: DenseNetwork, outputs: np.ndarray) -> np.ndarray:
    """Predicted labels (classification: the class of the largest output) or values."""
    if network.task == "regression":
        return outputs[:, 0] if outputs.shape[1] == 1 else outputs
    probabilities = output_probabilities(outputs, network.classes or [])
    return np.asarray(network.classes)[probabilities.argmax(axis=1)]


def dense_network(estimator_or_model: Any, *, node: str = "Hardware",
                  port: str = "model") -> DenseNetwork:
    """The :class:`DenseNetwork` of a trained model.

    Accepts a :class:`nodes.values.Model` (its feature columns and classes
    are used), a fitted scikit-learn ``MLPClassifier``/``MLPRegressor``
    (optionally the last step of a ``Pipeline`` of affine scalers), or any
    object with ``to_dense_network()``. Raises NodeInputError naming the
    node ``node``, its input ``port`` and the unsupported estimator or layer.
    """
    model = estimator_or_model
    estimator = getattr(model, "estimator", model) if _is_model_value(model) else model
    name = getattr(model, "name", type(estimator).__name__)
    if hasattr(estimator, "to_dense_network"):
        try:
            network = estimator.to_dense_network()
        except NodeInputError:
            raise
        except (ValueError, TypeError, NotImplementedError) as error:
            raise NodeInputError(node, f"'{name}' cannot be compiled to dense layers: {error}",
                                 port=port, fix="Use a network of Dense layers only.") from None
        if not isinstance(network, DenseNetwork):
            raise NodeInputError(node, f"'{name}'.to_dense_network() returned "
                                 f"{type(network).__name__}, not a DenseNetwork.", port=port)
    else:
        network = _from_sklearn(estimator, name, node, port)
    if _is_model_value(model):
        if len(model.feature_columns) != network.n_inputs:
            raise NodeInputError(node, f"'{name}' expects {len(model.feature_columns)} features "
                                 f"but its first layer takes {network.n_inputs}.", port=port)
        network.feature_names = list(model.feature_columns)
        if model.classes is not None and network.task == "classification":
            network.classes = list(model.classes)
        network.name = model.name
    return network


def _is_model_value(value: Any) -> bool:
    return getattr(value, "kind", None) == "model" and hasattr(value, "feature_columns")


def _from_sklearn(estimator: Any, name: str, node: str, port: str) -> DenseNetwork:
    scalers: list[Any] = []
    if type(estimator).__name__ == "Pipeline":
        steps = [step for _, step in estimator.steps if step not in (None, "passthrough")]
        *scalers, estimator = steps
        for scaler in scalers:
            if type(scaler).__name__ not in _AFFINE_SCALERS:
                raise NodeInputError(
                    node, f"'{name}' has a {type(scaler).__name__} step before the network; only "
                    f"{', '.join(_AFFINE_SCALERS)} can be folded into the first layer.",
                    port=port, fix="Transform the data in a separate node before this one.")
    kind = type(estimator).__name__
    if kind not in ("MLPClassifier", "MLPRegressor"):
        raise NodeInputError(
            node, f"'{name}' is a {kind}, which is not a network of dense layers; the hardware "
            "backends run scikit-learn MLPClassifier/MLPRegressor and Keras Dense networks.",
            port=port, fix="Train a Neural Network (or a Keras Dense network) instead.")
    if not hasattr(estimator, "coefs_"):
        raise NodeInputError(node, f"'{name}' is not trained.", port=port,
                             fix="Connect the output of Train Model.")
    if kind == "MLPClassifier" and getattr(estimator, "_label_binarizer", None) is not None \
            and estimator._label_binarizer.y_type_ == "multilabel-indicator":
        raise NodeInputError(node, f"'{name}' is a multi-label classifier, which the hardware "
                             "backends do not run.", port=port)
    count = len(estimator.coefs_)
    for what, activation in (("hidden layers", estimator.activation),
                             (f"output layer dense_{count}", estimator.out_activation_)):
        if activation not in _SKLEARN_ACTIVATIONS:
            raise NodeInputError(
                node, f"'{name}': activation {activation!r} ({what}) is one the hardware "
                f"backends do not run (they run {', '.join(ACTIVATIONS)}).", port=port,
                fix="Train the network with one of those activations (and squared-error loss "
                    "for regression).")
    hidden = _SKLEARN_ACTIVATIONS[estimator.activation]
    output = _SKLEARN_ACTIVATIONS[estimator.out_activation_]
    layers = [DenseLayer(np.array(w, dtype=float), np.array(b, dtype=float),
                         output if index == count - 1 else hidden, f"dense_{index + 1}")
              for index, (w, b) in enumerate(zip(estimator.coefs_, estimator.intercepts_,
                                                 strict=True))]
    for scaler in reversed(scalers):
        scale, offset = _affine(scaler)
        first = layers[0]
        first.bias = first.bias + offset @ first.weights
        first.weights = scale[:, None] * first.weights
    n_features = layers[0].weights.shape[0]
    names = getattr(scalers[0] if scalers else estimator, "feature_names_in_", None)
    feature_names = ([str(n) for n in names] if names is not None
                     else [f"x{i}" for i in range(n_features)])
    if kind == "MLPClassifier":
        return DenseNetwork(layers, feature_names, "classification",
                            list(estimator.classes_), name=name, source=kind)
    return DenseNetwork(layers, feature_names, "regression", None, name=name, source=kind)


def _affine(scaler: Any) -> tuple[np.ndarray, np.ndarray]:
    """(scale, offset) with scaler.transform(x) == x * scale + offset."""
    kind = type(scaler).__name__
    if kind == "StandardScaler":
        count = scaler.n_features_in_
        scale = np.ones(count) if scaler.scale_ is None else 1.0 / np.asarray(scaler.scale_)
        mean = np.zeros(count) if scaler.mean_ is None else np.asarray(scaler.mean_, dtype=float)
        return scale, -mean * scale
    if kind == "MinMaxScaler":
        return np.asarray(scaler.scale_, dtype=float), np.asarray(scaler.min_, dtype=float)
    return 1.0 / np.asarray(scaler.scale_, dtype=float), np.zeros(scaler.n_features_in_)
