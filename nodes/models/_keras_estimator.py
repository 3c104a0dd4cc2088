"""A Keras network as a scikit-learn estimator, so it trains like any other learner.

:class:`KerasNetwork` has ``get_params``/``set_params`` (``sklearn.base.clone``
copies it), ``fit``, ``predict``, ``predict_proba`` and ``classes_``; Train
Model, Score Model, Evaluate Model and cross-validation use it unchanged.
It validates its input the way scikit-learn's own estimators do
(``validate_data``: numbers only, no NaN or infinity, no sparse matrices, the
number and names of the features it was fitted on), and passes
``sklearn.utils.estimator_checks`` (``tests/keras/test_keras_estimator_checks.py``).
TensorFlow is imported inside ``fit``/``predict``/``load_artifact`` only.

A trained network stores itself as the native ``model.keras`` file plus
``settings.json`` (its parameters, classes, input width and training
history); loading uses Keras' safe mode, so a file can never run code.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import math
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from nodes.errors import RunCancelled
from nodes.models._keras_layers import INDEX_LAYERS, build_stack
from nodes.models._keras_options import (
    CLASSIFICATION_LOSSES,
    CLASSIFICATION_METRICS,
    METRICS,
    OPTIMIZERS,
    TASKS,
)
from nodes.models._keras_runtime import TRAINING_LOCK, keras_modules, seed_everything
from nodes.values import register_artifact_class

_SETTINGS_FILE = "settings.json"
_MODEL_FILE = "model.keras"
_SETTINGS_FORMAT = 1
#: Seconds between per-batch progress reports (epochs shorter than this report once).
_BATCH_REPORT_INTERVAL = 0.5


class KerasNetwork(BaseEstimator):
    """A feed-forward Keras network (hidden ``layers`` + an output layer chosen by the task).

    ``layers`` are checked layer dicts (``nodes.models._keras_layers``); the
    output layer is added automatically: softmax over the classes, one
    sigmoid unit for two classes, one linear unit for regression. ``loss``
    and ``metrics`` "auto" follow the task (cross-entropy and accuracy; mean
    squared error and mean absolute error). Training data flows through a
    tf.data pipeline (optional cache, shuffle buffer, batches, prefetch);
    ``validation_fraction`` of the rows (a seeded random choice) are held out
    to report validation loss/metrics and, with ``early_stopping``, to stop
    after ``patience`` epochs without improvement (keeping the best weights).
    The same ``seed`` gives the same weights and metrics.

    >>> net = KerasNetwork(task="classification",
    ...                    layers=[{"type": "dense", "units": 16, "activation": "relu"}])
    >>> net.get_params()["epochs"]
    10

    ``fit``/``predict`` take a 2-D array, or a DataFrame (Train Model and Score
    Model pass one, see ``reads_feature_frame``): numeric columns, or a single
    column whose cells are sequences (lists of numbers such as word indices,
    cut or zero-padded to ``sequence_length``, 0 meaning the longest training
    sequence) or images (arrays of one shape, fed to the first layer in that
    shape).
    """

    #: Train Model and Score Model hand over the feature columns as a DataFrame.
    reads_feature_frame = True

    def __init__(self, task: str = "classification", layers: list[dict[str, Any]] | None = None,
                 optimizer: str = "rmsprop", learning_rate: float = 0.001, loss: str = "auto",
                 metrics: list[str] | None = None, epochs: int = 10, batch_size: int = 32,
                 validation_fraction: float = 0.0, early_stopping: bool = False,
                 patience: int = 3, shuffle_buffer: int = 10000, cache: bool = True,
                 prefetch: bool = True, sequence_length: int = 0, seed: int = 0) -> None:
        self.task = task
        self.layers = layers
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.loss = loss
        self.metrics = metrics
        self.epochs = epochs
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.patience = patience
        self.shuffle_buffer = shuffle_buffer
        self.cache = cache
        self.prefetch = prefetch
        self.sequence_length = sequence_length
        self.seed = seed

    # -- scikit-learn protocol ------------------------------------------------
    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import ClassifierTags, RegressorTags

        # One class for both tasks (the node's 'task' parameter), so the tags that
        # ClassifierMixin or RegressorMixin would set are set here, by task.
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        if self.task == "classification":
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags()
        else:
            tags.estimator_type = "regressor"
            tags.regressor_tags = RegressorTags()
        return tags

    def _is_classifier(self) -> bool:
        return self.task == "classification"

    def set_run_context(self, ctx: Any) -> None:
        """Report progress to, and stop when cancelled by, ``ctx`` during the next ``fit``."""
        self._run_context = ctx

    def fit(self, X: Any, y: Any) -> KerasNetwork:
        """Train a fresh network on rows ``X`` (numbers) and targets ``y``."""
        ctx = getattr(self, "_run_context", None)
        self._run_context = None  # the fitted model must not keep the run alive
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, not {self.task!r}")
        X, y = self._as_inputs(X, y, reset=True)
        if self.task == "classification":
            check_classification_targets(y)
            self.classes_, targets = np.unique(y, return_inverse=True)
            if len(self.classes_) < 2:
                raise ValueError("a classifier needs at least two classes in the targets, "
                                 f"but they hold 1 class ({self.classes_[0]!r})")
            targets = targets.astype("int32")
        else:
            self.classes_ = None
            targets = y.astype("float32")
        train_rows, validation_rows = self._split(len(X))
        tf, keras = keras_modules()
        with _training_turn(ctx):
            seed_everything(self.seed)
            model = self._build(keras)
            train = self._dataset(tf, X[train_rows], targets[train_rows], training=True)
            validation = (self._dataset(tf, X[validation_rows], targets[validation_rows],
                                        training=False) if len(validation_rows) else None)
            steps = math.ceil(len(train_rows) / self.batch_size)
            callbacks = [_progress_callback(keras, ctx, self.epochs, steps)] if ctx else []
            if self.early_stopping:
                callbacks.append(keras.callbacks.EarlyStopping(
                    monitor="val_loss" if validation is not None else "loss",
                    patience=self.patience, restore_best_weights=True))
            history = model.fit(train, validation_data=validation, epochs=self.epochs,
                                callbacks=callbacks, shuffle=False, verbose=0)
        if ctx is not None:
            ctx.check_cancelled()
        self.model_ = model
        self.history_ = {name: [float(v) for v in values]
                         for name, values in history.history.items()}
        return self

    @available_if(_is_classifier)
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, one column per class in ``classes_`` order
        (classification networks only: a regression network has no such method)."""
        outputs = self._outputs(X)
        if outputs.shape[1] == 1:
            return np.column_stack([1.0 - outputs[:, 0], outputs[:, 0]])
        # softmax in float32 sums to 1 only within ~1e-7; scorers check the sum
        return outputs / outputs.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted classes (the most probable), or predicted values."""
        if self.task == "classification":
            probabilities = self.predict_proba(X)  # raises NotFittedError before fit
            return self.classes_[probabilities.argmax(axis=1)]
        return self._outputs(X)[:, 0]

    def score(self, X: Any, y: Any) -> float:
        """Accuracy for classification, R² for regression (scikit-learn's convention)."""
        if self.task == "classification":
            return float(accuracy_score(y, self.predict(X)))
        return float(r2_score(y, self.predict(X)))

    # -- what the rest of the studio reads ------------------------------------
    def training_history(self) -> pd.DataFrame:
        """Loss and metrics per epoch: 'epoch' (from 1), then Keras' names
        ('loss', 'accuracy', ..., 'val_loss', 'val_accuracy', ...)."""
        check_is_fitted(self, "history_")
        history = self.history_
        epochs = len(next(iter(history.values()), []))
        return pd.DataFrame({"epoch": np.arange(1, epochs + 1), **history})

    def digest_state(self) -> dict[str, Any]:
        """Settings and, once trained, weights and classes (for stable digests)."""
        state: dict[str, Any] = {"params": json.loads(json.dumps(self.get_params()))}
        model = getattr(self, "model_", None)
        if model is not None:
            state["weights"] = model.get_weights()
            state["classes"] = self.classes_
            state["input_layout"] = self.input_layout_
        return state

    def to_dense_network(self) -> Any:
        """The trained network as a :class:`nodes.models.network.DenseNetwork`.

        Works for stacks of dense, dropout (inactive when predicting) and
        rescaling layers (folded into the next dense layer); raises
        ValueError naming the first layer of another kind.
        """
        from nodes.models.network import DenseLayer, DenseNetwork

        model = self._fitted_model()
        activations = {"relu": "relu", "linear": "identity", "sigmoid": "sigmoid",
                       "tanh": "tanh", "softmax": "softmax"}
        specs = [*self._layer_specs(), {"type": "output"}]
        layers: list[Any] = []
        scale = offset = None
        dense_layers = [layer for layer in model.layers if type(layer).__name__ == "Dense"]
        for index, spec in enumerate(specs, start=1):
            kind = spec["type"]
            if kind == "dropout":
                continue
            if kind == "rescaling":
                scale = spec["scale"] * (1.0 if scale is None else scale)
                offset = spec["offset"] + (0.0 if offset is None else offset * spec["scale"])
                continue
            if kind == "flatten":  # rows are already flat: nothing to do
                continue
            if kind not in ("dense", "output"):
                raise ValueError(f"layer {index} ({kind}) is not a dense layer")
            keras_layer = dense_layers[len(layers)]
            weights, bias = (np.asarray(w, dtype=float) for w in keras_layer.get_weights())
            activation = keras_layer.get_config()["activation"]
            if activation not in activations:
                raise ValueError(f"layer {index} has activation {activation!r}; dense "
                                 f"networks use {', '.join(activations)}")
            if scale is not None:
                bias = bias + offset * weights.sum(axis=0)
                weights = weights * scale
                scale = offset = None
            layers.append(DenseLayer(weights, bias, activations[activation],
                                     f"dense_{len(layers) + 1}"))
        classes = list(self.classes_) if self.task == "classification" else None
        return DenseNetwork(layers, [f"x{i}" for i in range(self.n_features_in_)], self.task,
                            classes, name="Keras network", source="KerasNetwork")

    # -- storage (see nodes.values.register_artifact_class) -------------------
    def save_artifact(self, folder: Path) -> None:
        """Write ``settings.json`` and, once trained, ``model.keras`` (native Keras format)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        settings: dict[str, Any] = {"format": _SETTINGS_FORMAT, "params": self.get_params(),
                                    "trained": getattr(self, "model_", None) is not None}
        if settings["trained"]:
            with warnings.catch_warnings():
                # Keras converts variables with np.array(x, copy=False); NumPy 2 warns
                warnings.filterwarnings("ignore", "__array__ implementation doesn't accept a "
                                        "copy", DeprecationWarning)
                self.model_.save(folder / _MODEL_FILE)
            classes = self.classes_
            settings.update({
                "n_features_in": int(self.n_features_in_), "input_layout": self.input_layout_,
                "feature_names_in": (list(self.feature_names_in_)
                                     if hasattr(self, "feature_names_in_") else None),
                "classes": None if classes is None else {
                    "dtype": classes.dtype.str if classes.dtype != object else "object",
                    "values": [v.item() if isinstance(v, np.generic) else v for v in classes]},
                "history": self.history_})
        (folder / _SETTINGS_FILE).write_text(json.dumps(settings, indent=2, allow_nan=False))

    @classmethod
    def load_artifact(cls, folder: Path) -> KerasNetwork:
        """Load what ``save_artifact`` wrote, with Keras' safe mode on (no code runs).

        An untrained network (a stored learner) loads without importing TensorFlow.
        """
        folder = Path(folder)
        settings = json.loads((folder / _SETTINGS_FILE).read_text())
        if settings.get("format") != _SETTINGS_FORMAT:
            raise ValueError(f"{folder / _SETTINGS_FILE}: unknown format {settings.get('format')}")
        allowed = set(inspect.signature(cls.__init__).parameters) - {"self"}
        params = settings["params"]
        if not isinstance(params, dict) or not set(params) <= allowed:
            raise ValueError(f"{folder / _SETTINGS_FILE}: unexpected parameters "
                             f"{sorted(set(params) - allowed)}")
        network = cls(**params)
        if not settings["trained"]:
            return network
        _, keras = keras_modules()
        network.model_ = keras.saving.load_model(folder / _MODEL_FILE, compile=False,
                                                 safe_mode=True)
        network.n_features_in_ = int(settings["n_features_in"])
        names = settings.get("feature_names_in")  # absent from older files
        if names is not None:
            network.feature_names_in_ = np.array([str(n) for n in names], dtype=object)
        network.input_layout_ = dict(settings["input_layout"])
        classes = settings["classes"]
        if classes is None:
            network.classes_ = None
        else:
            dtype = object if classes["dtype"] == "object" else np.dtype(classes["dtype"])
            network.classes_ = np.array(classes["values"], dtype=dtype)
        network.history_ = {str(k): [float(v) for v in values]
                            for k, values in settings["history"].items()}
        return network

    # -- inside ---------------------------------------------------------------
    def _layer_specs(self) -> list[dict[str, Any]]:
        from nodes.models._keras_layers import validate_layer

        return [validate_layer(layer, "KerasNetwork") for layer in (self.layers or [])]

    def _takes_indices(self) -> bool:
        specs = self._layer_specs()
        return bool(specs) and specs[0]["type"] in INDEX_LAYERS

    def _as_inputs(self, X: Any, y: Any = None, *, reset: bool) -> Any:
        """Rows as a 2-D float32 (or, for an index layer first, int32) array, checked
        as scikit-learn checks them; with ``y`` (fitting), ``(rows, targets)``.

        A DataFrame with a column of sequences or images is first laid out as
        fitted (``input_layout_``); any other input goes to ``validate_data``
        as given, so a DataFrame's column names become ``feature_names_in_``.
        """
        if isinstance(X, pd.DataFrame) and any(X[c].dtype == object for c in X.columns):
            X = self._from_frame(X, fitting=reset)
        elif reset:
            self.input_layout_ = {"kind": "columns"}
        checks = {"accept_sparse": False, "dtype": (np.float64, np.float32), "reset": reset}
        if reset:
            X, y = validate_data(self, X, y, y_numeric=self.task == "regression", **checks)
        else:
            X = validate_data(self, X, **checks)
        if self._takes_indices():
            if np.any(X < 0) or np.any(np.round(X) != X):
                raise ValueError("the first layer takes word indices, so every feature must "
                                 "be a whole number >= 0")
            X = X.astype("int32")
        else:
            X = X.astype("float32")
        return (X, y) if reset else X

    def _from_frame(self, frame: pd.DataFrame, *, fitting: bool) -> np.ndarray:
        cells = [c for c in frame.columns if frame[c].dtype == object]
        if len(frame.columns) != 1:
            raise ValueError(f"a column of sequences or images ({cells[0]!r}) must be the only "
                             f"feature, but the features are {list(frame.columns)}; select just "
                             "that column (Select Columns, or mark the others 'ignore')")
        column = frame.columns[0]
        arrays = [np.asarray(cell, dtype=float) for cell in frame[column]]
        if fitting:
            shapes = {a.shape for a in arrays}
            if all(a.ndim == 1 for a in arrays):
                longest = max(len(a) for a in arrays)
                self.input_layout_ = {"kind": "sequence", "column": str(column),
                                      "length": self.sequence_length or max(longest, 1)}
            elif len(shapes) == 1 and arrays[0].ndim in (2, 3):
                shape = list(arrays[0].shape) + ([1] if arrays[0].ndim == 2 else [])
                self.input_layout_ = {"kind": "image", "column": str(column), "shape": shape}
            else:
                raise ValueError(f"column {column!r} mixes cells of shapes "
                                 f"{sorted(shapes)[:3]}; it must hold sequences (1-D) or "
                                 "images of one shape (height x width [x channels])")
        layout = getattr(self, "input_layout_", {"kind": "columns"})
        if layout["kind"] == "sequence":
            length = layout["length"]
            rows = np.zeros((len(arrays), length), dtype=float)
            for index, values in enumerate(arrays):
                if values.ndim != 1:
                    raise ValueError(f"row {index} of {column!r} is not a sequence")
                rows[index, :min(len(values), length)] = values[:length]
            return rows
        if layout["kind"] == "image":
            size = math.prod(layout["shape"])
            bad = [i for i, a in enumerate(arrays) if a.size != size]
            if bad:
                raise ValueError(f"row {bad[0]} of {column!r} has {arrays[bad[0]].size} values; "
                                 f"the network was trained on images of shape {layout['shape']}")
            return np.stack([a.reshape(-1) for a in arrays]) if arrays else np.zeros((0, size))
        raise ValueError(f"the network was trained on numeric columns, but {column!r} holds "
                         "sequences")

    def _split(self, rows: int) -> tuple[np.ndarray, np.ndarray]:
        count = int(round(rows * self.validation_fraction))
        if self.validation_fraction > 0 and not 1 <= count < rows:
            raise ValueError(f"a validation fraction of {self.validation_fraction} of {rows} rows "
                             "leaves no validation or no training rows")
        order = np.random.default_rng(self.seed).permutation(rows)
        return np.sort(order[count:]), np.sort(order[:count])

    def _output_layer(self, keras: Any) -> Any:
        if self.task == "regression":
            return keras.layers.Dense(1, activation="linear", name="output")
        if len(self.classes_) == 2:
            return keras.layers.Dense(1, activation="sigmoid", name="output")
        return keras.layers.Dense(len(self.classes_), activation="softmax", name="output")

    def _loss(self) -> str:
        if self.task == "classification":
            if self.loss not in CLASSIFICATION_LOSSES:
                raise ValueError(f"loss {self.loss!r} is for regression; a classifier uses "
                                 "'crossentropy' (or 'auto')")
            return ("binary_crossentropy" if len(self.classes_) == 2
                    else "sparse_categorical_crossentropy")
        if self.loss == "crossentropy":
            raise ValueError("cross-entropy is for classification; a regression network uses "
                             "'mse', 'mae' or 'huber' (or 'auto': mse)")
        return "mse" if self.loss == "auto" else self.loss

    def _metrics(self, keras: Any) -> list[Any]:
        names = list(self.metrics or (["accuracy"] if self.task == "classification"
                                      else ["mae"]))
        result = []
        for name in names:
            if (name in CLASSIFICATION_METRICS) != (self.task == "classification"):
                raise ValueError(f"metric {name!r} does not suit a {self.task} network")
            if name == "auc" and len(self.classes_) != 2:
                raise ValueError("metric 'auc' needs two classes")
            if name == "rmse":
                result.append(keras.metrics.RootMeanSquaredError(name="rmse"))
            elif name == "auc":
                result.append(keras.metrics.AUC(name="auc"))
            elif name in METRICS:
                result.append(name)
            else:
                raise ValueError(f"metric {name!r} is not one of {METRICS}")
        return result

    def _build(self, keras: Any) -> Any:
        layout = self.input_layout_
        inputs, hidden = build_stack(keras, self._layer_specs(), self.n_features_in_,
                                     layout.get("shape"))
        model = keras.Model(inputs, self._output_layer(keras)(hidden), name="network")
        optimizers = {"rmsprop": keras.optimizers.RMSprop, "adam": keras.optimizers.Adam,
                      "adamw": keras.optimizers.AdamW, "sgd": keras.optimizers.SGD}
        if self.optimizer not in optimizers:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, not {self.optimizer!r}")
        model.compile(optimizer=optimizers[self.optimizer](learning_rate=self.learning_rate),
                      loss=self._loss(), metrics=self._metrics(keras))
        return model

    def _dataset(self, tf: Any, X: np.ndarray, y: np.ndarray, *, training: bool) -> Any:
        dataset = tf.data.Dataset.from_tensor_slices((X, y))
        if self.cache:
            dataset = dataset.cache()
        if training and self.shuffle_buffer > 1:
            dataset = dataset.shuffle(min(self.shuffle_buffer, len(X)), seed=self.seed,
                                      reshuffle_each_iteration=True)
        dataset = dataset.batch(self.batch_size)
        if self.prefetch:
            dataset = dataset.prefetch(tf.data.AUTOTUNE)
        return dataset

    def _fitted_model(self) -> Any:
        """The trained Keras model; NotFittedError (a ValueError) before ``fit``."""
        check_is_fitted(self, "model_")
        return self.model_

    def _outputs(self, X: Any) -> np.ndarray:
        model = self._fitted_model()
        X = self._as_inputs(X, reset=False)
        keras_modules()
        outputs = model.predict(X, batch_size=max(self.batch_size, 1024), verbose=0)
        return np.asarray(outputs, dtype=float)


@contextlib.contextmanager
def _training_turn(ctx: Any) -> Iterator[None]:
    """Hold TRAINING_LOCK; while another network trains, say so and stay cancellable."""
    if not TRAINING_LOCK.acquire(blocking=False):
        if ctx is not None:
            ctx.progress(0.05, "waiting for another Keras network to finish training")
        while not TRAINING_LOCK.acquire(timeout=0.2):
            if ctx is not None:
                ctx.check_cancelled()
    try:
        yield
    finally:
        TRAINING_LOCK.release()


def _progress_callback(keras: Any, ctx: Any, epochs: int, steps: int) -> Any:
    """A Keras callback reporting epochs (and batches of long epochs) to ``ctx``,
    and stopping training at the next batch once ``ctx`` is cancelled."""

    class RunContextCallback(keras.callbacks.Callback):
        # Keras may run batch-end hooks in a worker thread, so training never
        # waits for them; this one only reads a flag and reports a fraction.
        async_safe = True

        def __init__(self) -> None:
            super().__init__()
            self.epoch = 0
            self.last_report = time.perf_counter()

        def _report(self, fraction: float, message: str) -> None:
            if ctx.cancelled:
                self.model.stop_training = True
                return
            try:
                ctx.progress(fraction, message)
            except RunCancelled:
                self.model.stop_training = True

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.epoch = epoch

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            if ctx.cancelled:
                self.model.stop_training = True
                return
            now = time.perf_counter()
            if now - self.last_report >= _BATCH_REPORT_INTERVAL:
                self.last_report = now
                self._report((self.epoch + (batch + 1) / steps) / epochs,
                             f"epoch {self.epoch + 1}/{epochs}, batch {batch + 1}/{steps}")

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.last_report = time.perf_counter()
            shown = ", ".join(f"{k} {float(v):.4g}" for k, v in (logs or {}).items())
            self._report((epoch + 1) / epochs, f"epoch {epoch + 1}/{epochs}: {shown}")

    return RunContextCallback()


register_artifact_class(KerasNetwork)
