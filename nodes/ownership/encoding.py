"""The canonical encoding of a table's rows, and the row hashes (the tree's leaves).

A row's hash must not depend on how the table happens to be held (pandas
dtype widths, categories, the row's position, the index), only on its values
and on the schema they are read with. Each column has one of five logical
types; a row is encoded cell by cell: first the cells of fixed width (int,
float, bool, datetime) in the source's column order, then the str cells in
the source's column order (so the fixed part of every row has one width):

=========  ==========================================================
null       ``00`` (NaN, None, NaT, pd.NA; for a fixed-width type the
           value bytes follow as zeros, so every cell of that type has
           the same width)
int        ``01`` + 8 bytes, signed big-endian
float      ``01`` + 8 bytes, IEEE 754 binary64 big-endian; -0.0 as 0.0
bool       ``01`` + 1 byte, 00 or 01
datetime   ``01`` + 8 bytes, signed big-endian nanoseconds since
           1970-01-01T00:00Z (naive times are taken as UTC)
str        ``01`` + 4-byte big-endian length + the UTF-8 bytes (no
           Unicode normalisation)
=========  ==========================================================

and hashed as ``SHA-256(00 || schema_id || cells)``, where ``schema_id`` is
the SHA-256 of the column names and types (see :func:`schema_id`). The first
byte keeps a row hash from ever being read as a node of the tree (``01``) or
an owner entry (``02``). The whole of it is vectorised with numpy except the
one hashlib call per row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: Name and version of the encoding; changing any rule above needs a new one.
ROW_SCHEME = "axon-rows/1"
LEAF_PREFIX = b"\x00"
COLUMN_TYPES = ("int", "float", "bool", "datetime", "str")


class RowEncodingError(ValueError):
    """A column whose values cannot be encoded canonically (named in the message)."""


@dataclass(frozen=True)
class RowSchema:
    """The column names, in order, and their logical types."""

    columns: tuple[tuple[str, str], ...]

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]

    @property
    def id(self) -> str:
        return schema_id(self.columns)

    def to_list(self) -> list[list[str]]:
        return [[name, kind] for name, kind in self.columns]

    @classmethod
    def from_list(cls, items: Sequence[Sequence[str]]) -> RowSchema:
        columns = []
        for item in items:
            if (len(item) != 2 or not isinstance(item[0], str)
                    or item[1] not in COLUMN_TYPES):
                raise RowEncodingError(f"not a column of a row schema: {item!r}")
            columns.append((item[0], item[1]))
        return cls(tuple(columns))

    @classmethod
    def of(cls, frame: pd.DataFrame) -> RowSchema:
        """The schema of ``frame`` as it is (its column order, types from its dtypes)."""
        return cls(tuple((str(name), logical_type(frame[name])) for name in frame.columns))


def schema_id(columns: Sequence[tuple[str, str]]) -> str:
    """SHA-256 (hex) of ``ROW_SCHEME`` and the canonical JSON of ``[[name, type], ...]``."""
    text = json.dumps([[n, t] for n, t in columns], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{ROW_SCHEME} schema\x00{text}".encode()).hexdigest()


def logical_type(series: pd.Series) -> str:
    """The logical type of a column, from its dtype (categories: of their values)."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return logical_type(pd.Series(dtype.categories))
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    return "str"


def row_hashes(frame: pd.DataFrame, schema: RowSchema | None = None) -> np.ndarray:
    """The SHA-256 of every row's canonical encoding: an (n, 32) uint8 array.

    ``schema`` fixes the columns and their types (the frame's values are
    converted to them); by default it is the frame's own (:meth:`RowSchema.of`).
    """
    schema = schema or RowSchema.of(frame)
    missing = [name for name in schema.names if name not in frame.columns]
    if missing:
        raise RowEncodingError(f"the rows have no column {missing[0]!r} of the schema")
    n = len(frame)
    prefix = LEAF_PREFIX + bytes.fromhex(schema.id)
    fixed = [_fixed(frame[name], name, kind) for name, kind in schema.columns
             if kind != "str"]
    strings = [_strings(frame[name], name) for name, kind in schema.columns if kind == "str"]
    records = _records(prefix, fixed, n)
    if not strings:
        return _hash_fixed(records.tobytes(), n, records.dtype.itemsize)
    return _hash_variable(records, _joined(strings, n), n)


def _records(prefix: bytes, cells: list[_Fixed], n: int) -> np.ndarray:
    """The prefix and the fixed-width cells: one record per row, written field by field."""
    fields: list[tuple[str, Any]] = [("prefix", f"V{len(prefix)}")]
    for index, cell in enumerate(cells):
        fields += [(f"n{index}", "u1"), (f"v{index}", cell.values.dtype.str)]
    records = np.empty(n, dtype=np.dtype(fields))
    records["prefix"] = np.void(prefix)
    for index, cell in enumerate(cells):
        records[f"n{index}"] = cell.present
        records[f"v{index}"] = cell.values
    return records


# -- cells ------------------------------------------------------------------

@dataclass
class _Fixed:
    """A fixed-width column: presence flags and big-endian values (zero where missing)."""

    present: np.ndarray
    values: np.ndarray


def _fixed(series: pd.Series, name: str, kind: str) -> _Fixed:
    dtype = series.dtype
    plain = isinstance(dtype, np.dtype)  # not a pandas extension type (Int64, category...)
    try:
        if kind == "float":
            values = (series.to_numpy(dtype="float64", copy=True)
                      if plain and pd.api.types.is_float_dtype(dtype)
                      else pd.to_numeric(series, errors="raise").to_numpy(
                          dtype="float64", na_value=np.nan))
            missing = np.isnan(values)
            values[missing] = 0.0
            values += 0.0  # -0.0 + 0.0 is 0.0
            return _Fixed(~missing, values.astype(">f8"))
        if kind == "int":
            if plain and pd.api.types.is_integer_dtype(dtype):
                if pd.api.types.is_unsigned_integer_dtype(dtype) and len(series) and \
                        int(series.max()) > np.iinfo(np.int64).max:
                    raise RowEncodingError(f"column {name!r} has integers beyond 64-bit "
                                           "signed")
                return _Fixed(np.ones(len(series), dtype=bool), series.to_numpy().astype(">i8"))
            numbers = pd.to_numeric(series, errors="raise")
            missing = numbers.isna().to_numpy()
            whole = numbers.to_numpy(dtype="float64", na_value=0.0)
            if not np.array_equal(whole, np.round(whole)):
                raise RowEncodingError(f"column {name!r} has fractional values, not int")
            values = numbers.to_numpy(dtype="int64", na_value=0) if \
                pd.api.types.is_integer_dtype(numbers.dtype) else whole.astype("int64")
            values[missing] = 0
            return _Fixed(~missing, values.astype(">i8"))
        missing = series.isna().to_numpy()
        if kind == "bool":
            values = series.to_numpy(dtype=object, na_value=False).astype(bool)
            values[missing] = False
            return _Fixed(~missing, values.astype(np.uint8))
        times = pd.to_datetime(series, utc=True)
        values = times.dt.tz_localize(None).astype("datetime64[ns]").to_numpy().view("int64")
        values = np.where(missing, 0, values)
        return _Fixed(~missing, values.astype(">i8"))
    except (TypeError, ValueError, OverflowError) as error:
        if isinstance(error, RowEncodingError):
            raise
        raise RowEncodingError(f"column {name!r} cannot be read as {kind}: {error}") from None


@dataclass
class _Strings:
    """A str column's cells, ``01 || length || UTF-8`` or ``00``: an Arrow binary array."""

    cells: Any


def _strings(series: pd.Series, name: str) -> _Strings:
    import pyarrow as pa
    import pyarrow.compute as pc

    valid = series.notna().to_numpy()
    values = series.astype(object).where(valid, None)
    try:
        text = pa.array(values, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # numbers or other objects: their str()
        text = pa.array(values.map(lambda v: None if v is None else str(v)),
                        type=pa.large_string(), from_pandas=True)
    lengths = pc.binary_length(text).to_numpy(zero_copy_only=False)
    lengths = np.where(valid, lengths, 0).astype(np.int64)
    if len(lengths) and lengths.max() >= 2**32:
        raise RowEncodingError(f"column {name!r} has a value longer than 4 GiB")
    # The head of each cell: 01 and the length, or 00 alone for a missing value.
    heads = np.zeros((len(series), 5), dtype=np.uint8)
    heads[:, 0] = valid
    heads[:, 1:] = lengths.astype(">u4").view(np.uint8).reshape(-1, 4)
    widths = np.where(valid, 5, 1)
    head = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(series),
        [None, pa.py_buffer(_offsets(widths)), pa.py_buffer(_packed(heads, widths))])
    cells = pc.binary_join_element_wise(head, text.cast(pa.large_binary()),
                                        pa.scalar(b"", pa.large_binary()),
                                        null_handling="replace", null_replacement="")
    return _Strings(cells)


def _offsets(widths: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(widths)]).astype(np.int64)


def _packed(heads: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """The heads end to end: 5 bytes for a present value, the 00 byte for a missing one."""
    keep = np.arange(5)[None, :] < widths[:, None]
    return heads[keep]


def _joined(strings: list[_Strings], n: int) -> tuple[bytes, list[int]]:
    """Every row's str cells, column after column, end to end; and the row bounds."""
    import pyarrow as pa
    import pyarrow.compute as pc

    joined = strings[0].cells if len(strings) == 1 else pc.binary_join_element_wise(
        *[s.cells for s in strings], pa.scalar(b"", pa.large_binary()))
    if isinstance(joined, pa.ChunkedArray):
        joined = joined.combine_chunks()
    _, offsets_buffer, data_buffer = joined.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[joined.offset:
                                                            joined.offset + n + 1]
    data = data_buffer.to_pybytes() if data_buffer is not None else b""
    return data, offsets.tolist()


# -- hashing ----------------------------------------------------------------

def _hash_fixed(data: bytes, n: int, width: int) -> np.ndarray:
    sha256 = hashlib.sha256
    digests = b"".join([sha256(data[i:i + width]).digest()
                        for i in range(0, n * width, width)])
    return np.frombuffer(digests, dtype=np.uint8).reshape(n, 32)


def _hash_variable(records: np.ndarray, strings: tuple[bytes, list[int]], n: int
                   ) -> np.ndarray:
    """One hash per row: its fixed-width record, then its str cells."""
    fixed, width = records.tobytes(), records.dtype.itemsize
    data, bounds = strings
    sha256 = hashlib.sha256
    digests = []
    for i in range(n):
        digest = sha256(fixed[i * width:(i + 1) * width])
        digest.update(data[bounds[i]:bounds[i + 1]])
        digests.append(digest.digest())
    return np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(n, 32)


# -- rows given by an auditor ---------------------------------------------------

def conform(frame: pd.DataFrame, schema: RowSchema) -> pd.DataFrame:
    """``frame``'s columns converted to ``schema``'s types, in its order, so rows
    read back from a file (a CSV of one record, say) hash as the source's did.

    Raises RowEncodingError naming a missing column or a value of the wrong type.
    """
    missing = [name for name in schema.names if name not in frame.columns]
    if missing:
        raise RowEncodingError(
            f"the rows have no column {missing[0]!r}; the dataset's rows have "
            f"{', '.join(repr(n) for n in schema.names)}")
    converted: dict[str, Any] = {}
    for name, kind in schema.columns:
        column = frame[name]
        try:
            if kind == "float":
                converted[name] = pd.to_numeric(column, errors="raise").astype("float64")
            elif kind == "int":
                converted[name] = pd.to_numeric(column, errors="raise").astype("Int64")
            elif kind == "bool":
                converted[name] = column.map(_boolean).astype("boolean")
            elif kind == "datetime":
                converted[name] = pd.to_datetime(column, utc=True)
            else:
                converted[name] = column.astype(object).where(column.notna(), None).map(
                    lambda v: v if v is None or isinstance(v, str) else _text(v))
        except (TypeError, ValueError) as error:
            raise RowEncodingError(f"column {name!r} cannot be read as {kind}: "
                                   f"{error}") from None
    return pd.DataFrame(converted, index=frame.index)


def _boolean(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    words = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
    word = str(value).strip().lower()
    if word not in words:
        raise ValueError(f"{value!r} is not true or false")
    return words[word]


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a JSON number standing for a CSV text like "12"
    return str(value)


def frame_of_records(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """A frame of records given as mappings (a JSON row file), columns as given."""
    return pd.DataFrame(list(records))
