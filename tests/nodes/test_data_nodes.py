"""Enter Data Manually, Export Data, Summarize Data, Edit Metadata, Clean Missing Data,
Remove Duplicate Rows, Join Data, Add Rows and Add Columns, against pandas and numpy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nodes.data.manual import EnterDataManually, ExportData
from nodes.data.summarize import SummarizeData
from nodes.errors import NodeInputError, ParameterError
from nodes.file_access import FileAccess
from nodes.testing import NodeHarness, run_node
from nodes.transform.metadata import EditMetadata
from nodes.transform.missing import CleanMissingData
from nodes.transform.normalize import ApplyTransformation
from nodes.transform.rows import AddColumns, AddRows, JoinData, RemoveDuplicateRows
from nodes.values import Table, load_value, save_value


def holes() -> Table:
    frame = pd.DataFrame({"x": [1.0, np.nan, 3.0, 10.0, np.nan], "c": ["a", "b", None, "b", "b"],
                          "y": [0, 1, 0, 1, 1]})
    return Table(frame, {"y": "label"})


def test_enter_data_manually_infers_types_and_the_label():
    table = run_node(EnterDataManually, {"text": "x, y, name\n1, 2.5, a\n3,, b",
                                         "label_column": "y"})["data"]
    assert table.frame["x"].tolist() == [1, 3] and np.isnan(table.frame["y"][1])
    assert table.label_column == "y" and table.frame["name"].tolist() == ["a", "b"]
    no_header = run_node(EnterDataManually, {"text": "1,2\n3,4", "has_header": False})["data"]
    assert list(no_header.frame.columns) == ["Col1", "Col2"]
    with pytest.raises(ParameterError, match="'text'"):
        EnterDataManually()
    with pytest.raises(ParameterError, match="'text'"):
        run_node(EnterDataManually, {"text": "a,b\n1,2\n3,4,5,6"})


def test_export_data_writes_csv_and_parquet_and_refuses_to_overwrite(tmp_path, iris):
    def export(params, table):
        harness = NodeHarness(ExportData, params, files=FileAccess(write_roots=(tmp_path,)))
        return harness.run(data=table)["data"]

    target = tmp_path / "iris.csv"
    out = export({"path": str(target)}, iris)
    assert out is iris
    pd.testing.assert_frame_equal(pd.read_csv(target), iris.frame, check_dtype=False)
    written = target.stat().st_mtime_ns
    export({"path": str(target)}, iris)  # the same rows: nothing to refuse, nothing rewritten
    assert target.stat().st_mtime_ns == written
    with pytest.raises(NodeInputError, match="exists and holds other data"):
        export({"path": str(target)}, iris.with_frame(iris.frame.head(3)))
    export({"path": str(target), "overwrite": True}, iris.with_frame(iris.frame.head(3)))
    assert len(pd.read_csv(target)) == 3
    parquet = tmp_path / "iris.parquet"
    export({"path": str(parquet), "file_format": "parquet"}, iris)
    pd.testing.assert_frame_equal(pd.read_parquet(parquet), iris.frame)
    with pytest.raises(NodeInputError, match="does not exist"):
        export({"path": str(tmp_path / "no" / "x.csv")}, iris)
    assert not list(tmp_path.glob(".*partial")), "no temporary file is left behind"


def test_summarize_data_matches_pandas_and_numpy(boston):
    summary = run_node(SummarizeData, {"bins": 5}, data=boston)["summary"].frame
    row = summary.set_index("column").loc["RM"]
    values = boston.frame["RM"]
    assert row["count"] == values.count() and row["missing"] == 0
    assert row["unique"] == values.nunique()
    assert row["mean"] == pytest.approx(values.mean()) and row["std"] == pytest.approx(values.std())
    assert (row["min"], row["max"]) == (values.min(), values.max())
    assert row["q1"] == pytest.approx(values.quantile(0.25))
    assert row["median"] == pytest.approx(values.median())
    counts, edges = np.histogram(values, bins=5)
    assert row["histogram_counts"] == counts.tolist()
    np.testing.assert_allclose(row["histogram_edges"], edges)
    assert summary.set_index("column").loc["MEDV", "role"] == "label"
    text = run_node(SummarizeData, data=holes())["summary"].frame.set_index("column")
    assert text.loc["c", "mode"] == "b" and text.loc["c", "missing"] == 1
    assert text.loc["x", "missing"] == 2


def test_edit_metadata_renames_retypes_and_sets_roles():
    table = holes()
    out = run_node(EditMetadata, {"columns": ["x"], "role": "label", "new_names": ["size"]},
                   data=table)["data"]
    assert out.label_column == "size" and out.role("y") == "feature"
    assert list(out.frame.columns) == ["size", "c", "y"]
    typed = run_node(EditMetadata, {"columns": ["y"], "data_type": "category",
                                    "role": "ignore"}, data=table)["data"]
    assert isinstance(typed.frame["y"].dtype, pd.CategoricalDtype) and typed.role("y") == "ignore"
    with pytest.raises(NodeInputError, match="'x' cannot be made int"):
        run_node(EditMetadata, {"columns": ["x"], "data_type": "int"}, data=table)
    with pytest.raises(ParameterError, match="'new_names'"):
        EditMetadata({"columns": ["x", "y"], "new_names": ["a"]})
    with pytest.raises(NodeInputError, match="'z'"):
        run_node(EditMetadata, {"columns": ["z"], "role": "id"}, data=table)


@pytest.mark.parametrize(("method", "expected_x"), [
    ("mean", [1.0, 14 / 3, 3.0, 10.0, 14 / 3]), ("median", [1.0, 3.0, 3.0, 10.0, 3.0]),
    ("constant", [1.0, -1.0, 3.0, 10.0, -1.0]),
])
def test_clean_missing_data_fills_and_applies_the_training_values(method, expected_x, tmp_path):
    out = run_node(CleanMissingData, {"columns": ["x"], "method": method,
                                      "constant_value": "-1"}, data=holes())
    np.testing.assert_allclose(out["data"].frame["x"], expected_x)
    new = Table(pd.DataFrame({"x": [np.nan, 2.0], "c": ["a", None], "y": [0, 1]}))
    applied = run_node(ApplyTransformation, transform=out["transform"], data=new)["data"]
    assert applied.frame["x"].tolist() == [expected_x[1], 2.0]
    assert applied.frame["c"].isna().tolist() == [False, True]  # not a cleaned column
    kind = save_value(out["transform"], tmp_path / "t")
    assert load_value(kind, tmp_path / "t").apply(new).frame["x"][0] == expected_x[1]


def test_clean_missing_data_mode_and_removals():
    table = holes()
    mode = run_node(CleanMissingData, {"method": "mode"}, data=table)["data"].frame
    assert mode["c"].tolist() == ["a", "b", "b", "b", "b"] and mode["x"][1] == 1.0
    rows = run_node(CleanMissingData, {"method": "remove_row"}, data=table)["data"].frame
    assert rows["x"].tolist() == [1.0, 10.0]
    columns = run_node(CleanMissingData, {"method": "remove_column", "max_missing_ratio": 0.3},
                       data=table)["data"].frame
    assert list(columns.columns) == ["c", "y"]  # x misses 40%, c 20%
    with pytest.raises(NodeInputError, match="'c'"):
        run_node(CleanMissingData, {"method": "mean"}, data=table)


def test_remove_duplicate_rows_matches_pandas():
    frame = pd.DataFrame({"a": [1, 1, 2, 2, 1], "b": ["x", "x", "y", "z", "x"]})
    out = run_node(RemoveDuplicateRows, data=Table(frame))["data"].frame
    pd.testing.assert_frame_equal(out, frame.drop_duplicates().reset_index(drop=True))
    last = run_node(RemoveDuplicateRows, {"key_columns": ["a"], "keep": "last"},
                    data=Table(frame))["data"].frame
    assert last.to_dict("list") == {"a": [2, 1], "b": ["z", "x"]}


@pytest.mark.parametrize("join", ["inner", "left", "right", "full"])
def test_join_data_matches_pandas_merge(join):
    left = Table(pd.DataFrame({"id": [1, 2, 3], "v": [0.1, 0.2, 0.3], "y": [0, 1, 0]}),
                 {"y": "label"})
    right = Table(pd.DataFrame({"key": [3, 1, 5], "v": [30.0, 10.0, 50.0], "z": ["c", "a", "e"]}))
    out = run_node(JoinData, {"left_keys": ["id"], "right_keys": ["key"], "join": join},
                   left=left, right=right)["data"]
    how = "outer" if join == "full" else join
    expected = left.frame.merge(right.frame, how=how, left_on="id", right_on="key",
                                suffixes=("", "_right"))
    expected["id"] = expected["id"].fillna(expected["key"])
    expected = expected.drop(columns=["key"])
    pd.testing.assert_frame_equal(out.frame, expected, check_dtype=False)
    assert out.label_column == "y" and "v_right" in out.frame.columns


def test_join_data_errors():
    left = Table(pd.DataFrame({"id": [1], "a": [1]}))
    right = Table(pd.DataFrame({"id": ["1"], "b": [2]}))
    with pytest.raises(NodeInputError, match="cannot match"):
        run_node(JoinData, {"left_keys": ["id"], "right_keys": ["id"]}, left=left, right=right)
    with pytest.raises(ParameterError, match="'right_keys'"):
        JoinData({"left_keys": ["id"], "right_keys": []})


def test_add_rows_and_add_columns():
    first = Table(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}), {"a": "label"})
    second = Table(pd.DataFrame({"b": ["z"], "a": [3]}))
    rows = run_node(AddRows, first=first, second=second)["data"]
    assert rows.frame.to_dict("list") == {"a": [1, 2, 3], "b": ["x", "y", "z"]}
    assert rows.label_column == "a"
    with pytest.raises(NodeInputError, match="only in 'second': 'c'"):
        run_node(AddRows, first=first, second=Table(pd.DataFrame({"a": [1], "b": ["q"],
                                                                  "c": [0]})))
    wide = run_node(AddColumns, left=first, right=Table(pd.DataFrame({"b": [7, 8],
                                                                      "c": [0, 1]})))["data"]
    assert list(wide.frame.columns) == ["a", "b", "b_right", "c"]
    with pytest.raises(NodeInputError, match=r"'right' has 1\."):
        run_node(AddColumns, left=first, right=second)


def test_import_parquet_reads_types_label_and_lineage(tmp_path, iris):
    from nodes.data.parquet import ImportParquet
    from nodes.digest import file_digest
    from nodes.testing import NodeHarness

    path = tmp_path / "iris.parquet"
    iris.frame.to_parquet(path)
    harness = NodeHarness(ImportParquet, {"path": str(path), "label_column": "species"})
    table = harness.run()["data"]
    pd.testing.assert_frame_equal(table.frame, iris.frame)
    assert table.label_column == "species"
    assert harness.context.datasets[0].sha256 == file_digest(path)
    assert ImportParquet.source_digest({"path": str(path)}) == file_digest(path)
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(NodeInputError, match="cannot read"):
        run_node(ImportParquet, {"path": str(tmp_path / "bad.parquet")})
    with pytest.raises(NodeInputError, match="does not exist"):
        run_node(ImportParquet, {"path": str(tmp_path / "none.parquet")})
    with pytest.raises(ParameterError, match="'path'"):
        ImportParquet()
