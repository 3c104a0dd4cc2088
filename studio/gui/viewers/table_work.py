"""What the table viewer computes off the GUI thread (no Qt): a column's statistics,
its histogram, a sort order.

Each step is a pandas or numpy call that releases the interpreter often
(measured: under 6 ms at a time on a million rows), so the GUI thread keeps
painting while a worker runs them. The exceptions are cells that hold
Python objects (lists, mixed types): those are turned into text a slice at
a time, with a cancel check between slices.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from studio.gui.background import check

#: Rows turned into text per step for columns of Python objects.
OBJECT_SLICE = 50_000


@dataclass
class ColumnSummary:
    """A column's statistics (rows of name, text) and its histogram."""

    column: str
    rows: list[tuple[str, str]]
    #: "numeric" (edges, counts), "categories" (labels, counts) or "" (none).
    histogram_kind: str = ""
    histogram_x: list = field(default_factory=list)
    histogram_counts: list[int] = field(default_factory=list)


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def as_text(series: pd.Series, cancel: threading.Event) -> pd.Series:
    """The column as text, a slice at a time (cells may hold lists)."""
    parts = []
    for start in range(0, len(series), OBJECT_SLICE):
        check(cancel)
        parts.append(series.iloc[start:start + OBJECT_SLICE].astype(str))
    return pd.concat(parts) if parts else series.astype(str)


def summarize_column(frame: pd.DataFrame, column: str, cancel: threading.Event,
                     bins: int = 20) -> ColumnSummary:
    series = frame[column]
    rows = [("type", str(series.dtype)), ("count", f"{series.count():,}"),
            ("missing", f"{int(series.isna().sum()):,}")]
    check(cancel)
    objects = series.dtype == object
    try:
        unique = series.nunique() if not objects else as_text(series.dropna(), cancel).nunique()
        rows.append(("unique", f"{unique:,}"))
    except TypeError:
        rows.append(("unique", "n/a"))
    check(cancel)
    summary = ColumnSummary(column, rows)
    values = series.dropna()
    if _is_numeric(series):
        if len(values):
            quartiles = values.quantile([0.25, 0.5, 0.75])
            check(cancel)
            for name, value in (("mean", values.mean()), ("std", values.std()),
                                ("min", values.min()), ("25%", quartiles[0.25]),
                                ("median", quartiles[0.5]), ("75%", quartiles[0.75]),
                                ("max", values.max())):
                rows.append((name, f"{value:.6g}"))
            check(cancel)
            counts, edges = np.histogram(values.to_numpy(dtype=float), bins=bins)
            summary.histogram_kind = "numeric"
            summary.histogram_x, summary.histogram_counts = edges.tolist(), counts.tolist()
        return summary
    if len(values):
        text = as_text(values, cancel) if objects else values.astype(str)
        check(cancel)
        top = text.value_counts().head(bins)
        summary.histogram_kind = "categories"
        summary.histogram_x = [str(v) for v in top.index]
        summary.histogram_counts = [int(v) for v in top.tolist()]
    return summary


def sort_order(frame: pd.DataFrame, column: str, ascending: bool,
               cancel: threading.Event) -> np.ndarray:
    """Row positions that sort the table by ``column`` (stable; missing values last)."""
    series = frame[column]
    if series.dtype == object:  # numpy would sort Python objects holding the GIL
        series = as_text(series, cancel).where(series.notna())
    check(cancel)
    order = series.reset_index(drop=True).sort_values(
        ascending=ascending, kind="stable", na_position="last").index.to_numpy()
    check(cancel)
    return order
