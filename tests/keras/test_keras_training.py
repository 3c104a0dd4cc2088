"""Training Keras networks through the nodes: examples, reproducibility, progress,
cancellation, storage, re-runs and the dense-network interface.

Every test here trains real (small) networks with TensorFlow; the module is
kept to a few seconds of training per test.
"""

from __future__ import annotations

import json
import threading
import zipfile

import numpy as np
import pandas as pd
import pytest
from example_workflows import EXAMPLES, EXAMPLES_BUILT
from sklearn.metrics import accuracy_score, mean_absolute_error

from nodes.context import RunContext
from nodes.data.datasets import SampleDataset
from nodes.errors import NodeInputError, RunCancelled
from nodes.models import _keras_estimator
from nodes.models._keras_runtime import keras_modules
from nodes.models.keras_network import KerasNetwork, NeuralNetworkKeras, TrainingHistory
from nodes.models.network import dense_network
from nodes.models.train_score import ScoreModel, TrainModel
from nodes.testing import NodeHarness, run_node
from nodes.values import Model, Table, UnsafeArtifactError
from studio.engine import DiskCache, Engine
from studio.workflow import load_workflow

DENSE_32 = [{"type": "rescaling", "scale": 1 / 16}, {"type": "dense", "units": 32}]


@pytest.fixture(scope="module")
def digits() -> Table:
    return run_node(SampleDataset, {"dataset": "digits"})["data"]


@pytest.fixture(scope="module")
def breast_cancer() -> Table:
    return run_node(SampleDataset, {"dataset": "breast_cancer"})["data"]


@pytest.fixture(scope="module")
def boston() -> Table:
    return run_node(SampleDataset, {"dataset": "boston_housing"})["data"]


def _learner(**params):
    return run_node(NeuralNetworkKeras, params)["learner"]


def _train(learner, data, **harness):
    return NodeHarness(TrainModel, **harness).run(learner=learner, data=data)["model"]


def _features(table: Table, model: Model) -> np.ndarray:
    return table.frame[model.feature_columns].to_numpy(dtype=float)


def _feature_frame(table: Table, model: Model) -> pd.DataFrame:
    """The features as Score Model hands them over (the network checks their names)."""
    return table.frame[model.feature_columns]


# -- the example workflows -------------------------------------------------

def _run_example(name: str):
    workflow = load_workflow(EXAMPLES / name)
    with Engine(jobs=2) as engine:
        record = engine.run(workflow)
        assert record.status == "succeeded", {k: v.error for k, v in record.nodes.items()}
        outputs = {node: engine.outputs(workflow, node) for node in workflow.nodes}
    return workflow, outputs


def _history_checks(workflow, outputs) -> pd.DataFrame:
    history = outputs["history"]["history"].frame
    params = workflow.nodes["learner"].params
    assert list(history["epoch"]) == list(range(1, params["epochs"] + 1))
    assert np.isfinite(history.drop(columns="epoch").to_numpy()).all()
    assert history["loss"].iloc[-1] < history["loss"].iloc[0]
    return history


@pytest.mark.parametrize("name", ["keras_digits_dense.axon.json",
                                  "keras_digits_convnet.axon.json"])
def test_digits_examples_reach_95_percent_test_accuracy(name):
    workflow, outputs = _run_example(name)
    scored = outputs["score"]["scored"].frame
    accuracy = outputs["evaluate"]["metrics"].scalars["accuracy"]
    assert accuracy == pytest.approx(accuracy_score(scored["digit"], scored["Scored Labels"]))
    assert 0.95 <= accuracy <= 1.0
    assert len(scored) == 450  # 25% of 1,797 digits, none seen in training
    history = _history_checks(workflow, outputs)
    assert {"accuracy", "val_loss", "val_accuracy"} <= set(history.columns)


def test_housing_example_reports_mae_in_thousands_of_dollars():
    workflow, outputs = _run_example("keras_housing_regression.axon.json")
    # MEDV spans 5-50 ($1000s); predicting the mean is off by ~6.5. The book's network: ~2.5.
    folds = outputs["crossvalidate"]["scored"].frame
    per_fold = [mean_absolute_error(rows["MEDV"], rows["Scored Labels"])
                for _, rows in folds.groupby("Fold")]
    cross_validated = outputs["crossvalidate"]["metrics"].scalars
    assert len(per_fold) == 4 and len(folds) == 404  # every training row scored once
    assert cross_validated["mae"] == pytest.approx(np.mean(per_fold))
    assert cross_validated["mae_std"] == pytest.approx(np.std(per_fold, ddof=1))
    assert 1.8 <= cross_validated["mae"] <= 3.5

    scored = outputs["score"]["scored"].frame
    mae = outputs["evaluate"]["metrics"].scalars["mae"]
    assert mae == pytest.approx(mean_absolute_error(scored["MEDV"], scored["Scored Labels"]))
    assert 1.5 <= mae <= 3.5
    baseline = mean_absolute_error(scored["MEDV"], np.full(len(scored), scored["MEDV"].mean()))
    assert mae < baseline / 2
    assert "mae" in _history_checks(workflow, outputs).columns


def test_text_example_classifies_tweets_by_outlet():
    workflow, outputs = _run_example("keras_text_classification.axon.json")
    scored = outputs["score"]["scored"].frame
    accuracy = outputs["evaluate"]["metrics"].scalars["accuracy"]
    assert accuracy == pytest.approx(accuracy_score(scored["outlet"], scored["Scored Labels"]))
    assert 0.84 <= accuracy <= 0.95  # TF-IDF + logistic regression: ~0.88 (catalog notes)
    model = outputs["train"]["model"]
    assert model.feature_columns == ["word_indices"] and model.estimator.n_features_in_ > 5
    assert {"accuracy", "val_accuracy"} <= set(_history_checks(workflow, outputs).columns)


def test_editing_the_layers_retrains_only_the_learner_and_what_follows():
    workflow = EXAMPLES_BUILT["keras_digits_dense.axon.json"]()
    workflow.set_param("learner", "epochs", 2)
    with Engine(jobs=2) as engine:
        first = engine.run(workflow)
        workflow.set_param("learner", "layers", [{"type": "rescaling", "scale": 1 / 16},
                                                 {"type": "dense", "units": 64},
                                                 {"type": "dense", "units": 32}])
        second = engine.run(workflow)
        model = engine.outputs(workflow, "train")["model"]
    assert first.status == second.status == "succeeded"
    assert not any(node.cache_hit for node in first.nodes.values())
    rerun = {node_id for node_id, node in second.nodes.items() if not node.cache_hit}
    assert rerun == {"learner", "train", "history", "score", "evaluate"}
    assert [w.shape for w in model.estimator.model_.get_weights()[::2]] == [
        (64, 64), (64, 32), (32, 10)]


def test_a_disk_cache_keeps_trained_networks_between_engines(tmp_path):
    workflow = EXAMPLES_BUILT["keras_digits_dense.axon.json"]()
    workflow.set_param("learner", "epochs", 1)
    with Engine(cache=DiskCache(tmp_path)) as engine:
        first = engine.run(workflow)
        metrics = engine.outputs(workflow, "evaluate")["metrics"].scalars
    assert list((tmp_path).rglob("model.keras"))
    with Engine(cache=DiskCache(tmp_path)) as engine:  # a fresh engine: only the disk
        second = engine.run(workflow)
        model = engine.outputs(workflow, "train")["model"]
        assert engine.outputs(workflow, "evaluate")["metrics"].scalars == metrics
    assert first.status == second.status == "succeeded"
    assert all(node.cache_hit for node in second.nodes.values())
    assert isinstance(model.estimator, KerasNetwork) and model.estimator.history_["loss"]
    assert second.nodes["train"].outputs["model"]["sha256"] == \
        first.nodes["train"].outputs["model"]["sha256"]


# -- reproducibility and equivalence with plain Keras ---------------------------

def test_the_same_seed_gives_the_same_weights_and_metrics(digits):
    def train(seed):
        learner = _learner(layers=DENSE_32 + [{"type": "dropout", "rate": 0.2}], epochs=2,
                           validation_fraction=0.2, seed=seed)
        return _train(learner, some_digits).estimator

    some_digits = digits.with_frame(digits.frame.iloc[:600])
    first, second, other = train(5), train(5), train(6)
    for a, b in zip(first.model_.get_weights(), second.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert first.history_ == second.history_
    assert other.history_ != first.history_
    assert not np.array_equal(other.model_.get_weights()[0], first.model_.get_weights()[0])


def test_the_node_trains_exactly_what_a_plain_keras_script_trains(digits):
    learner = _learner(layers=DENSE_32, epochs=2, batch_size=64, optimizer="adam",
                       learning_rate=0.002, seed=3)
    model = _train(learner, digits)
    X = _features(digits, model)
    y = digits.frame["digit"].to_numpy()

    tf, keras = keras_modules()
    keras.utils.set_random_seed(3)
    plain = keras.Sequential([keras.Input((64,)), keras.layers.Rescaling(1 / 16),
                              keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    plain.compile(optimizer=keras.optimizers.Adam(learning_rate=0.002),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    data = (tf.data.Dataset.from_tensor_slices((X.astype("float32"), y.astype("int32")))
            .cache().shuffle(len(X), seed=3).batch(64).prefetch(tf.data.AUTOTUNE))
    history = plain.fit(data, epochs=2, shuffle=False, verbose=0)
    for ours, theirs in zip(model.estimator.model_.get_weights(), plain.get_weights(),
                            strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert model.estimator.history_ == history.history
    np.testing.assert_allclose(model.estimator.predict_proba(_feature_frame(digits, model)),
                               plain.predict(X, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_early_stopping_keeps_the_best_weights(boston):
    learner = _learner(task="regression", layers=[{"type": "dense", "units": 16}],
                       loss="mse", epochs=500, batch_size=64, learning_rate=0.05,
                       optimizer="adam", validation_fraction=0.25, early_stopping=True,
                       patience=2, seed=1)
    network = _train(learner, boston).estimator
    val_loss = network.history_["val_loss"]
    assert len(val_loss) < 500
    best = int(np.argmin(val_loss))
    assert len(val_loss) == best + 1 + 2  # stopped 'patience' epochs after the best one
    validation_rows = network._split(len(boston.frame))[1]
    rows = boston.frame.iloc[validation_rows]
    predicted = network.predict(rows[list(network.feature_names_in_)])
    assert np.mean((predicted - rows["MEDV"].to_numpy()) ** 2) == pytest.approx(
        val_loss[best], rel=1e-4)


# -- progress and cancellation ---------------------------------------------------

def test_training_reports_each_epoch_and_batches_of_long_epochs(digits, monkeypatch):
    monkeypatch.setattr(_keras_estimator, "_BATCH_REPORT_INTERVAL", 0.0)
    harness = NodeHarness(TrainModel)
    harness.run(learner=_learner(layers=DENSE_32, epochs=3, batch_size=600), data=digits)
    messages = [message for _, message in harness.progress]
    epochs = [m for m in messages if m.startswith("epoch") and ":" in m]
    assert [m.split(":")[0] for m in epochs] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert "loss" in epochs[0] and "accuracy" in epochs[0]
    assert "epoch 1/3, batch 1/3" in messages
    fractions = [f for f, m in harness.progress if m.startswith("epoch")]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_cancelling_stops_training_between_batches(digits):
    cancel = threading.Event()
    reports: list[str] = []

    def on_progress(fraction, message):
        reports.append(message)
        if message.startswith("epoch 1/"):
            cancel.set()  # the user presses Stop during the first epoch

    node = TrainModel({}, label="Train Model")
    context = RunContext(node_id="train", on_progress=on_progress, cancel_event=cancel)
    learner = _learner(layers=DENSE_32, epochs=50, batch_size=8)
    with pytest.raises(RunCancelled):
        node.execute(context, {"learner": learner, "data": digits})
    later_epochs = [m for m in reports if m.startswith("epoch") and not m.startswith("epoch 1/")]
    assert later_epochs == []


# -- storage ----------------------------------------------------------------------

def test_a_trained_network_is_stored_as_a_keras_file_and_loads_the_same(digits, tmp_path):
    model = _train(_learner(layers=DENSE_32, epochs=1, seed=1), digits)
    model.save(tmp_path)
    artifact = tmp_path / "artifact"
    assert sorted(p.name for p in artifact.iterdir()) == ["model.keras", "settings.json"]
    assert zipfile.is_zipfile(artifact / "model.keras")
    settings = json.loads((artifact / "settings.json").read_text())
    assert settings["classes"] == {"dtype": "<i8", "values": list(range(10))}
    loaded = Model.load(tmp_path)
    assert list(loaded.estimator.feature_names_in_) == model.feature_columns
    X = _feature_frame(digits, model)
    np.testing.assert_array_equal(loaded.estimator.predict_proba(X),
                                  model.estimator.predict_proba(X))
    assert loaded.digest() == model.digest()
    assert loaded.classes == model.classes and loaded.estimator.history_ == \
        model.estimator.history_
    scored = run_node(ScoreModel, model=loaded, data=digits)["scored"].frame
    assert (scored["Scored Labels"] == model.estimator.predict(X)).all()


def test_a_keras_file_that_would_run_code_is_refused(digits, tmp_path):
    model = _train(_learner(layers=DENSE_32, epochs=1), digits)
    model.save(tmp_path)
    _, keras = keras_modules()
    inputs = keras.Input((64,))
    hostile = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    hostile.save(tmp_path / "artifact" / "model.keras")
    meta = json.loads((tmp_path / "meta.json").read_text())
    from nodes.digest import file_digest  # digests match: only safe mode stands in the way
    meta["artifact_sha256"]["artifact/model.keras"] = file_digest(
        tmp_path / "artifact" / "model.keras")
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="(?i)lambda|unsafe|safe_mode"):
        Model.load(tmp_path)
    (tmp_path / "artifact" / "model.keras").write_bytes(b"tampered")
    with pytest.raises(UnsafeArtifactError, match="digest"):
        Model.load(tmp_path)


# -- inputs: images, sequences, and mistakes ---------------------------------------

def test_a_conv_layer_on_flat_rows_says_how_to_reshape(digits):
    learner = _learner(layers=[{"type": "conv2d", "filters": 4}, {"type": "flatten"}])
    with pytest.raises(NodeInputError) as caught:
        _train(learner, digits)
    message = str(caught.value)
    assert "layer 1 (conv2d)" in message and "'shape': [8, 8, 1]" in message
    assert caught.value.port == "data"


def test_a_column_of_sequences_feeds_an_embedding_and_scores(digits):
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 12, size=300)
    labels = rng.integers(0, 2, size=300)
    # class 1 sequences contain word 7; class 0 never do
    sequences = [list(rng.integers(8, 50, size=n)) + ([7] if label else [])
                 for n, label in zip(lengths, labels, strict=True)]
    frame = pd.DataFrame({"words": pd.Series(sequences, dtype=object), "label": labels})
    table = Table(frame, {"label": "label"})
    learner = _learner(layers=[{"type": "embedding", "input_dim": 50, "output_dim": 8},
                               {"type": "global_max_pooling1d"}],
                       epochs=15, batch_size=32, sequence_length=10, optimizer="adam",
                       learning_rate=0.01)
    model = _train(learner, table)
    assert model.estimator.input_layout_ == {"kind": "sequence", "column": "words",
                                             "length": 10}
    scored = run_node(ScoreModel, model=model, data=table)["scored"].frame
    kept = [7 in s[:10] or not label for s, label in zip(sequences, labels, strict=True)]
    assert accuracy_score(labels[kept], scored["Scored Labels"][kept]) > 0.9

    mixed = Table(frame.assign(extra=1.0), {"label": "label"})
    with pytest.raises(NodeInputError, match="must be the only feature"):
        _train(learner, mixed)
    texts = Table(frame.assign(words=[" ".join(map(str, s)) for s in sequences]),
                  {"label": "label"})
    with pytest.raises(NodeInputError, match="must be numeric.*'words'"):
        _train(learner, texts)


def test_a_column_of_images_is_fed_in_its_shape(digits):
    pixels = digits.frame.drop(columns="digit").to_numpy(dtype=float)
    frame = pd.DataFrame({"image": pd.Series(list(pixels.reshape(-1, 8, 8)), dtype=object),
                          "digit": digits.frame["digit"]})
    table = Table(frame.iloc[:600], {"digit": "label"})
    learner = _learner(layers=[{"type": "rescaling", "scale": 1 / 16},
                               {"type": "conv2d", "filters": 8, "padding": "same"},
                               {"type": "global_average_pooling2d"}], epochs=1)
    model = _train(learner, table)
    assert model.estimator.input_layout_["shape"] == [8, 8, 1]
    assert model.estimator.model_.layers[1].output.shape[1:] == (8, 8, 1)
    scored = run_node(ScoreModel, model=model, data=table)["scored"].frame
    assert len(scored) == 600 and scored["Scored Labels"].isin(range(10)).all()


def test_training_history_needs_a_model_trained_in_epochs(boston):
    from nodes.models.learners import LinearRegression

    linear = _train(run_node(LinearRegression)["learner"], boston)
    with pytest.raises(NodeInputError, match="not trained in epochs") as caught:
        run_node(TrainingHistory, model=linear)
    assert caught.value.port == "model"


# -- the dense-network interface of the hardware backends ----------------------------

def test_a_dense_keras_network_is_exposed_as_plain_weights(digits):
    learner = _learner(layers=[*DENSE_32, {"type": "dropout", "rate": 0.3},
                               {"type": "dense", "units": 16, "activation": "tanh"}], epochs=1)
    model = _train(learner, digits)
    network = dense_network(model)
    assert [layer["activation"] for layer in network.describe()] == ["relu", "tanh", "softmax"]
    assert [layer.shape for layer in network.layers] == [(64, 32), (32, 16), (16, 10)]
    assert network.feature_names == model.feature_columns and network.classes == list(range(10))
    X, frame = _features(digits, model), _feature_frame(digits, model)
    np.testing.assert_allclose(network.predict_proba(X), model.estimator.predict_proba(frame),
                               atol=1e-5)  # the rescaling layer is folded into the first weights
    assert (network.predict(X) == model.estimator.predict(frame)).mean() > 0.999


def test_a_binary_network_ends_in_one_sigmoid_unit_and_convnets_are_refused(breast_cancer,
                                                                             digits):
    binary = _train(_learner(layers=[{"type": "dense", "units": 8}], epochs=1), breast_cancer)
    network = dense_network(binary)
    assert network.layers[-1].activation == "sigmoid" and network.n_outputs == 1
    X, frame = _features(breast_cancer, binary), _feature_frame(breast_cancer, binary)
    np.testing.assert_allclose(network.predict_proba(X), binary.estimator.predict_proba(frame),
                               atol=1e-4)
    conv = _train(_learner(layers=[{"type": "reshape", "shape": [8, 8, 1]},
                                   {"type": "conv2d", "filters": 2}, {"type": "flatten"}],
                           epochs=1), digits)
    with pytest.raises(NodeInputError, match=r"layer 1 \(reshape\) is not a dense layer"):
        dense_network(conv)
