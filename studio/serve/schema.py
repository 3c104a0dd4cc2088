"""Request rows in, answer rows out: checking JSON values against the input schema, once.

Rules (documented in docs/web-service.md):

- A record is a JSON object ``{column: value}``; the classic table form is
  ``ColumnNames`` plus rows of values. Values are scalars: JSON numbers,
  booleans, strings or null (never arrays or objects, not even in a column
  that is ignored). Strings are read as the column's type (``"5.1"`` for a
  float64 column) as the classic Azure ML services sent them; a number in
  a string is read by Python's ``float``, exactly once.
- A required column must be present in every record with a finite value;
  an optional column may be absent, null or an empty string.
- A column the schema does not list is rejected (Web Service Input's
  'unknown_columns' = 'reject', the default) or dropped ('ignore').
- The problem reported is the first one in the order the rows were sent
  (0-based); within a row, an unknown column first, then the schema's
  columns in order. Each is answered with its column and row.

``table_from_records`` / ``table_from_rows`` give a ``RequestTable``: one
typed array per column, and the numeric columns as one float matrix. The
compiled scoring plan takes the matrix, the node path the DataFrame built
from the same arrays, so both see the same parsed values. A vectorised
pass takes clean requests; anything it cannot vouch for is checked value
by value (``check_value``), which is what decides.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd

from nodes.data.checks import columns_text
from nodes.errors import short_repr
from studio.serve.errors import RequestDataError

_NUMERIC = {"float64", "float32", "int64", "int32"}
_INTEGER_LIMITS = {"int64": 2.0**63, "int32": 2.0**31}
#: Past this many cells holding 0 or 1, every value's type is looked at (at C speed).
_BOOLEAN_LOOKS = 64
_BOOL_WORDS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
#: Classic ColumnTypes names per dtype (details=true).
CLASSIC_TYPES = {"float64": "Numeric", "float32": "Numeric", "int64": "Numeric",
                 "int32": "Numeric", "bool": "Boolean"}


class Nested:
    """Stands for a JSON array or object found where a value belongs (its contents
    are never parsed: it is an error whatever it holds)."""

    __slots__ = ("kind",)

    def __init__(self, kind: str) -> None:
        self.kind = kind  # "list" or "object"


@dataclass
class RequestTable:
    """Request rows checked against the schema: typed columns in schema order."""

    columns: dict[str, Any]  # name -> numpy array (numbers) or pandas Series (others)
    rows: int
    block: np.ndarray | None  # the numeric columns, (columns x rows) float64
    block_names: list[str]
    optional_present: bool  # an optional column was sent: only the nodes read it
    first_row: int = 0  # the row number of the first row (a part of a larger request)

    def frame(self) -> pd.DataFrame:
        """The table the scoring workflow's nodes get."""
        if not self.columns:
            return pd.DataFrame(index=range(self.rows))
        return pd.DataFrame(self.columns)


# -- building tables ---------------------------------------------------------------

def table_from_records(records: Any, schema: Sequence[dict[str, Any]],
                       unknown_columns: str = "reject", *, first_row: int = 0,
                       optional_names: Collection[str] | None = None) -> RequestTable:
    """The table of JSON records (``[{column: value}, ...]``).

    ``first_row`` numbers the rows when they are a part of a larger request;
    ``optional_names``: optional columns to include even when these records
    do not name them (the rest of the request does).
    """
    if type(records) is not list or not records:
        raise RequestDataError("the request has no records: send a non-empty list of "
                               "{column: value} objects.")
    try:
        table = _fast_records(records, schema, unknown_columns, optional_names)
    except _NeedsCheck:
        _locate_in_records(records, schema, unknown_columns, first_row)
        table = _exact(_column_values_of_records(records, schema), schema, len(records),
                       optional_names, present=_named_in_records(records))
    table.first_row = first_row
    return table


def table_from_rows(names: Any, values: Any, schema: Sequence[dict[str, Any]],
                    unknown_columns: str = "reject", *, first_row: int = 0) -> RequestTable:
    """The table of the classic form: ``ColumnNames`` and ``Values`` (rows of values)."""
    positions = check_column_names(names, schema, unknown_columns)
    if type(values) is not list:
        raise RequestDataError("'Values' must be a list of rows.")
    if not values:
        raise RequestDataError("the request has no rows: 'Values' is empty.")
    width = len(names)
    try:
        table = _fast_rows(values, width, positions, schema)
    except _NeedsCheck:
        _locate_in_rows(names, values, positions, schema, unknown_columns, first_row)
        columns = {name: [row[index] for row in values] for name, index in positions.items()}
        table = _exact(columns, schema, len(values), None, present=set(positions))
    table.first_row = first_row
    return table


#: ColumnNames already checked, by schema: a classic client sends the same ones each time.
_CHECKED_NAMES: dict[tuple[int, str, tuple[str, ...]], tuple[Any, dict[str, int]]] = {}


def check_column_names(names: Any, schema: Sequence[dict[str, Any]],
                       unknown_columns: str) -> dict[str, int]:
    """The position of each schema column in ``ColumnNames`` (checked)."""
    key = None
    if type(names) is list and len(names) <= 4096 and all(type(c) is str for c in names):
        key = (id(schema), unknown_columns, tuple(names))
        known = _CHECKED_NAMES.get(key)
        if known is not None and known[0] is schema:  # the same schema object, still alive
            return known[1]
    positions = _check_column_names(names, schema, unknown_columns)
    if key is not None:
        if len(_CHECKED_NAMES) >= 64:
            _CHECKED_NAMES.clear()
        _CHECKED_NAMES[key] = (schema, positions)
    return positions


def _check_column_names(names: Any, schema: Sequence[dict[str, Any]],
                        unknown_columns: str) -> dict[str, int]:
    if type(names) is not list or not all(type(c) is str for c in names):
        raise RequestDataError("'ColumnNames' must be a list of column names (text).")
    if len(set(names)) != len(names):
        twice = next(c for i, c in enumerate(names) if c in names[:i])
        raise RequestDataError("'ColumnNames' lists this column twice.", column=twice)
    known = {entry["name"] for entry in schema}
    if unknown_columns == "reject":
        for name in names:
            if name not in known:
                raise RequestDataError(
                    "'ColumnNames' lists a column that is not an input of the service.",
                    column=name, fix=f"Send only the service's columns: "
                                     f"{columns_text(sorted(known))}.")
    for entry in schema:
        if entry["required"] and entry["name"] not in names:
            raise RequestDataError("'ColumnNames' does not list this required column.",
                                   column=entry["name"])
    where = {name: index for index, name in enumerate(names)}
    return {entry["name"]: where[entry["name"]] for entry in schema if entry["name"] in where}


def records_to_frame(records: Any, schema: Sequence[dict[str, Any]],
                     unknown_columns: str = "reject") -> pd.DataFrame:
    """A DataFrame with the schema's dtypes from a list of JSON records."""
    return table_from_records(records, schema, unknown_columns).frame()


def concat_tables(tables: Sequence[RequestTable]) -> pd.DataFrame:
    """One DataFrame from the tables of a request's parts (a batch job's input)."""
    frames = [table.frame() for table in tables]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


# -- checking one value (what decides) -----------------------------------------------

def check_value(entry: dict[str, Any], value: Any) -> str | None:
    """Why ``value`` cannot be the value of the schema column ``entry``, or None."""
    dtype, required = entry["dtype"], entry["required"]
    if dtype in _NUMERIC:
        return _numeric_problem(value, dtype, required)
    if dtype == "bool":
        if value is None:
            return "a value is required." if required else None
        if type(value) is bool or (type(value) is int and value in (0, 1)):
            return None
        if type(value) is str and value.strip().lower() in _BOOL_WORDS:
            return None
        return f"{_shown(value)} is not true or false."
    if value is None:
        return "a value is required." if required else None
    if not _is_scalar(value):
        return f"{_kind(value)} is not a value: send text, a number or a boolean."
    return None


def _numeric_problem(value: Any, dtype: str, required: bool) -> str | None:
    kind = type(value)
    if value is None or (kind is str and not value.strip()):
        return "a value is required." if required else None
    if kind is str:
        try:
            number = float(value)
        except ValueError:
            return f"{_shown(value)} is not a number."
    elif kind is int:
        try:
            number = float(value)
        except OverflowError:
            return (f"the {len(str(abs(value)))}-digit whole number is too large: numbers "
                    "here are 64-bit floating point (at most about 1.8e308).")
    elif kind is float:
        number = value
    else:
        return f"{_shown(value)} is not a number."
    if not math.isfinite(number):
        return f"{_shown(value)} is not a finite number."
    if dtype in _INTEGER_LIMITS:
        if not number.is_integer():
            return f"{_shown(value)} is not a whole number."
        if abs(number) >= _INTEGER_LIMITS[dtype]:
            return f"{_shown(value)} is too large for a {dtype} column."
    return None


def _is_scalar(value: Any) -> bool:
    return value is None or type(value) in (str, int, float, bool)


def _kind(value: Any) -> str:
    if isinstance(value, Nested):
        return "a list" if value.kind == "list" else "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return {bool: "true or false", str: "text", int: "a number", float: "a number"}.get(
        type(value), "null" if value is None else type(value).__name__)


def _shown(value: Any) -> str:
    """A value as the client wrote it, shortened (JSON spelling for true/false/null)."""
    if type(value) is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (list, dict, Nested)):
        return _kind(value)
    if type(value) is int and abs(value) > 10**40:
        return f"a {len(str(abs(value)))}-digit number"
    return short_repr(value)


# -- the vectorised pass -------------------------------------------------------------

class _NeedsCheck(Exception):
    """The vectorised pass met something it does not vouch for: check value by value."""


def _fast_records(records: list[Any], schema: Sequence[dict[str, Any]], unknown_columns: str,
                  optional_names: Collection[str] | None) -> RequestTable:
    for record in records:
        if type(record) is not dict:
            raise _NeedsCheck
    named = set().union(*records)
    known = {entry["name"] for entry in schema}
    unknown = named - known
    if unknown and (unknown_columns == "reject" or not all(
            _is_scalar(r[c]) for r in records for c in unknown if c in r)):
        raise _NeedsCheck
    wanted = set(optional_names or ()) | named
    entries = [e for e in schema if e["required"] or e["name"] in wanted]
    numeric = [e for e in entries if e["dtype"] in _NUMERIC]
    names = [e["name"] for e in numeric]
    block = None
    if numeric:
        if all(e["required"] for e in numeric):
            getter = itemgetter(*names)
            try:
                raw = list(map(getter, records))
            except KeyError:  # a record lacks a required column
                raise _NeedsCheck from None
            if len(names) == 1:
                raw = [(v,) for v in raw]
        else:
            raw = [tuple(r.get(n) for n in names) for r in records]
        block = _numeric_block(raw, numeric)
    columns = _typed_columns(entries, block, names,
                             lambda name: [r.get(name) for r in records])
    optional = any(not e["required"] for e in entries)
    return RequestTable(columns, len(records), block, names, optional)


def _fast_rows(values: list[Any], width: int, positions: dict[str, int],
               schema: Sequence[dict[str, Any]]) -> RequestTable:
    for row in values:
        if type(row) is not list or len(row) != width:
            raise _NeedsCheck
    used = set(positions.values())
    unknown = [i for i in range(width) if i not in used]
    if unknown and not all(_is_scalar(row[i]) for row in values for i in unknown):
        raise _NeedsCheck
    entries = [e for e in schema if e["name"] in positions]
    numeric = [e for e in entries if e["dtype"] in _NUMERIC]
    names = [e["name"] for e in numeric]
    block = None
    if numeric:
        indices = [positions[n] for n in names]
        if indices == list(range(width)):
            raw = values
        else:
            getter = itemgetter(*indices)
            raw = list(map(getter, values)) if len(indices) > 1 else [(r[indices[0]],)
                                                                     for r in values]
        block = _numeric_block(raw, numeric)
    columns = _typed_columns(entries, block, names,
                             lambda name: [row[positions[name]] for row in values])
    optional = any(not e["required"] for e in entries)
    return RequestTable(columns, len(values), block, names, optional)


def _numeric_block(raw: Sequence[Sequence[Any]], entries: list[dict[str, Any]]) -> np.ndarray:
    """(columns x rows) float64 of the numeric columns, or _NeedsCheck."""
    try:
        # numpy reads a str with Python's float(), as check_value does.
        matrix = np.array(raw, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        raise _NeedsCheck from None
    if matrix.ndim != 2 or _holds_booleans(raw, matrix):
        raise _NeedsCheck
    block = np.ascontiguousarray(matrix.T)  # the layout pandas gives the nodes' matrices
    finite = np.isfinite(block)
    if not finite.all():
        # Allowed only where an optional column got null (numpy made it NaN).
        for column, row in zip(*np.nonzero(~finite), strict=True):
            if entries[column]["required"] or raw[row][column] is not None:
                raise _NeedsCheck
    for index, entry in enumerate(entries):
        limit = _INTEGER_LIMITS.get(entry["dtype"])
        if limit is not None:
            column = block[index]
            if not finite[index].all() or (column != np.round(column)).any() \
                    or (np.abs(column) >= limit).any():
                raise _NeedsCheck
    return block


def _holds_booleans(raw: Sequence[Sequence[Any]], matrix: np.ndarray) -> bool:
    """Whether a JSON true or false is among ``raw`` (numpy made them 1.0 and 0.0 in
    ``matrix``, its rows x columns reading: only the cells holding 0 or 1 need a look)."""
    rows, columns = np.nonzero((matrix == 0) | (matrix == 1))
    if len(rows) > _BOOLEAN_LOOKS:
        return bool in set(map(type, chain.from_iterable(raw)))
    return any(type(raw[row][column]) is bool
               for row, column in zip(rows.tolist(), columns.tolist(), strict=True))


def _typed_columns(entries: list[dict[str, Any]], block: np.ndarray | None, names: list[str],
                   values_of: Any) -> dict[str, Any]:
    columns: dict[str, Any] = {}
    position = {name: index for index, name in enumerate(names)}
    for entry in entries:
        name, dtype = entry["name"], entry["dtype"]
        if name in position:
            row = block[position[name]]
            columns[name] = row if dtype == "float64" else row.astype(dtype)
        else:
            columns[name] = _other_column(values_of(name), dtype)
    return columns


def _other_column(raw: list[Any], dtype: str) -> pd.Series:
    """A bool, text or category column of values that may be wrong (_NeedsCheck)."""
    if dtype == "bool":
        converted = []
        for value in raw:
            if type(value) is bool or value is None:
                converted.append(value)
            elif type(value) is str and value.strip().lower() in _BOOL_WORDS:
                converted.append(_BOOL_WORDS[value.strip().lower()])
            elif type(value) is int and value in (0, 1):
                converted.append(bool(value))
            else:
                raise _NeedsCheck
        return pd.Series(converted, dtype="boolean" if None in converted else "bool")
    converted_text = []
    for value in raw:
        if value is None or type(value) is str:
            converted_text.append(value)
        elif _is_scalar(value):
            converted_text.append(str(value))
        else:
            raise _NeedsCheck
    series = pd.Series(converted_text, dtype="object")
    return series.astype("category") if dtype == "category" else series


# -- value by value ----------------------------------------------------------------

def _locate_in_records(records: list[Any], schema: Sequence[dict[str, Any]],
                       unknown_columns: str, first_row: int) -> None:
    """Raise the first problem in row order (see the module docstring), if any."""
    known = {entry["name"] for entry in schema}
    for offset, record in enumerate(records):
        row = first_row + offset
        if type(record) is not dict:
            raise RequestDataError(f"a record must be a JSON object, not {_kind(record)}.",
                                   row=row)
        for column, value in record.items():
            if column in known:
                continue
            if unknown_columns == "reject":
                raise RequestDataError(
                    "this column is not an input of the service.", column=column, row=row,
                    fix=f"Send only the service's columns: {columns_text(sorted(known))}.")
            if not _is_scalar(value):
                raise RequestDataError(f"{_kind(value)} is not a value: send text, a number "
                                       "or a boolean.", column=column, row=row)
        for entry in schema:
            problem = check_value(entry, record.get(entry["name"]))
            if problem:
                raise RequestDataError(problem, column=entry["name"], row=row)


def _locate_in_rows(names: list[str], values: list[Any], positions: dict[str, int],
                    schema: Sequence[dict[str, Any]], unknown_columns: str,
                    first_row: int) -> None:
    width = len(names)
    used = set(positions.values())
    unknown = [i for i in range(width) if i not in used]
    for offset, line in enumerate(values):
        row = first_row + offset
        if type(line) is not list:
            raise RequestDataError(f"a row of 'Values' must be a list, not {_kind(line)}.",
                                   row=row)
        if len(line) != width:
            raise RequestDataError(f"the row has {len(line)} values for {width} columns.",
                                   row=row, fix="Send one value per name in 'ColumnNames'.")
        for index in unknown:
            if not _is_scalar(line[index]):
                raise RequestDataError(f"{_kind(line[index])} is not a value: send text, a "
                                       "number or a boolean.", column=names[index], row=row)
        for entry in schema:
            if entry["name"] in positions:
                problem = check_value(entry, line[positions[entry["name"]]])
                if problem:
                    raise RequestDataError(problem, column=entry["name"], row=row)


def _column_values_of_records(records: list[dict[str, Any]], schema: Sequence[dict[str, Any]]
                              ) -> dict[str, list[Any]]:
    return {e["name"]: [r.get(e["name"]) for r in records] for e in schema}


def _named_in_records(records: list[dict[str, Any]]) -> set[str]:
    return set().union(*records)


def _exact(columns: dict[str, list[Any]], schema: Sequence[dict[str, Any]], rows: int,
           optional_names: Collection[str] | None, *, present: set[str]) -> RequestTable:
    """The table of values already checked by check_value (the careful pass)."""
    wanted = set(optional_names or ()) | present
    entries = [e for e in schema if e["required"] or e["name"] in wanted]
    numeric = [e for e in entries if e["dtype"] in _NUMERIC]
    names = [e["name"] for e in numeric]
    block = None
    if numeric:
        block = np.array([[math.nan if v is None or (type(v) is str and not v.strip())
                           else float(v) for v in columns[name]] for name in names],
                         dtype=np.float64)
    typed: dict[str, Any] = {}
    for entry in entries:
        name, dtype = entry["name"], entry["dtype"]
        if entry in numeric:
            typed[name] = block[names.index(name)].astype(dtype, copy=False)
        elif dtype == "bool":
            converted = [None if v is None else v if type(v) is bool else
                         _BOOL_WORDS[v.strip().lower()] if type(v) is str else bool(v)
                         for v in columns[name]]
            typed[name] = pd.Series(converted,
                                    dtype="boolean" if None in converted else "bool")
        else:
            series = pd.Series([v if v is None or type(v) is str else str(v)
                                for v in columns[name]], dtype="object")
            typed[name] = series.astype("category") if dtype == "category" else series
    optional = any(not e["required"] for e in entries)
    return RequestTable(typed, rows, block, names, optional)


def raise_if_infinite(values_t: np.ndarray, names: list[str], label: str, original: Any,
                      first_row: int) -> None:
    """Refuse a request whose finite values a step made infinite (NaN may be a node's
    way to mark a value missing, so it is left to the nodes that read it).

    ``values_t`` is (columns x rows); the problem reported is the first row
    with one, then the first of ``names`` in it, as for any request error.
    """
    bad = np.isinf(values_t)
    if not bad.any():
        return
    row = int(np.argmax(bad.any(axis=0)))
    column = int(np.argmax(bad[:, row]))
    name = names[column]
    value = original(name, row)
    raise RequestDataError(
        f"{float(value)!r} is too large or too small for this model: '{label}' turns it into "
        f"{float(values_t[column, row])!r}.", column=name, row=first_row + row,
        fix="Send values within the range the model was trained on.")


# -- answers -----------------------------------------------------------------------

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
