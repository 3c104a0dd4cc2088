"""Row provenance: which owner's row each row of a table is, carried with the table.

A source with a sidecar hashes its rows as it reads them (``RowLeaves.at_source``)
and hangs the result on its table (``Table.ownership``). Nodes never handle
it: ``Table.with_frame``, which every node that keeps, drops, reorders or
rewrites rows uses to make its output, calls ``follow``, and the rule is:

- **same rows, same order** (same number of rows and a column the node left
  as it was, or every shared column rewritten in place under the same index:
  Normalize, Select Columns, Score Model, Clean Missing Data filling values):
  the provenance as it is;
- **rows kept, dropped or reordered** (Split Data, Partition and Sample,
  Remove Duplicate Rows, Clean Missing Data dropping rows): each output row
  is traced to the input row with the same values in the columns both tables
  share (rows equal there are taken in input order);
- **rows that match no input row** (new rows: Add Rows' second table, rows
  made up by a node): the trail is lost, and the output *derives from every
  input row*: its provenance becomes a bag of all of them (``traced`` is
  False), which any later node keeps as it is. A model trained on it is
  attributed to every one of those rows: over-counting an owner's rows is
  the safe side.

A node that builds a table from scratch (``Table(...)``: Join Data, Add
Columns, Apply SQL, Edit Metadata, Execute Python Script) drops it unless
the node runner carries it over with :func:`carry_ownership`.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nodes.ownership.encoding import RowSchema, row_hashes
from nodes.ownership.sidecar import Ownership
from nodes.ownership.tree import TREE_SCHEME, OwnershipDigest, digest_summary

LEAVES_FILE = "ownership_leaves.npy"
GROUPS_FILE = "ownership_groups.npy"
META_FILE = "ownership.json"


class RowOwnerError(ValueError):
    """A row whose owner cell is empty (the message names the row and the column)."""


@dataclass(frozen=True)
class RowGroup:
    """Rows of one source owned by the same owners."""

    source: int
    owners: tuple[str, ...]


class RowLeaves:
    """Each row's hash and owners, aligned with a table's rows (``traced``), or,
    once the trail is lost, the bag of source rows a table derives from."""

    def __init__(self, leaves: np.ndarray, groups: np.ndarray, group_table: Sequence[RowGroup],
                 sources: Sequence[Mapping[str, Any]], *, traced: bool = True) -> None:
        self.leaves = leaves
        self.groups = groups
        self.group_table = tuple(group_table)
        self.sources = tuple(dict(s) for s in sources)
        self.traced = traced
        self._digest: OwnershipDigest | None = None
        #: The deposit's digest (scheme, root, rows, owners) when these are exactly its
        #: rows, checked by digest (see ``from_deposit``): the summary needs no tree.
        self._deposit: dict[str, Any] | None = None
        #: The row fingerprints of the last frame matched against (a node with two
        #: outputs, Split Data, matches both against the same input).
        self._fingerprints: tuple[Any, tuple[str, ...], np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.leaves)

    def __getstate__(self) -> dict[str, Any]:
        # The fingerprint memo points at a frame of this process by weak reference:
        # a copy sent to a Dask worker or written by pickle starts without it.
        state = self.__dict__.copy()
        state["_fingerprints"] = None
        return state

    def __repr__(self) -> str:
        kind = "traced" if self.traced else "untraced"
        return f"RowLeaves({len(self)} rows, {kind}, {len(self.sources)} sources)"

    # -- at the source -------------------------------------------------------
    @classmethod
    def at_source(cls, frame: pd.DataFrame, ownership: Ownership,
                  source: Mapping[str, Any], leaves: np.ndarray | None = None) -> RowLeaves:
        """Hash ``frame``'s rows as read (its own column order and types) and
        assign their owners; ``source`` names the dataset (name, sha256, path).
        ``leaves`` are the row hashes when they are known already (the deposit's)."""
        schema = RowSchema.of(frame)
        if leaves is None:
            leaves = row_hashes(frame, schema)
        described = {**source, "schema_id": schema.id, "schema": schema.to_list(),
                     **ownership.to_dict(),
                     "deposit_root": (ownership.deposit or {}).get("root")}
        if ownership.owner_column is None:
            table = [RowGroup(0, tuple(o.id for o in ownership.owners))]
            return cls(leaves, np.zeros(len(frame), dtype=np.int32), table, [described])
        column = ownership.owner_column
        if column not in frame.columns:
            raise RowOwnerError(f"the owner column {column!r} named by the sidecar is not "
                                "in the table")
        cells = frame[column]
        empty = cells.isna().to_numpy()
        if empty.any():
            row = int(np.flatnonzero(empty)[0])
            raise RowOwnerError(f"row {row + 1} has no owner in column {column!r}")
        codes, names = pd.factorize(cells.astype(str), sort=True)
        listed = {o.id: o for o in ownership.owners}
        unlisted = [str(n) for n in names if str(n) not in listed]
        if listed and unlisted:
            # The terms checked before the run were those of the listed owners only.
            raise RowOwnerError(f"the owner {unlisted[0]!r} of column {column!r} is not "
                                "listed in the sidecar, so its terms were never checked")
        described["owners"] = [ownership.owner(str(name)).to_dict() for name in names]
        described["owners"] += [o.to_dict() for i, o in listed.items() if i not in set(names)]
        table = [RowGroup(0, (str(name),)) for name in names]
        return cls(leaves, codes.astype(np.int32), table, [described])

    # -- following rows through nodes -----------------------------------------
    def take(self, positions: np.ndarray) -> RowLeaves:
        """The provenance of the rows at ``positions`` (in that order)."""
        return RowLeaves(self.leaves[positions], self.groups[positions], self.group_table,
                         self.sources)

    def untraced(self) -> RowLeaves:
        """The same rows as a bag: a table that derives from all of them."""
        if not self.traced:
            return self
        return RowLeaves(self.leaves, self.groups, self.group_table, self.sources,
                         traced=False)

    def follow(self, old: pd.DataFrame, new: pd.DataFrame) -> RowLeaves:
        """The provenance of ``new``, a frame a node made from ``old`` (this one's)."""
        if not self.traced or new is old:
            return self
        if len(old) != len(self):
            return self.untraced()
        shared = [c for c in new.columns if c in old.columns
                  and new[c].dtype == old[c].dtype]
        if len(new) == len(old) and _same_order(old, new, shared):
            return self
        positions = _matching_rows(old, new, shared, self._old_fingerprints)
        if positions is None:
            if len(new) == len(old) and new.index.equals(old.index):
                return self  # every shared column rewritten in place
            return self.untraced()
        return self.take(positions)

    def _old_fingerprints(self, old: pd.DataFrame, columns: list[str]) -> np.ndarray:
        cached = self._fingerprints
        if cached is not None and cached[0]() is old and cached[1] == tuple(columns):
            return cached[2]
        fingerprints = _fingerprints(old[columns])
        self._fingerprints = (weakref.ref(old), tuple(columns), fingerprints)  # not the frame
        return fingerprints

    @staticmethod
    def union(parts: Iterable[RowLeaves]) -> RowLeaves | None:
        """One bag of every part's rows (the provenance of rows made from several tables)."""
        parts = [p for p in parts if p is not None]
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0].untraced()
        sources: list[dict[str, Any]] = []
        table: list[RowGroup] = []
        leaves, groups = [], []
        for part in parts:
            source_map = []
            for source in part.sources:
                if source not in sources:
                    sources.append(dict(source))
                source_map.append(sources.index(source))
            group_map = []
            for group in part.group_table:
                mapped = RowGroup(source_map[group.source], group.owners)
                if mapped not in table:
                    table.append(mapped)
                group_map.append(table.index(mapped))
            leaves.append(part.leaves)
            groups.append(np.asarray(group_map, dtype=np.int32)[part.groups])
        return RowLeaves(np.concatenate(leaves), np.concatenate(groups), table, sources,
                         traced=False)

    # -- the digest -------------------------------------------------------------
    def digest(self) -> OwnershipDigest:
        """The owner-grouped Merkle tree over these rows (built once)."""
        if self._digest is None:
            by_owner: dict[str, list[np.ndarray]] = {}
            if len(self.group_table) == 1:  # one source, the same owners for every row
                by_owner = {owner: [self.leaves] for owner in self.group_table[0].owners}
            else:
                order = np.argsort(self.groups, kind="stable")
                bounds = np.searchsorted(self.groups[order],
                                         np.arange(len(self.group_table) + 1))
                for code, group in enumerate(self.group_table):
                    rows = self.leaves[order[bounds[code]:bounds[code + 1]]]
                    for owner in group.owners:
                        by_owner.setdefault(owner, []).append(rows)
            schemas, sources = self._schemas_and_sources()
            self._digest = OwnershipDigest.from_groups(
                {o: parts[0] if len(parts) == 1 else np.concatenate(parts)
                 for o, parts in by_owner.items()},
                schemas=schemas, sources=sources)
            self._digest.traced = self.traced
        return self._digest

    def from_deposit(self, deposit: Mapping[str, Any]) -> None:
        """Say that these rows are the deposit's, as read (their hashes are the ones
        its sidecar binds by digest), so its recorded roots serve the summary; the
        tree is built only when a proof or a model needs it."""
        owners = deposit.get("owners")
        if self.traced and deposit.get("scheme") == TREE_SCHEME and \
                deposit.get("rows") == len(self) and isinstance(owners, dict) and \
                sorted(owners) == sorted({o for g in self.group_table for o in g.owners}):
            self._deposit = dict(deposit)

    def summary(self) -> dict[str, Any]:
        deposit = self._deposit
        if self._digest is not None or deposit is None:
            return self.digest().summary()
        schemas, sources = self._schemas_and_sources()
        return digest_summary(deposit["root"], deposit["owners"], traced=True,
                              schemas=schemas, sources=sources, use=None)

    def _schemas_and_sources(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The digest's schemas (by id) and its sources (less their schemas)."""
        return ({s["schema_id"]: s["schema"] for s in self.sources},
                [{k: v for k, v in s.items() if k != "schema"} for s in self.sources])

    # -- persistence --------------------------------------------------------------
    def save(self, folder: Path) -> None:
        np.save(folder / LEAVES_FILE, np.ascontiguousarray(self.leaves), allow_pickle=False)
        np.save(folder / GROUPS_FILE, np.ascontiguousarray(self.groups), allow_pickle=False)
        (folder / META_FILE).write_text(json.dumps({
            "traced": self.traced, "sources": list(self.sources),
            "groups": [[g.source, list(g.owners)] for g in self.group_table]}, sort_keys=True))

    @classmethod
    def load(cls, folder: Path) -> RowLeaves | None:
        if not (folder / META_FILE).is_file():
            return None
        meta = json.loads((folder / META_FILE).read_text())
        leaves = np.load(folder / LEAVES_FILE, allow_pickle=False)
        groups = np.load(folder / GROUPS_FILE, allow_pickle=False)
        if leaves.dtype != np.uint8 or leaves.ndim != 2 or leaves.shape[1] != 32 or \
                groups.shape != (len(leaves),):
            raise ValueError(f"{folder}: the stored row hashes are not (rows, 32) bytes")
        table = [RowGroup(int(s), tuple(o)) for s, o in meta["groups"]]
        return cls(leaves, groups.astype(np.int32), table, meta["sources"],
                   traced=bool(meta["traced"]))


def carry_ownership(inputs: Mapping[str, Any], outputs: Mapping[str, Any]) -> None:
    """Give a node's output tables the provenance of its input tables when the node
    built them from scratch: the same rows in the same order as its one input
    table are followed as ``with_frame`` would; any other table derives from
    every input row (a bag). For the node runner, after ``run``."""
    tables = [v for value in inputs.values()
              for v in (value if isinstance(value, list) else [value])
              if getattr(v, "kind", None) == "table" and getattr(v, "ownership", None)]
    if not tables:
        return
    for value in outputs.values():
        if getattr(value, "kind", None) != "table" or value.ownership is not None or \
                any(value is t for t in tables):
            continue
        if len(tables) == 1:
            value.ownership = tables[0].ownership.follow(tables[0].frame, value.frame)
        else:
            value.ownership = RowLeaves.union(t.ownership for t in tables)


# -- matching rows ------------------------------------------------------------------

def _same_order(old: pd.DataFrame, new: pd.DataFrame, shared: list[str]) -> bool:
    """True when a shared column that varies is unchanged row by row."""
    compared = []
    for column in shared:
        a, b = old[column], new[column]
        if _same_buffer(a, b):
            return True
        compared.append((a, b))
    for a, b in compared:
        if len(a) > 1 and a.nunique(dropna=False) > 1 and \
                a.reset_index(drop=True).equals(b.reset_index(drop=True)):
            return True
    return False


def _same_buffer(a: pd.Series, b: pd.Series) -> bool:
    """The two columns are views of the same memory, element for element."""
    try:
        x, y = a.array, b.array
        if not isinstance(x, np.ndarray):
            x, y = np.asarray(x._ndarray), np.asarray(y._ndarray)  # type: ignore[attr-defined]
    except AttributeError:
        return False
    return (isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
            and x.__array_interface__["data"][0] == y.__array_interface__["data"][0]
            and x.strides == y.strides and x.shape == y.shape)


def _matching_rows(old: pd.DataFrame, new: pd.DataFrame, shared: list[str],
                   fingerprints: Any = None) -> np.ndarray | None:
    """For each row of ``new``, the position of the ``old`` row equal to it in the
    shared columns; None when a row matches none. A second try leaves out the
    columns that had missing values (Clean Missing Data fills them)."""
    if not shared:
        return None
    of_old = fingerprints or (lambda frame, columns: _fingerprints(frame[columns]))
    positions = _match_on(of_old(old, shared), new, shared)
    if positions is None:
        complete = [c for c in shared if not old[c].isna().any()]
        if complete and len(complete) < len(shared):
            positions = _match_on(of_old(old, complete), new, complete)
    return positions


def _match_on(before: np.ndarray, new: pd.DataFrame, columns: list[str]) -> np.ndarray | None:
    after = _fingerprints(new[columns])
    index = pd.Index(before)
    if index.is_unique:
        positions = index.get_indexer(after)
        return None if (positions < 0).any() else positions.astype(np.int64)
    # Repeated rows: the k-th equal row of ``new`` takes the k-th one of ``old``.
    order = np.argsort(before, kind="stable")
    ranked = before[order]
    first = np.searchsorted(ranked, after, side="left")
    available = np.searchsorted(ranked, after, side="right") - first
    new_order = np.argsort(after, kind="stable")
    sorted_after = after[new_order]
    starts = np.searchsorted(sorted_after, sorted_after, side="left")
    rank = np.empty(len(after), dtype=np.int64)
    rank[new_order] = np.arange(len(after)) - starts
    if (rank >= available).any():
        return None
    return order[first + rank]


def _fingerprints(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit fingerprint of each row (not cryptographic: it only pairs a node's
    output rows with its input rows). Numbers are mixed from their bits directly."""
    result = np.full(len(frame), 0x9E3779B97F4A7C15, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in frame.columns:
            values = frame[column].to_numpy()
            if isinstance(values, np.ndarray) and values.dtype.kind in "fiub" and \
                    values.dtype.itemsize <= 8:
                bits = values.astype(np.float64 if values.dtype.kind == "f" else np.int64,
                                     copy=False).view(np.uint64)
            else:
                try:
                    bits = pd.util.hash_array(np.asarray(frame[column].astype(object)))
                except TypeError:  # cells holding lists
                    bits = pd.util.hash_array(np.asarray(frame[column].map(repr), dtype=object))
            result ^= bits
            result *= np.uint64(0xBF58476D1CE4E5B9)
            result ^= result >> np.uint64(31)
    return result
