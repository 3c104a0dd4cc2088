"""Reading a CSV or Parquet file in blocks of rows, for tables that stay in
partitions on Dask workers (nodes/partitions.py).

A CSV file is cut at line ends into blocks of about ``partition_bytes``;
each block is parsed on its own by pandas, as the whole file would be.
A quoted field may hold a line end: each block counts its quote
characters, and when a cut falls inside quotes (``quoted_boundary``) the
file is read whole instead.
A column whose types differ between blocks (whole numbers in one, missing
values or decimals in another) is made float64, as pandas makes it when it
reads the whole file; any other difference is refused with the fix
(name the column's type in 'column_types'). A Parquet file is read by
row groups, joined into blocks of about ``partition_bytes``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from nodes.errors import NodeInputError
from nodes.partitions import PartitionRead
from nodes.values import Table

#: Bytes of file per partition by default (the executor may ask for others).
PARTITION_BYTES = 64 * 1024 * 1024


def quoted_boundary(quotes: Sequence[int]) -> int | None:
    """The first block boundary that falls inside a quoted field, given the
    number of quote characters in each block (in file order), or None.

    A line end inside quotes (a field holding a line break) may have been
    taken for the end of a block. Outside quotes, the count of quote
    characters before a position is even (an escaped quote is two), so a
    boundary after an odd total is inside a quoted field."""
    total = 0
    for index, count in enumerate(quotes[:-1]):
        total += count
        if total % 2:
            return index + 1
    return None


def csv_line_blocks(path: Path, data_start: int, block_bytes: int) -> list[tuple[int, int]]:
    """[begin, end) byte ranges of whole lines, about ``block_bytes`` each,
    from ``data_start`` to the end of the file."""
    size = path.stat().st_size
    bounds = [data_start]
    with path.open("rb") as file:
        position = data_start + block_bytes
        while position < size:
            file.seek(position - 1)
            file.readline()  # to the start of the first line at or after position
            line_start = file.tell()
            if line_start >= size:
                break
            if line_start > bounds[-1]:
                bounds.append(line_start)
            position = line_start + block_bytes
    bounds.append(size)
    return [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


@dataclass(frozen=True)
class CsvBlock(PartitionRead):
    """Whole lines [begin, end) of a CSV file, parsed as the whole file would be."""

    node: str
    path: str
    begin: int
    end: int
    sep: str
    names: tuple[str, ...]
    roles: Mapping[str, str] = field(default_factory=dict)
    types: Mapping[str, str] = field(default_factory=dict)

    def read(self) -> Table:
        from nodes.data.datasets import _convert

        with open(self.path, "rb") as file:
            file.seek(self.begin)
            data = file.read(self.end - self.begin)
        quotes = data.count(b'"')
        try:
            frame = pd.read_csv(io.BytesIO(data), sep=self.sep, header=None,
                                names=list(self.names))
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
                ValueError) as error:
            if b'"' not in data:
                raise self.unreadable(str(error)) from None
            # Maybe cut inside a quoted field: the executor decides, from every
            # block's quote count, between reading the file whole and this error.
            table = Table(pd.DataFrame(columns=list(self.names)), self.roles)
            table.read_info = {"quotes": quotes, "error": str(error)}
            return table
        for column, kind in self.types.items():
            try:
                frame[column] = _convert(frame[column], kind)
            except (ValueError, TypeError) as error:
                raise NodeInputError(
                    self.node, f"column {column!r} cannot be read as {kind}: {error}",
                    columns=[column], fix=f"Fix the values or choose another type for "
                                          f"{column!r} in 'column_types'.") from None
        table = Table(frame, self.roles)
        table.read_info = {"quotes": quotes, "error": None}  # checked by quoted_boundary
        return table

    def unreadable(self, reason: str) -> NodeInputError:
        return NodeInputError(
            self.node, f"cannot read bytes {self.begin}-{self.end} of '{self.path}' as CSV: "
            f"{reason}", fix="Check the 'delimiter' and 'has_header' parameters and that "
            "every line has the same number of fields.")


@dataclass(frozen=True)
class ParquetGroups(PartitionRead):
    """Some row groups of a Parquet file."""

    path: str
    groups: tuple[int, ...]
    roles: Mapping[str, str] = field(default_factory=dict)

    def read(self) -> Table:
        import pyarrow.parquet as pq

        table = pq.ParquetFile(self.path).read_row_groups(list(self.groups))
        return Table(table.to_pandas().reset_index(drop=True), self.roles)


def parquet_groups(path: Path, block_bytes: int, roles: Mapping[str, str]) -> list[ParquetGroups]:
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    blocks: list[list[int]] = [[]]
    size = 0
    for index in range(meta.num_row_groups):
        group = meta.row_group(index)
        if blocks[-1] and size + group.total_byte_size > block_bytes:
            blocks.append([])
            size = 0
        blocks[-1].append(index)
        size += group.total_byte_size
    return [ParquetGroups(str(path), tuple(b), dict(roles)) for b in blocks if b]


def block_bytes(value: int | None) -> int:
    return max(1024, int(value or os.environ.get("AXON_PARTITION_BYTES", PARTITION_BYTES)))


def common_types(node: str, parts: Sequence[Mapping[str, tuple[str, bool]]],
                 fixed: Sequence[str] = ()) -> dict[str, str]:
    """The type each column must be cast to so that every partition agrees, as
    pandas types a column when it reads all the rows at once. ``parts`` gives,
    per partition, column -> (dtype, every value missing)."""
    casts: dict[str, str] = {}
    for column in parts[0]:
        if column in fixed:
            continue
        seen = {p[column][0] for p in parts if not p[column][1]}
        empty = any(p[column][1] for p in parts)
        if len(seen) <= 1 and not (empty and seen & {"int64", "bool"}):
            if seen and empty:
                casts[column] = next(iter(seen))  # all-missing blocks take the others' type
            continue
        if seen <= {"int64", "float64"}:
            casts[column] = "float64"
            continue
        raise NodeInputError(
            node, f"column {column!r} reads as {' in some rows, '.join(sorted(seen))} in "
            "others (the file is read in blocks on the Dask workers).", columns=[column],
            fix=f"Name its type in 'column_types' (e.g. '{column}:str' or '{column}:float'), "
                "or run with --executor local.")
    return casts
