"""Compare Hardware: one model's reports from several backends side by side."""

from __future__ import annotations

from typing import Any

import pandas as pd

from nodes.context import RunContext
from nodes.errors import NodeInputError
from nodes.hardware.report import HardwareReport
from nodes.node import Node
from nodes.ports import HARDWARE_REPORT, TABLE, Input, Output
from nodes.values import Table

#: Metrics shown for every backend (missing ones are left empty).
COMPARED_METRICS = ("accuracy", "digital_accuracy", "agreement", "rmse", "digital_rmse",
                    "rmse_vs_digital", "max_output_difference", "latency_per_sample_s",
                    "latency_per_batch_s", "throughput_samples_per_s", "energy_per_inference_j")

# The resources that say how much hardware a run occupies, by backend kind.
_RESOURCE_WORDS = (("boards", "board"), ("chips", "chip"), ("cores", "core"),
                   ("tiles_used", "tile"), ("crossbar_tiles", "crossbar tile"),
                   ("devices", "PCM device"))


class CompareHardware(Node):
    """Compare one model's runs on several hardware backends in one table.

    Inputs 'first' (required), 'second', 'third' and 'fourth' (optional):
    HardwareReports from Run on SpiNNaker, Run on Graphcore GC2 or Run on
    PCM, for the same model on the same rows. Output 'comparison': one row
    per report with the backend, accuracy and digital accuracy (when the
    rows had labels), agreement with the digital model, latency per sample
    and per batch, throughput, energy per inference, the hardware used
    ('resources', as text) and how many of the report's figures rest on
    estimates ('estimated_assumptions') or are derived from published
    numbers ('derived_assumptions').

    Reports for different models or different rows are refused, since their
    figures would not be comparable.
    """

    type_id = "compare_hardware"
    version = 1
    title = "Compare Hardware"
    category = "Hardware"

    class Inputs:
        first = Input(HARDWARE_REPORT, help="A hardware report.")
        second = Input(HARDWARE_REPORT, optional=True, help="Another backend's report.")
        third = Input(HARDWARE_REPORT, optional=True, help="Another backend's report.")
        fourth = Input(HARDWARE_REPORT, optional=True, help="Another backend's report.")

    class Outputs:
        comparison = Output(TABLE, help="One row per backend: accuracy, latency, energy, "
                                        "resources.")

    def run(self, ctx: RunContext, first: HardwareReport, second: HardwareReport | None = None,
            third: HardwareReport | None = None,
            fourth: HardwareReport | None = None) -> dict[str, Any]:
        reports = {port: report for port, report in
                   (("first", first), ("second", second), ("third", third), ("fourth", fourth))
                   if report is not None}
        for port, report in reports.items():
            for what, attribute in (("model", "model_digest"), ("rows", "data_digest")):
                if getattr(report, attribute) != getattr(first, attribute):
                    raise NodeInputError(
                        self.label, f"the report from {report.backend} is for a different "
                        f"{what} than the one on 'first' ({first.backend}).", port=port,
                        fix="Run every backend on the same trained model and the same rows.")
        rows = []
        for report in reports.values():
            row: dict[str, Any] = {"backend": report.backend, "model": report.model,
                                   "rows": report.rows}
            for name in COMPARED_METRICS:
                if any(name in r.metrics for r in reports.values()):
                    row[name] = report.metrics.get(name)
            row["resources"] = resource_text(report.resources)
            for status in ("estimate", "derived"):
                row[f"{'estimated' if status == 'estimate' else status}_assumptions"] = sum(
                    a.status == status for a in report.assumptions)
            rows.append(row)
        frame = pd.DataFrame(rows)
        return {"comparison": Table(frame, {"backend": "id", "model": "id"})}


def resource_text(resources: dict[str, Any]) -> str:
    """e.g. '3 cores, 1 chip, 1 board' from a report's resources."""
    parts = []
    for key, word in _RESOURCE_WORDS:
        if key in resources:
            count = int(resources[key])
            parts.append(f"{count:,} {word}{'' if count == 1 else 's'}")
    return ", ".join(parts)
