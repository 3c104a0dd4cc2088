"""Execute Python Script: user code that turns up to two tables into one."""

from __future__ import annotations

import traceback
from typing import Any

import numpy as np
import pandas as pd

from nodes.context import RunContext
from nodes.contract import ScoringRole
from nodes.errors import NodeInputError, ParameterError
from nodes.node import Node
from nodes.params import StringParam
from nodes.ports import TABLE, Input, Output
from nodes.values import Table

ENTRY_POINT = "azureml_main"
DEFAULT_CODE = '''import pandas as pd


def azureml_main(dataframe1=None, dataframe2=None):
    """Return the table to output (a pandas DataFrame)."""
    return dataframe1
'''


class ExecutePythonScript(Node):
    """Run your own Python code on one or two tables and output the table it returns.

    Inputs 'dataframe1' and 'dataframe2' (both optional): tables, handed to
    the code as pandas DataFrames (None when not connected). Output
    'data': the DataFrame the code returns; columns that keep the name of
    a 'dataframe1' (then 'dataframe2') column keep its role.

    'code' must define azureml_main(dataframe1, dataframe2), as in Azure
    ML Studio, returning a DataFrame (or a tuple whose first item is one).
    pandas is available as pd and numpy as np. The code runs inside the
    application with your permissions, so a workflow file holding it runs
    only when you trust the file (studio run --trust, or the prompt in the
    app).
    """

    type_id = "execute_python_script"
    title = "Execute Python Script"
    category = "Script"
    aliases = ("Execute Python Script", "Execute R Script")
    scoring_role = ScoringRole.NOT_IN_SERVICE
    needs_trust = True

    class Inputs:
        dataframe1 = Input(TABLE, optional=True, help="First table (dataframe1).")
        dataframe2 = Input(TABLE, optional=True, help="Second table (dataframe2).")

    class Outputs:
        data = Output(TABLE, help="The table the code returns.")

    code = StringParam(DEFAULT_CODE, allow_empty=False, multiline=True, code=True,
                       help="Python defining azureml_main(dataframe1, dataframe2).")

    @classmethod
    def check_parameters(cls, values: dict[str, Any], label: str) -> None:
        try:
            compile(values["code"], f"<{label}>", "exec")  # parses only; runs nothing
        except SyntaxError as error:
            raise ParameterError(label, "code", f"line {error.lineno}: {error.text!r}",
                                 f"it must be valid Python ({error.msg})") from None
        except (RecursionError, MemoryError, ValueError) as error:
            raise ParameterError(label, "code", values["code"],
                                 f"it cannot be compiled ({type(error).__name__}: an "
                                 "expression nested too deeply or too large)",
                                 fix="Split the expression into smaller statements.") from None

    def run(self, ctx: RunContext, dataframe1: Table | None = None,
            dataframe2: Table | None = None) -> dict[str, Any]:
        namespace: dict[str, Any] = {"__name__": "axon_script", "pd": pd, "np": np}
        try:
            exec(compile(self.code, f"<{self.label}>", "exec"), namespace)  # trusted by the user
            main = namespace.get(ENTRY_POINT)
            if not callable(main):
                raise NodeInputError(self.label, f"the code defines no function {ENTRY_POINT}.",
                                     fix=f"Define {ENTRY_POINT}(dataframe1, dataframe2).")
            result = main(None if dataframe1 is None else dataframe1.frame.copy(),
                          None if dataframe2 is None else dataframe2.frame.copy())
        except NodeInputError:
            raise
        except Exception as error:  # the user's code failed: report its own traceback line
            frames = [f for f in traceback.extract_tb(error.__traceback__)
                      if f.filename == f"<{self.label}>"]
            where = f" (line {frames[-1].lineno})" if frames else ""
            raise NodeInputError(self.label, f"the script raised {type(error).__name__}"
                                 f"{where}: {error}", fix="Correct the code.") from None
        if isinstance(result, tuple) and result:
            result = result[0]
        if not isinstance(result, pd.DataFrame):
            raise NodeInputError(self.label, f"{ENTRY_POINT} returned "
                                 f"{type(result).__name__}, not a pandas DataFrame.",
                                 fix="Return a DataFrame.")
        roles: dict[str, str] = {}
        for table in (dataframe2, dataframe1):
            if table is not None:
                roles.update({c: r for c, r in table.roles.items() if c in result.columns})
        try:
            return {"data": Table(result.reset_index(drop=True), roles)}
        except ValueError as error:
            raise NodeInputError(self.label, f"the returned table is not usable: {error}",
                                 fix="Give every column a different name.") from None
