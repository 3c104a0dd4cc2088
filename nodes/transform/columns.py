"""Choosing columns."""

from __future__ import annotations

from typing import Any

from nodes.context import RunContext
from nodes.data.checks import require_columns
from nodes.errors import ParameterError
from nodes.node import Node
from nodes.params import ChoiceParam, ColumnParam
from nodes.ports import TABLE, Input, Output
from nodes.values import Table


class SelectColumns(Node):
    """Keep some columns of a table, or drop some.

    Input 'data': any table. Output 'data': the same rows with the chosen
    columns; every column keeps its role (label, feature...).

    With mode 'include' the output has exactly the listed columns, in the
    order listed; the list must not be empty. With mode 'exclude' it has
    every other column, in table order; an empty list keeps all columns.
    """

    type_id = "select_columns"
    version = 1
    title = "Select Columns in Dataset"
    category = "Transform"

    class Inputs:
        data = Input(TABLE, help="The table to take columns from.")

    class Outputs:
        data = Output(TABLE, help="The table with the chosen columns.")

    columns = ColumnParam(multiple=True, help="Columns to keep (include) or drop (exclude).")
    mode = ChoiceParam("include", ["include", "exclude"],
                       help="include: keep only the listed columns; exclude: drop them.")

    @classmethod
    def check_parameters(cls, values: dict[str, Any], label: str) -> None:
        if values["mode"] == "include" and not values["columns"]:
            raise ParameterError(label, "columns", values["columns"],
                                 "with mode 'include' at least one column must be chosen",
                                 fix="Choose the columns to keep, or set mode to 'exclude'.")

    def run(self, ctx: RunContext, data: Table) -> dict[str, Any]:
        require_columns(self.label, data, self.columns, port="data",
                        why=" named by the 'columns' parameter")
        if self.mode == "include":
            kept = list(self.columns)
        else:
            dropped = set(self.columns)
            kept = [c for c in data.frame.columns if c not in dropped]
        return {"data": data.with_frame(data.frame[kept])}
