"""What the app's Lineage panel shows for a selected model or service (Qt-free).

    from studio.ownership.lineage import model_lineage, bundle_lineage

    lineage = model_lineage(record, "train")        # a RunRecord or its dict; port="model"
    lineage.datasets      # [DatasetLineage]: name, source, sha256, owners with their terms
    lineage.owners        # [OwnerTerms]: the model's owners, rows, subtree roots, terms
    lineage.root, lineage.rows, lineage.traced, lineage.use, lineage.override
    lineage.statements    # [OwnerStatement] of each owner, from the run store
    bundle_lineage("bc-service")                     # the same for a service bundle
    source_lineage(record, "data")                   # the dataset a source node read
    declared_lineage(workflow, "data")               # its sidecar, before any run
    model_ports(record, "train")                     # ["model"]: what model_lineage takes

``records`` (every function taking ``runs_dir``) adds run records the run store
does not hold, such as the app's runs this session, to the statements.

Everything is a dataclass; nothing is formatted text (``format_statement``
in ``studio.ownership.statement`` formats a statement when one is wanted).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.ownership.statement import OwnerStatement, make_statement, records_from_store
from studio.workflow.model import Workflow


@dataclass
class OwnerTerms:
    """One owner of the rows: how many, their subtree root, and their terms."""

    id: str
    name: str
    rows: int | None
    root: str | None
    purposes: list[str] = field(default_factory=lambda: ["any"])
    regions: list[str] = field(default_factory=lambda: ["any"])
    expires: str | None = None
    exclusive_to: str | None = None
    attribution: str | None = None
    license: str | None = None


@dataclass
class DatasetLineage:
    name: str
    source: str
    sha256: str
    sidecar: str | None
    rows: int | None
    root: str
    owners: list[OwnerTerms]
    matches_deposit: bool | None = None


@dataclass
class ArtifactLineage:
    """A model's (or a service's) data: datasets, owners, terms, digest, statements."""

    kind: str
    name: str
    node: str | None
    sha256: str | None
    run_id: str | None
    traced: bool
    root: str | None
    rows: int | None
    owners: list[OwnerTerms]
    datasets: list[DatasetLineage]
    use: dict[str, Any] | None = None
    override: dict[str, Any] | None = None
    statements: list[OwnerStatement] = field(default_factory=list)


def model_ports(record: Any, node_id: str) -> list[str]:
    """The output ports of ``node_id`` whose model (or fitted transform) the run record
    gives a lineage for, in the record's order."""
    ownership = _record_dict(record).get("ownership") or {}
    return [m["port"] for m in ownership.get("models", []) if m["node"] == node_id]


def model_lineage(record: Any, node_id: str, port: str = "model", *,
                  runs_dir: str | Path | None = None, statements: bool = True,
                  records: Iterable[Any] = ()) -> ArtifactLineage | None:
    """The lineage of the model (or fitted transform) ``node_id.port`` of a run; None
    when its data had no owners. ``statements`` adds each owner's statement (the
    run store at ``runs_dir``, and ``records``)."""
    data = _record_dict(record)
    ownership = data.get("ownership") or {}
    model = next((m for m in ownership.get("models", [])
                  if m["node"] == node_id and m["port"] == port), None)
    if model is None:
        return None
    datasets = [_dataset(d) for d in ownership.get("datasets", [])
                if d["sha256"] in set(model.get("sources", []))]
    terms = {o.id: o for d in datasets for o in d.owners}
    if model.get("digest"):
        owners = [_with_rows(terms.get(o), o, i) for o, i in model["digest"]["owners"].items()]
    else:
        owners = [o for d in datasets for o in d.owners]
    lineage = ArtifactLineage(
        model.get("kind", "model"), str(model.get("name") or node_id), node_id,
        model.get("sha256"), data.get("run_id"), bool(model.get("traced")),
        (model.get("digest") or {}).get("root"), (model.get("digest") or {}).get("rows"),
        owners, datasets, ownership.get("use"), ownership.get("override"))
    if statements:
        lineage.statements = owner_statements([o.id for o in owners], runs_dir=runs_dir,
                                              records=[data, *records])
    return lineage


def source_lineage(record: Any, node_id: str, *, runs_dir: str | Path | None = None,
                   statements: bool = True, records: Iterable[Any] = ()
                   ) -> ArtifactLineage | None:
    """The lineage of the dataset the source node ``node_id`` read in a run (kind
    "dataset"): its owners with their rows and terms, its digest; None when the run
    read no owned data there."""
    data = _record_dict(record)
    ownership = data.get("ownership") or {}
    entry = next((d for d in ownership.get("datasets", []) if d["node"] == node_id), None)
    if entry is None:
        return None
    dataset = _dataset(entry)
    lineage = ArtifactLineage("dataset", dataset.name, node_id, dataset.sha256,
                              data.get("run_id"), True, dataset.root, dataset.rows,
                              dataset.owners, [dataset], ownership.get("use"),
                              ownership.get("override"))
    if statements:
        lineage.statements = owner_statements([o.id for o in dataset.owners],
                                              runs_dir=runs_dir, records=[data, *records])
    return lineage


def declared_lineage(workflow: Workflow, node_id: str, *, runs_dir: str | Path | None = None,
                     statements: bool = True, records: Iterable[Any] = ()
                     ) -> ArtifactLineage | None:
    """What the source node ``node_id`` will read, before any run: the owners and terms
    its sidecar declares and the deposit's digest (as the file was described); None
    when it reads no described data. SidecarError for a sidecar that cannot be read."""
    from studio.ownership.terms import declared_ownership

    declared = declared_ownership(workflow, node_id)
    if declared is None:
        return None
    ownership = declared.ownership
    deposit = ownership.deposit or {}
    digest = {"owners": deposit.get("owners") or {}}
    # An owner met in the owner column but not listed has the dataset's terms.
    ids = dict.fromkeys([*(o.id for o in ownership.owners), *digest["owners"]])
    owners = [_owner_terms(ownership.owner(i).to_dict(), digest) for i in ids]
    dataset = DatasetLineage(declared.dataset, declared.source, ownership.sha256 or "",
                             ownership.path, deposit.get("rows"), deposit.get("root") or "",
                             owners)
    lineage = ArtifactLineage("dataset", declared.dataset, node_id, ownership.sha256, None,
                              True, deposit.get("root"), deposit.get("rows"), owners,
                              [dataset])
    if statements:
        lineage.statements = owner_statements([o.id for o in owners], runs_dir=runs_dir,
                                              records=records)
    return lineage


def bundle_lineage(folder: str | Path, *, runs_dir: str | Path | None = None,
                   statements: bool = True) -> ArtifactLineage | None:
    """The lineage of a service bundle (its manifest's ``ownership`` entry)."""
    from studio.ownership.artifacts import open_artifact

    artifact = open_artifact(folder)
    manifest = json.loads((Path(folder) / "manifest.json").read_text())
    entry = manifest.get("ownership") or {}
    if not entry:
        return None
    datasets = [DatasetLineage(d["name"], "", d["sha256"], None, d["digest"].get("rows"),
                               d["digest"]["root"], [_owner_terms(o, d["digest"])
                                                     for o in d.get("owners", [])])
                for d in entry.get("datasets", [])]
    models = [t for t in artifact.targets if t.kind == "model"]
    terms = {o.id: o for d in datasets for o in d.owners}
    owners = [_with_rows(terms.get(o), o, i) for t in models
              for o, i in t.summary["owners"].items()]
    root = models[0].root if len(models) == 1 else None
    use = entry.get("use") or {}
    override = ({"reason": use.get("override"), "violations": use.get("overridden_terms")}
                if use.get("override") else None)
    lineage = ArtifactLineage("service", str(manifest.get("name", Path(folder).name)), None,
                              None, entry.get("training_run"),
                              all(t.summary.get("traced", True) for t in models), root,
                              sum(int(t.summary["rows"]) for t in models) or None,
                              owners, datasets, use or None, override)
    if statements:
        lineage.statements = owner_statements([o.id for o in owners], runs_dir=runs_dir)
    return lineage


def owner_statements(owners: Sequence[str], *, runs_dir: str | Path | None = None,
                     period: str | None = None, records: Iterable[Any] = ()
                     ) -> list[OwnerStatement]:
    """The statement of each owner in ``owners`` (all time, or ``period``), over the run
    store's records and ``records`` (a run both hold counts once)."""
    if not owners:
        return []
    by_run = {r.get("run_id"): r for r in records_from_store(runs_dir)}
    for record in records:
        data = _record_dict(record)
        by_run.setdefault(data.get("run_id"), data)
    ordered = sorted(by_run.values(), key=lambda r: str(r.get("started") or ""))
    result = []
    for owner in dict.fromkeys(owners):
        result += make_statement(ordered, period=period, owner=owner).owners
    return result


def _record_dict(record: Any) -> dict[str, Any]:
    return record.to_dict() if hasattr(record, "to_dict") else dict(record)


def _dataset(entry: Mapping[str, Any]) -> DatasetLineage:
    return DatasetLineage(entry["name"], entry.get("source", ""), entry["sha256"],
                          entry.get("sidecar"), entry.get("rows"), entry["digest"]["root"],
                          [_owner_terms(o, entry["digest"]) for o in entry.get("owners", [])],
                          entry.get("matches_deposit"))


def _owner_terms(owner: Mapping[str, Any], digest: Mapping[str, Any]) -> OwnerTerms:
    terms = owner.get("terms") or {}
    info = (digest.get("owners") or {}).get(owner["id"], {})
    return OwnerTerms(owner["id"], owner.get("name") or owner["id"], info.get("rows"),
                      info.get("root"), list(terms.get("purposes") or ["any"]),
                      list(terms.get("regions") or ["any"]), terms.get("expires"),
                      terms.get("exclusive_to"), terms.get("attribution"), terms.get("license"))


def _with_rows(terms: OwnerTerms | None, owner: str, info: Mapping[str, Any]) -> OwnerTerms:
    base = terms or OwnerTerms(owner, owner, None, None)
    return OwnerTerms(base.id, base.name, int(info["rows"]), info["root"], base.purposes,
                      base.regions, base.expires, base.exclusive_to, base.attribution,
                      base.license)
