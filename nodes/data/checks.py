"""Checks on the tables reaching a node, with errors that name what is wrong.

Every node that reads columns uses these, so a missing column, a text
column where numbers are needed or a missing value is reported the same way
everywhere: the node, the port, the columns, and what to do about it.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import pandas as pd

from nodes.errors import NodeInputError
from nodes.values import Table

#: What to do about text columns where numbers are needed.
NON_NUMERIC_FIX = ("Turn them into numbers with Convert to Indicator Values, drop them with "
                   "Select Columns, or mark them as non-features with Edit Metadata.")
MISSING_VALUES_FIX = "Remove or replace the missing values with Clean Missing Data."


def columns_text(columns: Sequence[str], limit: int = 30) -> str:
    """``'a', 'b', 'c'`` (shortened after ``limit`` names)."""
    shown = ", ".join(repr(c) for c in columns[:limit])
    if len(columns) > limit:
        shown += f", ... ({len(columns) - limit} more)"
    return shown or "none"


def require_columns(node: str, table: Table, columns: Sequence[str], *, port: str | None,
                    why: str = "") -> None:
    """Raise NodeInputError naming every column of ``columns`` the table lacks."""
    available = list(table.frame.columns)
    missing = [c for c in columns if c not in available]
    if not missing:
        return
    close = {c: difflib.get_close_matches(c, available, n=1, cutoff=0.6) for c in missing}
    hints = [f"{c!r} -> {match[0]!r}" for c, match in close.items() if match]
    fix = f"Did you mean {', '.join(hints)}? " if hints else ""
    fix += f"Available columns: {columns_text(available)}."
    noun = "column" if len(missing) == 1 else "columns"
    raise NodeInputError(node, f"the table has no {noun} {columns_text(missing)}{why}.",
                         port=port, columns=missing, fix=fix)


def is_numeric(series: pd.Series) -> bool:
    """Numbers or booleans (which count as 0/1); not text, categories or dates."""
    return _is_numeric_dtype(series.dtype)


def _is_numeric_dtype(dtype: object) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype)


def require_numeric(node: str, table: Table, columns: Sequence[str], *, port: str | None,
                    what: str = "feature", fix: str = NON_NUMERIC_FIX) -> None:
    """Raise NodeInputError naming the columns of ``columns`` that are not numeric."""
    dtypes = table.frame.dtypes  # one lookup, not one Series per column
    bad = [c for c in columns if not _is_numeric_dtype(dtypes[c])]
    if bad:
        kinds = ", ".join(f"{c!r} ({table.frame[c].dtype})" for c in bad[:30])
        raise NodeInputError(node, f"{what} columns must be numeric, but these are not: {kinds}.",
                             port=port, columns=bad, fix=fix)


def require_no_missing(node: str, table: Table, columns: Sequence[str], *, port: str) -> None:
    """Raise NodeInputError naming each column of ``columns`` with missing values, and how many."""
    counts = table.frame[list(columns)].isna().sum()
    bad = counts[counts > 0]
    if len(bad):
        listed = ", ".join(f"{c!r} ({n} rows)" for c, n in bad.items())
        raise NodeInputError(node, f"missing values in {listed}.", port=port,
                             columns=list(bad.index), fix=MISSING_VALUES_FIX)


def resolve_label_column(node: str, table: Table, requested: str, *, port: str) -> str:
    """The label column: ``requested`` if given, else the table's label-role column."""
    if requested:
        require_columns(node, table, [requested], port=port, why=" (the label column parameter)")
        return requested
    label = table.label_column
    if label is None:
        available = columns_text(list(table.frame.columns))
        raise NodeInputError(
            node, "the table has no label column.", port=port,
            fix="Set the 'label_column' parameter, or give a column the label role upstream "
                f"(e.g. Import Data's label column). Columns: {available}.")
    return label


def require_rows(node: str, table: Table, *, port: str) -> None:
    """Raise NodeInputError when the table has no rows."""
    if len(table.frame) == 0:
        raise NodeInputError(node, "the table has no rows.", port=port,
                             fix="Check the upstream nodes (a filter or split that keeps nothing).")
