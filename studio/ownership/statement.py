"""The owners' statement: deposits, withdrawals, models, services and refused uses.

Read from run records: the run store's (``RunStore``, see docs/runs.md) or a
folder of ``run_record.json`` files, plus any service bundles given. A
*deposit* is a dataset with the owner's rows, with its terms, as the runs
met it; a *withdrawal* is a run that read the owner's rows (how many, for
which purpose, where, and under which override); *models* are those
trained on them (traced row by row, or attributed to every row upstream);
*services* are bundles whose models carry them; *refused* are runs the
terms stopped before anything ran.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

_PERIOD = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


class StatementError(ValueError):
    """Bad statement arguments (the fix says what is expected)."""

    def __init__(self, message: str, fix: str) -> None:
        self.fix = fix
        super().__init__(message)


@dataclass
class Deposit:
    dataset: str
    sha256: str
    source: str
    rows: int
    terms: dict[str, Any]
    sidecar: str | None
    first_used: str
    matches_deposit: bool | None = None


@dataclass
class Withdrawal:
    run_id: str
    started: str
    workflow: str
    status: str
    purpose: str | None
    region: str | None
    licensee: str | None
    rows_read: int
    datasets: list[str]
    override: str | None = None


@dataclass
class ModelMade:
    run_id: str
    node: str
    name: str | None
    kind: str
    sha256: str | None
    rows: int | None
    root: str | None
    traced: bool


@dataclass
class ServiceMade:
    bundle: str
    name: str
    model: str
    rows: int
    root: str


@dataclass
class Refusal:
    run_id: str
    started: str
    workflow: str
    dataset: str
    term: str
    message: str


@dataclass
class OwnerStatement:
    owner: str
    name: str
    deposits: list[Deposit] = field(default_factory=list)
    withdrawals: list[Withdrawal] = field(default_factory=list)
    models: list[ModelMade] = field(default_factory=list)
    services: list[ServiceMade] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)

    @property
    def rows_withdrawn(self) -> int:
        return sum(w.rows_read for w in self.withdrawals)


@dataclass
class Statement:
    period: str | None
    runs: int
    owners: list[OwnerStatement]

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, "runs": self.runs,
                "owners": [{**asdict(o), "rows_withdrawn": o.rows_withdrawn}
                           for o in self.owners]}


def check_period(period: str | None) -> str | None:
    if period is not None and not _PERIOD.match(period):
        raise StatementError(f"--period {period!r} is not a year, month or day",
                             fix="Give YYYY, YYYY-MM (e.g. 2026-11) or YYYY-MM-DD.")
    return period


def records_from_store(runs_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """Every run record the run store keeps (oldest first)."""
    from studio.runs import RunStore

    return [run.record for run in reversed(RunStore(runs_dir).list())]


def records_from_folder(folder: str | Path) -> list[dict[str, Any]]:
    """Every ``run_record.json`` under ``folder`` (oldest first)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise StatementError(f"{folder} is not a folder", fix="Give the folder holding the "
                                                              "run records (--records DIR).")
    records = []
    for path in sorted(folder.rglob("run_record.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "record_version" in data:
            records.append(data)
    return sorted(records, key=lambda r: str(r.get("started", "")))


def make_statement(records: Iterable[Mapping[str, Any]], *, period: str | None = None,
                   owner: str | None = None, bundles: Sequence[str | Path] = ()) -> Statement:
    """The statement of every owner (or of ``owner``) over the runs of ``period``."""
    check_period(period)
    owners: dict[str, OwnerStatement] = {}
    seen_runs = set()

    def of(owner_id: str, name: str | None = None) -> OwnerStatement:
        statement = owners.setdefault(owner_id, OwnerStatement(owner_id, name or owner_id))
        if name and statement.name == owner_id:
            statement.name = name
        return statement

    for record in records:
        started = str(record.get("started") or "")
        if period is not None and not started.startswith(period):
            continue
        ownership = record.get("ownership") or {}
        if not ownership:
            continue
        seen_runs.add(record.get("run_id"))
        workflow = (record.get("workflow") or {}).get("name") or \
            (record.get("workflow") or {}).get("path") or "?"
        use = ownership.get("use") or {}
        for violation in ownership.get("refused", []):
            of(violation["owner"], violation.get("owner_name")).refused.append(Refusal(
                record["run_id"], started, workflow, violation["dataset"], violation["term"],
                violation["message"]))
        rows_by_owner: dict[str, int] = {}
        datasets_by_owner: dict[str, list[str]] = {}
        for dataset in ownership.get("datasets", []):
            names = {o["id"]: o.get("name") for o in dataset.get("owners", [])}
            terms_by = {o["id"]: o.get("terms") for o in dataset.get("owners", [])}
            for owner_id, info in dataset["digest"]["owners"].items():
                statement = of(owner_id, names.get(owner_id))
                rows_by_owner[owner_id] = rows_by_owner.get(owner_id, 0) + int(info["rows"])
                datasets_by_owner.setdefault(owner_id, []).append(dataset["name"])
                if not any(d.sha256 == dataset["sha256"] and d.rows == int(info["rows"])
                           for d in statement.deposits):
                    statement.deposits.append(Deposit(
                        dataset["name"], dataset["sha256"], dataset["source"], int(info["rows"]),
                        terms_by.get(owner_id) or dataset.get("terms") or {},
                        dataset.get("sidecar"), started, dataset.get("matches_deposit")))
        override = (ownership.get("override") or {}).get("reason")
        for owner_id, rows in rows_by_owner.items():
            owners[owner_id].withdrawals.append(Withdrawal(
                record["run_id"], started, workflow, str(record.get("status")),
                use.get("purpose"), use.get("region"), use.get("licensee"), rows,
                datasets_by_owner[owner_id], override))
        datasets = {d["sha256"]: d for d in ownership.get("datasets", [])}
        for model in ownership.get("models", []):
            if model.get("digest"):
                per_owner = {o: (int(i["rows"]), i["root"])
                             for o, i in model["digest"]["owners"].items()}
            else:
                per_owner = {o: (int(i["rows"]), None) for s in model.get("sources", [])
                             if s in datasets for o, i in datasets[s]["digest"]["owners"].items()}
            for owner_id, (rows, root) in per_owner.items():
                of(owner_id).models.append(ModelMade(
                    record["run_id"], model["node"], model.get("name"), model.get("kind", "model"),
                    model.get("sha256"), rows, root, bool(model.get("traced"))))
    for bundle in bundles:
        for service in _services(Path(bundle)):
            of(service[0]).services.append(service[1])
    chosen = [owners[o] for o in sorted(owners) if owner is None or o == owner]
    if owner is not None and not chosen:
        chosen = [OwnerStatement(owner, owner)]
    return Statement(period, len(seen_runs), chosen)


def _services(folder: Path) -> list[tuple[str, ServiceMade]]:
    from studio.ownership.artifacts import ArtifactError, open_artifact

    try:
        artifact = open_artifact(folder)
    except ArtifactError as error:
        raise StatementError(str(error), error.fix) from None
    if artifact.kind != "bundle":
        raise StatementError(f"{folder} is not a service bundle",
                             fix="Give a folder written by studio export (--bundle DIR).")
    found = []
    for target in artifact.targets:
        if target.kind != "model":
            continue
        for owner_id, info in target.summary["owners"].items():
            found.append((owner_id, ServiceMade(str(folder), folder.name, target.name,
                                                int(info["rows"]), target.root)))
    return found


def format_statement(statement: Statement) -> str:
    """The statement as text, one block per owner."""
    lines = [f"Data statement, {statement.period or 'all time'}: "
             f"{statement.runs} run{'s' if statement.runs != 1 else ''} with owned data"]
    if not statement.owners:
        lines.append("  no owned data was used")
    for owner in statement.owners:
        lines += ["", f"{owner.name} ({owner.owner})" if owner.name != owner.owner
                  else owner.owner]
        lines.append(f"  deposits ({len(owner.deposits)})")
        for d in owner.deposits:
            terms = d.terms or {}
            lines.append(f"    {d.dataset}: {d.rows} rows, sha256 {d.sha256[:12]}…; purposes "
                         f"{', '.join(terms.get('purposes') or ['any'])}; regions "
                         f"{', '.join(terms.get('regions') or ['any'])}; expires "
                         f"{terms.get('expires') or 'never'}; license "
                         f"{terms.get('license') or 'not given'}"
                         + (f"; exclusive to {terms['exclusive_to']}"
                            if terms.get("exclusive_to") else ""))
        lines.append(f"  withdrawals ({len(owner.withdrawals)} runs, "
                     f"{owner.rows_withdrawn} rows)")
        for w in owner.withdrawals:
            lines.append(f"    {w.started[:19]} run {w.run_id} '{w.workflow}' ({w.status}): "
                         f"{w.rows_read} rows of {', '.join(w.datasets)}; purpose "
                         f"{w.purpose or 'not declared'}, region {w.region or 'not declared'}"
                         + (f"; TERMS OVERRIDDEN: {w.override}" if w.override else ""))
        lines.append(f"  models ({len(owner.models)})")
        for m in owner.models:
            how = (f"{m.rows} rows traced, root {m.root[:12]}…" if m.traced and m.root
                   else f"derived from all {m.rows} rows")
            lines.append(f"    run {m.run_id} {m.kind} '{m.name or m.node}' ({m.node}): {how}")
        lines.append(f"  services ({len(owner.services)})")
        for s in owner.services:
            lines.append(f"    {s.bundle}: '{s.model}', {s.rows} rows, root {s.root[:12]}…")
        lines.append(f"  refused uses ({len(owner.refused)})")
        for r in owner.refused:
            lines.append(f"    {r.started[:19]} run {r.run_id} '{r.workflow}': {r.term} "
                         f"({r.dataset})")
    return "\n".join(lines) + "\n"
