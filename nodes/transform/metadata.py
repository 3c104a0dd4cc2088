"""Edit Metadata: rename columns, change their type, role or categorical flag."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nodes.context import RunContext
from nodes.contract import Partitioning, ScoringRole
from nodes.data.checks import require_columns
from nodes.data.datasets import _convert
from nodes.errors import NodeInputError, ParameterError
from nodes.node import Node
from nodes.params import ChoiceParam, ColumnParam, ListParam, StringParam
from nodes.ports import TABLE, Input, Output
from nodes.values import Table

_TYPES = ("unchanged", "int", "float", "str", "bool", "category")
_ROLES = ("unchanged", "feature", "label", "id", "ignore", "score")


class EditMetadata(Node):
    """Change the name, type or role of some columns.

    Input 'data': a table. Output 'data': the same rows with the chosen
    'columns' changed; other columns are untouched.

    'data_type' converts the values (int needs whole numbers and no
    missing values; bool reads true/false/yes/no/1/0; 'category' makes the
    column categorical, which Convert to Indicator Values picks up). 'role'
    sets the role: 'label' (what learners predict; any other label column
    becomes a feature), 'feature', 'id' and 'ignore' (kept, but not used
    by learners) or 'score'. 'new_names' renames the columns, one new name
    per chosen column, in order (empty: keep the names).
    """

    type_id = "edit_metadata"
    title = "Edit Metadata"
    category = "Transform"
    scoring_role = ScoringRole.ROW_WISE
    partitioning = Partitioning.ROWS

    @classmethod
    def partitioning_for(cls, params: Mapping[str, Any]) -> Partitioning:
        # Categories made per partition would differ from one partition to the next.
        return (Partitioning.WHOLE_TABLE if params.get("data_type") == "category"
                else Partitioning.ROWS)

    class Inputs:
        data = Input(TABLE, help="The table to edit.")

    class Outputs:
        data = Output(TABLE, help="The table with the edited columns.")

    columns = ColumnParam(multiple=True, help="Columns to change.")
    data_type = ChoiceParam("unchanged", _TYPES, help="New type of the values.")
    role = ChoiceParam("unchanged", _ROLES, help="New role of the columns.")
    new_names = ListParam([], item=StringParam(""), help="New names, one per chosen column.")

    @classmethod
    def check_parameters(cls, values: dict[str, Any], label: str) -> None:
        if not values["columns"]:
            raise ParameterError(label, "columns", [], "at least one column must be chosen",
                                 fix="Choose the columns to edit.")
        names = values["new_names"]
        if names and len(names) != len(values["columns"]):
            raise ParameterError(label, "new_names", names,
                                 f"it must give {len(values['columns'])} names, one per column",
                                 fix="Give one new name per chosen column, or none.")
        if any(not n.strip() for n in names) or len(set(names)) != len(names):
            raise ParameterError(label, "new_names", names,
                                 "the names must be non-empty and different")
        if values["role"] == "label" and len(values["columns"]) > 1:
            raise ParameterError(label, "role", "label", "only one column can be the label",
                                 fix="Choose a single column to make the label.")

    def run(self, ctx: RunContext, data: Table) -> dict[str, Any]:
        require_columns(self.label, data, self.columns, port="data",
                        why=" named by the 'columns' parameter")
        frame = data.frame.copy()
        roles = dict(data.roles)
        if self.data_type != "unchanged":
            for column in self.columns:
                try:
                    frame[column] = _convert(frame[column], self.data_type)
                except (ValueError, TypeError) as error:
                    raise NodeInputError(self.label, f"column {column!r} cannot be made "
                                         f"{self.data_type}: {error}", port="data",
                                         columns=[column],
                                         fix="Choose another 'data_type', or clean the "
                                             "values first.") from None
        if self.role != "unchanged":
            if self.role == "label":
                roles = {c: r for c, r in roles.items() if r != "label"}
            for column in self.columns:
                roles[column] = self.role
        if self.new_names:
            mapping = dict(zip(self.columns, self.new_names, strict=True))
            clashes = [n for n in self.new_names
                       if n in frame.columns and n not in mapping]
            if clashes:
                raise NodeInputError(self.label, f"the table already has columns named "
                                     f"{clashes}.", port="data", columns=clashes,
                                     fix="Choose other 'new_names'.")
            frame = frame.rename(columns=mapping)
            roles = {mapping.get(c, c): r for c, r in roles.items()}
        return {"data": Table(frame, roles)}
