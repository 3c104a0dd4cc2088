"""Split Data."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from nodes.context import derive_seed
from nodes.errors import NodeInputError, ParameterError
from nodes.testing import run_node
from nodes.transform.split import SplitData
from nodes.values import Table


def _reference(frame, **kwargs):
    train, test = train_test_split(frame, **kwargs)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def test_default_split_equals_train_test_split(boston, sample_csv):
    # The default seed inherits the run's: the harness's run seed 0, derived for its node.
    out = run_node(SplitData, {}, data=boston)
    train, test = _reference(sample_csv("boston_housing"), train_size=0.7,
                             random_state=derive_seed(0, "node"), shuffle=True)
    pd.testing.assert_frame_equal(out["train"].frame, train)
    pd.testing.assert_frame_equal(out["test"].frame, test)
    assert out["train"].roles == out["test"].roles == {"MEDV": "label"}
    assert (len(train), len(test)) == (354, 152)


def test_stratified_split_on_the_label_equals_train_test_split(breast_cancer, sample_csv):
    frame = sample_csv("breast_cancer")
    out = run_node(SplitData, {"fraction": 0.8, "seed": 42, "stratify": True},
                   data=breast_cancer)
    train, test = _reference(frame, train_size=0.8, random_state=42, shuffle=True,
                             stratify=frame["diagnosis"])
    pd.testing.assert_frame_equal(out["train"].frame, train)
    pd.testing.assert_frame_equal(out["test"].frame, test)


def test_stratify_column_overrides_the_label(boston, sample_csv):
    frame = sample_csv("boston_housing")
    out = run_node(SplitData, {"stratify": True, "stratify_column": "CHAS", "seed": 3},
                   data=boston)
    train, _ = _reference(frame, train_size=0.7, random_state=3, shuffle=True,
                          stratify=frame["CHAS"])
    pd.testing.assert_frame_equal(out["train"].frame, train)


def test_without_shuffle_the_first_rows_train(iris, sample_csv):
    out = run_node(SplitData, {"fraction": 0.5, "shuffle": False, "seed": 9}, data=iris)
    frame = sample_csv("iris")
    pd.testing.assert_frame_equal(out["train"].frame, frame.iloc[:75].reset_index(drop=True))
    pd.testing.assert_frame_equal(out["test"].frame, frame.iloc[75:].reset_index(drop=True))


@pytest.mark.parametrize(("params", "name"), [
    ({"fraction": 0}, "'fraction'"), ({"fraction": 1}, "'fraction'"),
    ({"fraction": 1.5}, "'fraction'"), ({"fraction": "half"}, "'fraction'"),
    ({"seed": -1}, "'seed'"), ({"seed": 1.5}, "'seed'"), ({"shuffle": "maybe"}, "'shuffle'"),
    ({"stratify": True, "shuffle": False}, "'stratify'"),
])
def test_bad_parameters_are_named(params, name):
    with pytest.raises(ParameterError, match=name):
        SplitData(params)


def test_stratify_without_a_label_column(boston):
    unlabelled = Table(boston.frame)
    with pytest.raises(NodeInputError, match="'stratify'") as caught:
        run_node(SplitData, {"stratify": True}, data=unlabelled)
    assert "stratify_column" in caught.value.fix


def test_stratify_column_not_in_table(boston):
    with pytest.raises(NodeInputError, match="'CHAZ'") as caught:
        run_node(SplitData, {"stratify": True, "stratify_column": "CHAZ"}, data=boston)
    assert "'CHAS'" in caught.value.fix


def test_stratify_with_a_class_too_small(iris):
    few = iris.with_frame(iris.frame.iloc[:51])  # one 'versicolor' row
    with pytest.raises(NodeInputError, match="51 rows") as caught:
        run_node(SplitData, {"stratify": True}, data=few)
    assert "least populated class" in str(caught.value)


def test_stratify_column_with_missing_values(boston):
    frame = boston.frame.astype({"CHAS": float})
    frame.loc[[2, 4], "CHAS"] = float("nan")
    with pytest.raises(NodeInputError, match=r"'CHAS' \(2 rows\)"):
        run_node(SplitData, {"stratify": True, "stratify_column": "CHAS"},
                 data=boston.with_frame(frame))


def test_empty_table(iris):
    with pytest.raises(NodeInputError, match="no rows"):
        run_node(SplitData, {}, data=iris.with_frame(iris.frame.iloc[:0]))
