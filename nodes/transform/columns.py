"""Choosing columns."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import regex

from nodes.context import RunContext
from nodes.contract import Partitioning, ScoringRole
from nodes.data.checks import columns_text, is_numeric, require_columns
from nodes.errors import NodeInputError, ParameterError
from nodes.node import Node
from nodes.params import ChoiceParam, ColumnParam, ListParam, StringParam
from nodes.ports import TABLE, Input, Output
from nodes.values import ROLES, Table

#: The longest a column pattern may take to match every column name.
PATTERN_SECONDS = 2.0


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series.dtype) and not isinstance(
        series.dtype, pd.CategoricalDtype)


_TYPE_TESTS = {
    "numeric": lambda s: is_numeric(s) and not pd.api.types.is_bool_dtype(s.dtype),
    "text": _is_text,
    "boolean": lambda s: pd.api.types.is_bool_dtype(s.dtype),
    "categorical": lambda s: isinstance(s.dtype, pd.CategoricalDtype),
    "datetime": lambda s: pd.api.types.is_datetime64_any_dtype(s.dtype),
}


class SelectColumns(Node):
    """Keep some columns of a table, or drop some.

    Input 'data': any table. Output 'data': the same rows with the chosen
    columns; every column keeps its role (label, feature...).

    'select_by' says how columns are chosen: 'names' lists them in
    'columns'; 'types' picks every column of the kinds in 'types'
    (numeric, text, boolean, categorical, datetime); 'roles' every column
    with a role in 'roles' (feature, label, score, id, ignore); 'regex'
    every column whose name matches 'pattern' (Python regular expression,
    searched anywhere in the name).

    With mode 'include' the output has exactly the chosen columns: by
    names in the order listed (the list must not be empty), otherwise in
    table order. With mode 'exclude' it has every other column, in table
    order; an empty list of names keeps all columns.
    """

    type_id = "select_columns"
    version = 1
    title = "Select Columns in Dataset"
    category = "Transform"
    aliases = ("Select Columns in Dataset", "Project Columns")
    scoring_role = ScoringRole.ROW_WISE
    partitioning = Partitioning.ROWS

    class Inputs:
        data = Input(TABLE, help="The table to take columns from.")

    class Outputs:
        data = Output(TABLE, help="The table with the chosen columns.")

    columns = ColumnParam(multiple=True, help="Columns to keep (include) or drop (exclude).")
    mode = ChoiceParam("include", ["include", "exclude"],
                       help="include: keep only the chosen columns; exclude: drop them.")
    select_by = ChoiceParam("names", ["names", "types", "roles", "regex"],
                            help="Choose columns by names, types, roles or a name pattern.")
    types = ListParam([], item=ChoiceParam("numeric", list(_TYPE_TESTS)),
                      help="select_by types: kinds of columns to choose.")
    roles = ListParam([], item=ChoiceParam("feature", list(ROLES)),
                      help="select_by roles: roles of the columns to choose.")
    pattern = StringParam("", help="select_by regex: regular expression for column names.")

    @classmethod
    def check_parameters(cls, values: dict[str, Any], label: str) -> None:
        rule = values["select_by"]
        if rule == "names" and values["mode"] == "include" and not values["columns"]:
            raise ParameterError(label, "columns", values["columns"],
                                 "with mode 'include' at least one column must be chosen",
                                 fix="Choose the columns to keep, or set mode to 'exclude'.")
        if rule in ("types", "roles") and not values[rule]:
            raise ParameterError(label, rule, values[rule], f"with select_by '{rule}' at "
                                 "least one must be chosen")
        if rule == "regex":
            try:
                regex.compile(values["pattern"])
            except (regex.error, RecursionError, OverflowError) as error:
                raise ParameterError(label, "pattern", values["pattern"],
                                     f"it must be a regular expression ({error})") from None
            if not values["pattern"]:
                raise ParameterError(label, "pattern", "", "with select_by 'regex' it must "
                                     "not be empty")

    def _matching(self, ctx: RunContext, columns: list[str]) -> list[str]:
        """The columns whose name the pattern matches, within PATTERN_SECONDS: a
        pattern that backtracks without end is stopped, and so is a cancelled run."""
        pattern = regex.compile(self.pattern)
        deadline = time.monotonic() + PATTERN_SECONDS
        chosen = []
        for column in columns:
            ctx.check_cancelled()
            try:
                left = max(deadline - time.monotonic(), 0.001)
                if pattern.search(column, timeout=left, concurrent=True):
                    chosen.append(column)
            except TimeoutError:
                raise ParameterError(
                    self.label, "pattern", self.pattern,
                    f"matching it against the column names took over {PATTERN_SECONDS:g} s "
                    "(it backtracks catastrophically)",
                    fix="Simplify the pattern, e.g. without nested repeats like (a+)+.") from None
        return chosen

    def run(self, ctx: RunContext, data: Table) -> dict[str, Any]:
        frame = data.frame
        if self.select_by == "names":
            require_columns(self.label, data, self.columns, port="data",
                            why=" named by the 'columns' parameter")
            chosen = list(self.columns)
        elif self.select_by == "types":
            chosen = [c for c in frame.columns
                      if any(_TYPE_TESTS[kind](frame[c]) for kind in self.types)]
        elif self.select_by == "roles":
            chosen = [c for c in frame.columns if data.role(c) in self.roles]
        else:
            chosen = self._matching(ctx, list(frame.columns))
        if self.mode == "include":
            kept = chosen
        else:
            dropped = set(chosen)
            kept = [c for c in frame.columns if c not in dropped]
        if not kept:
            raise NodeInputError(self.label, "no column is left.", port="data",
                                 fix="Change the selection. Columns: "
                                     f"{columns_text(list(frame.columns))}.")
        return {"data": data.with_frame(frame[kept])}

