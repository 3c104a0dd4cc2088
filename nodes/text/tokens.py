"""Splitting text into words, the same way in every text node."""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from nodes.data.checks import columns_text, require_columns
from nodes.errors import NodeInputError
from nodes.values import Table

#: A word is a run of letters, digits or '_' (Unicode-aware); everything else
#: separates words. scikit-learn's vectorizers get the same pattern.
TOKEN_PATTERN = r"(?u)\b\w+\b"
_TOKEN = re.compile(TOKEN_PATTERN)


def words(text: str, lowercase: bool = True) -> list[str]:
    """The words of ``text`` in order, lower-cased unless told otherwise."""
    return _TOKEN.findall(text.lower() if lowercase else text)


def is_text(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series.dtype) or pd.api.types.is_object_dtype(
        series.dtype)


def resolve_text_column(node: str, table: Table, requested: str, *, port: str = "data") -> str:
    """``requested``, or the first text feature column; checks it holds text."""
    if requested:
        require_columns(node, table, [requested], port=port,
                        why=" named by the 'text_column' parameter")
        column = requested
    else:
        candidates = [c for c in table.feature_columns if is_text(table.frame[c])]
        if not candidates:
            raise NodeInputError(
                node, "the table has no text column.", port=port,
                fix="Set 'text_column'. Columns: "
                    f"{columns_text(list(table.frame.columns))}.")
        column = candidates[0]
    if not is_text(table.frame[column]):
        raise NodeInputError(node, f"column {column!r} holds {table.frame[column].dtype}, "
                             "not text.", port=port, columns=[column],
                             fix="Choose a text column in 'text_column'.")
    return column


def text_values(table: Table, column: str) -> Iterable[str]:
    """The column's texts, a missing text read as empty."""
    return table.frame[column].fillna("").astype(str)
