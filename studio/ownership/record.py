"""The ``ownership`` section of a run record, and the record of a refused run.

``attach_ownership`` is called once by the engine as a run closes. It moves
the training rows Train Model recorded (``DatasetRead.usage == "training"``)
out of ``lineage.datasets`` (which lists datasets read) and files them
under the models they trained; models whose node does not record its
training rows are attributed to every owned row upstream of them
(``traced: false``). It also puts the run's declared use and any overridden
terms on the artifacts the caller kept (``Engine.kept``), so a model
``studio run`` writes says under which use it was made.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Iterable, Mapping, MutableMapping
from pathlib import Path
from typing import Any

from nodes.ownership.tree import TREE_SCHEME
from studio.engine.executor import RemoteValue
from studio.engine.record import NodeRecord, RunRecord, utc_now
from studio.ownership.terms import TermsProblem, use_of, violations
from studio.workflow.fileformat import dumps
from studio.workflow.model import Workflow


def attach_ownership(record: RunRecord, workflow: Workflow,
                     kept: MutableMapping[tuple[str, str], Any] | None = None) -> None:
    """Fill ``record.ownership`` (None when the run read no dataset with owners and
    declared no use) and stamp the kept artifacts with the run's use."""
    lineage = record.lineage
    training = {d["node"]: d for d in lineage["datasets"] if d.get("usage") == "training"}
    if training:
        lineage["datasets"] = [d for d in lineage["datasets"] if d.get("usage") != "training"]
        read = {d["sha256"] for d in lineage["datasets"]}
        extra = {d["sha256"] for d in training.values()} - read
        for model in lineage["models"]:
            model["trained_on"] = [s for s in model.get("trained_on", []) if s not in extra]
    owned = [d for d in lineage["datasets"] if d.get("ownership")]
    use, _ = use_of(workflow)
    declared = any(v is not None for v in (use.purpose, use.region, use.licensee, use.override))
    if not owned and not declared:
        return
    overridden = []
    if use.override:
        overridden = [v.to_dict() for v in violations(workflow, list(record.nodes), use)[0]]
    stamp = {"run_id": record.run_id, **use.to_dict(),
             "overridden_terms": overridden or None}
    datasets = [_dataset_entry(d) for d in owned]
    for dataset in owned:  # the lineage a service bundle copies carries the use too
        dataset["ownership"] = {**dataset["ownership"], "use": stamp}
    models = [_model_entry(m, training.get(m["node"]), owned) for m in lineage["models"]]
    models = [m for m in models if m is not None]
    record.ownership = {
        "scheme": TREE_SCHEME,
        "use": use.to_dict(),
        "override": ({"reason": use.override, "violations": overridden}
                     if use.override else None),
        "datasets": datasets,
        "owners": _owner_totals(datasets, models),
        "models": models,
        "undescribed": [{"node": d["node"], "name": d["name"], "sha256": d["sha256"]}
                        for d in lineage["datasets"] if not d.get("ownership")],
        "refused": [],
    }
    if kept:
        for key, value in list(kept.items()):
            kept[key] = stamped(value, stamp)


def stamped(value: Any, use: Mapping[str, Any]) -> Any:
    """A copy of a model that carries ``use`` in its ownership digest (other values,
    and models without one, as they are). The cached value is left alone."""
    if isinstance(value, RemoteValue):
        return _StampedRemote(value, dict(use))
    digest = getattr(value, "ownership", None)
    if getattr(value, "kind", None) != "model" or digest is None:
        return value
    return dataclasses.replace(value, ownership=dataclasses.replace(digest, use=dict(use)))


class _StampedRemote(RemoteValue):
    """A value left on a Dask worker: stamped when it is brought here."""

    def __init__(self, remote: RemoteValue, use: dict[str, Any]) -> None:
        self.remote = remote
        self.use = use

    def fetch(self) -> Any:
        return stamped(self.remote.fetch(), self.use)


def record_refusal(workflow: Workflow, problems: Iterable[TermsProblem], *,
                   runs_dir: str | Path | None = None, workflow_path: str | Path | None = None,
                   source: str = "cli") -> RunRecord:
    """Keep a run the terms refused in the run store (status ``refused``, no node run),
    so ``studio audit statement`` lists it among the owners' refused uses."""
    from studio.runs import record_run

    problems = list(problems)
    use, _ = use_of(workflow)
    document = dumps(workflow)
    now = utc_now()
    nodes = {}
    for node_id, node in workflow.nodes.items():
        nodes[node_id] = NodeRecord(node_id, workflow.label(node_id), node.type_id,
                                    node.version, params=dict(node.params))
    record = RunRecord(
        run_id=uuid.uuid4().hex[:12],
        workflow={"name": workflow.info.name, "path": str(workflow_path or ""),
                  "sha256": hashlib.sha256(document.encode()).hexdigest(), "targets": None},
        executor={"name": "none"}, seed=workflow.info.seed, started=now, nodes=nodes,
        finished=now, duration_s=0.0, status="refused",
        error="refused by the terms of its data: " + "; ".join(p.message for p in problems))
    record.ownership = {"scheme": TREE_SCHEME, "use": use.to_dict(), "override": None,
                        "datasets": [], "owners": {}, "models": [], "undescribed": [],
                        "refused": _refused(workflow, problems)}
    record_run(record, workflow, workflow_path=workflow_path, runs_dir=runs_dir, source=source)
    return record


def _refused(workflow: Workflow, problems: list[TermsProblem]) -> list[dict[str, Any]]:
    """Every owner's violation behind the problems (a problem names owners sharing terms
    together; each of them gets the refusal in their statement)."""
    refused = {(p.node, p.dataset, p.term) for p in problems}
    found, _ = violations(workflow, sorted({p.node for p in problems if p.node}))
    return [v.to_dict() for v in found if (v.node, v.dataset, v.term) in refused]


def _digest(summary: Mapping[str, Any]) -> dict[str, Any]:
    return {k: summary.get(k) for k in ("scheme", "arity", "root", "rows", "owners", "traced",
                                        "schemas")}


def _dataset_entry(dataset: Mapping[str, Any]) -> dict[str, Any]:
    summary = dataset["ownership"]
    source = (summary.get("sources") or [{}])[0]
    deposit = source.get("deposit_root")
    return {"node": dataset["node"], "name": dataset["name"], "sha256": dataset["sha256"],
            "source": dataset["source"], "rows": dataset.get("rows"),
            "sidecar": source.get("sidecar"), "owner_column": source.get("owner_column"),
            "owners": source.get("owners", []), "terms": source.get("terms"),
            "digest": _digest(summary),
            "matches_deposit": None if deposit is None else deposit == summary["root"],
            "used_by": dataset.get("used_by", [])}


def _model_entry(model: Mapping[str, Any], training: Mapping[str, Any] | None,
                 owned: list[Mapping[str, Any]]) -> dict[str, Any] | None:
    entry = {"node": model["node"], "port": model["port"], "kind": model["kind"],
             "name": model.get("name"), "sha256": model.get("sha256")}
    if training is not None:
        summary = training["ownership"]
        return {**entry, "traced": bool(summary.get("traced", True)), "digest": _digest(summary),
                "sources": [s.get("sha256") for s in summary.get("sources", [])],
                "training_rows_sha256": training["sha256"]}
    upstream = set(model.get("trained_on", []))
    sources = [d for d in owned if d["sha256"] in upstream]
    if not sources:
        return None
    # The node that made it does not say which rows it learnt from: every owned row
    # upstream of it counts (see docs/data-ownership.md).
    return {**entry, "traced": False, "digest": None,
            "sources": [d["sha256"] for d in sources],
            "derived_from": [{"dataset": d["name"], "sha256": d["sha256"],
                              "root": d["ownership"]["root"]} for d in sources]}


def _owner_totals(datasets: list[Mapping[str, Any]], models: list[Mapping[str, Any]]
                  ) -> dict[str, dict[str, int]]:
    """Per owner: rows read (over every dataset) and models made from their rows."""
    totals: dict[str, dict[str, int]] = {}
    for dataset in datasets:
        for owner, info in dataset["digest"]["owners"].items():
            totals.setdefault(owner, {"rows_read": 0, "models": 0})
            totals[owner]["rows_read"] += int(info["rows"])
    for model in models:
        if model["digest"] is not None:
            owners = set(model["digest"]["owners"])
        else:
            owners = {o for d in datasets if d["sha256"] in model["sources"]
                      for o in d["digest"]["owners"]}
        for owner in owners:
            totals.setdefault(owner, {"rows_read": 0, "models": 0})
            totals[owner]["models"] += 1
    return totals
