"""Rescaling numeric columns, and applying a fitted rescaling to new data."""

from __future__ import annotations

from typing import Any

import pandas as pd

from nodes.context import RunContext
from nodes.contract import CompiledStep, ScoringRole
from nodes.data.checks import columns_text, is_numeric, require_columns, require_numeric
from nodes.errors import NodeInputError
from nodes.node import Node
from nodes.params import ChoiceParam, ColumnParam
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

    def run(self, ctx: RunContext, data: Table) -> dict[str, Any]:
        if self.columns:
            require_columns(self.label, data, self.columns, port="data",
                            why=" named by the 'columns' parameter")
            require_numeric(self.label, data, self.columns, port="data", what="rescaled",
                            fix="Remove them from the 'columns' parameter.")
            columns = list(self.columns)
        else:
            columns = [c for c in data.feature_columns
                       if is_numeric(data.frame[c])
                       and not pd.api.types.is_bool_dtype(data.frame[c].dtype)]
            if not columns:
                raise NodeInputError(
                    self.label, "the table has no numeric feature column to rescale.",
                    port="data",
                    fix="List the columns in the 'columns' parameter. Columns: "
                        f"{columns_text(list(data.frame.columns))}.")
        if self.method == "log":
            low = data.frame[columns].min()
            bad = [c for c in columns if low[c] <= -1]
            if bad:
                raise NodeInputError(self.label, f"ln(1 + x) needs values above -1, but "
                                     f"{columns_text(bad)} have smaller ones.", port="data",
                                     columns=bad, fix="Use another method, or leave those "
                                                      "columns out of 'columns'.")
            scaler = LogScaler(columns=columns)
        else:
            scaler = _scaler(self.method)
            scaler.fit(data.frame[columns].to_numpy(dtype=float))
        transform = Transform(scaler, columns, f"{self.title} ({self.method})")
        return {"data": transform.apply(data), "transform": transform}


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
