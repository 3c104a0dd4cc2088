"""Normalize Data and Apply Transformation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from nodes.errors import NodeInputError, ParameterError
from nodes.testing import run_node
from nodes.transform.normalize import ApplyTransformation, NormalizeData
from nodes.values import Table, Transform


def test_zscore_of_every_numeric_feature_equals_standard_scaler(boston, sample_csv):
    frame = sample_csv("boston_housing")
    features = [c for c in frame.columns if c != "MEDV"]
    out = run_node(NormalizeData, {}, data=boston)
    table, transform = out["data"], out["transform"]
    expected = StandardScaler().fit_transform(frame[features])
    np.testing.assert_array_equal(table.frame[features].to_numpy(), expected)
    pd.testing.assert_series_equal(table.frame["MEDV"], frame["MEDV"])  # label untouched
    assert list(table.frame.columns) == list(frame.columns)
    assert table.roles == {"MEDV": "label"}
    assert isinstance(transform, Transform)
    assert isinstance(transform.transformer, StandardScaler)
    assert transform.columns == features


def test_minmax_of_chosen_columns_equals_minmax_scaler(iris, sample_csv):
    frame = sample_csv("iris")
    chosen = ["petal width (cm)", "sepal length (cm)"]
    out = run_node(NormalizeData, {"method": "minmax", "columns": chosen}, data=iris)
    np.testing.assert_array_equal(out["data"].frame[chosen].to_numpy(),
                                  MinMaxScaler().fit_transform(frame[chosen]))
    for other in ["sepal width (cm)", "petal length (cm)", "species"]:
        pd.testing.assert_series_equal(out["data"].frame[other], frame[other])
    assert isinstance(out["transform"].transformer, MinMaxScaler)
    assert out["transform"].columns == chosen


def test_default_never_picks_label_score_id_or_text_columns():
    frame = pd.DataFrame({"x": [1.0, 2.0, 4.0], "n": [1, 5, 9], "flag": [True, False, True],
                          "row": [10, 11, 12], "y": [0.5, 0.1, 0.2], "p": [0.3, 0.2, 0.9],
                          "name": ["a", "b", "c"]})
    table = Table(frame, {"row": "id", "y": "label", "p": "score"})
    out = run_node(NormalizeData, {}, data=table)
    assert out["transform"].columns == ["x", "n"]
    for kept in ["flag", "row", "y", "p", "name"]:
        pd.testing.assert_series_equal(out["data"].frame[kept], frame[kept])
    assert out["data"].roles == table.roles


def test_non_numeric_chosen_columns_are_named(iris):
    with pytest.raises(NodeInputError, match="'species'") as caught:
        run_node(NormalizeData, {"columns": ["sepal length (cm)", "species"]}, data=iris)
    assert caught.value.columns == ["species"]


def test_unknown_chosen_columns_are_named(iris):
    with pytest.raises(NodeInputError, match="'sepal'") as caught:
        run_node(NormalizeData, {"columns": ["sepal"]}, data=iris)
    assert caught.value.columns == ["sepal"]


def test_no_numeric_feature_column_is_an_error():
    table = Table(pd.DataFrame({"name": ["a", "b"], "y": [1.0, 2.0]}), {"y": "label"})
    with pytest.raises(NodeInputError, match="no numeric feature column") as caught:
        run_node(NormalizeData, {}, data=table)
    assert "'columns'" in caught.value.fix


def test_unknown_method_is_a_parameter_error():
    with pytest.raises(ParameterError, match="'method'") as caught:
        NormalizeData({"method": "logistic"})
    assert "'zscore'" in str(caught.value)


def _halves(table: Table) -> tuple[Table, Table]:
    frame = table.frame
    return (table.with_frame(frame.iloc[::2].reset_index(drop=True)),
            table.with_frame(frame.iloc[1::2].reset_index(drop=True)))


@pytest.mark.parametrize(("method", "scaler"), [("zscore", StandardScaler),
                                                ("minmax", MinMaxScaler)])
def test_apply_transformation_uses_the_fitted_scaling(boston, method, scaler):
    first, second = _halves(boston)
    transform = run_node(NormalizeData, {"method": method}, data=first)["transform"]
    out = run_node(ApplyTransformation, {}, transform=transform, data=second)["data"]
    columns = transform.columns
    reference = scaler().fit(first.frame[columns])
    np.testing.assert_array_equal(out.frame[columns].to_numpy(),
                                  reference.transform(second.frame[columns]))
    pd.testing.assert_series_equal(out.frame["MEDV"], second.frame["MEDV"])
    assert out.roles == second.roles


def test_apply_transformation_names_missing_columns(boston):
    transform = run_node(NormalizeData, {}, data=boston)["transform"]
    partial = boston.with_frame(boston.frame.drop(columns=["RM", "TAX"]))
    with pytest.raises(NodeInputError, match="'RM', 'TAX'") as caught:
        run_node(ApplyTransformation, {}, transform=transform, data=partial)
    assert "fitted" in str(caught.value)
    assert caught.value.columns == ["RM", "TAX"]


def test_apply_transformation_names_non_numeric_columns(boston):
    transform = run_node(NormalizeData, {"columns": ["RM"]}, data=boston)["transform"]
    text = boston.with_frame(boston.frame.assign(RM=boston.frame["RM"].astype(str)))
    with pytest.raises(NodeInputError, match="'RM'"):
        run_node(ApplyTransformation, {}, transform=transform, data=text)


def test_robust_and_log_methods_match_numpy_and_scikit_learn(boston, tmp_path):
    from sklearn.preprocessing import RobustScaler

    from nodes.values import load_value, save_value

    train, test = _halves(boston)
    out = run_node(NormalizeData, {"method": "robust", "columns": ["CRIM", "RM"]}, data=train)
    reference = RobustScaler().fit(train.frame[["CRIM", "RM"]])
    applied = run_node(ApplyTransformation, transform=out["transform"], data=test)["data"]
    np.testing.assert_allclose(applied.frame[["CRIM", "RM"]],
                               reference.transform(test.frame[["CRIM", "RM"]]))
    logged = run_node(NormalizeData, {"method": "log", "columns": ["CRIM"]}, data=train)
    np.testing.assert_allclose(logged["data"].frame["CRIM"], np.log1p(train.frame["CRIM"]))
    kind = save_value(logged["transform"], tmp_path / "log")
    again = load_value(kind, tmp_path / "log")
    np.testing.assert_allclose(again.apply(test).frame["CRIM"], np.log1p(test.frame["CRIM"]))


def test_log_refuses_values_at_or_below_minus_one(boston):
    frame = boston.frame.copy()
    frame["CRIM"] = frame["CRIM"] - 5
    with pytest.raises(NodeInputError, match="'CRIM'"):
        run_node(NormalizeData, {"method": "log"}, data=boston.with_frame(frame))
