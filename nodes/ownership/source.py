"""What a data source does with a sidecar: find it, check it, hash the rows it reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nodes.errors import NodeInputError
from nodes.ownership.encoding import RowEncodingError
from nodes.ownership.rows import RowLeaves, RowOwnerError
from nodes.ownership.sidecar import Ownership, SidecarError, ownership_of_file, sidecar_path


@dataclass(frozen=True)
class DeclaredOwnership:
    """A dataset a node will read, with the owners and terms its sidecar declares
    (for the check made before a run: ``studio.ownership.terms``)."""

    dataset: str
    source: str
    ownership: Ownership


def file_ownership(label: str, path: Path, digest: str | None = None) -> Ownership | None:
    """The ownership declared beside ``path``; NodeInputError for a sidecar that
    cannot be read or that describes another version of the file."""
    try:
        ownership = ownership_of_file(path)
    except SidecarError as error:
        raise NodeInputError(label, str(error), fix=error.fix) from None
    if ownership is not None and digest is not None and ownership.sha256 not in (None, digest):
        raise NodeInputError(
            label, f"the sidecar {sidecar_path(path)} describes another version of "
            f"{path.name} (SHA-256 {ownership.sha256[:12]}…, the file is {digest[:12]}…).",
            fix=f"If the owners and terms still hold, run 'studio data describe {path} "
                "--refresh'; else describe the new file's owners.")
    return ownership


def owned_rows(label: str, frame: pd.DataFrame, ownership: Ownership, *, dataset: str,
               sha256: str, source: str, read_with: Mapping[str, Any] | None = None
               ) -> RowLeaves:
    """The provenance of the rows a source read (NodeInputError for rows that
    cannot be hashed or whose owner cell is empty). The row hashes the deposit
    kept serve when the file, the way it was read and its schema are the
    deposit's; else they are computed."""
    described: dict[str, Any] = {"dataset": dataset, "sha256": sha256, "source": source}
    leaves = deposited_row_hashes(ownership, frame, sha256, read_with)
    try:
        rows = RowLeaves.at_source(frame, ownership, described, leaves)
        if leaves is not None:
            rows.from_deposit(ownership.deposit or {})
        return rows
    except (RowOwnerError, RowEncodingError) as error:
        raise NodeInputError(label, f"{dataset}: {error}.",
                             fix=f"Fix the data, or describe its owners again in "
                                 f"{ownership.path} (studio data describe FILE --refresh "
                                 "lists the owners the column holds now).") from None


#: Beside a described file: its rows' hashes in file order, computed once by
#: `studio data describe` (a deposit) and checked by digest when the file is read.
ROW_HASHES_SUFFIX = ".axon-data.rows.npy"


def row_hashes_path(data_file: str | Path) -> Path:
    data_file = Path(data_file)
    return data_file.with_name(data_file.name + ROW_HASHES_SUFFIX)


def deposited_row_hashes(ownership: Ownership, frame: pd.DataFrame, sha256: str,
                         read_with: Mapping[str, Any] | None) -> np.ndarray | None:
    """The deposit's row hashes, when they are those of ``frame``: the sidecar is
    bound to this file (``sha256``), the file was read as when it was described,
    the rows have the schema and number the deposit recorded, and the hashes file
    has the digest the sidecar records. None otherwise (they are computed)."""
    from nodes.digest import file_digest
    from nodes.ownership.encoding import RowSchema

    kept = (ownership.deposit or {}).get("row_hashes")
    if not isinstance(kept, dict) or ownership.sha256 != sha256 or read_with is None or \
            kept.get("read_with") != dict(read_with) or kept.get("rows") != len(frame):
        return None
    path = Path(ownership.path).with_name(str(kept.get("file")))
    if not path.is_file() or file_digest(path) != kept.get("sha256") or \
            RowSchema.of(frame).id != kept.get("schema_id"):
        return None
    leaves = np.load(path, allow_pickle=False)
    if leaves.dtype != np.uint8 or leaves.shape != (len(frame), 32):
        return None
    return leaves
