"""Benchmark figures: what was measured against what, the target, and the verdict.

Each bench script prints its own tables and, with ``--results FILE``, writes
its figures as JSON for ``run_all.py`` to gather into one summary.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from studio.cli.display import print_table


@dataclass
class Figure:
    """A measured time compared with a baseline time; passes when ratio <= target."""

    name: str
    measured_s: float
    baseline_s: float
    target_ratio: float
    note: str = ""
    #: What measured_s and baseline_s are in: "s" (seconds) or e.g. "MB".
    unit: str = "s"

    @property
    def ratio(self) -> float:
        return self.measured_s / self.baseline_s

    @property
    def passed(self) -> bool:
        return self.ratio <= self.target_ratio

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Figure:
        return cls(**data)


def parse_args(description: str, argv: Sequence[str] | None = None, *,
               short_repeats: int = 2,
               extra: Sequence[tuple[tuple[str, ...], dict[str, Any]]] = ()
               ) -> argparse.Namespace:
    """The benchmarks' common options; ``short_repeats`` is the --short default
    (more for benchmarks whose runs are short, so their medians settle);
    ``extra`` adds a benchmark's own options as (names, add_argument keywords)."""
    parser = argparse.ArgumentParser(description=description)
    for names, options in extra:
        parser.add_argument(*names, **options)
    parser.add_argument("--short", action="store_true",
                        help="fewer rows and repetitions, for a quick check")
    parser.add_argument("--repeats", type=int, metavar="N",
                        help=f"timed repetitions (default: 5, with --short {short_repeats})")
    parser.add_argument("--results", type=Path, metavar="FILE",
                        help="also write the figures as JSON to FILE (used by run_all.py)")
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = short_repeats if args.short else 5
    elif args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def machine_line() -> str:
    """Cores and native thread pools: timings swing a lot when BLAS threads
    compete with other work on few cores."""
    from threadpoolctl import threadpool_info

    pools = sorted({f"{p['internal_api']} {p['num_threads']}" for p in threadpool_info()})
    return (f"{os.cpu_count()} cores; native threads: {', '.join(pools) or 'none'}. For steadier "
            "figures on a busy machine: OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1.")


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def seconds(value: float) -> str:
    return f"{value:.3f} s" if value >= 0.1 else f"{value * 1000:.1f} ms"


def _amount(figure: Figure, value: float) -> str:
    return seconds(value) if figure.unit == "s" else f"{value:,.0f} {figure.unit}"


def verdict(figure: Figure) -> str:
    return "pass" if figure.passed else "MISSED"


def print_figures(figures: Sequence[Figure], out: TextIO = sys.stdout) -> None:
    """The summary table: figure, measured, baseline, ratio, target, pass/MISSED."""
    rows = [[f.name, _amount(f, f.measured_s), _amount(f, f.baseline_s), f"{f.ratio:.3f}",
             f"<= {f.target_ratio:g}", verdict(f)] for f in figures]
    print_table(["figure", "measured", "baseline", "ratio", "target", "result"], rows, out)
    for figure in figures:
        if figure.note:
            print(f"  {figure.name}: {figure.note}", file=out)
    missed = [f.name for f in figures if not f.passed]
    if missed:
        print(f"\nMISSED: {', '.join(missed)} (see the ratio and target above)", file=out)


def report_speedup(name: str, baseline_label: str, baseline_s: float, measured_label: str,
                   measured_s: float, target_speedup: float, details: str,
                   results: Path | None) -> Figure:
    """Print a speed-up (baseline time / measured time) and its figure; write the results."""
    speedup = baseline_s / measured_s
    print()
    print_table(["medians", "time"], [
        [baseline_label, seconds(baseline_s)],
        [measured_label, seconds(measured_s)],
        ["speed-up", f"{speedup:.2f} (target >= {target_speedup})"],
    ], sys.stdout)
    print()
    figure = Figure(name, measured_s, baseline_s, 1 / target_speedup,
                    note=f"speed-up {speedup:.2f} (target >= {target_speedup}); {details}; "
                         f"load average at the end {os.getloadavg()[0]:.1f}")
    print_figures([figure])
    write_results(results, [figure])
    return figure


def write_results(path: Path | None, figures: Sequence[Figure]) -> None:
    if path is not None:
        path.write_text(json.dumps([f.to_dict() for f in figures], indent=2) + "\n")


def read_results(path: Path) -> list[Figure]:
    return [Figure.from_dict(d) for d in json.loads(path.read_text())]
