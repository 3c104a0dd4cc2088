"""Convert to Indicator Values, Group Data into Bins and Clip Values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from nodes.context import RunContext
from nodes.contract import ScoringRole
from nodes.data.checks import columns_text, is_numeric, require_columns, require_numeric
from nodes.errors import NodeInputError, ParameterError
from nodes.node import Node
from nodes.params import BoolParam, ChoiceParam, ColumnParam, FloatParam, IntParam
from nodes.ports import TABLE, TRANSFORM, Input, Output
from nodes.transform.fitted import TableTransformer
from nodes.values import Table, Transform, register_artifact_class


def _chosen(node: str, data: Table, requested: list[str], default: list[str],
            what: str) -> list[str]:
    if requested:
        require_columns(node, data, requested, port="data", why=" named by 'columns'")
        return list(requested)
    if not default:
        raise NodeInputError(node, f"the table has no {what} column.", port="data",
                             fix="List the columns in 'columns'. Columns: "
                                 f"{columns_text(list(data.frame.columns))}.")
    return default


@register_artifact_class
class IndicatorEncoder(TableTransformer):
    """The categories seen when fitting, one 0/1 column each."""

    setting_names = ("columns", "keep_original")

    def transform_table(self, table: Table) -> Table:
        s = self.state_values
        frame = table.frame.copy()
        roles = {}
        for column in s["columns"]:
            values = frame[column].astype("str").where(frame[column].notna())
            position = list(frame.columns).index(column)
            new = {f"{column}-{category}": (values == category).astype(np.uint8)
                   for category in s["categories"][column]}
            for offset, (name, indicator) in enumerate(new.items(), start=1):
                frame.insert(position + offset, name, indicator)
            if s["keep_original"]:
                roles[column] = "ignore"
            else:
                frame = frame.drop(columns=[column])
        return table.with_frame(frame, roles)


class ConvertToIndicatorValues(Node):
    """Turn categorical columns into indicator (one-hot) columns: one 0/1 column per category.

    Input 'data': a table. Output 'data': each chosen column replaced by
    columns named '<column>-<category>' holding 1 where the row has that
    category, else 0 (all 0 for a missing value or, on new data, a
    category not seen here). Output 'transform': the categories found
    here, to encode test rows with exactly the same columns through Apply
    Transformation.

    'columns' empty means every text, categorical or boolean feature
    column. Categories are compared as text and sorted. With
    'keep_original' on, the original column stays with the 'ignore' role.
    """

    type_id = "convert_to_indicator_values"
    title = "Convert to Indicator Values"
    category = "Transform"
    aliases = ("One-Hot Encoding",)
    scoring_role = ScoringRole.FITTED
    fitted_transform_port = "transform"

    class Inputs:
        data = Input(TABLE, help="The table with categorical columns.")

    class Outputs:
        data = Output(TABLE, help="The table with indicator columns.")
        transform = Output(TRANSFORM, help="The categories, for Apply Transformation.")

    columns = ColumnParam(multiple=True, help="Columns to encode; empty: every non-numeric "
                                              "feature column.")
    keep_original = BoolParam(False, help="Keep the original columns (role 'ignore').")
    max_categories = IntParam(100, minimum=2, maximum=10_000, advanced=True,
                              help="Refuse columns with more categories than this.")

    def run(self, ctx: RunContext, data: Table) -> dict[str, Any]:
        frame = data.frame
        default = [c for c in data.feature_columns if not is_numeric(frame[c])
                   or pd.api.types.is_bool_dtype(frame[c].dtype)]
        columns = _chosen(self.label, data, self.columns, default, "categorical")
        categories = {}
        for column in columns:
            found = sorted(set(frame[column].dropna().astype("str")))
            if len(found) > self.max_categories:
                raise NodeInputError(self.label, f"column {column!r} has {len(found)} "
                                     f"categories, more than 'max_categories' "
                                     f"({self.max_categories}).", port="data",
                                     columns=[column], fix="Raise 'max_categories', or leave "
                                                           "the column out (e.g. an id).")
            categories[column] = found
        encoder = IndicatorEncoder(columns=columns, keep_original=self.keep_original,
                                   categories=categories)
        transform = Transform(encoder, columns, self.title)
        return {"data": transform.apply(data), "transform": transform}


@register_artifact_class
class Binner(TableTransformer):
    """Fitted bin edges per column."""

    setting_names = ("columns", "output")

    def transform_table(self, table: Table) -> Table:
        s = self.state_values
        frame = table.frame.copy()
        for column in s["columns"]:
            edges = np.asarray(s["edges"][column])
            values = frame[column].to_numpy(dtype=float)
            # interior edges only: values below the first or above the last edge
            # fall into the first or last bin
            bins = np.searchsorted(edges[1:-1], values, side="right").astype(float)
            bins[np.isnan(values)] = np.nan
            target = column if s["output"] == "replace" else f"{column}_bin"
            frame[target] = pd.array(bins, dtype="Int64")
        return table.with_frame(frame)


class GroupDataIntoBins(Node):
    """Put the values of numeric columns into bins: each value becomes its bin number.

    Input 'data': a table. Output 'data': each chosen column's bin number
    (0 to 'bins' - 1; missing stays missing), replacing the column or in a
    new column '<column>_bin' ('output'). Output 'transform': the bin edges
    found here, to bin test rows the same way through Apply
    Transformation (values beyond the fitted range go to the first or last
    bin).

    'method' 'quantile' makes bins holding about equally many rows (edges
    at the quantiles; repeated edges are merged, so there may be fewer
    bins); 'equal_width' cuts the range min..max into equal parts. A value
    on an edge goes to the upper bin. 'columns' empty means every numeric
    feature column.
    """

    type_id = "group_data_into_bins"
    title = "Group Data into Bins"
    category = "Transform"
    scoring_role = ScoringRole.FITTED
    fitted_transform_port = "transform"

    class Inputs:
        data = Input(TABLE, help="The table with numeric columns.")

    class Outputs:
        data = Output(TABLE, help="The table with bin numbers.")
        transform = Output(TRANSFORM, help="The bin edges, for Apply Transformation.")

    columns = ColumnParam(multiple=True, help="Columns to bin; empty: every numeric feature "
                                              "column.")
    bins = IntParam(10, minimum=2, maximum=1000, help="Number of bins.")
    method = ChoiceParam("quantile", ["quantile", "equal_width"], help="Where the edges go.")
    output = ChoiceParam("append", ["append", "replace"],
                         help="append: new '<column>_bin' columns; replace: overwrite.")

    def run(self, ctx: RunContext, data: Table) -> dict[str, Any]:
        default = [c for c in data.feature_columns if is_numeric(data.frame[c])
                   and not pd.api.types.is_bool_dtype(data.frame[c].dtype)]
        columns = _chosen(self.label, data, self.columns, default, "numeric feature")
        require_numeric(self.label, data, columns, port="data", what="binned")
        edges = {}
        for column in columns:
            values = data.frame[column].dropna().to_numpy(dtype=float)
            if not len(values):
                raise NodeInputError(self.label, f"column {column!r} has no values.",
                                     port="data", columns=[column])
            if self.method == "quantile":
                cuts = np.unique(np.quantile(values, np.linspace(0, 1, self.bins + 1)))
            else:
                cuts = np.linspace(values.min(), values.max(), self.bins + 1)
            edges[column] = cuts.tolist()
        transform = Transform(Binner(columns=columns, output=self.output, edges=edges),
                              columns, f"{self.title} ({self.method})")
        return {"data": transform.apply(data), "transform": transform}


@register_artifact_class
class Clipper(TableTransformer):
    """The thresholds of Clip Values, fixed where they were computed."""

    setting_names = ("columns", "replace_with")

    def transform_table(self, table: Table) -> Table:
        s = self.state_values
        missing = [c for c in s["columns"] if c not in table.frame.columns]
        if missing:
            raise KeyError(missing)
        frame = table.frame.copy()
        for column, low, high in zip(s["columns"], s["lower"], s["upper"], strict=True):
            low = -np.inf if low is None else low
            high = np.inf if high is None else high
            values = frame[column].astype(float)
            if s["replace_with"] == "threshold":
                frame[column] = values.clip(low, high)
            else:
                frame[column] = values.where((values >= low) & (values <= high) | values.isna())
        return table.with_frame(frame)


class ClipValues(Node):
    """Limit numeric values to a range: values beyond a threshold are set to it (or to missing).

    Input 'data': a table. Output 'data': the chosen columns clipped; other
    columns unchanged. Output 'transform': the thresholds used, to clip
    test rows (and web-service requests) at exactly the same values through
    Apply Transformation.

    'thresholds' 'constant' uses 'lower' and 'upper' as they are;
    'percentile' uses the columns' own 'lower' and 'upper' percentiles
    (e.g. 1 and 99) of this table. 'clip' chooses which side(s) to clip.
    'replace_with' 'threshold' sets a value beyond a threshold to it,
    'missing' makes it missing (to clean later). 'columns' empty means
    every numeric feature column.
    """

    type_id = "clip_values"
    version = 1
    title = "Clip Values"
    category = "Transform"
    # Percentiles are learnt from the rows: a service must apply the training
    # thresholds, never percentiles of a request's few rows.
    scoring_role = ScoringRole.FITTED
    fitted_transform_port = "transform"

    class Inputs:
        data = Input(TABLE, help="The table to clip.")

    class Outputs:
        data = Output(TABLE, help="The table with clipped values.")
        transform = Output(TRANSFORM, help="The thresholds, for Apply Transformation.")

    columns = ColumnParam(multiple=True, help="Columns to clip; empty: every numeric feature "
                                              "column.")
    thresholds = ChoiceParam("percentile", ["percentile", "constant"],
                             help="percentile: of each column; constant: the values given.")
    clip = ChoiceParam("both", ["both", "lower", "upper"], help="Which side(s) to clip.")
    lower = FloatParam(1.0, help="Lower threshold (a percentile 0-100, or a value).")
    upper = FloatParam(99.0, help="Upper threshold (a percentile 0-100, or a value).")
    replace_with = ChoiceParam("threshold", ["threshold", "missing"],
                               help="What a value beyond a threshold becomes.")

    @classmethod
    def scoring_role_for(cls, params: Mapping[str, Any]) -> ScoringRole:
        if params.get("thresholds") == "constant":
            return ScoringRole.ROW_WISE  # the same fixed values for every row
        return ScoringRole.FITTED

    @classmethod
    def check_parameters(cls, values: dict[str, Any], label: str) -> None:
        if values["clip"] == "both" and values["lower"] > values["upper"]:
            raise ParameterError(label, "lower", values["lower"],
                                 f"it must not exceed 'upper' ({values['upper']:g})")
        if values["thresholds"] == "percentile":
            for name in ("lower", "upper"):
                if not 0 <= values[name] <= 100:
                    raise ParameterError(label, name, values[name],
                                         "a percentile must be from 0 to 100")

    def run(self, ctx: RunContext, data: Table) -> dict[str, Any]:
        default = [c for c in data.feature_columns if is_numeric(data.frame[c])
                   and not pd.api.types.is_bool_dtype(data.frame[c].dtype)]
        columns = _chosen(self.label, data, self.columns, default, "numeric feature")
        require_numeric(self.label, data, columns, port="data", what="clipped")
        lower, upper = [], []
        for column in columns:
            if self.thresholds == "percentile":
                low, high = np.nanpercentile(data.frame[column].astype(float),
                                             [self.lower, self.upper])
            else:
                low, high = self.lower, self.upper
            lower.append(float(low) if self.clip in ("both", "lower") else None)
            upper.append(float(high) if self.clip in ("both", "upper") else None)
        transform = Transform(Clipper(columns=columns, lower=lower, upper=upper,
                                      replace_with=self.replace_with),
                              columns, f"{self.title} ({self.thresholds})")
        return {"data": transform.apply(data), "transform": transform}
