"""Data ownership on the node side: row hashes, the owner-grouped Merkle tree,
the provenance a table carries, and the sidecars that name owners and terms.

- ``encoding``: the canonical row encoding and row hashes (the leaves);
- ``tree``: the tree of arity 16 over sorted leaves, grouped by owner, and
  ``OwnershipDigest`` (its root, per-owner roots and row counts);
- ``rows``: ``RowLeaves``, the provenance carried by ``Table.ownership``, and
  how it follows rows through nodes;
- ``sidecar``: owners and terms as a dataset's sidecar declares them.

Terms checks, proofs and statements live in ``studio.ownership``; see
docs/data-ownership.md. Nothing here is imported unless a dataset has a sidecar.
"""
