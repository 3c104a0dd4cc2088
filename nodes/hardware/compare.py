"""Compare Hardware: one model's reports from any number of backends side by side."""

from __future__ import annotations

from typing import Any

import pandas as pd

from nodes.context import RunContext
from nodes.contract import ScoringRole
from nodes.errors import NodeInputError
from nodes.hardware.registry import resource_text
from nodes.hardware.report import HardwareReport
from nodes.node import Node
from nodes.ports import HARDWARE_REPORT, TABLE, Input, Output
from nodes.values import Table

#: Metrics shown for every backend (a column only when some report has it).
COMPARED_METRICS = ("accuracy", "digital_accuracy", "agreement", "rmse", "digital_rmse",
                    "rmse_vs_digital", "max_output_difference", "latency_per_sample_s",
                    "latency_per_batch_s", "throughput_samples_per_s", "energy_per_inference_j",
                    "power_w")

#: The statuses whose assumptions are counted per row (column name: status).
COUNTED_STATUSES = {"estimated_assumptions": "estimate", "derived_assumptions": "derived",
                    "vendor_claim_assumptions": "vendor claim"}


class CompareHardware(Node):
    """Compare one model's runs on any number of hardware backends in one table.

    Input 'reports' (one or more wires): HardwareReports from the "Run on"
    nodes (SpiNNaker, Graphcore GC2, PCM, TENSAI, or any backend a plugin
    adds), for the same model on the same rows, in the order the wires were
    made. Output 'comparison': one row per report with the backend,
    accuracy and digital accuracy (when the rows had labels), agreement with
    the digital model, latency per sample and per batch, throughput, energy
    per inference, power, the hardware used ('resources', as each backend
    describes it) and how many of the report's figures are estimates
    ('estimated_assumptions'), derived from other figures
    ('derived_assumptions') or rest on the maker's word alone
    ('vendor_claim_assumptions').

    Reports for different models or different rows are refused, since their
    figures would not be comparable.
    """

    type_id = "compare_hardware"
    version = 2
    title = "Compare Hardware"
    category = "Hardware"
    scoring_role = ScoringRole.TRAINING_ONLY
    #: Version 1 had four report inputs; their wires load into 'reports' in this order.
    merged_inputs = {"reports": ("first", "second", "third", "fourth")}

    class Inputs:
        reports = Input(HARDWARE_REPORT, multiple=True,
                        help="Hardware reports of one model on the same rows (any number).")

    class Outputs:
        comparison = Output(TABLE, help="One row per report: accuracy, latency, energy, "
                                        "resources.")

    @classmethod
    def migrate_params(cls, params: dict[str, Any], from_version: int) -> dict[str, Any]:
        # Version 2 changed only the inputs (merged_inputs); the parameters are the same.
        return params

    def run(self, ctx: RunContext, reports: list[HardwareReport] | HardwareReport | None = None
            ) -> dict[str, Any]:
        if isinstance(reports, HardwareReport):
            reports = [reports]
        reports = [r for r in (reports or []) if r is not None]
        if not reports:
            raise NodeInputError(self.label, "no hardware report is connected.", port="reports",
                                 fix="Wire the 'report' output of one or more Run on ... nodes "
                                     "into 'reports'.")
        first = reports[0]
        for position, report in enumerate(reports[1:], start=2):
            for what, attribute in (("model", "model_digest"), ("rows", "data_digest")):
                if getattr(report, attribute) != getattr(first, attribute):
                    raise NodeInputError(
                        self.label, f"report {position} (from {report.backend}) is for a "
                        f"different {what} than report 1 (from {first.backend}).",
                        port="reports",
                        fix="Run every backend on the same trained model and the same rows.")
        shown = [name for name in COMPARED_METRICS if any(name in r.metrics for r in reports)]
        rows = []
        for report in reports:
            row: dict[str, Any] = {"backend": report.backend, "model": report.model,
                                   "rows": report.rows}
            row.update({name: report.metrics.get(name) for name in shown})
            row["resources"] = resource_text(report.backend, report.resources)
            for column, status in COUNTED_STATUSES.items():
                row[column] = sum(a.status == status for a in report.assumptions)
            rows.append(row)
        return {"comparison": Table(pd.DataFrame(rows), {"backend": "id", "model": "id"})}
