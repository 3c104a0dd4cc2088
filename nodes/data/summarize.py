"""Summarize Data: one row of statistics per column."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from nodes.context import RunContext
from nodes.contract import ScoringRole
from nodes.data.checks import is_numeric
from nodes.node import Node
from nodes.params import IntParam
from nodes.ports import TABLE, Input, Output
from nodes.values import Table


class SummarizeData(Node):
    """Describe every column of a table: type, counts, missing values and statistics.

    Input 'data': any table. Output 'summary': one row per column with
    'column', 'type' (pandas dtype), 'role', 'count' (values present),
    'missing', 'unique' (distinct values present), and for numeric
    columns 'mean', 'std' (sample standard deviation), 'min', 'q1'
    (25th percentile), 'median', 'q3' (75th percentile), 'max',
    'histogram_counts' and 'histogram_edges' ('bins' equal-width bins
    between min and max, as lists: counts[i] values fall in [edges[i],
    edges[i + 1]), the last bin includes max; numpy.histogram). Text
    columns give 'mode', their most frequent value. Booleans count as 0/1.
    """

    type_id = "summarize_data"
    title = "Summarize Data"
    category = "Data"
    aliases = ("Compute Elementary Statistics", "Descriptive Statistics")
    scoring_role = ScoringRole.TRAINING_ONLY

    class Inputs:
        data = Input(TABLE, help="The table to describe.")

    class Outputs:
        summary = Output(TABLE, help="One row of statistics per column.")

    bins = IntParam(10, minimum=1, maximum=1000, help="Histogram bins per numeric column.")

    def run(self, ctx: RunContext, data: Table) -> dict[str, Any]:
        rows = []
        for column in data.frame.columns:
            series = data.frame[column]
            present = series.dropna()
            row: dict[str, Any] = {"column": column, "type": str(series.dtype),
                                   "role": data.role(column), "count": int(len(present)),
                                   "missing": int(series.isna().sum()),
                                   "unique": int(present.nunique()),
                                   "mean": np.nan, "std": np.nan, "min": np.nan, "q1": np.nan,
                                   "median": np.nan, "q3": np.nan, "max": np.nan,
                                   "histogram_counts": [], "histogram_edges": [], "mode": None}
            if is_numeric(series) and len(present):
                values = present.to_numpy(dtype=float)
                q1, median, q3 = np.percentile(values, [25, 50, 75])
                counts, edges = np.histogram(values, bins=self.bins)
                row.update(mean=values.mean(), std=values.std(ddof=1) if len(values) > 1
                           else np.nan, min=values.min(), q1=q1, median=median, q3=q3,
                           max=values.max(), histogram_counts=counts.tolist(),
                           histogram_edges=edges.tolist())
            elif len(present):
                row["mode"] = str(present.astype(str).mode().iloc[0])
            rows.append(row)
        frame = pd.DataFrame(rows)
        frame["mode"] = frame["mode"].astype("str").where(frame["mode"].notna())
        return {"summary": Table(frame, {"column": "id"})}
