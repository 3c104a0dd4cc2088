"""The Keras example workflows (examples/keras_*.axon.json), built with the workflow API.

    python tests/keras/example_workflows.py     # rewrite the files in examples/

The tests check that the saved files are exactly what these functions build,
so an edit here and a stale file cannot drift apart. Layout: data flows top
to bottom, one row per step (120 px), side branches in columns (220 px).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from studio.workflow import Workflow, save_workflow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

ROW = 120
COLUMN = 220
SEED = 0


def _node(workflow: Workflow, node_id: str, type_id: str, column: float, row: float,
          params: dict[str, Any] | None = None, title: str = "", comment: str = "") -> None:
    workflow.add_node(type_id, params or {}, node_id=node_id, title=title, comment=comment,
                      position=(column * COLUMN, row * ROW))


def _wire(workflow: Workflow, *wires: str) -> None:
    """Each wire is 'source.port -> target.port'."""
    for wire in wires:
        source, target = (part.strip() for part in wire.split("->"))
        workflow.connect(*source.split("."), *target.split("."))


def _train_score_evaluate(workflow: Workflow, learner_row: int, train_data: str,
                          test_data: str) -> None:
    """Learner -> Train Model -> Score Model -> Evaluate Model, plus Training History."""
    _node(workflow, "train", "train_model", -0.5, learner_row + 1)
    _node(workflow, "history", "training_history", -1.5, learner_row + 2,
          comment="Loss and metrics per epoch, training and validation.")
    _node(workflow, "score", "score_model", 0, learner_row + 2)
    _node(workflow, "evaluate", "evaluate_model", 0, learner_row + 3)
    _wire(workflow, "learner.learner -> train.learner", f"{train_data} -> train.data",
          "train.model -> history.model", "train.model -> score.model",
          f"{test_data} -> score.data", "score.scored -> evaluate.scored")


def _digits_split(workflow: Workflow) -> None:
    _node(workflow, "dataset", "sample_dataset", 0, 0, {"dataset": "digits"})
    _node(workflow, "split", "split_data", 0, 1,
          {"fraction": 0.75, "seed": 42, "stratify": True})
    _wire(workflow, "dataset.data -> split.data")


def digits_dense() -> Workflow:
    """(a) The book's "hello world": one hidden Dense layer of 512 ReLU units + softmax."""
    workflow = Workflow()
    workflow.info.name = "Handwritten digits: a dense network (Keras)"
    workflow.info.description = (
        "1,797 8x8 digit images as 64 pixel columns (counts 0-16). A Keras network with one "
        "hidden Dense layer of 512 ReLU units and a softmax output over the 10 digits, trained "
        "with RMSprop on 75% of the rows; accuracy on the other 25%.")
    workflow.info.seed = SEED
    _digits_split(workflow)
    _node(workflow, "learner", "keras_neural_network", -1, 2, {
        "task": "classification",
        "layers": [{"type": "rescaling", "scale": 1 / 16},
                   {"type": "dense", "units": 512, "activation": "relu"}],
        "optimizer": "rmsprop", "learning_rate": 0.001, "epochs": 10, "batch_size": 32,
        "validation_fraction": 0.1, "seed": SEED}, title="Dense 512 ReLU (Keras)")
    _train_score_evaluate(workflow, 2, "split.train", "split.test")
    workflow.add_annotation("Change the layers (units, more Dense layers, Dropout) in the "
                            "learner's parameters: re-running retrains only the learner and "
                            "what follows it.", (240, 240, 260, 90))
    return workflow


def digits_convnet() -> Workflow:
    """(d) A small convolutional network on the digits seen as 8x8 one-channel images."""
    workflow = Workflow()
    workflow.info.name = "Handwritten digits: a small convnet (Keras)"
    workflow.info.description = (
        "The 64 pixel columns of each digit reshaped into an 8x8x1 image, two Conv2D + "
        "MaxPooling2D blocks, Flatten, softmax over the 10 digits; accuracy on 25% of the rows.")
    workflow.info.seed = SEED
    _digits_split(workflow)
    _node(workflow, "learner", "keras_neural_network", -1, 2, {
        "task": "classification",
        "layers": [{"type": "rescaling", "scale": 1 / 16},
                   {"type": "reshape", "shape": [8, 8, 1]},
                   {"type": "conv2d", "filters": 32, "kernel_size": 3, "padding": "same",
                    "activation": "relu"},
                   {"type": "max_pooling2d", "pool_size": 2},
                   {"type": "conv2d", "filters": 64, "kernel_size": 3, "padding": "same",
                    "activation": "relu"},
                   {"type": "max_pooling2d", "pool_size": 2},
                   {"type": "flatten"},
                   {"type": "dropout", "rate": 0.25}],
        "optimizer": "adam", "learning_rate": 0.002, "epochs": 12, "batch_size": 32,
        "validation_fraction": 0.1, "seed": SEED}, title="Convnet (Keras)")
    _train_score_evaluate(workflow, 2, "split.train", "split.test")
    return workflow


def housing_regression() -> Workflow:
    """(b) Housing prices: z-score normalisation, a 64-64-1 ReLU network, MAE in $1000s."""
    workflow = Workflow()
    workflow.info.name = "Boston housing prices: a 64-64-1 network (Keras)"
    workflow.info.description = (
        "506 neighbourhoods, 13 features, label MEDV (median home value in $1000s). Features "
        "z-score normalised with the training rows' means and deviations, two Dense layers of "
        "64 ReLU units and one linear output, mean squared error loss. 4-fold cross-validation "
        "on the training rows gives the mean absolute error (MAE, $1000s) per fold; the network "
        "trained on all training rows is then tested on 20% held-out rows.")
    workflow.info.seed = SEED
    _node(workflow, "dataset", "sample_dataset", 0, 0, {"dataset": "boston_housing"})
    _node(workflow, "split", "split_data", 0, 1, {"fraction": 0.8, "seed": 42})
    _node(workflow, "normalize", "normalize_data", -1, 2, {"method": "zscore"},
          title="Normalize (fit on training rows)")
    _node(workflow, "normalize_test", "apply_transformation", 0, 3,
          title="Normalize test rows")
    _node(workflow, "learner", "keras_neural_network", -2, 3, {
        "task": "regression",
        "layers": [{"type": "dense", "units": 64, "activation": "relu"},
                   {"type": "dense", "units": 64, "activation": "relu"}],
        "optimizer": "rmsprop", "learning_rate": 0.001, "loss": "mse", "metrics": ["mae"],
        "epochs": 40, "batch_size": 32, "seed": SEED}, title="Dense 64-64-1 (Keras)")
    _wire(workflow, "dataset.data -> split.data", "split.train -> normalize.data",
          "normalize.transform -> normalize_test.transform", "split.test -> normalize_test.data")
    _node(workflow, "crossvalidate", "cross_validate_model", -3, 4,
          {"folds": 4, "shuffle": True, "seed": 0}, title="4-fold cross-validation",
          comment="Each quarter of the training rows scored by a network trained on the "
                  "other three: MAE mean and std over the folds.")
    _node(workflow, "train", "train_model", -1.5, 4)
    _node(workflow, "history", "training_history", -2.5, 5)
    _node(workflow, "score", "score_model", -0.5, 5)
    _node(workflow, "evaluate", "evaluate_model", -0.5, 6)
    _wire(workflow, "learner.learner -> crossvalidate.learner",
          "normalize.data -> crossvalidate.data",
          "learner.learner -> train.learner", "normalize.data -> train.data",
          "train.model -> history.model", "train.model -> score.model",
          "normalize_test.data -> score.data", "score.scored -> evaluate.scored")
    return workflow


def text_classification() -> Workflow:
    """(c) Texts -> word indices (top 10,000 words) -> multi-hot -> Dense 16-16-1 sigmoid."""
    workflow = Workflow()
    workflow.info.name = "Health news tweets: BBC or CNN? (Keras)"
    workflow.info.description = (
        "7,990 health news tweets of BBC Health and CNN Health (UCI, CC BY 4.0). Links removed "
        "(they name the outlet), words indexed by frequency on the training rows (top 10,000), "
        "each tweet turned into a multi-hot vector inside the network, two Dense layers of 16 "
        "ReLU units and one sigmoid unit; binary accuracy on 20% held-out tweets.")
    workflow.info.seed = SEED
    _node(workflow, "dataset", "sample_dataset", 0, 0, {"dataset": "health_news_tweets"})
    _node(workflow, "clean", "preprocess_text", 0, 1,
          {"text_column": "text", "remove_urls": True}, title="Remove links and punctuation")
    _node(workflow, "split", "split_data", 0, 2, {"fraction": 0.8, "seed": 42, "stratify": True})
    _node(workflow, "indices", "text_to_word_indices", -1, 3,
          {"text_column": "text", "vocabulary_size": 10000}, title="Word indices (top 10,000)")
    _node(workflow, "indices_test", "apply_transformation", 0, 4, title="Index test tweets")
    _node(workflow, "learner", "keras_neural_network", -2, 4, {
        "task": "classification",
        "layers": [{"type": "multi_hot", "num_tokens": 10000},
                   {"type": "dense", "units": 16, "activation": "relu"},
                   {"type": "dense", "units": 16, "activation": "relu"}],
        "optimizer": "rmsprop", "learning_rate": 0.001, "metrics": ["accuracy"],
        "epochs": 6, "batch_size": 512, "validation_fraction": 0.2, "seed": SEED},
        title="Multi-hot -> Dense 16-16-1 (Keras)")
    _wire(workflow, "dataset.data -> clean.data", "clean.data -> split.data",
          "split.train -> indices.data", "indices.transform -> indices_test.transform",
          "split.test -> indices_test.data")
    _node(workflow, "train", "train_model", -1.5, 5)
    _node(workflow, "history", "training_history", -2.5, 6)
    _node(workflow, "score", "score_model", -0.5, 6)
    _node(workflow, "evaluate", "evaluate_model", -0.5, 7)
    _wire(workflow, "learner.learner -> train.learner", "indices.data -> train.data",
          "train.model -> history.model", "train.model -> score.model",
          "indices_test.data -> score.data", "score.scored -> evaluate.scored")
    return workflow


#: File name -> builder.
EXAMPLES_BUILT: dict[str, Callable[[], Workflow]] = {
    "keras_digits_dense.axon.json": digits_dense,
    "keras_housing_regression.axon.json": housing_regression,
    "keras_text_classification.axon.json": text_classification,
    "keras_digits_convnet.axon.json": digits_convnet,
}


def main() -> int:
    for name, build in EXAMPLES_BUILT.items():
        path = save_workflow(build(), EXAMPLES / name)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
