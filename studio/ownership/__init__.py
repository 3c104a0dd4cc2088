"""Data ownership: terms enforced before a run, digests in records, models and
bundles, proofs an auditor checks without the data, and owners' statements.

- ``terms``: the declared use (purpose, region, licensee, override) and the
  check ``check_workflow`` makes before anything runs;
- ``record``: the run record's ``ownership`` section; refused runs kept in the
  run store;
- ``proofs``: ``studio audit prove`` / ``verify``;
- ``artifacts``: reading the digest of a model folder, a run record or a
  service bundle; ``ownership_manifest`` for a bundle's manifest;
- ``statement``: ``studio audit statement``;
- ``lineage``: the Qt-free API of the app's Lineage panel;
- ``describe``: ``studio data describe`` (writing a sidecar).

The row hashes, the tree and the sidecars themselves are in ``nodes.ownership``
(nodes compute them). See docs/data-ownership.md.
"""
