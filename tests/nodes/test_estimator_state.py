"""The plain-data model format (nodes/estimator_state.py): fitted estimators come
back exact, anything that is not plain data goes to skops, and a file that was
altered or names something other than a scikit-learn estimator is refused."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from nodes.digest import stable_digest
from nodes.estimator_state import (
    ARRAYS_FILE,
    STATE_FILE,
    StateFormatError,
    dump_state,
    load_state,
)
from nodes.values import Model, UnsafeArtifactError

ROWS = np.random.default_rng(3).normal(size=(300, 4))
FRAME = pd.DataFrame(ROWS, columns=["a", "b", "c", "d"])
WORDS = np.where(FRAME["a"] + FRAME["b"] > 0, "yes", "no")


def _output(estimator, frame):
    for method in ("predict_proba", "predict", "transform"):
        if hasattr(estimator, method):
            return np.asarray(getattr(estimator, method)(frame))
    raise AssertionError(estimator)


@pytest.mark.parametrize("estimator, target", [
    (LogisticRegression(), WORDS),
    (LogisticRegression(C=0.5), np.digitize(FRAME["a"], [-0.5, 0.5])),
    (LinearRegression(), FRAME["c"].to_numpy()),
    (Ridge(alpha=2.0), FRAME["c"].to_numpy()),
    (StandardScaler(), None),
    (MinMaxScaler(feature_range=(-1, 1)), None),
    (SimpleImputer(strategy="median"), None),
    (KMeans(3, n_init=2, random_state=0), None),
    (PCA(2), None),
    (GaussianNB(), WORDS),
])
def test_plain_estimators_come_back_exact(tmp_path, estimator, target):
    estimator.fit(FRAME, target) if target is not None else estimator.fit(FRAME)
    assert dump_state(estimator, tmp_path) is not None
    loaded = load_state(tmp_path)
    assert type(loaded) is type(estimator)
    assert stable_digest(loaded) == stable_digest(estimator)  # types and values, exactly
    assert repr(loaded.get_params()) == repr(estimator.get_params())
    assert np.array_equal(_output(loaded, FRAME), _output(estimator, FRAME))
    if hasattr(estimator, "feature_names_in_"):
        assert loaded.feature_names_in_.dtype == object
    loaded.fit(FRAME, target) if target is not None else loaded.fit(FRAME)  # params validate


@pytest.mark.parametrize("estimator", [
    DecisionTreeClassifier(max_depth=3), RandomForestClassifier(n_estimators=3),
    make_pipeline(StandardScaler(), LogisticRegression())])
def test_what_is_not_plain_data_is_left_to_skops(tmp_path, estimator):
    estimator.fit(FRAME, WORDS)
    assert dump_state(estimator, tmp_path / "state") is None
    assert not (tmp_path / "state").exists()
    model = Model(estimator, "classification", "m", list(FRAME.columns),
                  {c: "float64" for c in FRAME.columns}, "label", ["no", "yes"])
    model.save(tmp_path / "model")
    assert (tmp_path / "model" / "object.skops").is_file()
    assert np.array_equal(Model.load(tmp_path / "model").estimator.predict(FRAME),
                          estimator.predict(FRAME))


def _saved_model(tmp_path):
    estimator = LogisticRegression().fit(FRAME, WORDS)
    model = Model(estimator, "classification", "m", list(FRAME.columns),
                  {c: "float64" for c in FRAME.columns}, "label", ["no", "yes"])
    model.save(tmp_path)
    assert (tmp_path / STATE_FILE).is_file() and not (tmp_path / "object.skops").exists()
    return estimator


def test_a_model_saves_and_loads_through_the_value(tmp_path):
    estimator = _saved_model(tmp_path)
    loaded = Model.load(tmp_path)
    assert loaded.classes == ["no", "yes"]
    assert np.array_equal(loaded.estimator.predict_proba(FRAME), estimator.predict_proba(FRAME))


def test_an_altered_file_is_refused(tmp_path):
    _saved_model(tmp_path)
    data = bytearray((tmp_path / ARRAYS_FILE).read_bytes())
    data[-40] ^= 0xFF
    (tmp_path / ARRAYS_FILE).write_bytes(bytes(data))
    with pytest.raises(UnsafeArtifactError, match="arrays.npz does not match"):
        Model.load(tmp_path)


def _rewrite_state(folder, change):
    state = json.loads((folder / STATE_FILE).read_text())
    change(state)
    (folder / STATE_FILE).write_text(json.dumps(state))


@pytest.mark.parametrize("name", ["os.system", "subprocess.Popen", "sklearn.utils.deprecated",
                                  "sklearn.base.clone", "sklearn.linear_model.Nope",
                                  "sklearn.tests.test_base.T"])
def test_a_class_that_is_not_a_scikit_learn_estimator_is_refused(tmp_path, name):
    _saved_model(tmp_path)
    _rewrite_state(tmp_path, lambda state: state.update({"class": name}))
    with pytest.raises(StateFormatError, match="not a scikit-learn|has no module"):
        load_state(tmp_path)


def test_an_array_that_would_need_pickle_is_refused(tmp_path):
    _saved_model(tmp_path)
    np.savez(tmp_path / ARRAYS_FILE, a0=np.array([object(), 1], dtype=object))
    with pytest.raises(StateFormatError, match="without pickle"):
        load_state(tmp_path)


def test_another_scikit_learn_version_is_refused_not_guessed(tmp_path):
    _saved_model(tmp_path)
    _rewrite_state(tmp_path, lambda state: state.update({"sklearn_version": "0.1"}))
    with pytest.raises(StateFormatError, match="stored with scikit-learn 0.1"):
        load_state(tmp_path)


def test_saving_a_linear_model_does_not_import_skops(tmp_path):
    """The point of the format: skops' import (every scikit-learn module) is
    not paid by a run whose models are plain data."""
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        import numpy as np
        from sklearn.linear_model import LogisticRegression
        from nodes.values import Model
        X = np.random.default_rng(0).normal(size=(50, 2)); y = (X[:, 0] > 0).astype(int)
        model = Model(LogisticRegression().fit(X, y), "classification", "m", ["a", "b"],
                      {{"a": "float64", "b": "float64"}}, "label", [0, 1])
        model.save(Path({str(tmp_path)!r}))
        Model.load(Path({str(tmp_path)!r}))
        print(sorted(m for m in sys.modules if m.startswith("skops")))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
