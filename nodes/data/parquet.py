"""Reading a table from a Parquet file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from nodes.context import DatasetRead, RunContext
from nodes.contract import Partitioning, ScoringRole
from nodes.data.checks import require_columns
from nodes.data.datasets import declared_file_ownership, owned_file_digest, read_owned_rows
from nodes.data.files import ReadsFile, local_path, source_file
from nodes.errors import NodeInputError
from nodes.node import Node
from nodes.params import ColumnParam, StringParam
from nodes.ports import TABLE, Output
from nodes.values import Table

if TYPE_CHECKING:
    from nodes.ownership.source import DeclaredOwnership


class ImportParquet(ReadsFile, Node):
    """Read a table from a Parquet file.

    Output 'data': the file's rows and columns with their stored types.
    Every column is a feature, except 'label_column' (empty: no label),
    which gets the label role.

    'path' is required: a local file (a relative path starts at the
    workflow file's folder) or a URL (https://, s3://, gs://).
    The file's SHA-256 goes into the cache key and the run's lineage, so
    editing the file makes the node run again. Parquet holds data only:
    reading it runs no code.
    """

    type_id = "import_parquet"
    title = "Import Data (Parquet)"
    category = "Data"
    aliases = ("Import Data", "Reader")
    scoring_role = ScoringRole.TRAINING_ONLY
    #: On the Dask executor a local file is read by row groups, on the workers.
    partitioning = Partitioning.SOURCE

    class Outputs:
        data = Output(TABLE, help="The table read from the file.")

    path = StringParam("", allow_empty=False,
                       help="File to read: a local path (relative paths start at the "
                            "workflow file's folder) or an https://, s3:// or gs:// URL.")
    label_column = ColumnParam("", help="Column to mark as the label; empty: no label.")

    @classmethod
    def source_digest(cls, params: Mapping[str, Any]) -> str | None:
        return owned_file_digest(params, super().source_digest(params))

    @classmethod
    def data_ownership(cls, params: Mapping[str, Any]) -> DeclaredOwnership | None:
        """The owners and terms the file's sidecar declares (checked before a run)."""
        return declared_file_ownership(params)

    @classmethod
    def known_output_columns(cls, params: Mapping[str, Any]) -> dict[str, list[str]] | None:
        path = local_path(params)  # a URL is not fetched to show column names
        if path is None or not path.is_file():
            return None
        try:
            import pyarrow.parquet as pq

            return {"data": [str(n) for n in pq.read_schema(path).names]}
        except (OSError, ValueError):
            return None

    def plan_partitions(self, ctx: RunContext) -> list[Any] | None:
        """Row groups of a local file; None (read whole) for a URL or a file with an
        ownership sidecar."""
        import pyarrow.parquet as pq

        from nodes.data.blocks import block_bytes, parquet_groups
        from nodes.ownership.sidecar import sidecar_path

        path = local_path({"path": self.path})
        if path is None or (path.is_file() and sidecar_path(path).is_file()):
            return None
        with source_file(ctx, self.label, self.path) as source:
            try:
                names = list(pq.ParquetFile(source.local).schema_arrow.names)
            except (OSError, ValueError) as error:
                raise NodeInputError(self.label,
                                     f"cannot read '{source.source}' as Parquet: {error}",
                                     fix="Check that the file is a Parquet file.") from None
            roles = {}
            if self.label_column:
                require_columns(self.label, Table(pd.DataFrame(columns=names)),
                                [self.label_column], port=None,
                                why=" named by the 'label_column' parameter")
                roles[self.label_column] = "label"
            ctx.record_dataset(DatasetRead(name=source.name, sha256=source.sha256,
                                           source=source.source, rows=None,
                                           columns=len(names),
                                           outside_allowed_folders=source.outside_allowed_folders))
            return parquet_groups(source.local, block_bytes(ctx.partition_bytes), roles)

    def run(self, ctx: RunContext) -> dict[str, Any]:
        with source_file(ctx, self.label, self.path) as source:
            try:
                frame = pd.read_parquet(source.local)
            except (OSError, ValueError) as error:
                raise NodeInputError(self.label,
                                     f"cannot read '{source.source}' as Parquet: {error}",
                                     fix="Check that the file is a Parquet file.") from None
        table = Table(frame.reset_index(drop=True))
        rows = None if source.remote else read_owned_rows(self.label, source.local,
                                                           table.frame, {"format": "parquet"})
        roles = {}
        if self.label_column:
            require_columns(self.label, table, [self.label_column], port=None,
                            why=" named by the 'label_column' parameter")
            roles[self.label_column] = "label"
        ctx.record_dataset(DatasetRead(name=source.name, sha256=source.sha256,
                                       source=source.source, rows=len(frame),
                                       columns=len(frame.columns),
                                       outside_allowed_folders=source.outside_allowed_folders,
                                       ownership=rows.summary() if rows else None))
        output = Table(table.frame, roles)
        output.ownership = rows
        return {"data": output}
