"""Deep learning on TensorFlow/Keras: a network learner, and the history of its training.

The network is a learner like any other: Train Model trains it, Score Model
scores with it, Evaluate Model and cross-validation work unchanged. Its
training history (loss and metrics per epoch) travels with the trained
model and is read out by Training History. TensorFlow is imported only when
a network is trained or used (see ``_keras_runtime``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from nodes.context import RunContext
from nodes.contract import Randomness, ScoringRole
from nodes.errors import NodeInputError, ParameterError
from nodes.models._keras_layers import LayerStackParam
from nodes.models._keras_options import (
    CLASSIFICATION_LOSSES,
    CLASSIFICATION_METRICS,
    LOSSES,
    METRICS,
    OPTIMIZERS,
    TASKS,
)
from nodes.node import Node
from nodes.params import BoolParam, ChoiceParam, FloatParam, IntParam, ListParam, SeedParam
from nodes.ports import LEARNER, MODEL, TABLE, Input, Output
from nodes.values import Learner, Model, Table, register_deferred_artifact_class

if TYPE_CHECKING:
    from nodes.models._keras_estimator import KerasNetwork

__all__ = ["KerasNetwork", "NeuralNetworkKeras", "TrainingHistory"]

# The estimator subclasses scikit-learn's BaseEstimator, so its module is
# imported only when a network is made or a stored one is loaded.
register_deferred_artifact_class("nodes.models._keras_estimator.KerasNetwork")


def __getattr__(name: str) -> Any:
    if name == "KerasNetwork":
        from nodes.models._keras_estimator import KerasNetwork

        return KerasNetwork
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class NeuralNetworkKeras(Node):
    """A neural network on TensorFlow/Keras, for classification or regression.

    Output 'learner': the untrained network; connect it to Train Model (or a
    cross-validation node), then Score Model and Evaluate Model as for any
    learner. Training History shows its loss and metrics per epoch.

    'layers' is the stack of hidden layers, in order, each an object with a
    'type' and its settings, e.g. {"type": "dense", "units": 512,
    "activation": "relu"}. Types: dense (units, activation), dropout (rate),
    batch_normalization, rescaling (scale, offset), reshape (shape, e.g.
    [8, 8, 1] to see 64 pixel columns as an 8x8 image), conv1d / conv2d
    (filters, kernel_size, strides, padding, activation), max_pooling1d /
    max_pooling2d (pool_size), global_average_pooling1d / 2d,
    global_max_pooling1d, flatten, embedding (input_dim, output_dim) and
    multi_hot (num_tokens) for columns of word indices. The output layer is
    added for you: softmax over the classes, one sigmoid unit for two
    classes, one linear unit for regression.

    The features are the table's numeric feature columns (an image as a row
    of pixel columns: reshape it in the first layer), or a single column
    whose cells are sequences, such as the word indices of Text to Word
    Indices (cut or zero-padded to 'sequence_length'; put embedding or
    multi_hot first), or images of one shape (fed in that shape).

    'loss' auto is cross-entropy for classification and mean squared error
    for regression; 'metrics' empty means accuracy (classification) or mean
    absolute error (regression). 'optimizer' and 'learning_rate' set the
    optimiser; 'epochs' passes over the data in batches of 'batch_size' rows.

    'validation_fraction' of the training rows (a random choice fixed by
    'seed') are held out to report validation loss and metrics each epoch;
    with 'early_stopping', training stops after 'patience' epochs without a
    better validation loss (training loss when nothing is held out) and keeps
    the best weights. The rows flow through a tf.data pipeline: 'cache'
    keeps them in memory after the first epoch, 'shuffle_buffer' rows are
    shuffled at a time (0: no shuffling), 'prefetch' prepares the next batch
    while one trains. The same 'seed' gives the same weights and metrics.

    Needs TensorFlow, an optional extra: pip install 'axon-studio[keras]'.
    """

    type_id = "keras_neural_network"
    version = 1
    title = "Neural Network (Keras)"
    category = "Models"
    scoring_role = ScoringRole.TRAINING_ONLY
    aliases = ("Deep Learning", "DenseNet")
    randomness = Randomness()

    class Outputs:
        learner = Output(LEARNER, help="The untrained network, for Train Model.")

    task = ChoiceParam("classification", TASKS, help="Predict a class or a number.")
    layers = LayerStackParam(
        [{"type": "dense", "units": 64, "activation": "relu"}],
        help="Hidden layers in order, e.g. [{\"type\": \"dense\", \"units\": 512, "
             "\"activation\": \"relu\"}]; the output layer is added for you.")
    optimizer = ChoiceParam("rmsprop", OPTIMIZERS, help="The optimiser that updates the weights.")
    learning_rate = FloatParam(0.001, minimum=0.0, exclusive_minimum=True,
                               help="Step size of the optimiser.")
    loss = ChoiceParam("auto", LOSSES, help="auto: cross-entropy (classification), mse "
                                            "(regression); huber is robust to outliers.")
    metrics = ListParam([], item=ChoiceParam("accuracy", METRICS),
                        help="Reported per epoch; empty: accuracy (classification) or mae "
                             "(regression). auc needs two classes.")
    epochs = IntParam(10, minimum=1, maximum=100_000, help="Passes over the training rows.")
    batch_size = IntParam(32, minimum=1, maximum=1_000_000, help="Rows per weight update.")
    validation_fraction = FloatParam(0.0, minimum=0.0, maximum=1.0, exclusive_maximum=True,
                                     help="Share of training rows held out for validation "
                                          "loss and metrics.")
    early_stopping = BoolParam(False, help="Stop when the validation loss stops improving.")
    patience = IntParam(3, minimum=1, advanced=True,
                        help="Epochs without improvement before early stopping.")
    shuffle_buffer = IntParam(10000, minimum=0, advanced=True,
                              help="Rows shuffled at a time (tf.data shuffle buffer); 0: none.")
    cache = BoolParam(True, advanced=True, help="Keep the prepared rows in memory (tf.data "
                                                "cache).")
    prefetch = BoolParam(True, advanced=True, help="Prepare the next batch while one trains "
                                                   "(tf.data prefetch).")
    sequence_length = IntParam(0, minimum=0, advanced=True,
                               help="For a column of sequences: length they are cut or "
                                    "zero-padded to; 0: the longest training sequence.")
    seed = SeedParam(help="Random seed: initial weights, shuffling, dropout, "
                                       "validation rows.")

    @classmethod
    def check_parameters(cls, values: dict[str, Any], label: str) -> None:
        classification = values["task"] == "classification"
        if classification != (values["loss"] in CLASSIFICATION_LOSSES) and \
                values["loss"] != "auto":
            allowed = ("crossentropy or auto" if classification else "mse, mae, huber or auto")
            raise ParameterError(label, "loss", values["loss"],
                                 f"a {values['task']} network uses {allowed}")
        for name in values["metrics"]:
            if classification != (name in CLASSIFICATION_METRICS):
                allowed = (CLASSIFICATION_METRICS if classification else
                           tuple(m for m in METRICS if m not in CLASSIFICATION_METRICS))
                raise ParameterError(label, "metrics", values["metrics"],
                                     f"a {values['task']} network reports "
                                     f"{', '.join(allowed)}")

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from nodes.models._keras_estimator import KerasNetwork
        from nodes.models._keras_runtime import require_tensorflow

        require_tensorflow(self.label)  # an optional extra: say how to install it
        settings = {name: self.params[name] for name in self.parameters}
        return {"learner": Learner(KerasNetwork(**settings), task=self.task, name=self.title)}


class TrainingHistory(Node):
    """The loss and metrics of a trained network, epoch by epoch, as a table to plot.

    Input 'model': a trained model from Train Model whose learner trains in
    epochs: Neural Network (Keras), or a scikit-learn neural network.
    Output 'history': one row per epoch, column 'epoch' (from 1), then the
    training 'loss' and metrics ('accuracy', 'mae'...) and, when rows were
    held out for validation, the same with a 'val_' prefix ('val_loss',
    'val_accuracy'...). The history is stored with the trained model, so
    this node never retrains anything.
    """

    type_id = "training_history"
    version = 1
    title = "Training History"
    category = "Train/Score"
    scoring_role = ScoringRole.TRAINING_ONLY

    class Inputs:
        model = Input(MODEL, help="A trained network (the output of Train Model).")

    class Outputs:
        history = Output(TABLE, help="Loss and metrics per epoch, training and validation.")

    def run(self, ctx: RunContext, model: Model) -> dict[str, Any]:
        estimator = model.estimator
        if hasattr(estimator, "training_history"):
            frame = estimator.training_history()
        elif hasattr(estimator, "loss_curve_"):  # scikit-learn's MLP
            frame = pd.DataFrame({"epoch": np.arange(1, len(estimator.loss_curve_) + 1),
                                  "loss": estimator.loss_curve_})
            scores = getattr(estimator, "validation_scores_", None)
            if scores is not None:
                frame["val_score"] = scores
        else:
            raise NodeInputError(
                self.label, f"'{model.name}' is not trained in epochs, so it has no training "
                "history.", port="model",
                fix="Connect a model trained from Neural Network (Keras).")
        return {"history": Table(frame, {"epoch": "id"})}
