"""Apply SQL Transformation: a SQL query over the input tables (DuckDB, embedded)."""

from __future__ import annotations

from typing import Any

from nodes.context import RunContext
from nodes.contract import ScoringRole
from nodes.errors import NodeInputError, ParameterError
from nodes.node import Node
from nodes.params import StringParam
from nodes.ports import TABLE, Input, Output
from nodes.values import Table

#: DuckDB with no file system at all: no reads or writes of files (COPY, read_csv,
#: glob, ATTACH), no temporary folder (DuckDB otherwise keeps '<cwd>/.tmp/'
#: allowed even with external access off), no extensions, no Python objects but
#: the registered tables; the configuration is locked once the tables are in.
SANDBOX = {"enable_external_access": False, "python_enable_replacements": False,
           "temp_directory": "", "autoload_known_extensions": False,
           "autoinstall_known_extensions": False, "allow_community_extensions": False}


class ApplySQLTransformation(Node):
    """Transform tables with a SQL query, run by the embedded DuckDB engine.

    Inputs 't1' (required), 't2' and 't3' (optional): the tables, known in
    the query by those names. Output 'data': the query's result. Columns
    that keep their name keep the role they had in t1 (then t2, t3);
    computed columns are features.

    Any DuckDB SELECT works, e.g. 'SELECT species, AVG("petal length
    (cm)") AS mean_petal FROM t1 GROUP BY species' or a join of t1 and t2.
    Quote names with spaces or capitals in double quotes. The engine runs
    without access to files, the network or extensions, so a query can
    read only the input tables and change nothing outside the node.
    """

    type_id = "apply_sql_transformation"
    imports = ("duckdb",)
    title = "Apply SQL Transformation"
    category = "Transform"
    scoring_role = ScoringRole.NOT_IN_SERVICE

    class Inputs:
        t1 = Input(TABLE, help="The table named t1 in the query.")
        t2 = Input(TABLE, optional=True, help="The table named t2 (optional).")
        t3 = Input(TABLE, optional=True, help="The table named t3 (optional).")

    class Outputs:
        data = Output(TABLE, help="The result of the query.")

    query = StringParam("SELECT * FROM t1", allow_empty=False, multiline=True,
                        help="A SQL SELECT over t1, t2, t3 (DuckDB dialect).")

    @classmethod
    def check_parameters(cls, values: dict[str, Any], label: str) -> None:
        if not values["query"].strip():
            raise ParameterError(label, "query", values["query"], "it must not be empty",
                                 fix="Write a query, e.g. SELECT * FROM t1.")

    def run(self, ctx: RunContext, t1: Table, t2: Table | None = None,
            t3: Table | None = None) -> dict[str, Any]:
        import duckdb

        tables = {name: table for name, table in (("t1", t1), ("t2", t2), ("t3", t3))
                  if table is not None}
        connection = duckdb.connect(config=SANDBOX)
        try:
            connection.execute("SET lock_configuration = true")
            for name, table in tables.items():
                connection.register(name, table.frame)
            try:
                frame = connection.execute(self.query).df()
            except duckdb.Error as error:
                missing = [n for n in ("t2", "t3") if n not in tables and n in self.query]
                fix = (f"Connect input {', '.join(repr(m) for m in missing)}, or change the "
                       "query." if missing else "Correct the query (DuckDB SQL).")
                raise NodeInputError(self.label, f"the query failed: {error}", port="t1",
                                     fix=fix) from None
        finally:
            connection.close()
        roles: dict[str, str] = {}
        for table in reversed(list(tables.values())):
            roles.update({c: r for c, r in table.roles.items() if c in frame.columns})
        return {"data": Table(frame, roles)}
