"""``studio data describe``: attach owners and terms to a CSV or Parquet file.

The sidecar (``<file>.axon-data.json``) binds them to the file's SHA-256 and
keeps the deposit: the rows' data-ownership digest as the file was
described, which a run compares with its own (``matches_deposit``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from nodes.digest import file_digest
from nodes.ownership.sidecar import (
    SIDECAR_FORMAT,
    SidecarError,
    parse_ownership,
    read_sidecar_file,
    sidecar_path,
)

_FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}


class DescribeError(ValueError):
    """Arguments or a file that cannot be described (with the fix)."""

    def __init__(self, message: str, fix: str) -> None:
        self.fix = fix
        super().__init__(message)


@dataclass(frozen=True)
class Description:
    """What to write: owners ("id" or "id=Name"), the owner column, the terms."""

    owners: Sequence[str] = ()
    owner_column: str | None = None
    terms: Mapping[str, Any] | None = None
    source: str | None = None
    description: str | None = None


def describe_file(data_file: str | Path, description: Description, *, refresh: bool = False,
                  force: bool = False) -> dict[str, Any]:
    """Write the sidecar of ``data_file`` and return it. ``refresh`` keeps the owners and
    terms of the sidecar there (for a new version of the file); ``force`` replaces it."""
    path = Path(data_file).expanduser().resolve()
    if not path.is_file():
        raise DescribeError(f"{data_file} is not a file", fix="Give the CSV or Parquet file "
                                                             "to describe.")
    kind = _FORMATS.get(path.suffix.lower())
    if kind is None:
        raise DescribeError(f"{path.name} is neither CSV nor Parquet (by its suffix)",
                            fix="Name it .csv or .parquet.")
    target = sidecar_path(path)
    previous = None
    if target.is_file():
        try:
            previous = read_sidecar_file(target)
        except SidecarError:
            previous = None
        if refresh and previous is None:
            raise DescribeError(f"{target} cannot be read, so there is nothing to refresh",
                                fix="Describe the owners again (--owner or --owner-column) "
                                    "with --force.")
        if not (refresh or force):
            raise DescribeError(f"{path.name} is already described ({target})",
                                fix="Add --refresh to keep its owners and terms for a new "
                                    "version of the file, or --force to replace them.")
    elif refresh:
        raise DescribeError(f"{path.name} has no sidecar to refresh",
                            fix="Describe it with --owner ID or --owner-column COLUMN.")
    if refresh:
        assert previous is not None
        ownership = dict(previous.get("ownership") or {})
        given = {k: v for k, v in (description.terms or {}).items() if v not in (None, [], "")}
        if given:  # e.g. --refresh --expires 2027-12-31: renewed terms, same owners
            ownership["terms"] = {**ownership.get("terms", {}), **given}
        extra = {k: previous[k] for k in ("source", "description") if previous.get(k)}
    else:
        ownership = _ownership_section(description)
        extra = {k: v for k, v in (("source", description.source),
                                   ("description", description.description)) if v}
    frame = _read(path, kind)
    column = (ownership or {}).get("owner_column")
    if column is not None:
        if column not in frame.columns:
            raise DescribeError(f"{path.name} has no column {column!r}",
                                fix=f"Choose the owner column among: "
                                    f"{', '.join(map(str, frame.columns))}.")
        # List every owner the column holds (the terms checked before a run are theirs).
        listed = {o.get("id") for o in ownership["owners"]}
        found = sorted({str(v) for v in frame[column].dropna()} - listed)
        ownership = {**ownership, "owners": [*ownership["owners"],
                                             *({"id": o, "name": o} for o in found)]}
    try:
        parsed = parse_ownership({"ownership": ownership}, target)
    except SidecarError as error:
        raise DescribeError(str(error), error.fix) from None
    assert parsed is not None
    from nodes.ownership.rows import RowLeaves, RowOwnerError

    digest = file_digest(path)
    try:
        rows = RowLeaves.at_source(frame, parsed, {"dataset": path.name, "sha256": digest,
                                                   "source": str(path)})
    except (RowOwnerError, ValueError) as error:
        raise DescribeError(f"{path.name}: {error}", fix="Fill in every row's owner, or "
                                                         "choose another column.") from None
    summary = rows.summary()
    # The rows' hashes, kept with the deposit: a run reading the same bytes the same
    # way takes them instead of hashing every row again (checked by digest).
    from nodes.ownership.encoding import RowSchema
    from nodes.ownership.source import row_hashes_path

    hashes = row_hashes_path(path)
    staging = hashes.with_name(f".{hashes.name}.tmp")
    with open(staging, "wb") as stream:
        np.save(stream, np.ascontiguousarray(rows.leaves), allow_pickle=False)
    staging.replace(hashes)
    kept = {"file": hashes.name, "sha256": file_digest(hashes), "rows": len(frame),
            "schema_id": RowSchema.of(frame).id, "read_with": _read_with(path, kind)}
    sidecar = {"format": SIDECAR_FORMAT, "version": 1, "file": path.name, "sha256": digest,
               "rows": len(frame),
               "columns": [{"name": str(c), "dtype": str(t)} for c, t in frame.dtypes.items()],
               **extra, "ownership": ownership,
               "deposit": {**{k: summary[k] for k in ("scheme", "root", "rows", "owners")},
                           "row_hashes": kept},
               "described": datetime.now(UTC).isoformat(timespec="seconds")}
    from studio.workflow.fileformat import atomic_write_text

    atomic_write_text(target, json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n")
    return sidecar


def describe_command(data_file: str | Path, description: Description, *, refresh: bool = False,
                     force: bool = False) -> list[str]:
    """The ``studio data describe`` arguments that write ``description`` (the app runs
    the command in a process of its own: hashing a large file holds the interpreter)."""
    args = ["data", "describe", str(data_file)]
    terms = description.terms or {}
    # OPTION=VALUE throughout: a value that starts with '-' is not taken for an option.
    args += [f"--owner={owner}" for owner in description.owners]
    args += [f"--purpose={purpose}" for purpose in terms.get("purposes") or []]
    args += [f"--region={region}" for region in terms.get("regions") or []]
    for option, value in (("--owner-column", description.owner_column),
                          ("--expires", terms.get("expires")),
                          ("--exclusive-to", terms.get("exclusive_to")),
                          ("--attribution", terms.get("attribution")),
                          ("--license", terms.get("license")),
                          ("--source", description.source),
                          ("--description", description.description)):
        if value:
            args.append(f"{option}={value}")
    return args + ["--refresh"] * refresh + ["--force"] * force


def _ownership_section(description: Description) -> dict[str, Any]:
    if not description.owners and description.owner_column is None:
        raise DescribeError("no owner given",
                            fix="Name the owner of every row (--owner ID, repeatable for "
                                "joint owners; ID=Name to give a name) or the column naming "
                                "each row's owner (--owner-column COLUMN).")
    owners = []
    for text in description.owners:
        owner_id, _, name = text.partition("=")
        owners.append({"id": owner_id.strip(), "name": name.strip() or owner_id.strip()})
    terms = {k: v for k, v in (description.terms or {}).items() if v not in (None, [], "")}
    return {"owners": owners, "owner_column": description.owner_column, "terms": terms}


def _read_with(path: Path, kind: str) -> dict[str, Any]:
    """How ``_read`` read the file, in the terms the import nodes give it."""
    if kind == "parquet":
        return {"format": "parquet"}
    return {"delimiter": "tab" if path.suffix.lower() == ".tsv" else ",", "header": True}


def _read(path: Path, kind: str) -> Any:
    import pandas as pd

    try:
        if kind == "parquet":
            return pd.read_parquet(path).reset_index(drop=True)
        return pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",")
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise DescribeError(f"{path.name} cannot be read as {kind}: {error}",
                            fix="Check the file.") from None
