"""The data-ownership digest: a Merkle tree over row hashes, grouped by owner.

Construction (scheme ``axon-ownership/1``; SHA-256 throughout):

1. Each owner's row hashes (``encoding.row_hashes``: ``H(00 || schema || row)``)
   are sorted bytewise. Sorting makes the tree independent of row order and
   lets a proof show that a row is *absent* (two neighbours with nothing
   between them).
2. Over them, a tree of arity 16: level ``j + 1`` hashes consecutive groups
   of up to 16 hashes of level ``j`` as ``H(01 || child_1 || ... || child_m)``
   (the last group of a level may be smaller; a group of one is hashed too),
   until one hash remains: the owner's subtree root. An empty list of rows
   hashes to ``H(01)``.
3. Each owner becomes an entry ``H(02 || len(id) as 4 bytes || id in UTF-8 ||
   rows as 8 bytes || subtree root)``; the entries, sorted by owner id,
   get the same tree of arity 16; its root is the digest's root.

The prefixes 00 (row), 01 (node) and 02 (owner entry) keep the three kinds
of hash apart, so no row can pose as a node or an entry. Arity 16 rather
than 2: a million rows then need 67,000 node hashes instead of a million
(the row hashes themselves are the cost that remains), for proofs of 15
hashes per level, 5 levels for a million rows: still O(log n).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

TREE_SCHEME = "axon-ownership/1"
ARITY = 16
NODE_PREFIX = b"\x01"
ENTRY_PREFIX = b"\x02"
EMPTY_ROOT = hashlib.sha256(NODE_PREFIX).digest()
#: Beside a stored model: the digest's summary, and every owner's sorted row hashes.
DIGEST_FILE = "ownership.json"
DIGEST_LEAVES_FILE = "ownership_leaves.npy"


def node_hash(children: Iterable[bytes]) -> bytes:
    """``H(01 || children...)``: one node of the tree."""
    digest = hashlib.sha256(NODE_PREFIX)
    for child in children:
        digest.update(child)
    return digest.digest()


def entry_hash(owner: str, rows: int, root: bytes) -> bytes:
    """``H(02 || len(owner) || owner || rows || root)``: an owner's entry in the top tree."""
    name = owner.encode("utf-8")
    return hashlib.sha256(ENTRY_PREFIX + len(name).to_bytes(4, "big") + name
                          + int(rows).to_bytes(8, "big") + root).digest()


def level_sizes(count: int) -> list[int]:
    """Hashes per level, from the leaves (``count``) up to the root (1)."""
    sizes = [count]
    while sizes[-1] > 1 or len(sizes) == 1:
        sizes.append(-(-sizes[-1] // ARITY))
        if sizes[-1] == 0:
            sizes[-1] = 1
            break
    return sizes


def build_levels(leaves: np.ndarray) -> list[np.ndarray]:
    """Every level of the tree over ``leaves`` ((n, 32) uint8, already sorted), the
    leaves first and the root (one row) last."""
    levels = [np.ascontiguousarray(leaves, dtype=np.uint8).reshape(-1, 32)]
    if len(levels[0]) == 0:
        return [levels[0], np.frombuffer(EMPTY_ROOT, dtype=np.uint8).reshape(1, 32)]
    while len(levels) == 1 or len(levels[-1]) > 1:
        levels.append(_next_level(levels[-1]))
    return levels


def _next_level(level: np.ndarray) -> np.ndarray:
    count = len(level)
    full = count // ARITY
    hashes: list[bytes] = []
    if full:
        # Full groups: one contiguous buffer of (01 || 16 children) records.
        width = 1 + ARITY * 32
        records = np.empty((full, width), dtype=np.uint8)
        records[:, 0] = NODE_PREFIX[0]
        records[:, 1:] = level[:full * ARITY].reshape(full, ARITY * 32)
        data = records.tobytes()
        sha256 = hashlib.sha256
        hashes = [sha256(data[i:i + width]).digest() for i in range(0, full * width, width)]
    if count % ARITY:
        hashes.append(node_hash(bytes(row) for row in level[full * ARITY:]))
    return np.frombuffer(b"".join(hashes), dtype=np.uint8).reshape(-1, 32)


def sort_leaves(leaves: np.ndarray) -> np.ndarray:
    """The positions that sort (n, 32) row hashes bytewise."""
    if len(leaves) < 2:
        return np.arange(len(leaves))
    words = np.ascontiguousarray(leaves).view(">u8").reshape(-1, 4)
    order = np.argsort(words[:, 0], kind="stable")
    first = words[order, 0]
    if np.any(first[1:] == first[:-1]):  # equal first 8 bytes (repeated rows): all 32
        order = np.lexsort((words[:, 3], words[:, 2], words[:, 1], words[:, 0]))
    return order


@dataclass
class OwnerTree:
    """One owner's rows: their sorted row hashes and the root over them."""

    owner: str
    leaves: np.ndarray  # (rows, 32) uint8, sorted
    root: bytes

    @property
    def rows(self) -> int:
        return len(self.leaves)

    @property
    def entry(self) -> bytes:
        return entry_hash(self.owner, self.rows, self.root)

    @classmethod
    def build(cls, owner: str, leaves: np.ndarray, *, is_sorted: bool = False) -> OwnerTree:
        leaves = np.ascontiguousarray(leaves, dtype=np.uint8).reshape(-1, 32)
        if not is_sorted:
            leaves = leaves[sort_leaves(leaves)]
        return cls(owner, leaves, bytes(build_levels(leaves)[-1][0]))


def digest_summary(root: str, owners: dict[str, dict[str, Any]], *, traced: bool,
                   schemas: dict[str, list[list[str]]], sources: list[dict[str, Any]],
                   use: dict[str, Any] | None) -> dict[str, Any]:
    """An OwnershipDigest's summary from its roots (hex): ``owners`` maps each owner
    to its ``rows`` and subtree ``root``."""
    return {"scheme": TREE_SCHEME, "arity": ARITY, "root": root,
            "rows": sum(int(owners[o]["rows"]) for o in owners),
            "owners": {o: {"rows": owners[o]["rows"], "root": owners[o]["root"]}
                       for o in sorted(owners)},
            "traced": traced, "schemas": schemas, "sources": sources, "use": use}


@dataclass
class OwnershipDigest:
    """The digest of a set of rows: each owner's subtree and the root over them.

    ``schemas`` maps each schema id met in the rows to its columns
    (``[[name, type], ...]``), so a row given by an auditor can be encoded the
    same way; ``sources`` describes where the rows came from (dataset name,
    file digest, owners and terms as their sidecars gave them).
    """

    owners: dict[str, OwnerTree]
    schemas: dict[str, list[list[str]]] = field(default_factory=dict)
    sources: list[dict[str, Any]] = field(default_factory=list)
    #: False when the rows could not be followed one by one (see rows.py): the
    #: digest then covers every row the data derives from.
    traced: bool = True
    #: The use it was made in (run, purpose, region, date, overridden terms), once known.
    use: dict[str, Any] | None = None

    @property
    def root(self) -> bytes:
        return top_root([self.owners[o].entry for o in sorted(self.owners)])

    @property
    def rows(self) -> int:
        return sum(tree.rows for tree in self.owners.values())

    def summary(self) -> dict[str, Any]:
        """What goes into run records, model metadata and bundle manifests."""
        return digest_summary(
            self.root.hex(), {o: {"rows": t.rows, "root": t.root.hex()}
                              for o, t in self.owners.items()},
            traced=self.traced, schemas=self.schemas, sources=self.sources, use=self.use)

    def save(self, folder: Path) -> None:
        """The summary as JSON and the row hashes (owner by owner, sorted) as .npy."""
        leaves = [self.owners[o].leaves for o in sorted(self.owners)]
        np.save(folder / DIGEST_LEAVES_FILE,
                np.concatenate(leaves) if leaves else np.zeros((0, 32), dtype=np.uint8),
                allow_pickle=False)
        (folder / DIGEST_FILE).write_text(json.dumps(self.summary(), indent=1, sort_keys=True,
                                                     allow_nan=False))

    @classmethod
    def load(cls, folder: Path) -> OwnershipDigest:
        """What ``save`` wrote. The row hashes are checked against the recorded roots
        when a proof is made from them (``studio.ownership.proofs``), not here."""
        summary = json.loads((folder / DIGEST_FILE).read_text())
        leaves = np.load(folder / DIGEST_LEAVES_FILE, allow_pickle=False)
        if leaves.dtype != np.uint8 or leaves.ndim != 2 or leaves.shape[1:] != (32,) or \
                len(leaves) != summary["rows"]:
            raise ValueError(f"{folder}: the stored row hashes do not match the digest")
        owners, at = {}, 0
        for owner in sorted(summary["owners"]):
            info = summary["owners"][owner]
            owners[owner] = OwnerTree(owner, leaves[at:at + info["rows"]],
                                      bytes.fromhex(info["root"]))
            at += info["rows"]
        return cls(owners, summary.get("schemas", {}), summary.get("sources", []),
                   bool(summary.get("traced", True)), summary.get("use"))

    @classmethod
    def from_groups(cls, groups: Mapping[str, np.ndarray], *,
                    schemas: Mapping[str, list[list[str]]] | None = None,
                    sources: list[dict[str, Any]] | None = None) -> OwnershipDigest:
        return cls({owner: OwnerTree.build(owner, leaves) for owner, leaves in groups.items()},
                   dict(schemas or {}), list(sources or []))


def top_root(entries: list[bytes]) -> bytes:
    """The root of the tree over owner entries (sorted by owner id by the caller)."""
    array = np.frombuffer(b"".join(entries), dtype=np.uint8).reshape(-1, 32)
    return bytes(build_levels(array)[-1][0])


def summary_root(summary: Mapping[str, Any]) -> str:
    """The root a summary's owner entries give (to check a summary read from a file)."""
    owners = summary.get("owners", {})
    entries = [entry_hash(o, int(owners[o]["rows"]), bytes.fromhex(owners[o]["root"]))
               for o in sorted(owners)]
    return top_root(entries).hex()
