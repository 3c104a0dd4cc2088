"""Select Columns in Dataset."""

from __future__ import annotations

import pandas as pd
import pytest

from nodes.errors import NodeInputError, ParameterError
from nodes.testing import run_node
from nodes.transform.columns import SelectColumns
from nodes.values import Table


def test_include_keeps_the_listed_columns_in_that_order_with_roles(iris):
    chosen = ["species", "petal width (cm)"]
    out = run_node(SelectColumns, {"columns": chosen}, data=iris)["data"]
    assert list(out.frame.columns) == chosen
    assert out.frame.equals(iris.frame[chosen])
    assert out.roles == {"species": "label"}


def test_exclude_drops_the_listed_columns_in_table_order(iris):
    out = run_node(SelectColumns, {"columns": "species, sepal width (cm)", "mode": "exclude"},
                   data=iris)["data"]
    assert list(out.frame.columns) == ["sepal length (cm)", "petal length (cm)",
                                       "petal width (cm)"]
    assert out.roles == {}


def test_exclude_nothing_keeps_everything(iris):
    out = run_node(SelectColumns, {"mode": "exclude"}, data=iris)["data"]
    assert out.frame.equals(iris.frame)
    assert out.roles == iris.roles


def test_unknown_columns_are_named_with_close_matches(iris):
    with pytest.raises(NodeInputError, match="'speceis'") as caught:
        run_node(SelectColumns, {"columns": ["speceis", "petal width (cm)", "colour"]},
                 data=iris)
    error = caught.value
    assert error.columns == ["speceis", "colour"]
    assert "'colour'" in str(error)
    assert error.port == "data"
    assert "'speceis' -> 'species'" in error.fix
    assert "'sepal length (cm)'" in error.fix  # available columns listed


def test_include_nothing_is_a_parameter_error():
    with pytest.raises(ParameterError, match="'columns'") as caught:
        SelectColumns({"columns": []})
    assert "exclude" in caught.value.fix
    with pytest.raises(ParameterError, match="'columns'"):
        SelectColumns({})


@pytest.mark.parametrize(("params", "name"), [
    ({"columns": ["a"], "mode": "keep"}, "'mode'"),
    ({"columns": ["a", "a"]}, "'columns'"),
    ({"columns": 3}, "'columns'"),
])
def test_bad_parameters_are_named(params, name):
    with pytest.raises(ParameterError, match=name):
        SelectColumns(params)


def test_select_by_types_roles_and_regex():
    frame = pd.DataFrame({"n": [1.0, 2.0], "t": ["a", "b"], "b": [True, False],
                          "c": pd.Categorical(["x", "y"]), "y": [0, 1], "id": [7, 8]})
    table = Table(frame, {"y": "label", "id": "id"})

    def names(params):
        return list(run_node(SelectColumns, params, data=table)["data"].frame.columns)

    assert names({"select_by": "types", "types": ["numeric"]}) == ["n", "y", "id"]
    assert names({"select_by": "types", "types": ["text", "categorical"]}) == ["t", "c"]
    assert names({"select_by": "types", "types": ["boolean"], "mode": "exclude"}) == [
        "n", "t", "c", "y", "id"]
    assert names({"select_by": "roles", "roles": ["label", "id"]}) == ["y", "id"]
    assert names({"select_by": "regex", "pattern": "^[nt]$"}) == ["n", "t"]
    kept = run_node(SelectColumns, {"select_by": "roles", "roles": ["feature"],
                                    "mode": "exclude"}, data=table)["data"]
    assert kept.label_column == "y" and kept.role("id") == "id"
    with pytest.raises(NodeInputError, match="no column is left"):
        names({"select_by": "regex", "pattern": "zzz"})
    with pytest.raises(ParameterError, match="'pattern'"):
        SelectColumns({"select_by": "regex", "pattern": "(["})
    with pytest.raises(ParameterError, match="'types'"):
        SelectColumns({"select_by": "types"})
