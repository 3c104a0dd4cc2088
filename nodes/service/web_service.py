"""Web Service Input and Web Service Output: the boundary of a published pipeline.

In a training workflow both pass their table through (Output keeps only the
chosen columns), so they can be placed before publishing. In a scoring
pipeline served by ``studio serve`` the request rows take the place of Web
Service Input's 'data', and what leaves Web Service Output is the answer.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from nodes.context import RunContext
from nodes.contract import ScoringRole, ServiceBoundary
from nodes.data.checks import columns_text, require_columns
from nodes.errors import NodeInputError, ParameterError
from nodes.node import Node
from nodes.params import ChoiceParam, ColumnParam, ListParam, StringParam
from nodes.ports import TABLE, Input, Output
from nodes.values import Table

#: dtype names a schema entry may give (pandas names, as Table.schema() writes them).
SCHEMA_DTYPES = ("float64", "float32", "int64", "int32", "bool", "object", "str", "string",
                 "category")
_ROLES = ("feature", "label", "id", "ignore", "score")


def validate_schema_entry(entry: Any, node: str) -> dict[str, Any]:
    """One input column: ``{"name", "dtype", "required", "role"}`` with checked values."""
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise ParameterError(node, "schema[]", entry,
                             'each entry must be {"name": ..., "dtype": ..., "required": ...}')
    dtype = entry.get("dtype", "float64")
    if dtype not in SCHEMA_DTYPES:
        raise ParameterError(node, "schema[]", entry,
                             "dtype must be one of " + ", ".join(SCHEMA_DTYPES))
    required = entry.get("required", True)
    role = entry.get("role", "feature")
    if not isinstance(required, bool) or role not in _ROLES:
        raise ParameterError(node, "schema[]", entry,
                             "'required' must be true or false and 'role' one of "
                             + ", ".join(_ROLES))
    return {"name": entry["name"], "dtype": dtype, "required": required, "role": role}


class WebServiceInput(Node):
    """Where the rows of a web-service request enter the pipeline.

    Input 'data' (optional): in a training workflow, the table that stands
    for the requests (wire it where requests should enter, e.g. the test
    rows before they are transformed and scored); it passes through. When
    the pipeline is served, each request's rows take its place. Output
    'data': the rows, with the roles the schema gives.

    'schema' lists the request columns: name, dtype (pandas name such as
    float64, int64, bool, object), required (true/false) and role. Empty
    means "the columns of the table that reaches 'data'"; Prepare for
    publishing fills it in from the training data. A required column that
    is missing is an error naming it. 'unknown_columns' says what happens
    to a column the schema does not list: 'reject' (an error naming it) or
    'ignore' (dropped). 'global_parameters' lists node parameters a request
    may set, as 'node_id.parameter' (e.g. 'score.append_scores_to_input').
    """

    type_id = "web_service_input"
    version = 1
    title = "Web Service Input"
    category = "Web Service"
    aliases = ("Web service input",)
    scoring_role = ScoringRole.ROW_WISE
    service_boundary = ServiceBoundary.INPUT

    class Inputs:
        data = Input(TABLE, optional=True,
                     help="Rows standing for the requests (training workflow only).")

    class Outputs:
        data = Output(TABLE, help="The request rows.")

    schema = ListParam([], item_validator=validate_schema_entry,
                       help="Request columns: name, dtype, required, role; empty: as 'data'.")
    unknown_columns = ChoiceParam("reject", ["reject", "ignore"],
                                  help="A request column not in the schema: reject the "
                                       "request, or ignore (drop) the column.")
    global_parameters = ListParam([], item=StringParam(help="node_id.parameter"),
                                  help="Parameters a request may set ('node_id.parameter').")

    def run(self, ctx: RunContext, data: Table | None = None) -> dict[str, Any]:
        if data is None:
            raise NodeInputError(
                self.label, "no rows: this node gets them from web-service requests.",
                port="data",
                fix="Publish the pipeline (studio serve), or wire a table into 'data' "
                    "to try it in the app.")
        if not self.schema:
            return {"data": data}
        return {"data": self.conform(data)}

    def conform(self, data: Table) -> Table:
        """The rows checked against the schema, in schema order, with its roles."""
        frame = data.frame
        known = [entry["name"] for entry in self.schema]
        required = [entry["name"] for entry in self.schema if entry["required"]]
        require_columns(self.label, data, required, port="data",
                        why=" that the service requires")
        unknown = [c for c in frame.columns if c not in set(known)]
        if unknown and self.unknown_columns == "reject":
            raise NodeInputError(
                self.label, f"the request has unknown {_noun(unknown)} "
                f"{columns_text(unknown)}.", port="data", columns=unknown,
                fix=f"Send only the service's columns: {columns_text(known)}.")
        present = [c for c in known if c in frame.columns]
        roles = {e["name"]: e["role"] for e in self.schema if e["name"] in frame.columns}
        return Table(frame[present], roles)


class WebServiceOutput(Node):
    """Where the answer of a web-service request leaves the pipeline.

    Input 'data': the scored rows (usually Score Model's output). Output
    'data': the columns sent back to the caller, in order.

    'columns' chooses them; empty means the score-role columns (e.g.
    'Scored Labels', 'Scored Probabilities'), or every column when the
    table has no score column. Use the id column here too if callers need
    to match answers to their rows.
    """

    type_id = "web_service_output"
    version = 1
    title = "Web Service Output"
    category = "Web Service"
    aliases = ("Web service output",)
    scoring_role = ScoringRole.ROW_WISE
    service_boundary = ServiceBoundary.OUTPUT

    class Inputs:
        data = Input(TABLE, help="The rows to answer with (e.g. Score Model's output).")

    class Outputs:
        data = Output(TABLE, help="The columns sent back to the caller.")

    columns = ColumnParam(multiple=True,
                          help="Columns to send back; empty: the score columns.")

    def run(self, ctx: RunContext, data: Table) -> dict[str, Any]:
        if self.columns:
            require_columns(self.label, data, self.columns, port="data",
                            why=" named by the 'columns' parameter")
            chosen = list(self.columns)
        else:
            chosen = data.columns_with_role("score") or list(data.frame.columns)
        return {"data": data.with_frame(pd.DataFrame(data.frame[chosen]))}


def _noun(columns: list[str]) -> str:
    return "column" if len(columns) == 1 else "columns"
