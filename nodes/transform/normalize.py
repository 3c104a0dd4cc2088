"""Rescaling numeric columns, and applying a fitted rescaling to new data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from nodes.context import RunContext
from nodes.contract import CompiledStep, Partitioning, ScoringRole
from nodes.data.checks import columns_text, is_numeric, require_columns, require_numeric
from nodes.errors import NodeInputError
from nodes.node import Node
from nodes.params import ChoiceParam, ColumnParam
from nodes.partitions import Partitions, PerPartition
from nodes.ports import TABLE, TRANSFORM, Input, Output
from nodes.transform.fitted import LogScaler
from nodes.values import Table, Transform

_METHODS = ("zscore", "minmax", "robust", "log")


def _scaler(method: str) -> Any:
    """A new, unfitted scikit-learn scaler for 'method' zscore, minmax or robust."""
    from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

    return {"zscore": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}[method]()


class NormalizeData(Node):
    """Rescale numeric columns to a common scale.

    Input 'data': a table. Output 'data': the same table with the chosen
    columns rescaled (as floating-point numbers); output 'transform': the
    fitted rescaling, to give new data exactly the same treatment with
    Apply Transformation (fit on the training rows, apply to the test rows).

    Methods: 'zscore' subtracts each column's mean and divides by its
    standard deviation (scikit-learn's StandardScaler; a constant column
    becomes 0); 'minmax' maps each column's minimum to 0 and maximum to 1
    (MinMaxScaler); 'robust' subtracts the median and divides by the
    interquartile range (RobustScaler, little moved by outliers); 'log'
    takes ln(1 + x) (values must be above -1; nothing is fitted). Missing
    values stay missing and are ignored when fitting.

    'columns' empty means every numeric feature column; label, score and id
    columns are never picked by default (list them to rescale them anyway).
    """

    type_id = "normalize_data"
    imports = ("sklearn.preprocessing",)
    version = 1
    title = "Normalize Data"
    category = "Transform"
    scoring_role = ScoringRole.FITTED
    fitted_transform_port = "transform"
    partitioning = Partitioning.STREAM

    class Inputs:
        data = Input(TABLE, help="The table to rescale.")

    class Outputs:
        data = Output(TABLE, help="The table with rescaled columns.")
        transform = Output(TRANSFORM, help="The fitted rescaling, for Apply Transformation.")

    method = ChoiceParam("zscore", list(_METHODS),
                         help="zscore: (x - mean) / std; minmax: (x - min) / (max - min); "
                              "robust: (x - median) / IQR; log: ln(1 + x).")
    columns = ColumnParam(multiple=True,
                          help="Columns to rescale; empty: every numeric feature column.")

    @classmethod
    def partitioning_for(cls, params: Mapping[str, Any]) -> Partitioning:
        # Medians and quartiles do not combine from partitions' summaries.
        return (Partitioning.WHOLE_TABLE if params.get("method") == "robust"
                else Partitioning.STREAM)

    def _columns(self, data: Table) -> list[str]:
        if self.columns:
            require_columns(self.label, data, self.columns, port="data",
                            why=" named by the 'columns' parameter")
            require_numeric(self.label, data, self.columns, port="data", what="rescaled",
                            fix="Remove them from the 'columns' parameter.")
            return list(self.columns)
        columns = [c for c in data.feature_columns
                   if is_numeric(data.frame[c])
                   and not pd.api.types.is_bool_dtype(data.frame[c].dtype)]
        if not columns:
            raise NodeInputError(
                self.label, "the table has no numeric feature column to rescale.",
                port="data",
                fix="List the columns in the 'columns' parameter. Columns: "
                    f"{columns_text(list(data.frame.columns))}.")
        return columns

    def _check_log(self, columns: list[str], low: Mapping[str, float]) -> None:
        bad = [c for c in columns if low[c] <= -1]
        if bad:
            raise NodeInputError(self.label, f"ln(1 + x) needs values above -1, but "
                                 f"{columns_text(bad)} have smaller ones.", port="data",
                                 columns=bad, fix="Use another method, or leave those "
                                                  "columns out of 'columns'.")

    def run(self, ctx: RunContext, data: Table) -> dict[str, Any]:
        columns = self._columns(data)
        if self.method == "log":
            self._check_log(columns, data.frame[columns].min())
            scaler = LogScaler(columns=columns)
        else:
            scaler = _scaler(self.method)
            scaler.fit(data.frame[columns].to_numpy(dtype=float))
        transform = Transform(scaler, columns, f"{self.title} ({self.method})")
        return {"data": transform.apply(data), "transform": transform}

    # -- on a partitioned table (nodes/partitions.py) ----------------------
    def partition_summary(self, ctx: RunContext, data: Table) -> dict[str, Any]:
        """Per column: the count of values, their mean, sum of squared deviations,
        minimum and maximum (missing values left out, as the scalers do)."""
        values = data.frame[self._columns(data)].to_numpy(dtype=float)
        present = ~np.isnan(values)
        count = present.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, np.nansum(values, axis=0) / np.maximum(count, 1), 0.0)
            m2 = np.nansum((values - mean) ** 2, axis=0)
        full = count == len(values)
        low = np.where(count > 0, np.nanmin(np.where(present, values, np.inf), axis=0), np.nan)
        high = np.where(count > 0, np.nanmax(np.where(present, values, -np.inf), axis=0),
                        np.nan)
        return {"count": count, "mean": mean, "m2": m2, "min": low, "max": high,
                "complete": bool(full.all())}

    def run_partitions(self, ctx: RunContext, data: Partitions) -> dict[str, Any]:
        columns = self._columns(data.schema_table())
        parts = data.summaries
        count = np.zeros(len(columns))
        mean = np.zeros(len(columns))
        m2 = np.zeros(len(columns))
        for part in parts:  # Chan et al.'s pairwise update of count, mean and M2
            n = part["count"]
            total = count + n
            with np.errstate(invalid="ignore", divide="ignore"):
                delta = part["mean"] - mean
                mean = np.where(total > 0, mean + delta * n / np.maximum(total, 1), 0.0)
                m2 = m2 + part["m2"] + delta ** 2 * count * n / np.maximum(total, 1)
            count = total
        low = np.fmin.reduce([p["min"] for p in parts])
        high = np.fmax.reduce([p["max"] for p in parts])
        complete = all(p["complete"] for p in parts)
        if self.method == "log":
            self._check_log(columns, dict(zip(columns, low, strict=True)))
            scaler = LogScaler(columns=columns)
        else:
            # StandardScaler counts the values of each column (when some are
            # missing); MinMaxScaler counts rows.
            seen = int(count[0]) if complete else count.astype(np.int64)
            scaler = (_fitted_standard(mean, m2 / np.maximum(count, 1), seen)
                      if self.method == "zscore" else _fitted_minmax(low, high, data.rows))
        transform = Transform(scaler, columns, f"{self.title} ({self.method})")
        return {"data": PerPartition(transform.apply), "transform": transform}


def _fitted_standard(mean: np.ndarray, var: np.ndarray, seen: Any) -> Any:
    """A StandardScaler fitted on rows whose means and variances these are (as
    ``fit`` leaves it, constant columns scaled by 1)."""
    scaler = _scaler("zscore")
    eps = np.finfo(np.float64).eps
    n = np.asarray(seen, dtype=float)
    constant = var <= n * eps * var + (n * mean * eps) ** 2  # scikit-learn's test
    scaler.n_features_in_ = len(mean)
    scaler.n_samples_seen_ = seen
    scaler.mean_ = mean
    scaler.var_ = var
    scaler.scale_ = np.where(constant, 1.0, np.sqrt(var))
    return scaler


def _fitted_minmax(low: np.ndarray, high: np.ndarray, seen: Any) -> Any:
    """A MinMaxScaler fitted on rows with these minima and maxima."""
    scaler = _scaler("minmax")
    first, last = scaler.feature_range
    spread = high - low
    scaler.n_features_in_ = len(low)
    scaler.n_samples_seen_ = seen
    scaler.data_min_ = low
    scaler.data_max_ = high
    scaler.data_range_ = spread
    scaler.scale_ = (last - first) / np.where(spread == 0.0, 1.0, spread)
    scaler.min_ = first - low * scaler.scale_
    return scaler


class ApplyTransformation(Node):
    """Apply a fitted transformation (e.g. from Normalize Data) to a table.

    Input 'transform': a fitted transformation; input 'data': the table to
    transform, which must have every column the transformation was fitted
    on (numeric). Output 'data': the table with those columns transformed
    exactly as the fitted data was (same means, scales...); other columns
    and all roles are unchanged.
    """

    type_id = "apply_transformation"
    imports = ("sklearn.preprocessing",)
    version = 1
    title = "Apply Transformation"
    category = "Transform"
    scoring_role = ScoringRole.ROW_WISE
    partitioning = Partitioning.ROWS
    compiled_step = CompiledStep.APPLY_TRANSFORM

    class Inputs:
        transform = Input(TRANSFORM, help="A fitted transformation.")
        data = Input(TABLE, help="The table to transform.")

    class Outputs:
        data = Output(TABLE, help="The transformed table.")

    def run(self, ctx: RunContext, transform: Transform, data: Table) -> dict[str, Any]:
        require_columns(self.label, data, transform.columns, port="data",
                        why=f" that the transformation '{transform.name}' was fitted on")
        if transform.numeric:
            require_numeric(self.label, data, transform.columns, port="data",
                            what="transformed",
                            fix=f"'{transform.name}' was fitted on numeric columns; give it the "
                                "same columns with the same types.")
        return {"data": transform.apply(data)}
