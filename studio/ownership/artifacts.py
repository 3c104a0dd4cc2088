"""Reading the data-ownership digests an artifact carries.

An artifact is a stored model or transform folder (what ``studio run``
writes under ``models/``: ``meta.json`` beside ``ownership.json``), a run
record (``run_record.json``, or the folder holding one), or a service bundle
(``manifest.json`` with an ``ownership`` entry, from :func:`ownership_manifest`).
Each gives one or more *targets*: a digest (root, per-owner roots and row
counts) with a kind (model, dataset) and a name.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nodes.ownership.tree import TREE_SCHEME, OwnershipDigest, summary_root
from studio.workflow.model import Workflow


class ArtifactError(ValueError):
    """A path that is not an artifact with a data-ownership digest (with the fix)."""

    def __init__(self, message: str, fix: str) -> None:
        self.fix = fix
        super().__init__(message)


@dataclass
class Target:
    """One digest an artifact carries."""

    kind: str  # "model" or "dataset"
    name: str
    node: str | None
    summary: dict[str, Any]
    #: How to get the rows' hashes (for row proofs): None when the artifact has none.
    trees: Callable[[], OwnershipDigest] | None = field(default=None, repr=False)
    #: For a dataset read by a run: the node and its parameters, to read it again.
    source: dict[str, Any] | None = None

    @property
    def root(self) -> str:
        return str(self.summary["root"])

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "node": self.node}


@dataclass
class Artifact:
    """An artifact and the digests it carries."""

    kind: str  # "model", "run" or "bundle"
    path: Path
    targets: list[Target]
    use: dict[str, Any] | None = None

    def target(self, name: str | None = None) -> Target:
        """The target named ``name`` (node id or name); by default the one model (or
        the one dataset) the artifact has. ArtifactError when that is not clear."""
        if name is not None:
            for target in self.targets:
                if name in (target.node, target.name):
                    return target
            raise ArtifactError(f"{self.path} has no digest named '{name}'",
                                fix=f"Choose one of: {self.names()}.")
        models = [t for t in self.targets if t.kind == "model"]
        for group in (models, self.targets):
            if len(group) == 1:
                return group[0]
        if not self.targets:
            raise ArtifactError(f"{self.path} carries no data-ownership digest",
                                fix="Its data had no sidecar naming owners (studio data "
                                    "describe FILE adds one), so nothing can be proved.")
        raise ArtifactError(f"{self.path} carries several digests",
                            fix=f"Choose one with --target: {self.names()}.")

    def names(self) -> str:
        return ", ".join(f"{t.node or t.name} ({t.kind})" for t in self.targets) or "none"


def open_artifact(path: str | Path) -> Artifact:
    """The artifact at ``path``; ArtifactError naming what was expected."""
    path = Path(path)
    if path.is_dir() and (path / "manifest.json").is_file():
        return _bundle(path)
    if path.is_dir() and (path / "meta.json").is_file():
        return _model(path)
    if path.is_dir() and (path / "run_record.json").is_file():
        path = path / "run_record.json"
    if path.is_file():
        return _record(path, _read_json(path))
    raise ArtifactError(f"{path} is not a model folder, a run record or a service bundle",
                        fix="Give a model folder written by studio run (models/NODE.PORT), "
                            "a run_record.json (or its folder), or a bundle folder.")


def ownership_manifest(scoring: Workflow) -> dict[str, Any] | None:
    """The ``ownership`` entry of a service bundle's manifest, for the prepared scoring
    workflow: the digest of every stored model it serves (read from the model folders
    the scoring workflow's stored nodes point at), the datasets they came from, and
    the use and overridden terms of the training run. None when no model has one."""
    service = scoring.info.extra.get("service", {})
    models = []
    for node_id, node in scoring.nodes.items():
        folder = node.params.get("path") if isinstance(node.params, dict) else None
        if not isinstance(folder, str) or not (Path(folder) / "ownership.json").is_file():
            continue
        summary = _read_json(Path(folder) / "ownership.json")
        models.append({"node": node_id, "title": scoring.label(node_id),
                       "sha256": node.params.get("sha256"), "digest": _compact(summary)})
    datasets = [d for d in service.get("lineage", {}).get("datasets", [])
                if isinstance(d, dict) and d.get("ownership")]
    if not models and not datasets:
        return None
    uses = [d["ownership"].get("use") for d in datasets if d["ownership"].get("use")]
    return {"scheme": TREE_SCHEME, "training_run": service.get("training_run"),
            "use": uses[0] if uses else None,
            "models": models,
            "datasets": [{"name": d["name"], "sha256": d["sha256"],
                          "digest": _compact(d["ownership"]),
                          "owners": (d["ownership"].get("sources") or [{}])[0].get("owners", [])}
                         for d in datasets]}


# -- the three kinds -------------------------------------------------------------------

def _model(folder: Path) -> Artifact:
    if not (folder / "ownership.json").is_file():
        return Artifact("model", folder, [])
    summary = _checked(_read_json(folder / "ownership.json"), folder / "ownership.json")
    meta = _read_json(folder / "meta.json")
    target = Target("model", str(meta.get("name") or folder.name), folder.name, summary,
                    trees=lambda: OwnershipDigest.load(folder))
    return Artifact("model", folder, [target], summary.get("use"))


def _record(path: Path, record: dict[str, Any]) -> Artifact:
    if "record_version" not in record:
        raise ArtifactError(f"{path} is not an Axon Studio run record",
                            fix="Give the run_record.json studio run wrote.")
    ownership = record.get("ownership") or {}
    targets = []
    for dataset in ownership.get("datasets", []):
        node = dataset["node"]
        source = {"node": node, **record["nodes"].get(node, {})}
        targets.append(Target("dataset", dataset["name"], node, _checked(dataset["digest"], path),
                              trees=lambda source=source: read_again(source), source=source))
    for model in ownership.get("models", []):
        if model.get("digest"):
            targets.append(Target("model", str(model.get("name") or model["node"]),
                                  model["node"], _checked(model["digest"], path)))
    return Artifact("run", path, targets, ownership.get("use"))


def _bundle(folder: Path) -> Artifact:
    manifest = _read_json(folder / "manifest.json")
    entry = manifest.get("ownership") or {}
    targets = []
    for model in entry.get("models", []):
        stored = next((f for f in (folder / "models" / model["node"], folder / model["node"])
                       if (f / "ownership.json").is_file()), folder / "models" / model["node"])
        trees = ((lambda stored=stored: OwnershipDigest.load(stored))
                 if (stored / "ownership.json").is_file() else None)
        targets.append(Target("model", str(model.get("title") or model["node"]), model["node"],
                              _checked(model["digest"], folder / "manifest.json"), trees=trees))
    for dataset in entry.get("datasets", []):
        targets.append(Target("dataset", dataset["name"], None,
                              _checked(dataset["digest"], folder / "manifest.json")))
    return Artifact("bundle", folder, targets, entry.get("use"))


def read_again(node_record: dict[str, Any]) -> OwnershipDigest:
    """The digest of a dataset a run read, from reading it again with the node and
    parameters the run record gives (for row proofs about a run's data)."""
    from nodes.errors import StudioError
    from nodes.registry import default_registry
    from nodes.testing import run_node

    try:
        node_type = default_registry().get(node_record["type_id"])
        outputs = run_node(node_type, node_record.get("params", {}))
    except (StudioError, KeyError) as error:
        raise ArtifactError(f"the dataset of node '{node_record.get('node')}' cannot be read "
                            f"again: {error}", fix="Prove from where the data is, or prove an "
                                                   "owner (--owner) instead.") from None
    for value in outputs.values():
        if getattr(value, "ownership", None) is not None:
            return value.ownership.digest()
    raise ArtifactError(f"the dataset of node '{node_record.get('node')}' has no sidecar now",
                        fix="Restore its sidecar, or prove an owner (--owner) instead.")


def _checked(summary: dict[str, Any], where: Path) -> dict[str, Any]:
    """A digest read from a file: its owner entries must give its root."""
    if summary.get("scheme") != TREE_SCHEME or summary_root(summary) != summary.get("root"):
        raise ArtifactError(f"{where}: a data-ownership digest there does not hold together "
                            "(its owners' entries do not give its root)",
                            fix="The artifact was altered: use an unaltered copy.")
    return summary


def _compact(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: summary.get(k) for k in ("scheme", "arity", "root", "rows", "owners", "traced",
                                        "schemas", "use") if k in summary}


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ArtifactError(f"{path} cannot be read as JSON ({error})",
                            fix="Give an artifact written by Axon Studio.") from None
    if not isinstance(data, dict):
        raise ArtifactError(f"{path} is not a JSON object", fix="Give an artifact written by "
                                                                "Axon Studio.")
    return data
