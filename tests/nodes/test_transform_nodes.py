"""Convert to Indicator Values, Group Data into Bins, Clip Values, Apply SQL
Transformation, PCA, Split Data by Expression and Partition and Sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import OneHotEncoder

from nodes.errors import NodeInputError, ParameterError
from nodes.testing import run_node
from nodes.transform.discretize import ClipValues, ConvertToIndicatorValues, GroupDataIntoBins
from nodes.transform.normalize import ApplyTransformation
from nodes.transform.pca import PrincipalComponentAnalysis
from nodes.transform.sampling import PartitionAndSample, SplitDataByExpression
from nodes.transform.sql import ApplySQLTransformation
from nodes.values import Table, load_value, save_value


def test_indicator_values_match_one_hot_encoder_and_apply_to_new_rows(tmp_path):
    train = Table(pd.DataFrame({"city": ["b", "a", "c", "a"], "n": [1, 2, 3, 4],
                                "y": [0, 1, 0, 1]}), {"y": "label"})
    out = run_node(ConvertToIndicatorValues, data=train)
    encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(
        train.frame[["city"]])
    columns = ["city-a", "city-b", "city-c"]
    assert list(out["data"].frame.columns) == [*columns, "n", "y"]
    np.testing.assert_array_equal(out["data"].frame[columns], encoder.transform(
        train.frame[["city"]]))
    test = Table(pd.DataFrame({"city": ["c", "z"], "n": [5, 6]}))
    applied = run_node(ApplyTransformation, transform=out["transform"], data=test)["data"]
    np.testing.assert_array_equal(applied.frame[columns], encoder.transform(test.frame[["city"]]))
    kind = save_value(out["transform"], tmp_path / "t")
    assert load_value(kind, tmp_path / "t").apply(test).frame.equals(applied.frame)
    with pytest.raises(NodeInputError, match="more than 'max_categories'"):
        run_node(ConvertToIndicatorValues, {"columns": ["n"], "max_categories": 3}, data=train)


def test_group_data_into_bins_matches_pandas(boston):
    out = run_node(GroupDataIntoBins, {"columns": ["LSTAT", "RM"], "bins": 4}, data=boston)
    frame = out["data"].frame
    expected = pd.qcut(boston.frame["LSTAT"], 4, labels=False)
    assert frame["LSTAT_bin"].tolist() == expected.tolist()
    width = run_node(GroupDataIntoBins, {"columns": ["RM"], "bins": 3, "method": "equal_width",
                                         "output": "replace"}, data=boston)["data"].frame
    assert width["RM"].tolist() == pd.cut(boston.frame["RM"], 3, labels=False).tolist()
    beyond = Table(pd.DataFrame({"LSTAT": [-100.0, 1000.0, np.nan], "RM": [5.0, 6.0, 7.0]}))
    applied = run_node(ApplyTransformation, transform=out["transform"], data=beyond)["data"]
    assert applied.frame["LSTAT_bin"].tolist()[:2] == [0, 3]
    assert pd.isna(applied.frame["LSTAT_bin"][2])


def test_clip_values_by_percentile_and_to_missing(boston):
    out = run_node(ClipValues, {"columns": ["CRIM"], "lower": 5, "upper": 95},
                   data=boston)["data"].frame
    low, high = np.percentile(boston.frame["CRIM"], [5, 95])
    np.testing.assert_allclose(out["CRIM"], boston.frame["CRIM"].clip(low, high))
    missing = run_node(ClipValues, {"columns": ["CRIM"], "thresholds": "constant", "upper": 10,
                                    "lower": 0, "clip": "upper", "replace_with": "missing"},
                       data=boston)["data"].frame
    assert missing["CRIM"].isna().sum() == (boston.frame["CRIM"] > 10).sum()
    with pytest.raises(ParameterError, match="'lower'"):
        ClipValues({"lower": 50, "upper": 10})
    with pytest.raises(ParameterError, match="percentile"):
        ClipValues({"upper": 120})


def test_sql_over_two_tables_keeps_roles(iris):
    names = Table(pd.DataFrame({"species": ["setosa", "virginica"], "latin": ["I. setosa",
                                                                              "I. virginica"]}))
    out = run_node(ApplySQLTransformation, {"query": (
        'SELECT t1.species, t2.latin, AVG("petal length (cm)") AS mean_petal '
        "FROM t1 JOIN t2 ON t1.species = t2.species GROUP BY ALL ORDER BY 1")},
        t1=iris, t2=names)["data"]
    expected = iris.frame.groupby("species")["petal length (cm)"].mean()
    assert out.frame["species"].tolist() == ["setosa", "virginica"]
    np.testing.assert_allclose(out.frame["mean_petal"], expected[["setosa", "virginica"]])
    assert out.label_column == "species"


def test_sql_cannot_touch_files_and_names_a_missing_input(iris, tmp_path):
    target = tmp_path / "leak.csv"
    with pytest.raises(NodeInputError, match="the query failed"):
        run_node(ApplySQLTransformation, {"query": f"COPY t1 TO '{target}'"}, t1=iris)
    assert not target.exists()
    with pytest.raises(NodeInputError, match="the query failed"):
        run_node(ApplySQLTransformation, {"query": "SELECT * FROM read_csv('/etc/hostname')"},
                 t1=iris)
    with pytest.raises(NodeInputError, match="Connect input 't2'"):
        run_node(ApplySQLTransformation, {"query": "SELECT * FROM t2"}, t1=iris)


@pytest.mark.parametrize("whiten", [False, True])
def test_pca_matches_scikit_learn(iris, whiten, tmp_path):
    train = iris.with_frame(iris.frame.iloc[::2].reset_index(drop=True))
    test = iris.with_frame(iris.frame.iloc[1::2].reset_index(drop=True))
    out = run_node(PrincipalComponentAnalysis, {"components": 3, "whiten": whiten}, data=train)
    reference = PCA(3, whiten=whiten, svd_solver="full").fit(
        train.frame[iris.feature_columns].to_numpy())
    applied = run_node(ApplyTransformation, transform=out["transform"], data=test)["data"]
    np.testing.assert_allclose(applied.frame[["PC1", "PC2", "PC3"]],
                               reference.transform(test.frame[iris.feature_columns].to_numpy()),
                               atol=1e-10)
    assert applied.label_column == "species" and len(applied.frame.columns) == 4
    np.testing.assert_allclose(out["variance"].frame["explained_variance_ratio"],
                               reference.explained_variance_ratio_)
    again = load_value(save_value(out["transform"], tmp_path / "t"), tmp_path / "t")
    assert again.apply(test).frame.equals(applied.frame)
    with pytest.raises(NodeInputError, match="at most 4 fit"):
        run_node(PrincipalComponentAnalysis, {"components": 5}, data=train)


def test_split_by_expression_matches_pandas(iris):
    expression = ("\"petal length (cm)\" >= 4.5 and species != 'virginica' "
                  "or \"sepal width (cm)\" > 4")
    out = run_node(SplitDataByExpression, {"expression": expression}, data=iris)
    f = iris.frame
    mask = ((f["petal length (cm)"] >= 4.5) & (f["species"] != "virginica")) | (
        f["sepal width (cm)"] > 4)
    pd.testing.assert_frame_equal(out["matching"].frame, f[mask].reset_index(drop=True))
    pd.testing.assert_frame_equal(out["other"].frame, f[~mask].reset_index(drop=True))
    with pytest.raises(NodeInputError, match="Quote the value"):
        run_node(SplitDataByExpression, {"expression": "species == 3"}, data=iris)
    with pytest.raises(NodeInputError, match="'petal'"):
        run_node(SplitDataByExpression, {"expression": "petal > 3"}, data=iris)
    for bad in ["species ==", "a > 1 xor b < 2", "__import__('os') > 1", "a > b"]:
        with pytest.raises(ParameterError, match="'expression'"):
            SplitDataByExpression({"expression": bad})


def test_partition_and_sample(iris):
    sample = run_node(PartitionAndSample, {"rate": 0.2, "seed": 4}, data=iris)["data"].frame
    pd.testing.assert_frame_equal(sample, iris.frame.sample(frac=0.2, random_state=4)
                                  .reset_index(drop=True))
    head = run_node(PartitionAndSample, {"mode": "head", "count": 7}, data=iris)["data"]
    assert head.frame.equals(iris.frame.head(7))
    folds = run_node(PartitionAndSample, {"mode": "assign_folds", "folds": 3, "stratify": True,
                                          "seed": 2}, data=iris)["data"].frame
    splitter = StratifiedKFold(3, shuffle=True, random_state=2)
    for number, (_, test) in enumerate(splitter.split(iris.frame, iris.frame["species"]), 1):
        assert (folds["Fold"].to_numpy()[test] == number).all()
    with pytest.raises(NodeInputError, match="no label column"):
        run_node(PartitionAndSample, {"stratify": True}, data=Table(iris.frame))
