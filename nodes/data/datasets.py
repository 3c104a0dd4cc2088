"""Data sources: the shipped sample datasets and CSV files."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from nodes.context import DatasetRead, RunContext
from nodes.contract import Partitioning, ScoringRole
from nodes.data.checks import columns_text, require_columns
from nodes.data.files import ReadsFile, local_path, source_file
from nodes.digest import file_digest, stable_digest
from nodes.errors import NodeInputError, ParameterError
from nodes.node import Node
from nodes.params import BoolParam, ChoiceParam, ColumnParam, StringParam
from nodes.ports import TABLE, Output
from nodes.values import Table
from sample_datasets import DATA_DIR

if TYPE_CHECKING:
    from nodes.ownership.source import DeclaredOwnership

#: Names of the shipped sample datasets (the stems of their JSON sidecars).
SAMPLE_DATASET_NAMES = sorted(path.stem for path in DATA_DIR.glob("*.json"))


def dataset_info(name: str) -> dict[str, Any]:
    """The JSON sidecar of sample dataset ``name``: title, description, source,
    license, label, task, rows, columns and the SHA-256 of the CSV file."""
    name = SampleDataset.parameters["dataset"].validate(name, SampleDataset.title)
    return json.loads((DATA_DIR / f"{name}.json").read_text())


def _sample_csv(info: Mapping[str, Any]) -> Path:
    return DATA_DIR / info["file"]


class SampleDataset(Node):
    """A real dataset shipped with Axon Studio.

    Output 'data': the dataset as a table; its label column (e.g. MEDV for
    boston_housing, diagnosis for breast_cancer, species for iris) has the
    label role, identifier columns (e.g. tweet_id) the id role, every other
    column is a feature.

    The file is checked against the SHA-256 recorded beside it, so a
    modified copy is refused rather than silently used.
    """

    type_id = "sample_dataset"
    version = 1
    title = "Sample Dataset"
    category = "Data"
    aliases = ("Saved Datasets", "Samples")
    scoring_role = ScoringRole.TRAINING_ONLY

    class Outputs:
        data = Output(TABLE, help="The dataset, label column marked as label.")

    dataset = ChoiceParam("boston_housing", SAMPLE_DATASET_NAMES,
                          help="Which sample dataset to load.")

    @classmethod
    def source_digest(cls, params: Mapping[str, Any]) -> str | None:
        name = params.get("dataset", cls.parameters["dataset"].default)
        if name not in SAMPLE_DATASET_NAMES:
            return None
        info = dataset_info(name)
        digest = file_digest(_sample_csv(info))
        # Owners and terms travel with the rows: a changed sidecar re-reads them.
        return stable_digest([digest, info["ownership"]]) if "ownership" in info else digest

    @classmethod
    def data_ownership(cls, params: Mapping[str, Any]) -> DeclaredOwnership | None:
        """The owners and terms of the dataset this node reads (checked before a run)."""
        from nodes.ownership.sidecar import parse_ownership
        from nodes.ownership.source import DeclaredOwnership

        name = params.get("dataset", cls.parameters["dataset"].default)
        if name not in SAMPLE_DATASET_NAMES:
            return None
        info = dataset_info(name)
        ownership = parse_ownership(info, DATA_DIR / f"{name}.json")
        return DeclaredOwnership(name, str(_sample_csv(info)), ownership) if ownership else None

    @classmethod
    def known_output_columns(cls, params: Mapping[str, Any]) -> dict[str, list[str]] | None:
        name = params.get("dataset", cls.parameters["dataset"].default)
        if name not in SAMPLE_DATASET_NAMES:
            return None
        return {"data": [c["name"] for c in dataset_info(name)["columns"]]}

    def run(self, ctx: RunContext) -> dict[str, Any]:
        info = dataset_info(self.dataset)
        path = _sample_csv(info)
        digest = file_digest(path)
        if digest != info["sha256"]:
            raise NodeInputError(
                self.label, f"the sample file {path} was modified: its SHA-256 is {digest}, "
                f"but {self.dataset}.json records {info['sha256']}.",
                fix="Restore the original file (reinstall Axon Studio, or 'git checkout' it).")
        frame = pd.read_csv(path)
        declared = self.data_ownership({"dataset": self.dataset})
        rows = None
        if declared is not None:
            from nodes.ownership.source import owned_rows

            rows = owned_rows(self.label, frame, declared.ownership, dataset=self.dataset,
                              sha256=digest, source=str(path))
        ctx.record_dataset(DatasetRead(name=self.dataset, sha256=digest, source=str(path),
                                       rows=len(frame), columns=len(frame.columns),
                                       ownership=rows.summary() if rows else None))
        roles = {info["label"]: "label", **dict.fromkeys(info.get("id_columns", []), "id")}
        table = Table(frame, roles)
        table.ownership = rows
        return {"data": table}


_DELIMITERS = {",": ",", ";": ";", "tab": "\t", "|": "|"}
_COLUMN_TYPES = ("int", "float", "str", "bool", "category")
_COLUMN_TYPES_FORM = ("it must be empty or 'column:type' pairs separated by commas, "
                      "e.g. 'age:int,city:category', with type one of " + ", ".join(_COLUMN_TYPES))
_BOOL_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def parse_column_types(text: str) -> dict[str, str]:
    """``"age:int,city:category"`` -> ``{"age": "int", "city": "category"}``.

    Raises ValueError on a malformed text. The last ':' separates name and
    type, so column names may contain ':' but not ','.
    """
    result: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        column, sep, kind = part.rpartition(":")
        column, kind = column.strip(), kind.strip().lower()
        if not sep or not column or kind not in _COLUMN_TYPES:
            raise ValueError(part.strip())
        if column in result:
            raise ValueError(f"{column!r} listed twice")
        result[column] = kind
    return result


class ImportCSV(ReadsFile, Node):
    """Read a table from a CSV (delimited text) file.

    Output 'data': the file's rows and columns. Every column is a feature,
    except 'label_column' (empty: no label), which gets the label role.

    'path' is required: a local file (a relative path starts at the
    workflow file's folder) or a URL (https://, s3://, gs://; the file is
    fetched once per run and its content's SHA-256 recorded). Without a
    header row, columns are named Col1, Col2, ... Column types are inferred by pandas unless
    'column_types' fixes some of them ("col:type,col:type" with type int,
    float, str, bool or category; empty: infer all). The file's SHA-256
    goes into the cache key and the run's lineage, so editing the file
    makes the node run again.
    """

    type_id = "import_csv"
    version = 1
    title = "Import Data (CSV)"
    category = "Data"
    aliases = ("Import Data", "Reader", "Convert to Dataset")
    scoring_role = ScoringRole.TRAINING_ONLY
    #: On the Dask executor a local file is read in blocks of lines, one
    #: partition each, on the workers (nodes/data/blocks.py).
    partitioning = Partitioning.SOURCE

    class Outputs:
        data = Output(TABLE, help="The table read from the file.")

    path = StringParam("", allow_empty=False,
                       help="File to read: a local path (relative paths start at the "
                            "workflow file's folder) or an https://, s3:// or gs:// URL.")
    delimiter = ChoiceParam(",", list(_DELIMITERS), help="Character between fields.")
    has_header = BoolParam(True, help="The first line holds the column names.")
    label_column = ColumnParam("", help="Column to mark as the label; empty: no label.")
    column_types = StringParam("", advanced=True,
                               help="Types to force, e.g. 'age:int,city:category' "
                                    "(int, float, str, bool, category); empty: infer.")

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
            header = pd.read_csv(path, nrows=0,
                                 sep=_DELIMITERS.get(params.get("delimiter", ","), ","))
        except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError,
                pd.errors.EmptyDataError):
            return None
        if not params.get("has_header", True):
            return {"data": [f"Col{i + 1}" for i in range(len(header.columns))]}
        return {"data": [str(c) for c in header.columns]}

    @classmethod
    def check_parameters(cls, values: dict[str, Any], label: str) -> None:
        try:
            parse_column_types(values["column_types"])
        except ValueError as error:
            raise ParameterError(label, "column_types", values["column_types"],
                                 f"{_COLUMN_TYPES_FORM} (problem: {error})") from None

    def run(self, ctx: RunContext) -> dict[str, Any]:
        with source_file(ctx, self.label, self.path) as source:
            try:
                frame = pd.read_csv(source.local, sep=_DELIMITERS[self.delimiter],
                                    header=0 if self.has_header else None)
            except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
                    ValueError, OSError) as error:
                raise NodeInputError(
                    self.label, f"cannot read '{source.source}' as CSV: {error}",
                    fix="Check the 'delimiter' and 'has_header' parameters and that the file "
                        "is UTF-8 delimited text.") from None
        if not self.has_header:
            frame.columns = [f"Col{i + 1}" for i in range(len(frame.columns))]
        table = Table(frame)
        # Rows are hashed as read, before 'column_types' converts them (as
        # `studio data describe` reads the file).
        rows = None if source.remote else read_owned_rows(
            self.label, source.local, frame,
            {"delimiter": self.delimiter, "header": self.has_header})
        frame = self._apply_types(table)
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
        table = Table(frame, roles)
        table.ownership = rows
        return {"data": table}

    def plan_partitions(self, ctx: RunContext) -> list[Any] | None:
        """Blocks of lines of a local file; None (read whole) for a URL, a file with
        an ownership sidecar or a 'category' column type."""
        from nodes.data.blocks import CsvBlock, block_bytes, csv_line_blocks
        from nodes.ownership.sidecar import sidecar_path

        types = parse_column_types(self.column_types)
        path = local_path({"path": self.path})
        if (path is None or "category" in types.values()
                or (path.is_file() and sidecar_path(path).is_file())):
            return None
        with source_file(ctx, self.label, self.path) as source:
            if source.remote:
                return None
            sep = _DELIMITERS[self.delimiter]
            with source.local.open("rb") as file:
                first = file.readline()
            try:
                header = pd.read_csv(io.BytesIO(first), sep=sep, header=None).iloc[0]
            except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
                    ValueError) as error:
                raise NodeInputError(
                    self.label, f"cannot read '{source.source}' as CSV: {error}",
                    fix="Check the 'delimiter' and 'has_header' parameters and that the file "
                        "is UTF-8 delimited text.") from None
            if self.has_header:
                names = [str(n) for n in pd.read_csv(io.BytesIO(first), sep=sep,
                                                     nrows=0).columns]
            else:
                names = [f"Col{i + 1}" for i in range(len(header))]
            shape = Table(pd.DataFrame(columns=names))
            require_columns(self.label, shape, list(types), port=None,
                            why=" named by the 'column_types' parameter")
            roles = {}
            if self.label_column:
                require_columns(self.label, shape, [self.label_column], port=None,
                                why=" named by the 'label_column' parameter")
                roles[self.label_column] = "label"
            start = len(first) if self.has_header else 0
            blocks = csv_line_blocks(source.local, start, block_bytes(ctx.partition_bytes))
            ctx.record_dataset(DatasetRead(name=source.name, sha256=source.sha256,
                                           source=source.source, rows=None,
                                           columns=len(names),
                                           outside_allowed_folders=source.outside_allowed_folders))
            return [CsvBlock(self.label, str(source.local), a, b, sep, tuple(names), roles,
                             types) for a, b in blocks]

    def _apply_types(self, table: Table) -> pd.DataFrame:
        types = parse_column_types(self.column_types)
        require_columns(self.label, table, list(types), port=None,
                        why=" named by the 'column_types' parameter")
        frame = table.frame
        for column, kind in types.items():
            try:
                frame[column] = _convert(frame[column], kind)
            except (ValueError, TypeError) as error:
                raise NodeInputError(
                    self.label, f"column {column!r} cannot be read as {kind}: {error}",
                    columns=[column],
                    fix=f"Fix the values or choose another type for {column!r} in "
                        f"'column_types'. Its first values: "
                        f"{columns_text([str(v) for v in frame[column].head(5)])}.") from None
        return frame


def owned_file_digest(params: Mapping[str, Any], digest: str | None) -> str | None:
    """A file node's source digest, joined by its sidecar's when it has one (owners
    and terms travel with the rows: a changed sidecar re-reads them)."""
    from nodes.ownership.sidecar import sidecar_path

    path = local_path(params)
    if digest is None or path is None or not sidecar_path(path).is_file():
        return digest
    return stable_digest([digest, file_digest(sidecar_path(path))])


def declared_file_ownership(params: Mapping[str, Any]) -> DeclaredOwnership | None:
    """The ownership the sidecar of a file node's 'path' declares (SidecarError if bad)."""
    from nodes.ownership.sidecar import ownership_of_file
    from nodes.ownership.source import DeclaredOwnership

    path = local_path(params)  # a remote file has no sidecar beside it
    if path is None:
        return None
    ownership = ownership_of_file(path) if path.is_file() else None
    return DeclaredOwnership(path.name, str(path), ownership) if ownership else None


def read_owned_rows(label: str, path: Path, frame: pd.DataFrame,
                    read_with: Mapping[str, Any]) -> Any:
    """The provenance of the rows read from ``path`` (None without a sidecar);
    ``read_with`` says how it was read (the deposit's row hashes serve when it was
    described the same way)."""
    from nodes.ownership.sidecar import sidecar_path

    if not sidecar_path(path).is_file():
        return None
    from nodes.ownership.source import file_ownership, owned_rows

    digest = file_digest(path)
    ownership = file_ownership(label, path, digest)
    if ownership is None:
        return None
    return owned_rows(label, frame, ownership, dataset=path.name, sha256=digest,
                      source=str(path), read_with=read_with)


def _convert(series: pd.Series, kind: str) -> pd.Series:
    if kind == "str":
        return series.astype("str").where(series.notna())
    if kind == "category":
        return series.astype("category")
    if kind == "bool":
        if pd.api.types.is_bool_dtype(series.dtype):
            return series
        if series.isna().any():
            raise ValueError("it has missing values; a bool column cannot hold them")
        words = series.astype("str").str.strip().str.lower()
        unknown = sorted(set(words[~words.isin(list(_BOOL_WORDS))]))
        if unknown:
            raise ValueError(f"values {unknown[:5]} are not true/false/yes/no/1/0")
        return words.map(_BOOL_WORDS).astype(bool)
    numbers = pd.to_numeric(series)
    if kind == "float":
        return numbers.astype("float64")
    if numbers.isna().any():
        raise ValueError("it has missing values; use float (or Clean Missing Data first)")
    if (numbers != numbers.round()).any():
        raise ValueError("it has fractional values; use float")
    return numbers.astype("int64")
