"""Hardware-aware training: a neural network trained with weight noise, as aihwkit does it.

The networks the hardware backends run are trained digitally; analog
devices then add programming and read noise to every weight. Training with
noise on the weights makes the network tolerate it (Joshi et al. 2020 train
this way before mapping ResNet-32 to PCM). :class:`NoiseAwareMLPClassifier`
follows aihwkit's hardware-aware training recipe: once per mini-batch every
layer's weights get Gaussian noise of ``weight_noise`` times that layer's
largest |w| (WeightModifierType.ADD_NORMAL, relative to the actual max), the
forward and backward passes use the noisy weights and the update goes to the
clean ones; after each update the weights are clipped to ``clip_sigma``
standard deviations of their layer (WeightClipType.LAYER_GAUSSIAN). With
``weight_noise`` 0 and ``clip_sigma`` 0 it is a plain Adam-trained MLP.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from nodes.context import RunContext
from nodes.contract import Randomness, ScoringRole
from nodes.models.network import DenseLayer, DenseNetwork, apply_activation
from nodes.node import Node
from nodes.params import ChoiceParam, FloatParam, IntParam, ListParam, SeedParam
from nodes.ports import LEARNER, Output
from nodes.values import Learner, register_artifact_class

#: aihwkit's hardware-aware training examples: noise 0.1 of the max |w|, clip at 2.5 sigma.
AIHWKIT_WEIGHT_NOISE = 0.1
AIHWKIT_CLIP_SIGMA = 2.5
_HIDDEN = {"relu": "relu", "tanh": "tanh", "identity": "identity"}


_PARAMETERS = ("hidden_layer_sizes", "activation", "learning_rate_init", "max_iter", "alpha",
               "batch_size", "weight_noise", "clip_sigma", "random_state")


@register_artifact_class
class NoiseAwareMLPClassifier:
    """A multi-layer perceptron classifier trained with weight noise (softmax output,
    cross-entropy loss, Adam, L2 penalty ``alpha``).

    It speaks scikit-learn's estimator protocol (``get_params``/``set_params``,
    so Train Model can clone it, ``fit``, ``predict``, ``predict_proba``,
    ``classes_``) without importing scikit-learn, which the node catalog must
    not load. Fitted attributes: ``coefs_`` and ``intercepts_`` (as
    scikit-learn's MLP), ``classes_``, ``loss_curve_`` (mean loss per epoch).
    """

    def __init__(self, hidden_layer_sizes: tuple[int, ...] = (100,), activation: str = "relu",
                 learning_rate_init: float = 0.001, max_iter: int = 200, alpha: float = 0.0001,
                 batch_size: int = 200, weight_noise: float = AIHWKIT_WEIGHT_NOISE,
                 clip_sigma: float = AIHWKIT_CLIP_SIGMA, random_state: int = 0) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.alpha = alpha
        self.batch_size = batch_size
        self.weight_noise = weight_noise
        self.clip_sigma = clip_sigma
        self.random_state = random_state

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _PARAMETERS}

    def set_params(self, **params: Any) -> NoiseAwareMLPClassifier:
        for name, value in params.items():
            if name not in _PARAMETERS:
                raise ValueError(f"{type(self).__name__} has no parameter {name!r}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({settings})"

    # -- training -----------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> NoiseAwareMLPClassifier:
        # Thousands of small matrix products: BLAS threads only contend for them (five
        # times slower on a busy two-core machine). threadpoolctl comes with scikit-learn.
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit(X, y)

    def _fit(self, X: Any, y: Any) -> NoiseAwareMLPClassifier:
        X = np.asarray(X, dtype=float)
        y = np.asarray(y)
        if X.ndim != 2 or len(X) != len(y) or len(X) == 0:
            raise ValueError(f"X {X.shape} and y {y.shape} do not describe the same rows")
        if self.activation not in _HIDDEN:
            raise ValueError(f"activation {self.activation!r} is not one of {sorted(_HIDDEN)}")
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError("a classifier needs at least two classes")
        targets = np.eye(len(self.classes_))[codes]
        rng = np.random.default_rng(self.random_state)
        sizes = [X.shape[1], *self.hidden_layer_sizes, len(self.classes_)]
        # Glorot-uniform initialisation, as scikit-learn's MLP.
        self.coefs_ = [rng.uniform(-b, b, (a, c)) for a, c, b in
                       ((a, c, np.sqrt(6.0 / (a + c))) for a, c in zip(sizes[:-1], sizes[1:],
                                                                       strict=True))]
        self.intercepts_ = [rng.uniform(-np.sqrt(6.0 / (a + c)), np.sqrt(6.0 / (a + c)), c)
                            for a, c in zip(sizes[:-1], sizes[1:], strict=True)]
        params = self.coefs_ + self.intercepts_
        moments = [np.zeros_like(p) for p in params]
        squares = [np.zeros_like(p) for p in params]
        beta1, beta2, epsilon, step = 0.9, 0.999, 1e-8, 0
        batch = max(1, min(self.batch_size, len(X)))
        self.loss_curve_ = []
        for _ in range(self.max_iter):
            order = rng.permutation(len(X))
            losses = []
            for start in range(0, len(X), batch):
                rows = order[start:start + batch]
                noisy = [w + self.weight_noise * np.abs(w).max() * rng.standard_normal(w.shape)
                         if self.weight_noise > 0 else w for w in self.coefs_]
                loss, grads = self._gradients(X[rows], targets[rows], noisy)
                losses.append(loss)
                step += 1
                rate = (self.learning_rate_init * np.sqrt(1 - beta2 ** step)
                        / (1 - beta1 ** step))
                for index, (param, grad) in enumerate(zip(params, grads, strict=True)):
                    moments[index] = beta1 * moments[index] + (1 - beta1) * grad
                    squares[index] = beta2 * squares[index] + (1 - beta2) * grad ** 2
                    param -= rate * moments[index] / (np.sqrt(squares[index]) + epsilon)
                if self.clip_sigma > 0:
                    for w in self.coefs_:
                        bound = self.clip_sigma * w.std()
                        np.clip(w, -bound, bound, out=w)
            self.loss_curve_.append(float(np.mean(losses)))
        self.n_features_in_ = X.shape[1]
        return self

    def _gradients(self, X: np.ndarray, targets: np.ndarray, coefs: list[np.ndarray]
                   ) -> tuple[float, list[np.ndarray]]:
        """Cross-entropy (+ L2) and its gradients for the weights ``coefs`` (the noisy
        ones), as [dW_1 .. dW_L, db_1 .. db_L]."""
        outputs = [X]
        for index, (w, b) in enumerate(zip(coefs, self.intercepts_, strict=True)):
            z = outputs[-1] @ w + b
            last = index == len(coefs) - 1
            outputs.append(apply_activation(z, "softmax" if last else _HIDDEN[self.activation]))
        n = len(X)
        probabilities = outputs[-1]
        loss = float(-np.sum(targets * np.log(np.clip(probabilities, 1e-12, 1.0))) / n
                     + 0.5 * self.alpha * sum(np.sum(w * w) for w in self.coefs_) / n)
        delta = (probabilities - targets) / n
        weight_grads, bias_grads = [], []
        for index in range(len(coefs) - 1, -1, -1):
            weight_grads.append(outputs[index].T @ delta + self.alpha * self.coefs_[index] / n)
            bias_grads.append(delta.sum(axis=0))
            if index:
                delta = delta @ coefs[index].T
                activation = outputs[index]
                if self.activation == "relu":
                    delta = delta * (activation > 0)
                elif self.activation == "tanh":
                    delta = delta * (1.0 - activation ** 2)
        return loss, weight_grads[::-1] + bias_grads[::-1]

    # -- predicting ---------------------------------------------------------------
    def predict_proba(self, X: Any) -> np.ndarray:
        return self.to_dense_network().forward(np.asarray(X, dtype=float))

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def to_dense_network(self) -> DenseNetwork:
        """The trained layers (clean weights), for the hardware backends."""
        if not hasattr(self, "coefs_"):
            raise ValueError("the network is not trained")
        count = len(self.coefs_)
        layers = [DenseLayer(w.copy(), b.copy(),
                             "softmax" if i == count - 1 else _HIDDEN[self.activation],
                             f"dense_{i + 1}")
                  for i, (w, b) in enumerate(zip(self.coefs_, self.intercepts_, strict=True))]
        return DenseNetwork(layers, [f"x{i}" for i in range(self.coefs_[0].shape[0])],
                            "classification", list(self.classes_),
                            name="Hardware-Aware Neural Network", source=type(self).__name__)

    # -- safe storage (JSON + npz, no pickle) ----------------------------------------
    def save_artifact(self, folder: Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        settings = {k: (list(v) if isinstance(v, tuple) else v)
                    for k, v in self.get_params(deep=False).items()}
        (folder / "settings.json").write_text(json.dumps(settings, sort_keys=True))
        if hasattr(self, "coefs_"):
            arrays = {f"w{i}": w for i, w in enumerate(self.coefs_)}
            arrays.update({f"b{i}": b for i, b in enumerate(self.intercepts_)})
            arrays["loss_curve"] = np.asarray(self.loss_curve_)
            kind = self.classes_.dtype.kind
            if kind in "iufb":
                arrays["classes"] = self.classes_
            else:   # text labels: stored as JSON, never as an object array
                (folder / "classes.json").write_text(json.dumps([str(c) for c in
                                                                 self.classes_]))
            np.savez(folder / "weights.npz", **arrays)

    @classmethod
    def load_artifact(cls, folder: Path) -> NoiseAwareMLPClassifier:
        folder = Path(folder)
        settings = json.loads((folder / "settings.json").read_text())
        settings["hidden_layer_sizes"] = tuple(settings["hidden_layer_sizes"])
        model = cls(**settings)
        weights = folder / "weights.npz"
        if weights.exists():
            with np.load(weights, allow_pickle=False) as arrays:
                count = sum(1 for name in arrays.files if name.startswith("w"))
                model.coefs_ = [arrays[f"w{i}"] for i in range(count)]
                model.intercepts_ = [arrays[f"b{i}"] for i in range(count)]
                model.loss_curve_ = arrays["loss_curve"].tolist()
                if "classes" in arrays.files:
                    model.classes_ = arrays["classes"]
            if (folder / "classes.json").exists():
                model.classes_ = np.asarray(json.loads((folder / "classes.json").read_text()),
                                            dtype=object)
            model.n_features_in_ = model.coefs_[0].shape[0]
        return model


class HardwareAwareNeuralNetwork(Node):
    """A neural network classifier trained for analog hardware: noise on its weights in training.

    Output 'learner': the untrained model; connect it to Train Model, then
    to Run on PCM (or any hardware node). It trains like Neural Network
    (an MLP with 'hidden_layers', Adam at 'learning_rate', 'max_iterations'
    epochs of mini-batches of 'batch_size' rows, L2 penalty 'l2_alpha',
    softmax output) with aihwkit's hardware-aware training: once per
    mini-batch every layer's weights get Gaussian noise of 'weight_noise'
    times that layer's largest |w| (aihwkit's examples use 0.1), the
    gradient is taken with the noisy weights and applied to the clean ones,
    and after each step the weights are clipped to 'clip_sigma' standard
    deviations of their layer (2.5 in aihwkit's examples; 0: no clipping).
    The network then loses less accuracy to programming noise, drift and
    read noise on PCM; 'weight_noise' 0 and 'clip_sigma' 0 train it plainly.
    Scale the features first (Normalize Data) when they have very
    different sizes.
    """

    type_id = "hardware_aware_neural_network"
    version = 1
    title = "Hardware-Aware Neural Network"
    category = "Models"
    scoring_role = ScoringRole.TRAINING_ONLY
    randomness = Randomness()
    aliases = ("Noise-Aware Neural Network", "Hardware-Aware Training")

    class Outputs:
        learner = Output(LEARNER, help="The untrained, noise-aware classification model.")

    hidden_layers = ListParam([100], item=IntParam(100, minimum=1, maximum=100_000),
                              min_items=1, max_items=20,
                              help="Neurons in each hidden layer, input side first.")
    activation = ChoiceParam("relu", list(_HIDDEN), help="Activation of the hidden neurons.")
    learning_rate = FloatParam(0.001, minimum=0.0, exclusive_minimum=True,
                               help="Adam's step size.")
    max_iterations = IntParam(200, minimum=1, maximum=100_000, help="Epochs.")
    batch_size = IntParam(200, minimum=1, maximum=1_000_000, help="Rows per mini-batch.")
    l2_alpha = FloatParam(0.0001, minimum=0.0, help="L2 penalty on the weights (alpha).")
    weight_noise = FloatParam(AIHWKIT_WEIGHT_NOISE, minimum=0.0, maximum=10.0,
                              help="Training noise on each weight, in units of its layer's "
                                   "largest |w| (0: none).")
    clip_sigma = FloatParam(AIHWKIT_CLIP_SIGMA, minimum=0.0, maximum=100.0,
                            help="Clip weights to this many standard deviations of their "
                                 "layer after each step (0: no clipping).")
    seed = SeedParam(help="Random seed (initial weights, shuffling, noise).")

    def run(self, ctx: RunContext) -> dict[str, Any]:
        estimator = NoiseAwareMLPClassifier(
            hidden_layer_sizes=tuple(self.hidden_layers), activation=self.activation,
            learning_rate_init=self.learning_rate, max_iter=self.max_iterations,
            alpha=self.l2_alpha, batch_size=self.batch_size, weight_noise=self.weight_noise,
            clip_sigma=self.clip_sigma, random_state=self.seed)
        return {"learner": Learner(estimator, task="classification", name=self.title)}
