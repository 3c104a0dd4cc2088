"""Run records: what ran, how long, with which data, in which environment.

A run record is plain JSON written beside a run's outputs. Its ``lineage``
lists the SHA-256 of every dataset read and every model produced and which
nodes used them; its ``environment`` identifies the machine and packages,
so results computed elsewhere are never mistaken for a local run.
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
import socket
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

RECORD_VERSION = 1

#: Distributions whose versions change results (looked up, never imported).
KEY_PACKAGES = ("axon-studio", "numpy", "pandas", "scikit-learn", "scipy", "networkx",
                "pyarrow", "skops", "tensorflow", "keras", "PySide6-Essentials", "dask",
                "distributed")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@functools.lru_cache(maxsize=1)
def environment() -> dict[str, Any]:
    """Python, platform, host and key package versions, plus their fingerprint."""
    packages = {}
    for name in KEY_PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    info = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "host": socket.gethostname(),
        "packages": packages,
    }
    identity = {k: info[k] for k in ("python", "implementation", "platform", "machine", "host",
                                     "packages")}
    info["fingerprint"] = hashlib.sha256(
        json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return info


@dataclass
class NodeRecord:
    """One node's part of a run."""

    node_id: str
    title: str
    type_id: str
    version: int
    state: str = "not run"
    cache_key: str | None = None
    cache_hit: bool = False
    started: str | None = None
    finished: str | None = None
    duration_s: float | None = None
    error: str | None = None
    error_type: str | None = None
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    #: Warnings the node raised (its own, or e.g. scikit-learn's ConvergenceWarning).
    warnings: list[str] = field(default_factory=list)
    origin: dict[str, Any] | None = None  # for cache hits: the run that computed it
    #: The parameters it ran with (an inherited seed resolved to the seed used).
    params: dict[str, Any] = field(default_factory=dict)
    #: The seed it ran with; None for a node that draws no random numbers.
    seed: int | None = None
    #: Its declared side effects ("writes_files"), if any: it is never a cache hit.
    side_effects: str | None = None
    #: Why its cached result was not used (it failed its digest check), if so.
    cache_problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class RunRecord:
    """The whole record of one run; ``to_dict`` is what gets written."""

    run_id: str
    workflow: dict[str, Any]
    executor: dict[str, Any]
    seed: int
    started: str
    nodes: dict[str, NodeRecord]
    finished: str | None = None
    duration_s: float | None = None
    status: str = "running"  # succeeded | failed | cancelled | invalid
    lineage: dict[str, Any] = field(default_factory=lambda: {"datasets": [], "models": []})
    environment: dict[str, Any] = field(default_factory=environment)
    #: Folders the run's nodes could write to.
    files: dict[str, Any] = field(default_factory=dict)
    #: Files the run should have written but could not (say, a full disk).
    not_written: list[dict[str, str]] = field(default_factory=list)
    #: What stopped the run itself (not a node), if anything did.
    error: str | None = None
    #: Owners, terms, the declared use and the data-ownership digests of the data the
    #: run read and the models it made (studio.ownership.record); None without owners.
    ownership: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "record_version": RECORD_VERSION,
            "run_id": self.run_id,
            "status": self.status,
            "workflow": self.workflow,
            "executor": self.executor,
            "seed": self.seed,
            "started": self.started,
            "finished": self.finished,
            "duration_s": self.duration_s,
            "nodes": {k: v.to_dict() for k, v in self.nodes.items()},
            "lineage": self.lineage,
            "environment": self.environment,
            "files": self.files,
            "not_written": self.not_written,
            "error": self.error,
            "ownership": self.ownership,
        }

    def write(self, path: Path) -> Path:
        from studio.workflow.fileformat import atomic_write_text

        atomic_write_text(path, json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n")
        return path

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for node in self.nodes.values():
            counts[node.state] = counts.get(node.state, 0) + 1
        return counts


def is_foreign(record: dict[str, Any]) -> bool:
    """True when a stored record was made on another machine or environment."""
    fingerprint = record.get("environment", {}).get("fingerprint")
    return fingerprint != environment()["fingerprint"]


def load_record(path: Path) -> dict[str, Any]:
    """Read a run record (plain JSON); raises ValueError for a non-record."""
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict) or "record_version" not in data:
        raise ValueError(f"{path} is not an Axon Studio run record")
    return data
