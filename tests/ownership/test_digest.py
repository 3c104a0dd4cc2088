"""The canonical row encoding, the owner-grouped tree and the proofs over it."""

from __future__ import annotations

import copy
import hashlib
import struct

import numpy as np
import pandas as pd
import pytest

from nodes.ownership.encoding import RowSchema, conform, row_hashes
from nodes.ownership.rows import RowLeaves
from nodes.ownership.sidecar import Owner, Ownership, Terms
from nodes.ownership.tree import ARITY, EMPTY_ROOT, OwnerTree, build_levels, entry_hash, node_hash
from studio.ownership.proofs import (
    owner_proof,
    path_to_root,
    root_from_path,
    row_proofs,
    verify,
)
from tests.ownership.helpers import loans_frame

TARGET = {"kind": "model", "name": "test", "node": "train"}


def per_row_owners() -> Ownership:
    terms = Terms()
    return Ownership("loans.csv.axon-data.json",
                     tuple(Owner(o, o, terms) for o in ("alice", "bob", "carol")), terms,
                     owner_column="owner")


def digest_of(frame: pd.DataFrame):
    return RowLeaves.at_source(frame, per_row_owners(), {"dataset": "loans"}).digest()


def test_a_row_hash_is_sha256_of_the_documented_encoding():
    frame = pd.DataFrame({"n": pd.array([7, None], dtype="Int64"), "s": ["é", None],
                          "x": [-0.0, np.nan], "b": [True, False]})
    schema = RowSchema.of(frame)
    assert schema.columns == (("n", "int"), ("s", "str"), ("x", "float"), ("b", "bool"))
    prefix = b"\x00" + bytes.fromhex(schema.id)
    # Fixed-width cells first (n, x, b), then the str cells (s).
    first = (prefix + b"\x01" + struct.pack(">q", 7) + b"\x01" + struct.pack(">d", 0.0)
             + b"\x01\x01" + b"\x01" + struct.pack(">I", 2) + "é".encode())
    second = prefix + b"\x00" + bytes(8) + b"\x00" + bytes(8) + b"\x01\x00" + b"\x00"
    hashes = row_hashes(frame, schema)
    assert bytes(hashes[0]) == hashlib.sha256(first).digest()
    assert bytes(hashes[1]) == hashlib.sha256(second).digest()


def test_the_schema_column_order_and_types_are_part_of_the_hash():
    frame = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    as_floats = frame.astype(float)
    swapped = frame[["b", "a"]].rename(columns={"b": "a", "a": "b"})
    hashes = row_hashes(frame)
    assert not np.array_equal(hashes, row_hashes(as_floats))
    assert not np.array_equal(hashes, row_hashes(swapped))
    # ...while the pandas width of a type is not: int32 and int64 hash alike.
    assert np.array_equal(hashes, row_hashes(frame.astype("int32")))


def test_one_changed_value_changes_the_root_and_old_proofs_fail():
    frame = loans_frame()
    before = digest_of(frame)
    changed = frame.copy()
    changed.loc[17, "income"] += 0.01
    after = digest_of(changed)
    assert after.root != before.root
    owner = frame.loc[17, "owner"]
    assert after.owners[owner].root != before.owners[owner].root
    untouched = next(o for o in ("alice", "bob", "carol") if o != owner)
    assert after.owners[untouched].root == before.owners[untouched].root
    # Proofs made against the old digest: checked against the new root, they fail.
    old_owner = owner_proof(before.summary(), owner, TARGET)
    old_row = row_proofs(before.owners, before.summary(), frame.iloc[[3]], TARGET)[0]
    assert verify(old_owner, before.root.hex()).ok and verify(old_row, before.root.hex()).ok
    assert not verify(old_owner, after.root.hex()).ok
    assert not verify(old_row, after.root.hex()).ok
    # The changed row itself is not among the old rows, and the proof of that verifies.
    absent = row_proofs(before.owners, before.summary(), changed.iloc[[17]], TARGET)[0]
    assert absent["kind"] == "row-absent" and verify(absent, before.root.hex()).ok


def test_reordering_rows_does_not_change_the_root():
    frame = loans_frame()
    shuffled = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert digest_of(shuffled).root == digest_of(frame).root


def test_a_proof_for_another_owners_rows_fails():
    digest = digest_of(loans_frame())
    root = digest.root.hex()
    alice = owner_proof(digest.summary(), "alice", TARGET)
    assert verify(alice, root).ok
    claimed = copy.deepcopy(alice)
    claimed["owner"]["id"] = "bob"  # alice's entry and path, claimed for bob
    assert not verify(claimed, root).ok
    bob = owner_proof(digest.summary(), "bob", TARGET)
    mixed = {**copy.deepcopy(bob), "owner_path": alice["owner_path"],
             "owner_index": alice["owner_index"]}
    assert not verify(mixed, root).ok
    counted = copy.deepcopy(alice)
    counted["owner"]["rows"] += 1
    assert not verify(counted, root).ok
    # A row of bob's, re-labelled as alice's, reaches no root either.
    row = row_proofs(digest.owners, digest.summary(), loans_frame().iloc[[1]], TARGET)[0]
    assert row["owner"]["id"] == "bob" and verify(row, root).ok
    relabelled = {**copy.deepcopy(row), "owner": alice["owner"],
                  "owner_index": alice["owner_index"], "owner_path": alice["owner_path"]}
    assert not verify(relabelled, root).ok


@pytest.mark.parametrize("count", [1, 2, ARITY - 1, ARITY, ARITY + 1, ARITY**2 + 3])
def test_every_leaf_reaches_the_root_and_no_other_position_does(count):
    leaves = np.frombuffer(b"".join(hashlib.sha256(bytes([i % 256, i // 256])).digest()
                                    for i in range(count)), dtype=np.uint8).reshape(-1, 32)
    tree = OwnerTree.build("o", leaves)
    levels = build_levels(tree.leaves)
    for index in range(count):
        path = path_to_root(levels, index)
        assert root_from_path(bytes(tree.leaves[index]), index, count, path) == tree.root
    if count > 1:  # a leaf's path claimed at the next position breaks
        path = path_to_root(levels, 0)
        assert root_from_path(bytes(tree.leaves[0]), 1, count, path) != tree.root
    assert root_from_path(bytes(tree.leaves[0]), count, count, path_to_root(levels, 0)) is None


def test_the_tree_is_built_as_documented():
    leaves = [hashlib.sha256(bytes([i])).digest() for i in range(ARITY + 1)]
    ordered = sorted(leaves)
    tree = OwnerTree.build("o", np.frombuffer(b"".join(leaves), dtype=np.uint8).reshape(-1, 32))
    expected = node_hash([node_hash(ordered[:ARITY]), node_hash(ordered[ARITY:])])
    assert tree.root == expected
    assert OwnerTree.build("o", np.zeros((0, 32), dtype=np.uint8)).root == EMPTY_ROOT
    assert tree.entry == hashlib.sha256(b"\x02" + (1).to_bytes(4, "big") + b"o"
                                        + (ARITY + 1).to_bytes(8, "big") + expected).digest()
    assert entry_hash("o", ARITY + 1, expected) == tree.entry


def test_an_absence_proof_cannot_skip_a_row_or_claim_an_end():
    frame = loans_frame()
    digest = digest_of(frame)
    root = digest.root.hex()
    outsider = frame.iloc[[0]].assign(income=1234.5)
    proof = row_proofs(digest.owners, digest.summary(), outsider, TARGET)[0]
    assert verify(proof, root).ok
    sides = next(s for s in proof["neighbours"].values() if "left" in s and "right" in s)
    forged = copy.deepcopy(proof)
    for neighbours in forged["neighbours"].values():
        if neighbours is not sides and "left" in neighbours and "right" in neighbours:
            del neighbours["left"]  # "the row would come first": not so
            break
    assert not verify(forged, root).ok
    # A row that is there cannot be proved absent with the neighbours of its neighbour.
    member = row_proofs(digest.owners, digest.summary(), frame.iloc[[5]], TARGET)[0]
    fake = {**copy.deepcopy(proof), "row": member["row"]}
    assert not verify(fake, root).ok


def test_a_row_given_as_json_text_conforms_to_the_recorded_types():
    frame = loans_frame()
    schema = RowSchema.of(frame)
    record = {k: str(v) for k, v in frame.iloc[4].to_dict().items()}  # everything as text
    given = conform(pd.DataFrame([record]), schema)
    assert bytes(row_hashes(given, schema)[0]) == bytes(row_hashes(frame, schema)[4])
