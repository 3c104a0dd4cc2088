"""The answers' JSON, made a column at a time, against the slow, obvious way (issue 15)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.serve.api.common import dumps, json_rows
from studio.serve.scoring import text_rows

values = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(), st.sampled_from([0.0, -0.0, 5e-324, 1.7976931348623157e308, math.nan,
                                  math.inf, 1.0, 1e16]),
    st.text(max_size=8), st.sampled_from(["%s", "%", "\ud800", "é", '"', "\\", "\x00"]))
#: Columns of one kind (what answers hold) or mixed (what they may hold).
columns_of = st.one_of(
    st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=4),
    st.lists(st.floats(), min_size=1, max_size=4),
    st.lists(st.integers(), min_size=1, max_size=4),
    st.lists(st.text(max_size=6), min_size=1, max_size=4),
    st.lists(values, min_size=1, max_size=4))
names = st.one_of(st.text(max_size=6), st.sampled_from(["%s", "%%", "a%d", "\ud800"]))


@st.composite
def tables(draw: Any) -> tuple[list[list[Any]], list[str]]:
    height = draw(st.integers(1, 4))
    width = draw(st.integers(1, 4))
    columns = [(draw(columns_of) * height)[:height] for _ in range(width)]
    return [list(row) for row in zip(*columns, strict=True)], draw(
        st.lists(names, min_size=width, max_size=width))


def _obvious(rows: list[list[Any]], columns: list[str] | None, as_text: bool) -> Any:
    if as_text:
        rows = text_rows(rows)
    try:
        if columns is None:
            return dumps(rows)[1:-1]
        return dumps([dict(zip(columns, row, strict=True)) for row in rows])[1:-1]
    except ValueError as error:  # NaN or infinity outside text
        return type(error)


def _fast(rows: list[list[Any]], columns: list[str] | None, as_text: bool) -> Any:
    try:
        return json_rows(rows, columns, as_text=as_text)
    except ValueError as error:
        return type(error)


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(tables(), st.booleans(), st.booleans())
def test_json_rows_are_the_bytes_of_dumps(table, as_records, as_text):
    rows, columns = table
    columns = columns if as_records else None
    assert _fast(rows, columns, as_text) == _obvious(rows, columns, as_text)


@pytest.mark.parametrize("as_text", [False, True])
def test_json_rows_of_a_typical_answer(as_text):
    rows = [["benign", 0.018696623673138447], ["malignant", 0.9999999999999998]]
    columns = ["Scored Labels", "Scored Probabilities"]
    assert json_rows(rows, columns, as_text=as_text) == _obvious(rows, columns, as_text)
    assert json.loads(b"[" + json_rows(rows, as_text=as_text) + b"]") == (
        text_rows(rows) if as_text else rows)


def test_json_rows_of_nothing_and_of_repeated_columns():
    assert json_rows([], ["a"]) == b""
    assert json_rows([[], []], []) == b"{},{}"
    assert json_rows([[1, 2]], ["a", "a"]) == b'{"a":2}'  # as a dict would have it
