"""Sample Dataset and Import Data (CSV)."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from nodes.data import datasets
from nodes.data.datasets import ImportCSV, SampleDataset, dataset_info
from nodes.digest import file_digest, stable_digest
from nodes.errors import NodeInputError, ParameterError
from nodes.testing import NodeHarness, run_node
from sample_datasets import DATA_DIR

# -- Sample Dataset -------------------------------------------------------


def test_dataset_choices_are_the_sidecars():
    names = sorted(p.stem for p in DATA_DIR.glob("*.json"))
    assert SampleDataset.parameters["dataset"].choices == tuple(names)
    assert SampleDataset.defaults()["dataset"] == "boston_housing"
    assert {"boston_housing", "breast_cancer", "iris"} <= set(names)


@pytest.mark.parametrize("name", ["boston_housing", "breast_cancer", "iris"])
def test_sample_dataset_reads_the_csv_with_the_label_role(name, sample_csv):
    info = dataset_info(name)
    harness = NodeHarness(SampleDataset, {"dataset": name})
    table = harness.run()["data"]
    pd.testing.assert_frame_equal(table.frame, sample_csv(name))
    assert table.label_column == info["label"]
    assert table.roles == {info["label"]: "label"}
    assert table.shape == (info["rows"], len(info["columns"]))
    assert [(c["name"], c["dtype"]) for c in info["columns"]] == [
        (s["name"], s["dtype"]) for s in table.schema()]
    [read] = harness.context.datasets
    assert (read.name, read.sha256, read.rows, read.columns) == (
        name, info["sha256"], info["rows"], len(info["columns"]))
    assert read.source == str(DATA_DIR / info["file"])


def test_sample_dataset_source_digest_is_the_file_and_ownership_digest():
    # The sidecar's owners and terms travel with the rows (issue 18): they key the cache too.
    path = DATA_DIR / "iris.csv"
    iris = [file_digest(path), dataset_info("iris")["ownership"]]
    assert SampleDataset.source_digest({"dataset": "iris"}) == stable_digest(iris)
    boston = [file_digest(DATA_DIR / "boston_housing.csv"),
              dataset_info("boston_housing")["ownership"]]
    assert SampleDataset.source_digest({}) == stable_digest(boston)


def test_dataset_info_is_the_sidecar():
    info = dataset_info("iris")
    assert info == json.loads((DATA_DIR / "iris.json").read_text())
    assert info["label"] == "species"


def test_unknown_dataset_is_a_parameter_error():
    with pytest.raises(ParameterError, match="dataset") as caught:
        SampleDataset({"dataset": "titanic"})
    assert "iris" in str(caught.value)  # lists the choices
    with pytest.raises(ParameterError, match="dataset"):
        dataset_info("titanic")


def test_modified_sample_file_is_refused(tmp_path, monkeypatch):
    shutil.copy(DATA_DIR / "iris.json", tmp_path / "iris.json")
    text = (DATA_DIR / "iris.csv").read_text().replace("5.1,3.5", "9.9,3.5", 1)
    (tmp_path / "iris.csv").write_text(text)
    monkeypatch.setattr(datasets, "DATA_DIR", tmp_path)
    with pytest.raises(NodeInputError, match="modified") as caught:
        run_node(SampleDataset, {"dataset": "iris"})
    assert "iris.csv" in str(caught.value)
    assert caught.value.fix


# -- Import Data (CSV) ----------------------------------------------------


@pytest.fixture
def iris_csv(tmp_path, sample_csv):
    path = tmp_path / "iris.csv"
    sample_csv("iris").to_csv(path, index=False)
    return path


def test_import_csv_reads_like_pandas(iris_csv):
    harness = NodeHarness(ImportCSV, {"path": str(iris_csv), "label_column": "species"})
    table = harness.run()["data"]
    pd.testing.assert_frame_equal(table.frame, pd.read_csv(iris_csv))
    assert table.roles == {"species": "label"}
    [read] = harness.context.datasets
    assert (read.name, read.sha256, read.source, read.rows, read.columns) == (
        "iris.csv", file_digest(iris_csv), str(iris_csv), 150, 5)


def test_import_csv_without_label_has_only_features(iris_csv):
    table = run_node(ImportCSV, {"path": str(iris_csv)})["data"]
    assert table.roles == {}
    assert table.label_column is None


@pytest.mark.parametrize(("choice", "separator"), [(";", ";"), ("tab", "\t"), ("|", "|")])
def test_import_csv_delimiters(tmp_path, sample_csv, choice, separator):
    path = tmp_path / "data.txt"
    frame = sample_csv("iris")
    frame.to_csv(path, index=False, sep=separator)
    table = run_node(ImportCSV, {"path": str(path), "delimiter": choice})["data"]
    pd.testing.assert_frame_equal(table.frame, frame)


def test_import_csv_without_header_names_columns_col1(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("1,2.5,a\n3,4.5,b\n")
    table = run_node(ImportCSV, {"path": str(path), "has_header": False,
                                 "label_column": "Col3"})["data"]
    assert list(table.frame.columns) == ["Col1", "Col2", "Col3"]
    assert table.frame["Col1"].tolist() == [1, 3]
    assert table.label_column == "Col3"


def test_import_csv_relative_path_starts_at_the_working_directory(iris_csv, monkeypatch):
    monkeypatch.chdir(iris_csv.parent)
    table = run_node(ImportCSV, {"path": "iris.csv"})["data"]
    assert table.shape == (150, 5)
    assert ImportCSV.source_digest({"path": "iris.csv"}) == file_digest(iris_csv)


def test_import_csv_column_types(tmp_path):
    path = tmp_path / "typed.csv"
    path.write_text("id,size,flag,city,score\n1,2.0,yes,Oslo,3\n2,5.0,no,Rome,4\n")
    table = run_node(ImportCSV, {
        "path": str(path),
        "column_types": "size:int, flag:bool,city:category,score:float,id:str"})["data"]
    dtypes = {c: str(t) for c, t in table.frame.dtypes.items()}
    assert dtypes == {"id": "str", "size": "int64", "flag": "bool", "city": "category",
                      "score": "float64"}
    assert table.frame["flag"].tolist() == [True, False]
    assert table.frame["size"].tolist() == [2, 5]
    assert table.frame["id"].tolist() == ["1", "2"]


@pytest.mark.parametrize("text", ["size", "size:integer", ":int", "size:int,size:float"])
def test_import_csv_bad_column_types_form_is_a_parameter_error(text):
    with pytest.raises(ParameterError, match="column_types"):
        ImportCSV({"path": "x.csv", "column_types": text})


@pytest.mark.parametrize(("text", "column"), [("size:int", "size"), ("flag:bool", "flag"),
                                              ("city:float", "city")])
def test_import_csv_values_that_do_not_fit_the_type(tmp_path, text, column):
    path = tmp_path / "typed.csv"
    path.write_text("size,flag,city\n2.5,maybe,Oslo\n3,yes,Rome\n")
    with pytest.raises(NodeInputError, match=f"'{column}'") as caught:
        run_node(ImportCSV, {"path": str(path), "column_types": text})
    assert caught.value.columns == [column]


def test_import_csv_column_types_naming_an_unknown_column(iris_csv):
    with pytest.raises(NodeInputError, match="'petal'") as caught:
        run_node(ImportCSV, {"path": str(iris_csv), "column_types": "petal:float"})
    assert "column_types" in str(caught.value)


def test_import_csv_requires_a_path():
    with pytest.raises(ParameterError, match="'path'"):
        ImportCSV({})
    with pytest.raises(ParameterError, match="'path'"):
        ImportCSV({"path": "  "})


def test_import_csv_rejects_unknown_delimiter():
    with pytest.raises(ParameterError, match="'delimiter'"):
        ImportCSV({"path": "x.csv", "delimiter": ":"})


def test_import_csv_missing_file(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(NodeInputError, match="does not exist") as caught:
        run_node(ImportCSV, {"path": str(missing)})
    assert str(missing) in str(caught.value)
    assert "'path'" in caught.value.fix
    assert ImportCSV.source_digest({"path": str(missing)}) is None


def test_import_csv_folder_instead_of_file(tmp_path):
    with pytest.raises(NodeInputError, match="folder"):
        run_node(ImportCSV, {"path": str(tmp_path)})


@pytest.mark.parametrize(("content", "pandas_says"), [
    ("a,b\n1,2\n1,2,3,4\n", "Expected 2 fields"),
    ("", "No columns to parse"),
])
def test_import_csv_unparseable_file_gives_pandas_message(tmp_path, content, pandas_says):
    path = tmp_path / "broken.csv"
    path.write_text(content)
    with pytest.raises(NodeInputError, match=pandas_says) as caught:
        run_node(ImportCSV, {"path": str(path)})
    assert "broken.csv" in str(caught.value)


def test_import_csv_label_column_not_found_lists_columns(iris_csv):
    with pytest.raises(NodeInputError, match="'specie'") as caught:
        run_node(ImportCSV, {"path": str(iris_csv), "label_column": "specie"})
    assert caught.value.columns == ["specie"]
    assert "'species'" in caught.value.fix  # the close match
    assert "'sepal length (cm)'" in caught.value.fix  # and the available columns


def test_import_csv_source_digest_follows_the_content(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a\n1\n")
    first = ImportCSV.source_digest({"path": str(path)})
    assert first == file_digest(path)
    path.write_text("a\n22\n")
    assert ImportCSV.source_digest({"path": str(path)}) not in (None, first)
