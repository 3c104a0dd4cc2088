"""Comparing two stored runs: what changed (parameters, seed, data, environment)
and what it did to the metrics.

    comparison = compare_runs(store.resolve("latest~1"), store.resolve("latest"))
    comparison.parameter_changes   # [ParameterChange(node_id="split", name="fraction", ...)]
    comparison.metric_deltas       # [MetricDelta(output="evaluate.metrics", name="mae", ...)]

``studio runs compare`` prints it; the app's Runs panel shows it side by
side. Both read the same dataclasses, never formatted text.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from studio.runs.store import StoredRun

_MISSING = "(not in this run)"


@dataclass(frozen=True)
class ParameterChange:
    """One parameter whose value differs between the runs (None: the node is
    missing from that run; see ``ParameterChange.node_only_in``)."""

    node_id: str
    title: str
    name: str
    before: Any
    after: Any


@dataclass(frozen=True)
class MetricDelta:
    """One metric of both runs; ``delta`` is after - before (None unless both are numbers)."""

    output: str
    name: str
    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def relative(self) -> float | None:
        """delta / |before| (None when before is 0 or missing)."""
        delta = self.delta
        if delta is None or not self.before:
            return None
        return delta / abs(self.before)


@dataclass
class RunComparison:
    """What differs between run ``before`` and run ``after``."""

    before: StoredRun
    after: StoredRun
    parameter_changes: list[ParameterChange] = field(default_factory=list)
    #: Nodes in only one of the runs: node id -> "before" or "after".
    nodes_only_in: dict[str, str] = field(default_factory=dict)
    metric_deltas: list[MetricDelta] = field(default_factory=list)
    seed: tuple[int, int] = (0, 0)
    overrides: tuple[list[str], list[str]] = ([], [])
    #: Datasets whose digest differs: name -> (before sha256, after sha256).
    dataset_changes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    #: Package versions that differ: name -> (before, after).
    package_changes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    same_environment: bool = True
    same_workflow_file: bool = True

    @property
    def changed_metrics(self) -> list[MetricDelta]:
        return [m for m in self.metric_deltas if m.changed]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (``studio runs compare --json``)."""
        return {
            "before": self.before.run_id, "after": self.after.run_id,
            "same_workflow_file": self.same_workflow_file,
            "seed": {"before": self.seed[0], "after": self.seed[1]},
            "overrides": {"before": self.overrides[0], "after": self.overrides[1]},
            "parameters": [asdict(c) for c in self.parameter_changes],
            "nodes_only_in": self.nodes_only_in,
            "metrics": [{**asdict(m), "delta": m.delta, "relative": m.relative}
                        for m in self.metric_deltas],
            "datasets": {k: {"before": b, "after": a}
                         for k, (b, a) in self.dataset_changes.items()},
            "same_environment": self.same_environment,
            "packages": {k: {"before": b, "after": a}
                         for k, (b, a) in self.package_changes.items()},
        }


def compare_runs(before: StoredRun, after: StoredRun) -> RunComparison:
    """Parameter differences and metric deltas of two stored runs."""
    comparison = RunComparison(before, after, seed=(before.seed, after.seed),
                               overrides=(list(before.overrides), list(after.overrides)),
                               same_workflow_file=before.workflow_path == after.workflow_path)
    params_before, params_after = before.params, after.params
    titles = {**before.titles, **after.titles}
    for node_id in [*params_before, *(n for n in params_after if n not in params_before)]:
        if node_id not in params_after:
            comparison.nodes_only_in[node_id] = "before"
            continue
        if node_id not in params_before:
            comparison.nodes_only_in[node_id] = "after"
            continue
        old, new = params_before[node_id], params_after[node_id]
        for name in [*old, *(n for n in new if n not in old)]:
            if not _same(old.get(name, _MISSING), new.get(name, _MISSING)):
                comparison.parameter_changes.append(ParameterChange(
                    node_id, titles.get(node_id, node_id), name, old.get(name, _MISSING),
                    new.get(name, _MISSING)))
    outputs = list(dict.fromkeys([*before.metrics, *after.metrics]))
    for output in outputs:
        old_scalars = before.metrics.get(output, {})
        new_scalars = after.metrics.get(output, {})
        for name in dict.fromkeys([*old_scalars, *new_scalars]):
            comparison.metric_deltas.append(MetricDelta(
                output, name, old_scalars.get(name), new_scalars.get(name)))
    comparison.dataset_changes = _dataset_changes(before.record, after.record)
    env_before = before.record.get("environment", {})
    env_after = after.record.get("environment", {})
    comparison.same_environment = env_before.get("fingerprint") == env_after.get("fingerprint")
    packages_before = env_before.get("packages", {})
    packages_after = env_after.get("packages", {})
    for name in dict.fromkeys([*packages_before, *packages_after]):
        if packages_before.get(name) != packages_after.get(name):
            comparison.package_changes[name] = (packages_before.get(name),
                                                packages_after.get(name))
    return comparison


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b and type(a) is type(b) or (
        isinstance(a, (int, float)) and isinstance(b, (int, float))
        and not isinstance(a, bool) and not isinstance(b, bool) and a == b)


def _dataset_changes(before: dict[str, Any], after: dict[str, Any]
                     ) -> dict[str, tuple[str | None, str | None]]:
    def digests(record: dict[str, Any]) -> dict[str, str]:
        return {f"{d.get('node')}: {d.get('name')}": d.get("sha256")
                for d in record.get("lineage", {}).get("datasets", [])}

    old, new = digests(before), digests(after)
    return {name: (old.get(name), new.get(name))
            for name in dict.fromkeys([*old, *new]) if old.get(name) != new.get(name)}
