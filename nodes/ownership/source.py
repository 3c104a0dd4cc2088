"""What a data source does with a sidecar: find it, check it, hash the rows it reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
               sha256: str, source: str) -> RowLeaves:
    """The provenance of the rows a source read (NodeInputError for rows that
    cannot be hashed or whose owner cell is empty)."""
    described: dict[str, Any] = {"dataset": dataset, "sha256": sha256, "source": source}
    try:
        return RowLeaves.at_source(frame, ownership, described)
    except (RowOwnerError, RowEncodingError) as error:
        raise NodeInputError(label, f"{dataset}: {error}.",
                             fix=f"Fix the data, or describe its owners again in "
                                 f"{ownership.path} (studio data describe FILE --refresh "
                                 "lists the owners the column holds now).") from None
