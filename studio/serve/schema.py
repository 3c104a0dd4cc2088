"""Request rows in, answer rows out: checking JSON values against the input schema.

Rules (documented in docs/web-service.md):

- A record is a JSON object ``{column: value}``. Values may be JSON numbers,
  booleans or strings; strings are read as the column's type (``"5.1"`` for
  a float64 column), as the classic Azure ML services sent them.
- A required column must be present in every record with a finite value;
  an optional column may be absent or null.
- A column the schema does not list is rejected (Web Service Input's
  'unknown_columns' = 'reject', the default) or dropped ('ignore').
- Each problem is answered with the column and the row (0-based, in the
  order sent).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from nodes.data.checks import columns_text
from studio.serve.errors import RequestDataError

_NUMERIC = {"float64", "float32", "int64", "int32"}
_BOOL_WORDS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
#: Classic ColumnTypes names per dtype (details=true).
CLASSIC_TYPES = {"float64": "Numeric", "float32": "Numeric", "int64": "Numeric",
                 "int32": "Numeric", "bool": "Boolean"}


def records_to_frame(records: Any, schema: Sequence[dict[str, Any]],
                     unknown_columns: str = "reject") -> pd.DataFrame:
    """A DataFrame with the schema's dtypes from a list of JSON records."""
    if not isinstance(records, list) or not records:
        raise RequestDataError("the request has no records: send a non-empty list of "
                               "{column: value} objects.")
    known = {entry["name"] for entry in schema}
    for row, record in enumerate(records):
        if not isinstance(record, dict):
            raise RequestDataError(f"a record must be a JSON object, not {type(record).__name__}.",
                                   row=row)
        if unknown_columns == "reject":
            for column in record:
                if column not in known:
                    raise RequestDataError(
                        "this column is not an input of the service.", column=column, row=row,
                        fix=f"Send only the service's columns: {columns_text(sorted(known))}.")
    columns: dict[str, Any] = {}
    for entry in schema:
        name = entry["name"]
        raw = [record.get(name) for record in records]
        if all(value is None for value in raw) and not entry["required"]:
            present = any(name in record for record in records)
            if not present:
                continue
        columns[name] = _convert(name, raw, entry["dtype"], entry["required"])
    return pd.DataFrame(columns)


def table_to_records(columns: Sequence[str], values: Any) -> list[dict[str, Any]]:
    """Records from the classic ``ColumnNames`` + ``Values`` form."""
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise RequestDataError("'ColumnNames' must be a list of column names.")
    if len(set(columns)) != len(columns):
        raise RequestDataError("'ColumnNames' lists a column twice.")
    if not isinstance(values, list):
        raise RequestDataError("'Values' must be a list of rows.")
    records = []
    for row, line in enumerate(values):
        if not isinstance(line, list) or len(line) != len(columns):
            raise RequestDataError(f"the row has {len(line) if isinstance(line, list) else 0} "
                                   f"values for {len(columns)} columns.", row=row,
                                   fix="Send one value per name in 'ColumnNames'.")
        records.append(dict(zip(columns, line, strict=True)))
    return records


def frame_to_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Plain-JSON records (numpy scalars as Python values, NaN as null)."""
    return [dict(zip(frame.columns, row, strict=True)) for row in frame_to_rows(frame)]


def frame_to_rows(frame: pd.DataFrame) -> list[list[Any]]:
    columns = [_plain_column(frame[c]) for c in frame.columns]
    return [list(row) for row in zip(*columns, strict=True)] if columns else []


def classic_types(frame: pd.DataFrame) -> list[str]:
    return [CLASSIC_TYPES.get(str(dtype), "String") for dtype in frame.dtypes]


def output_schema(frame: pd.DataFrame) -> list[dict[str, str]]:
    return [{"name": c, "dtype": str(t)} for c, t in frame.dtypes.items()]


# -- conversion ---------------------------------------------------------------

def _convert(name: str, raw: list[Any], dtype: str, required: bool) -> Any:
    if dtype in _NUMERIC:
        return _numeric(name, raw, dtype, required)
    if dtype == "bool":
        return _boolean(name, raw, required)
    converted = []
    for row, value in enumerate(raw):
        if value is None:
            if required:
                raise RequestDataError("a value is required.", column=name, row=row)
            converted.append(None)
        elif isinstance(value, (dict, list)):
            raise RequestDataError("the value must be text, a number or a boolean.",
                                   column=name, row=row)
        else:
            converted.append(str(value))
    series = pd.Series(converted, dtype="object")
    return series.astype("category") if dtype == "category" else series


def _numeric(name: str, raw: list[Any], dtype: str, required: bool) -> np.ndarray:
    try:
        # Fast path: numbers and numeric strings; anything odd is located below.
        if any(isinstance(v, (bool, dict, list)) for v in raw):
            raise ValueError
        array = np.array([np.nan if v is None else v for v in raw], dtype=np.float64)
    except (ValueError, TypeError):
        array = np.array([_one_number(name, v, row) for row, v in enumerate(raw)],
                         dtype=np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        row = int(np.argmax(bad))
        if raw[row] is not None and not (isinstance(raw[row], str) and not raw[row].strip()):
            raise RequestDataError(f"{raw[row]!r} is not a finite number.", column=name,
                                   row=row)
        if required:
            raise RequestDataError("a value is required.", column=name, row=row)
    if dtype.startswith("int"):
        if bad.any():
            raise RequestDataError("a whole number is required.", column=name,
                                   row=int(np.argmax(bad)))
        fractional = array != np.round(array)
        if fractional.any():
            row = int(np.argmax(fractional))
            raise RequestDataError(f"{raw[row]!r} is not a whole number.", column=name, row=row)
        return array.astype(dtype)
    return array.astype(dtype)


def _one_number(name: str, value: Any, row: int) -> float:
    if value is None:
        return math.nan
    if isinstance(value, (bool, dict, list)):
        raise RequestDataError(f"{value!r} is not a number.", column=name, row=row)
    if isinstance(value, str) and not value.strip():
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        raise RequestDataError(f"{value!r} is not a number.", column=name, row=row) from None


def _boolean(name: str, raw: list[Any], required: bool) -> pd.Series:
    converted = []
    for row, value in enumerate(raw):
        if isinstance(value, bool):
            converted.append(value)
        elif isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
            converted.append(_BOOL_WORDS[value.strip().lower()])
        elif isinstance(value, int) and value in (0, 1):
            converted.append(bool(value))
        elif value is None and not required:
            converted.append(None)
        else:
            raise RequestDataError(f"{value!r} is not true or false.", column=name, row=row)
    return pd.Series(converted, dtype="boolean" if None in converted else "bool")


def _plain_column(series: pd.Series) -> list[Any]:
    values = series.to_numpy(dtype=object) if series.dtype != object else series.to_numpy()
    plain = []
    for value in values:
        if isinstance(value, np.generic):
            value = value.item()
        missing = value is pd.NA or value is pd.NaT
        if missing or (isinstance(value, float) and not math.isfinite(value)):
            value = None
        plain.append(value)
    return plain
