"""The HardwareReport: what a simulated device run measured, estimated and assumed."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from nodes.digest import stable_digest
from nodes.hardware.sources import Constant
from nodes.values import json_safe, register_value_kind

#: How a figure in a report was obtained: the constant statuses of
#: :mod:`nodes.hardware.sources` plus how the simulation represents something
#: (``modelling choice``) and node parameters (``setting``).
STATUSES = ("datasheet", "paper", "published", "vendor claim", "derived", "estimate",
            "modelling choice", "setting")


@dataclass(frozen=True)
class Assumption:
    """One constant or modelling decision behind a report, with where it comes from.

    ``status``: ``datasheet``, ``paper``, ``published`` (documented software
    defaults), ``vendor claim`` (the maker's statement, unverified),
    ``derived`` (computed from other figures, the derivation in ``value``),
    ``estimate`` (ours, no published figure), ``modelling choice`` (how the
    simulation represents something) or ``setting`` (a node parameter).
    """

    name: str
    value: str
    source: str
    status: str = "published"

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {STATUSES}")

    @classmethod
    def of(cls, name: str, value: str, constant: Constant) -> Assumption:
        """An assumption resting on a declared ``constant`` (its source and status)."""
        return cls(name, value, constant.citation, constant.status)


@dataclass
class HardwareReport:
    """Accuracy, latency, energy and resources of one model run on a simulated device.

    - ``metrics``: numbers. Accuracy of the device run against the labels
      (``accuracy``, when the rows have labels) and of the digital model
      (``digital_accuracy``), ``agreement`` (share of rows where the device
      predicts what the digital model predicts), latency per sample and per
      batch, throughput, energy per inference, and backend-specific figures.
      Regression reports ``rmse``, ``digital_rmse`` and ``rmse_vs_digital``.
    - ``resources``: cores/chips/boards, tiles and memory, crossbar tiles
      and devices.
    - ``assumptions``: every constant and modelling choice with its source
      and whether it is published, derived or an estimate.
    - ``tables``: sweeps and per-layer mappings, as DataFrames whose first
      column is the x axis; ``plots`` says which to draw
      (``{"table", "x", "y": [...], "log_x", "title"}``).
    - ``not_modelled``: what the simulation leaves out.
    """

    backend: str
    model: str
    rows: int
    metrics: dict[str, float]
    resources: dict[str, Any]
    assumptions: list[Assumption]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    plots: list[dict[str, Any]] = field(default_factory=list)
    not_modelled: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    model_digest: str = ""
    data_digest: str = ""
    kind: ClassVar[str] = "hardware_report"

    def metric(self, name: str, default: float = float("nan")) -> float:
        return float(self.metrics.get(name, default))

    def to_dict(self) -> dict[str, Any]:
        """Everything but the tables' rows, as plain JSON."""
        return {
            "backend": self.backend, "model": self.model, "rows": self.rows,
            "metrics": json_safe(self.metrics), "resources": json_safe(self.resources),
            "assumptions": [asdict(a) for a in self.assumptions],
            "plots": json_safe(self.plots), "not_modelled": list(self.not_modelled),
            "settings": json_safe(self.settings), "model_digest": self.model_digest,
            "data_digest": self.data_digest,
            "tables": {name: list(map(str, table.columns)) for name, table in self.tables.items()},
        }

    def summary(self) -> dict[str, Any]:
        """For viewers: the report plus every table's rows (they are small)."""
        tables = {name: {"columns": list(map(str, t.columns)),
                         "rows": json_safe(t.to_numpy().tolist())}
                  for name, t in self.tables.items()}
        return {"kind": self.kind, **self.to_dict(), "tables": tables}

    def digest(self) -> str:
        return stable_digest({"report": self.to_dict(), "tables": dict(self.tables)})

    def save(self, folder: Path) -> None:
        folder = Path(folder)
        (folder / "tables").mkdir(parents=True, exist_ok=True)
        for name, table in self.tables.items():
            table.to_parquet(folder / "tables" / f"{_file_name(name)}.parquet", index=False)
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True, allow_nan=False)
        (folder / "report.json").write_text(text)

    @classmethod
    def load(cls, folder: Path) -> HardwareReport:
        folder = Path(folder)
        data = json.loads((folder / "report.json").read_text())
        tables = {name: pd.read_parquet(folder / "tables" / f"{_file_name(name)}.parquet")
                  for name in data["tables"]}
        return cls(
            backend=data["backend"], model=data["model"], rows=data["rows"],
            metrics={k: (float("nan") if v is None else v) for k, v in data["metrics"].items()},
            resources=data["resources"],
            assumptions=[Assumption(**a) for a in data["assumptions"]],
            tables=tables, plots=data["plots"], not_modelled=data["not_modelled"],
            settings=data["settings"], model_digest=data["model_digest"],
            data_digest=data["data_digest"])

    def text(self) -> str:
        """A plain-text rendering (for logs and the CLI)."""
        lines = [f"{self.backend}: {self.model} on {self.rows} rows"]
        lines += [f"  {name} = {_number(value)}" for name, value in self.metrics.items()]
        lines += [f"  {name}: {value}" for name, value in self.resources.items()]
        lines += ["assumptions:"]
        lines += [f"  [{a.status}] {a.name} = {a.value} ({a.source})" for a in self.assumptions]
        if self.not_modelled:
            lines += ["not modelled:"] + [f"  - {item}" for item in self.not_modelled]
        return "\n".join(lines)


def _file_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)


def _number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


register_value_kind(HardwareReport)
