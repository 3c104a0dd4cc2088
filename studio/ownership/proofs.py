"""Proofs over the data-ownership tree, checked with no access to the data.

Three kinds (JSON, ``"format": "axon-ownership-proof"``):

- ``owner``: owner X's entry (id, rows, subtree root) and the path from it to
  the root: X's rows, counted, are in the digest.
- ``row``: a row's values, its hash, its place among X's sorted row hashes
  and the paths up to X's subtree root and on to the root: that row was
  among the digest's rows, owned by X.
- ``row-absent``: every owner's entry (the root is rebuilt from them) and,
  for each owner, the two neighbours the row's hash would sit between, with
  their paths: no owner's rows hold it.

A path gives, per level, the hashes of the other children of the group
(up to 15); the verifier checks that the number of children is what the
claimed position and the row count make it, so a neighbour cannot claim to
be the first or the last row when it is not. Sizes and times grow as
log16 of the rows (bench/bench_ownership.py).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from nodes.ownership.encoding import RowSchema, conform, row_hashes
from nodes.ownership.tree import (
    ARITY,
    TREE_SCHEME,
    OwnerTree,
    build_levels,
    entry_hash,
    level_sizes,
    node_hash,
    top_root,
)

PROOF_FORMAT = "axon-ownership-proof"
PROOF_VERSION = 1


class ProofError(ValueError):
    """A proof that cannot be made (the fix says what to give instead)."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        self.fix = fix
        super().__init__(message)


@dataclass(frozen=True)
class Verdict:
    """What checking a proof found: ``ok``, and a sentence saying what it shows or why not."""

    ok: bool
    message: str


# -- paths ----------------------------------------------------------------------------

def path_to_root(levels: Sequence[np.ndarray], index: int) -> list[list[str]]:
    """The other children of each group on the way from leaf ``index`` to the root."""
    path = []
    for level in levels[:-1]:
        start = (index // ARITY) * ARITY
        group = level[start:start + ARITY]
        path.append([bytes(row).hex() for i, row in enumerate(group) if start + i != index])
        index //= ARITY
    return path


def root_from_path(leaf: bytes, index: int, count: int, path: Sequence[Sequence[str]]
                   ) -> bytes | None:
    """The root ``leaf`` at ``index`` of ``count`` leaves reaches along ``path``; None
    when the path does not have the shape the position and the count make."""
    sizes = level_sizes(count)
    if not 0 <= index < count or len(path) != len(sizes) - 1:
        return None
    current = leaf
    for level, siblings in enumerate(path):
        group, position = divmod(index, ARITY)
        members = min(ARITY, sizes[level] - group * ARITY)
        if len(siblings) != members - 1:
            return None
        try:
            others = [bytes.fromhex(s) for s in siblings]
        except (TypeError, ValueError):
            return None
        if any(len(o) != 32 for o in others):
            return None
        current = node_hash(others[:position] + [current] + others[position:])
        index = group
    return current


# -- making proofs --------------------------------------------------------------------

def owner_proof(summary: Mapping[str, Any], owner: str, target: Mapping[str, Any]
                ) -> dict[str, Any]:
    """The proof that ``owner``'s rows (as counted) are in the digest ``summary``."""
    owners = summary["owners"]
    if owner not in owners:
        raise ProofError(f"{target.get('name')} has no rows of owner '{owner}'",
                         fix=f"Its owners are: {', '.join(sorted(owners)) or 'none'}.")
    names = sorted(owners)
    entries = [_entry(o, owners[o]) for o in names]
    levels = build_levels(np.frombuffer(b"".join(entries), dtype=np.uint8).reshape(-1, 32))
    index = names.index(owner)
    return {**_header("owner", summary, target),
            "owner": {"id": owner, "rows": int(owners[owner]["rows"]),
                      "root": owners[owner]["root"]},
            "owner_index": index, "owner_count": len(names),
            "owner_path": path_to_root(levels, index)}


def row_proofs(trees: Mapping[str, OwnerTree], summary: Mapping[str, Any], rows: pd.DataFrame,
               target: Mapping[str, Any], owner: str | None = None) -> list[dict[str, Any]]:
    """For each of ``rows``: the proof that it is among the digest's rows, or that it
    is not (among ``owner``'s rows only, when given)."""
    schemas = summary.get("schemas") or {}
    schema = _schema_for(rows, schemas)
    conformed = conform(rows, schema)
    leaves = row_hashes(conformed, schema)
    checked = {o: _checked_levels(trees[o], summary) for o in trees}
    names = sorted(summary["owners"]) if owner is None else [owner]
    if owner is not None and owner not in summary["owners"]:
        raise ProofError(f"{target.get('name')} has no rows of owner '{owner}'",
                         fix=f"Its owners are: {', '.join(sorted(summary['owners']))}.")
    proofs = []
    for position in range(len(rows)):
        leaf = bytes(leaves[position])
        values = _json_row(conformed.iloc[position], schema)
        found = None
        for name in names:
            index = _find(trees[name].leaves, leaf)
            if index is not None:
                found = (name, index)
                break
        row = {"values": values, "schema_id": schema.id, "schema": schema.to_list(),
               "leaf": leaf.hex()}
        if found is not None:
            name, index = found
            proofs.append({**owner_proof(summary, name, target), "kind": "row", "row": row,
                           "row_index": index, "row_path": path_to_root(checked[name], index)})
            continue
        absent = {**_header("row-absent", summary, target), "row": row,
                  "owners": [{"id": o, "rows": int(summary["owners"][o]["rows"]),
                              "root": summary["owners"][o]["root"]}
                             for o in sorted(summary["owners"])],
                  "only_owner": owner, "neighbours": {}}
        for name in names:
            absent["neighbours"][name] = _neighbours(trees[name].leaves, checked[name], leaf)
        proofs.append(absent)
    return proofs


def _neighbours(leaves: np.ndarray, levels: Sequence[np.ndarray], leaf: bytes
                ) -> dict[str, Any]:
    index = bisect.bisect_left(_Leaves(leaves), leaf)
    result: dict[str, Any] = {}
    for key, at in (("left", index - 1), ("right", index)):
        if 0 <= at < len(leaves):
            result[key] = {"index": at, "leaf": bytes(leaves[at]).hex(),
                           "path": path_to_root(levels, at)}
    return result


# -- checking proofs --------------------------------------------------------------------

def verify(proof: Mapping[str, Any], root: str) -> Verdict:
    """Check ``proof`` against the root an artifact records (hex)."""
    try:
        if proof.get("format") != PROOF_FORMAT or proof.get("scheme") != TREE_SCHEME:
            return Verdict(False, "this is not an Axon Studio ownership proof of scheme "
                                  f"{TREE_SCHEME}")
        kind = proof.get("kind")
        if kind == "owner":
            return _verify_owner(proof, root)
        if kind == "row":
            return _verify_row(proof, root)
        if kind == "row-absent":
            return _verify_absent(proof, root)
        return Verdict(False, f"unknown kind of proof {kind!r}")
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        return Verdict(False, f"the proof is malformed ({type(error).__name__}: {error})")


def _verify_owner(proof: Mapping[str, Any], root: str) -> Verdict:
    owner = proof["owner"]
    reached = root_from_path(_entry(owner["id"], owner), int(proof["owner_index"]),
                             int(proof["owner_count"]), proof["owner_path"])
    if reached is None or reached.hex() != root:
        return Verdict(False, f"the entry of owner '{owner['id']}' ({owner['rows']} rows) does "
                              f"not reach the artifact's root {root[:16]}…")
    return Verdict(True, f"owner '{owner['id']}' has {owner['rows']} rows in "
                         f"{_what(proof)} (subtree root {owner['root'][:16]}…, root "
                         f"{root[:16]}…)")


def _verify_row(proof: Mapping[str, Any], root: str) -> Verdict:
    owner = proof["owner"]
    problem = _row_leaf_problem(proof["row"])
    if problem:
        return Verdict(False, problem)
    leaf = bytes.fromhex(proof["row"]["leaf"])
    subtree = root_from_path(leaf, int(proof["row_index"]), int(owner["rows"]),
                             proof["row_path"])
    if subtree is None or subtree.hex() != owner["root"]:
        return Verdict(False, f"the row does not reach the subtree root of owner "
                              f"'{owner['id']}'")
    verdict = _verify_owner(proof, root)
    if not verdict.ok:
        return verdict
    return Verdict(True, f"the row is among the {owner['rows']} rows of owner "
                         f"'{owner['id']}' in {_what(proof)} (root {root[:16]}…)")


def _verify_absent(proof: Mapping[str, Any], root: str) -> Verdict:
    problem = _row_leaf_problem(proof["row"])
    if problem:
        return Verdict(False, problem)
    leaf = bytes.fromhex(proof["row"]["leaf"])
    owners = sorted(proof["owners"], key=lambda o: o["id"])
    if [o["id"] for o in owners] != sorted({o["id"] for o in owners}):
        return Verdict(False, "the proof lists an owner twice")
    if top_root([_entry(o["id"], o) for o in owners]).hex() != root:
        return Verdict(False, f"the owners listed do not give the artifact's root {root[:16]}…")
    only = proof.get("only_owner")
    checked = [o for o in owners if only is None or o["id"] == only]
    if only is not None and not checked:
        return Verdict(False, f"owner '{only}' is not among the digest's owners")
    for owner in checked:
        sides = proof["neighbours"].get(owner["id"], {})
        problem = _absent_in(leaf, owner, sides)
        if problem:
            return Verdict(False, f"owner '{owner['id']}': {problem}")
    scope = (f"the rows of owner '{only}'" if only else
             f"the rows of any of the {len(owners)} owner{'s' if len(owners) != 1 else ''}")
    return Verdict(True, f"the row is not among {scope} in {_what(proof)} (root {root[:16]}…)")


def _absent_in(leaf: bytes, owner: Mapping[str, Any], sides: Mapping[str, Any]) -> str | None:
    count, subtree = int(owner["rows"]), owner["root"]
    if count == 0:
        return None
    left, right = sides.get("left"), sides.get("right")
    for side in (left, right):
        if side is None:
            continue
        reached = root_from_path(bytes.fromhex(side["leaf"]), int(side["index"]), count,
                                 side["path"])
        if reached is None or reached.hex() != subtree:
            return "a neighbour given does not reach the owner's subtree root"
    if left is None and right is None:
        return "no neighbours are given"
    if left is not None and right is not None and int(right["index"]) != int(left["index"]) + 1:
        return "the neighbours are not next to each other"
    if left is None and int(right["index"]) != 0:
        return "the only neighbour given is not the first row"
    if right is None and int(left["index"]) != count - 1:
        return "the only neighbour given is not the last row"
    if left is not None and not bytes.fromhex(left["leaf"]) < leaf:
        return "the row's hash is not after the left neighbour (it may be that row)"
    if right is not None and not leaf < bytes.fromhex(right["leaf"]):
        return "the row's hash is not before the right neighbour (it may be that row)"
    return None


def _row_leaf_problem(row: Mapping[str, Any]) -> str | None:
    """The row's values, encoded again, must give the hash the proof claims."""
    schema = RowSchema.from_list(row["schema"])
    if schema.id != row["schema_id"]:
        return "the row's schema does not match its schema id"
    frame = conform(pd.DataFrame([row["values"]]), schema)
    if bytes(row_hashes(frame, schema)[0]).hex() != row["leaf"]:
        return "the row's values do not give the row hash the proof claims"
    return None


# -- helpers ---------------------------------------------------------------------------

class _Leaves(Sequence[bytes]):
    """Sorted (n, 32) row hashes seen as a sequence of bytes, for bisect."""

    def __init__(self, leaves: np.ndarray) -> None:
        self.leaves = leaves

    def __len__(self) -> int:
        return len(self.leaves)

    def __getitem__(self, index: Any) -> Any:
        return bytes(self.leaves[index])


def _find(leaves: np.ndarray, leaf: bytes) -> int | None:
    index = bisect.bisect_left(_Leaves(leaves), leaf)
    return index if index < len(leaves) and bytes(leaves[index]) == leaf else None


def _checked_levels(tree: OwnerTree, summary: Mapping[str, Any]) -> list[np.ndarray]:
    levels = build_levels(tree.leaves)
    if bytes(levels[-1][0]).hex() != summary["owners"][tree.owner]["root"]:
        raise ProofError(f"the stored rows of owner '{tree.owner}' do not give the root the "
                         "artifact records: the artifact was altered",
                         fix="Prove from an unaltered copy of the artifact.")
    return levels


def _entry(owner: str, info: Mapping[str, Any]) -> bytes:
    return entry_hash(owner, int(info["rows"]), bytes.fromhex(info["root"]))


def _schema_for(rows: pd.DataFrame, schemas: Mapping[str, Sequence[Sequence[str]]]) -> RowSchema:
    candidates = [RowSchema.from_list(s) for s in schemas.values()]
    fitting = [s for s in candidates if set(s.names) <= set(rows.columns)]
    if not fitting:
        wanted = "; ".join(", ".join(s.names) for s in candidates) or "none recorded"
        raise ProofError("the rows given do not have the columns of the artifact's rows",
                         fix=f"Give the row with the columns {wanted}.")
    return max(fitting, key=lambda s: len(s.names))


def _json_row(row: pd.Series, schema: RowSchema) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, kind in schema.columns:
        value = row[name]
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            values[name] = None
        elif kind == "datetime":
            values[name] = pd.Timestamp(value).isoformat()
        elif kind == "int":
            values[name] = int(value)
        elif kind == "float":
            values[name] = float(value)
        elif kind == "bool":
            values[name] = bool(value)
        else:
            values[name] = str(value)
    return values


def _header(kind: str, summary: Mapping[str, Any], target: Mapping[str, Any]) -> dict[str, Any]:
    return {"format": PROOF_FORMAT, "version": PROOF_VERSION, "scheme": TREE_SCHEME,
            "kind": kind, "target": dict(target), "root": summary["root"]}


def _what(proof: Mapping[str, Any]) -> str:
    target = proof.get("target", {})
    return f"the {target.get('kind', 'digest')} '{target.get('name', '?')}'"


def dumps(proof: Mapping[str, Any]) -> str:
    return json.dumps(proof, indent=1, sort_keys=True, allow_nan=False) + "\n"
