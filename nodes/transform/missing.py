"""Clean Missing Data: replace or remove missing values, the same way on new data."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from nodes.context import RunContext
from nodes.contract import Partitioning, ScoringRole
from nodes.data.checks import columns_text, is_numeric, require_columns, require_numeric
from nodes.errors import NodeInputError
from nodes.node import Node
from nodes.params import ChoiceParam, ColumnParam, FloatParam, StringParam
from nodes.partitions import Partitions, PerPartition
from nodes.ports import TABLE, TRANSFORM, Input, Output
from nodes.transform.fitted import TableTransformer
from nodes.values import Table, Transform, register_artifact_class

_METHODS = ("mean", "median", "mode", "constant", "remove_row", "remove_column")


@register_artifact_class
class MissingValueCleaner(TableTransformer):
    """Fitted replacement values (or the rows/columns to remove)."""

    setting_names = ("method", "columns")

    def transform_table(self, table: Table) -> Table:
        s = self.state_values
        frame = table.frame
        if s["method"] == "remove_row":
            frame = frame.dropna(subset=s["columns"]).reset_index(drop=True)
        elif s["method"] == "remove_column":
            frame = frame.drop(columns=s["removed"])
        else:
            frame = frame.copy(deep=False)  # only the filled columns are new
            for column, value in s["values"].items():
                if value is not None:
                    frame[column] = frame[column].fillna(value)
        return table.with_frame(frame)


class CleanMissingData(Node):
    """Replace missing values (mean, median, mode, a constant), or drop their rows or columns.

    Input 'data': a table. Output 'data': the cleaned table; output
    'transform': the cleaning learnt here (the means, medians... of these
    rows), to clean test rows exactly the same way with Apply
    Transformation (fit on the training rows only).

    'columns' empty means every column with a missing value. 'mean' and
    'median' need numeric columns; 'mode' uses the most frequent value
    (the smallest one on ties); 'constant' writes 'constant_value' (read as
    a number in numeric columns); 'remove_row' drops the rows with a
    missing value in the columns; 'remove_column' drops the columns whose
    share of missing values is above 'max_missing_ratio' (0: any missing
    value).
    """

    type_id = "clean_missing_data"
    title = "Clean Missing Data"
    category = "Transform"
    scoring_role = ScoringRole.FITTED
    fitted_transform_port = "transform"
    partitioning = Partitioning.STREAM

    class Inputs:
        data = Input(TABLE, help="The table to clean.")

    class Outputs:
        data = Output(TABLE, help="The cleaned table.")
        transform = Output(TRANSFORM, help="The fitted cleaning, for Apply Transformation.")

    columns = ColumnParam(multiple=True, help="Columns to clean; empty: every column with "
                                              "missing values.")
    method = ChoiceParam("mean", _METHODS, help="How missing values are handled.")
    constant_value = StringParam("0", help="Replacement for method 'constant'.")
    max_missing_ratio = FloatParam(0.0, minimum=0.0, maximum=1.0,
                                   help="remove_column: drop columns missing more than this "
                                        "share.")

    def run(self, ctx: RunContext, data: Table) -> dict[str, Any]:
        frame = data.frame
        missing = frame.isna().sum()  # one pass: which columns, and how many, for the log
        columns = self._chosen_columns(data, missing)
        state: dict[str, Any] = {"method": self.method, "columns": columns}
        if self.method in ("mean", "median"):
            require_numeric(self.label, data, columns, port="data", what=f"{self.method}-filled",
                            fix="Use method 'mode' or 'constant' for these columns, or leave "
                                "them out of 'columns'.")
            values = getattr(frame[columns], self.method)()
            empty = [c for c in columns if pd.isna(values[c])]
            if empty:
                raise NodeInputError(self.label, f"columns {columns_text(empty)} hold no value "
                                     f"to take the {self.method} of.", port="data",
                                     columns=empty, fix="Remove those columns.")
            state["values"] = {c: float(values[c]) for c in columns}
        elif self.method == "mode":
            state["values"] = {c: _mode(frame[c]) for c in columns}
        elif self.method == "constant":
            state["values"] = {c: _constant(self.label, frame[c], c, self.constant_value)
                               for c in columns}
        elif self.method == "remove_column":
            share = frame[columns].isna().mean()
            state["removed"] = [c for c in columns if share[c] > self.max_missing_ratio]
        transform = Transform(MissingValueCleaner(**state), columns,
                              f"{self.title} ({self.method})")
        cleaned = transform.apply(data)
        if self.method == "remove_row":  # removing rows removes other columns' gaps too
            after = int(cleaned.frame.isna().sum().sum())
        else:
            kept = [c for c in cleaned.frame.columns if c in missing.index and c not in columns]
            after = int(missing[kept].sum()) + int(cleaned.frame[[c for c in columns
                                                                 if c in cleaned.frame]].isna()
                                                     .sum().sum())
        ctx.log("%d missing values before, %d after", int(missing.sum()), after)
        return {"data": cleaned, "transform": transform}

    def _chosen_columns(self, table: Table, missing: pd.Series) -> list[str]:
        """'columns', checked against the table; empty: every column with a missing value."""
        if self.columns:
            require_columns(self.label, table, self.columns, port="data",
                            why=" named by the 'columns' parameter")
            return list(self.columns)
        return [c for c in table.frame.columns if missing[c]]

    # -- on a partitioned table (nodes/partitions.py) ----------------------
    @classmethod
    def partitioning_for(cls, params: Mapping[str, Any]) -> Partitioning:
        # Medians and modes do not combine from partitions' summaries.
        return (Partitioning.WHOLE_TABLE if params.get("method") in ("median", "mode")
                else Partitioning.STREAM)

    def partition_summary(self, ctx: RunContext, data: Table) -> dict[str, Any]:
        """Missing values per column; for 'mean' the sums and counts of the
        numeric columns; for 'remove_row' with named columns, the missing values
        left in the other columns once the rows are removed."""
        frame = data.frame
        missing = frame.isna().sum()
        summary: dict[str, Any] = {"missing": {c: int(v) for c, v in missing.items()}}
        if self.method == "mean":
            numeric = [c for c in frame.columns if is_numeric(frame[c])]
            summary["sums"] = {c: float(v) for c, v in frame[numeric].sum().items()}
            summary["counts"] = {c: int(v) for c, v in frame[numeric].count().items()}
        if self.method == "remove_row" and self.columns:
            require_columns(self.label, data, self.columns, port="data",
                            why=" named by the 'columns' parameter")
            kept = frame.dropna(subset=list(self.columns))
            summary["left"] = int(kept.drop(columns=list(self.columns)).isna().sum().sum())
        return summary

    def run_partitions(self, ctx: RunContext, data: Partitions) -> dict[str, Any]:
        schema = data.schema_table()
        missing = pd.Series({c: sum(p["missing"][c] for p in data.summaries)
                             for c in data.columns}, dtype="int64")
        columns = self._chosen_columns(schema, missing)
        state: dict[str, Any] = {"method": self.method, "columns": columns}
        if self.method == "mean":
            require_numeric(self.label, schema, columns, port="data", what="mean-filled",
                            fix="Use method 'mode' or 'constant' for these columns, or leave "
                                "them out of 'columns'.")
            counts = {c: sum(p["counts"][c] for p in data.summaries) for c in columns}
            empty = [c for c in columns if not counts[c]]
            if empty:
                raise NodeInputError(self.label, f"columns {columns_text(empty)} hold no value "
                                     "to take the mean of.", port="data",
                                     columns=empty, fix="Remove those columns.")
            state["values"] = {c: math.fsum(p["sums"][c] for p in data.summaries) / counts[c]
                               for c in columns}
        elif self.method == "constant":
            state["values"] = {c: _constant(self.label, schema.frame[c], c, self.constant_value)
                               for c in columns}
        elif self.method == "remove_column":
            state["removed"] = [c for c in columns
                                if missing[c] / max(data.rows, 1) > self.max_missing_ratio]
        transform = Transform(MissingValueCleaner(**state), columns,
                              f"{self.title} ({self.method})")
        if self.method == "remove_row":
            after = (sum(p["left"] for p in data.summaries) if self.columns
                     else 0)  # every column with a missing value was cleaned
        else:
            cleaned = set(state.get("removed", columns))
            after = int(missing[[c for c in data.columns if c not in cleaned]].sum())
        ctx.log("%d missing values before, %d after", int(missing.sum()), after)
        return {"data": PerPartition(transform.apply), "transform": transform}


def _mode(series: pd.Series) -> Any:
    modes = series.dropna().mode()
    if not len(modes):
        return None
    value = modes.iloc[0]
    return value.item() if isinstance(value, np.generic) else value


def _constant(node: str, series: pd.Series, column: str, text: str) -> Any:
    if not is_numeric(series):
        return text
    try:
        return float(text)
    except ValueError:
        raise NodeInputError(node, f"column {column!r} is numeric but 'constant_value' "
                             f"{text!r} is not a number.", port="data", columns=[column],
                             fix="Give a number, or leave the column out.") from None
