"""Typed parameters: canonical values and errors that name node, parameter and value."""

from __future__ import annotations

import pytest

from nodes import (
    BoolParam,
    ChoiceParam,
    ColumnParam,
    FloatParam,
    IntParam,
    ListParam,
    Node,
    ParameterError,
    StringParam,
)


class Example(Node):
    """An example node."""

    type_id = "example"
    count = IntParam(3, minimum=1, maximum=10)
    ratio = FloatParam(0.5, minimum=0.0, maximum=1.0, exclusive_minimum=True)
    flag = BoolParam(False)
    mode = ChoiceParam("fast", ["fast", "thorough"])
    name = StringParam("", allow_empty=False)
    columns = ColumnParam(multiple=True)
    layers = ListParam([16], item=IntParam(1, minimum=1), min_items=1)


def _error(**params) -> ParameterError:
    with pytest.raises(ParameterError) as info:
        Example({"name": "x", **params}, label="My node")
    return info.value


def test_defaults_and_canonical_values():
    node = Example({"name": "n", "count": "4", "ratio": "0.25", "flag": "yes",
                    "mode": "Thorough", "columns": "a, b", "layers": [8, "4"]})
    assert (node.count, node.ratio, node.flag, node.mode) == (4, 0.25, True, "thorough")
    assert node.columns == ["a", "b"] and node.layers == [8, 4]
    assert Example.defaults()["layers"] == [16]
    assert Example.defaults()["layers"] is not Example.parameters["layers"].default


@pytest.mark.parametrize(("params", "parameter", "allowed"), [
    ({"count": 0}, "count", "from 1 to 10"),
    ({"count": 2.5}, "count", "whole number"),
    ({"count": True}, "count", "whole number"),
    ({"ratio": 0.0}, "ratio", "> 0"),
    ({"ratio": float("nan")}, "ratio", "number"),
    ({"flag": "maybe"}, "flag", "true or false"),
    ({"mode": "slow"}, "mode", "'fast', 'thorough'"),
    ({"name": "  "}, "name", "not be empty"),
    ({"columns": ["a", "a"]}, "columns", "only once"),
    ({"layers": []}, "layers", "at least 1"),
    ({"layers": [4, 0]}, "layers[1]", ">= 1"),
    ({"colour": 1}, "colour", "no such parameter"),
])
def test_invalid_values_name_node_parameter_value_and_what_is_allowed(params, parameter, allowed):
    error = _error(**params)
    assert error.node == "My node"
    assert error.parameter == parameter
    assert allowed in str(error)
    assert "My node" in str(error) and repr(error.value) in str(error)


def test_describe_gives_the_gui_what_it_needs():
    described = {p["name"]: p for p in Example.describe()["parameters"]}
    assert described["count"]["minimum"] == 1 and described["count"]["maximum"] == 10
    assert described["mode"]["choices"] == ["fast", "thorough"]
    assert described["columns"]["input_port"] == "data"
    assert Example.describe()["help"] == "An example node."
