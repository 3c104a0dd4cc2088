"""Hardware-aware training: gradients, the noise recipe, storage, and its effect on PCM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from nodes.hardware.pcm import PCMChip, PCMSettings, RunOnPCM
from nodes.hardware.training import HardwareAwareNeuralNetwork, NoiseAwareMLPClassifier
from nodes.models.network import dense_network
from nodes.models.train_score import ScoreModel, TrainModel
from nodes.testing import run_node
from nodes.values import load_value, save_value


@pytest.fixture(scope="module")
def digits():
    """The digits example's rows: a stratified 70/30 split, seed 1."""
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=1, stratify=y)


def test_gradients_are_the_derivatives_of_the_loss():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 5)), rng.integers(0, 3, 20)
    model = NoiseAwareMLPClassifier((4,), max_iter=1, weight_noise=0, clip_sigma=0,
                                    alpha=0.1).fit(X, y)
    targets = np.eye(3)[y]
    loss, grads = model._gradients(X, targets, model.coefs_)
    params = model.coefs_ + model.intercepts_
    for param, grad in zip(params, grads, strict=True):
        index = tuple(rng.integers(0, s) for s in param.shape)
        saved = param[index]
        param[index] = saved + 1e-6
        up = model._gradients(X, targets, model.coefs_)[0]
        param[index] = saved - 1e-6
        down = model._gradients(X, targets, model.coefs_)[0]
        param[index] = saved
        assert grad[index] == pytest.approx((up - down) / 2e-6, rel=1e-4, abs=1e-8)
    assert loss > 0


def test_noise_and_clipping_follow_the_aihwkit_recipe(digits):
    X_train, X_test, y_train, y_test = digits
    plain = NoiseAwareMLPClassifier((32,), max_iter=60, weight_noise=0, clip_sigma=0).fit(
        X_train, y_train)
    again = NoiseAwareMLPClassifier((32,), max_iter=60, weight_noise=0, clip_sigma=0).fit(
        X_train, y_train)
    for a, b in zip(plain.coefs_, again.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)           # seeded: the same network
    noisy = NoiseAwareMLPClassifier((32,), max_iter=60).fit(X_train, y_train)
    assert not np.allclose(noisy.coefs_[0], plain.coefs_[0])
    for w in noisy.coefs_:                              # clipped at 2.5 sigma of the layer
        assert np.abs(w).max() <= 2.5 * w.std() * 1.001
    assert np.mean(plain.predict(X_test) == y_test) > 0.9
    assert np.mean(noisy.predict(X_test) == y_test) > 0.9


def test_hardware_aware_training_keeps_digits_accurate_on_pcm(digits):
    """The effect, measured: the digits network (64 ReLU units) on PCM with aihwkit's
    defaults, a year after programming, averaged over three programmed chips."""
    X_train, X_test, y_train, y_test = digits
    accuracy = {}
    for name, noise, clip in (("plain", 0.0, 0.0), ("aware", 0.1, 2.5)):
        model = NoiseAwareMLPClassifier((64,), max_iter=300, weight_noise=noise,
                                        clip_sigma=clip).fit(X_train, y_train)
        network = model.to_dense_network()
        scores = []
        for seed in range(3):
            outputs = PCMChip(network, PCMSettings(), seed).forward(X_test, 3.15e7)[0]
            scores.append(np.mean(model.classes_[outputs.argmax(axis=1)] == y_test))
        accuracy[name] = (float(np.mean(model.predict(X_test) == y_test)), float(np.mean(scores)))
    digital_plain, pcm_plain = accuracy["plain"]
    digital_aware, pcm_aware = accuracy["aware"]
    assert digital_plain - pcm_plain > 0.05            # a plain network loses to the devices
    assert pcm_aware > pcm_plain + 0.04                # training with noise wins most of it back
    assert digital_aware - pcm_aware < digital_plain - pcm_plain


def test_the_learner_trains_scores_stores_and_runs_on_hardware(iris_split, tmp_path):
    learner = run_node(HardwareAwareNeuralNetwork, {"hidden_layers": [16],
                                                    "max_iterations": 400,
                                                    "learning_rate": 0.01})["learner"]
    model = run_node(TrainModel, {}, learner=learner, data=iris_split["train"])["model"]
    scored = run_node(ScoreModel, {}, model=model, data=iris_split["test"])["scored"]
    assert (scored.frame["Scored Labels"] == scored.frame["species"]).mean() > 0.9
    kind = save_value(model, tmp_path)
    # Stored as data, never pickles: the network as JSON and arrays, and beside it the
    # data-ownership digest of its training rows (iris has a sidecar naming its owner):
    # the summary, and each owner's sorted row hashes (docs/data-ownership.md).
    files = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert {Path(f).suffix for f in files} <= {".json", ".npz", ".npy"}
    assert {"ownership.json", "ownership_leaves.npy"} <= files
    for path in tmp_path.rglob("*.np[yz]"):
        arrays = np.load(path, allow_pickle=False)  # an object array would raise here
        for array in (arrays.values() if hasattr(arrays, "values") else [arrays]):
            assert array.dtype != object
    leaves = np.load(tmp_path / "ownership_leaves.npy", allow_pickle=False)
    assert leaves.shape == (len(iris_split["train"].frame), 32)  # one hash per training row
    loaded = load_value(kind, tmp_path)
    features = iris_split["test"].frame[model.feature_columns].to_numpy(dtype=float)
    np.testing.assert_array_equal(loaded.estimator.predict_proba(features),
                                  model.estimator.predict_proba(features))
    assert loaded.digest() == model.digest()
    network = dense_network(model)
    assert network.feature_names == model.feature_columns
    report = run_node(RunOnPCM, {"drift_sweep": False}, model=model,
                      data=iris_split["test"])["report"]
    assert report.metrics["agreement"] > 0.8
