"""Typing a small table in by hand, and writing a table to a file."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from nodes.context import RunContext
from nodes.contract import ScoringRole, SideEffect
from nodes.data.checks import require_columns
from nodes.digest import file_digest
from nodes.errors import NodeInputError, ParameterError
from nodes.node import Node
from nodes.params import BoolParam, ChoiceParam, ColumnParam, StringParam
from nodes.ports import TABLE, Input, Output
from nodes.values import Table


class EnterDataManually(Node):
    """A small table typed in by hand, as comma-separated values.

    Output 'data': the table. The first line holds the column names when
    'has_header' is on (else the columns are Col1, Col2, ...); column types
    are inferred (numbers, text, true/false), an empty field is a missing
    value. 'label_column' (empty: none) gets the label role.

    The text is stored in the workflow file, so keep it small (a lookup
    table, a few test rows); read larger data with Import Data.
    """

    type_id = "enter_data_manually"
    title = "Enter Data Manually"
    category = "Data"
    scoring_role = ScoringRole.TRAINING_ONLY

    class Outputs:
        data = Output(TABLE, help="The table typed in.")

    text = StringParam("", allow_empty=False, multiline=True,
                       help="Comma-separated rows, e.g. 'x,y' then '1,2' on the next line.")
    has_header = BoolParam(True, help="The first line holds the column names.")
    label_column = ColumnParam("", help="Column to mark as the label; empty: no label.")

    @classmethod
    def check_parameters(cls, values: dict[str, Any], label: str) -> None:
        if not values["text"].strip():
            raise ParameterError(label, "text", values["text"], "it must not be empty",
                                 fix="Type the rows, e.g. 'x,y' and '1,2'.")

    def run(self, ctx: RunContext) -> dict[str, Any]:
        try:
            frame = pd.read_csv(io.StringIO(self.text.strip() + "\n"),
                                header=0 if self.has_header else None, skipinitialspace=True)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
            raise ParameterError(self.label, "text", self.text[:80],
                                 f"it must be comma-separated rows ({error})",
                                 fix="Give every row the same number of fields.") from None
        if not self.has_header:
            frame.columns = [f"Col{i + 1}" for i in range(len(frame.columns))]
        table = Table(frame)
        roles = {}
        if self.label_column:
            require_columns(self.label, table, [self.label_column], port=None,
                            why=" named by the 'label_column' parameter")
            roles[self.label_column] = "label"
        return {"data": Table(frame, roles)}


class ExportData(Node):
    """Write a table to a CSV or Parquet file.

    Input 'data': the table to write. Output 'data': the same table,
    unchanged, so the workflow can go on after the export.

    'path' is required; a relative path starts at the workflow file's folder.
    It must end with .csv or .parquet (as 'file_format' says) and lie in
    the workflow's folder, the run's output folder or a folder the workflow
    allows (setting 'allowed_paths', or studio run --allow-path): never in
    Python's or Axon Studio's own folders. The folder must exist. An existing
    file is replaced only when 'overwrite' is on, or when it already holds
    exactly this table. CSV files hold the values only; Parquet files also
    keep the column types. Column roles are not written.

    Writing a file is a side effect: the node runs on every run, even when
    its result is cached, so the file is always there after a run.
    """

    type_id = "export_data"
    title = "Export Data"
    category = "Data"
    aliases = ("Writer", "Convert to CSV")
    scoring_role = ScoringRole.NOT_IN_SERVICE
    side_effects = SideEffect.WRITES_FILES

    class Inputs:
        data = Input(TABLE, help="The table to write.")

    class Outputs:
        data = Output(TABLE, help="The same table, passed through.")

    path = StringParam("", allow_empty=False, help="File to write (.csv or .parquet); "
                                                   "relative paths start at the working "
                                                   "directory.")
    file_format = ChoiceParam("csv", ["csv", "parquet"], help="csv or parquet.")
    overwrite = BoolParam(False, help="Replace an existing file.")

    def run(self, ctx: RunContext, data: Table) -> dict[str, Any]:
        path = ctx.files.check_write(self.label, "path", self.path, (f".{self.file_format}",))
        if not path.parent.is_dir():
            raise NodeInputError(self.label, f"the folder {path.parent} does not exist.",
                                 fix="Create it, or correct the 'path' parameter.")
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial",
                                        dir=path.parent)
        temporary = Path(name)
        try:
            with os.fdopen(handle, "wb") as stream:
                if self.file_format == "csv":
                    data.frame.to_csv(stream, index=False, lineterminator="\n")
                else:
                    data.frame.to_parquet(stream, index=False)
                stream.flush()
                os.fsync(stream.fileno())
            if path.exists() and not self.overwrite:
                if file_digest(path) != file_digest(temporary):
                    raise NodeInputError(self.label, f"the file {path} exists and holds other "
                                         "data.",
                                         fix="Turn 'overwrite' on, or choose another 'path'.")
                ctx.log("%s already holds these %d rows", path, len(data.frame))
                return {"data": data}
            temporary.replace(path)
        finally:
            temporary.unlink(missing_ok=True)
        ctx.log("wrote %d rows to %s", len(data.frame), path)
        return {"data": data}
