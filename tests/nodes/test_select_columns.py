"""Select Columns in Dataset."""

from __future__ import annotations

import pytest

from nodes.errors import NodeInputError, ParameterError
from nodes.testing import run_node
from nodes.transform.columns import SelectColumns


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
