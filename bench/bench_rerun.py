"""How fast is a re-run after changing one parameter at the end of the workflow?

The workload is the one of bench_executor_overhead.py (see workload.py):
synthetic rows (scikit-learn's make_classification, 20 features, seed 0;
200,000 rows, --short 50,000) through Import CSV -> Split -> Normalize ->
Apply Transformation -> Logistic Regression -> Train -> Score -> Evaluate.

Each repetition (5, also with --short, after an untimed warm-up) runs the whole
workflow on a new Engine(jobs=1) with a fresh MemoryCache, then changes
only the Evaluate node's 'threshold' and runs again on the same engine:
every upstream node must come from the cache and only 'evaluate' may run
(checked on the run record), and the new accuracy must be that of the
cached scores at the new threshold.

Target: median re-run time / median full-run time <= 0.05.

    python bench/bench_rerun.py [--short] [--repeats N] [--results FILE]
"""

from __future__ import annotations

import gc
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from report import Figure, machine_line, median, parse_args, print_figures, seconds, write_results
from workload import (
    LABEL,
    ROWS_FULL,
    ROWS_SHORT,
    WorkflowRun,
    build_workflow,
    node_work_seconds,
    timed_workflow_run,
    write_synthetic_csv,
)

from studio.cli.display import print_table
from studio.engine import Engine, MemoryCache

TARGET_RATIO = 0.05
CHANGED_NODE = "evaluate"
THRESHOLD_CHANGE = ("threshold", 0.6)


def check_only_changed_node_ran(run: WorkflowRun) -> None:
    for node_id, node in run.record.nodes.items():
        if node_id == CHANGED_NODE:
            if node.state != "done" or node.cache_hit:
                raise AssertionError(f"'{node_id}' should have run again, but its state is "
                                     f"{node.state!r} (cache hit: {node.cache_hit})")
        elif node.state != "cached" or not node.cache_hit:
            raise AssertionError(f"'{node_id}' should have come from the cache, but its state "
                                 f"is {node.state!r} (cache hit: {node.cache_hit})")


def expected_accuracy(engine: Engine, run: WorkflowRun, threshold: float) -> float:
    """The accuracy of the cached scores when the positive class needs >= threshold."""
    scored = engine.cache.get(run.record.nodes["score"].cache_key).outputs["scored"].frame
    actual = scored[LABEL].to_numpy()
    negative, positive = sorted(set(actual.tolist()))
    predicted = np.where(scored["Scored Probabilities"].to_numpy() >= threshold,
                         positive, negative)
    return float(np.mean(predicted == actual))


def full_then_rerun(csv_path: Path, change: tuple[str, Any]
                    ) -> tuple[WorkflowRun, WorkflowRun, float]:
    """A full run, then a re-run after ``change``; and the changed node's own
    code timed alone (node harness) on the same input."""
    workflow = build_workflow(csv_path)
    parameter, value = change
    with Engine(cache=MemoryCache(), jobs=1) as engine:
        gc.collect()
        full = timed_workflow_run(workflow, engine)
        if any(node.cache_hit for node in full.record.nodes.values()):
            raise AssertionError("the first run on a fresh cache had cache hits")
        workflow.set_param(CHANGED_NODE, parameter, value)
        gc.collect()
        rerun = timed_workflow_run(workflow, engine)
        check_only_changed_node_ran(rerun)
        expected = (expected_accuracy(engine, rerun, value) if parameter == "threshold"
                    else full.metrics["accuracy"])
        if not np.isclose(rerun.metrics["accuracy"], expected, rtol=1e-12, atol=0.0):
            raise AssertionError(f"re-run accuracy {rerun.metrics['accuracy']!r} after "
                                 f"{parameter}={value!r}, expected {expected!r}")
    alone = node_work_seconds(workflow, rerun, [CHANGED_NODE])[CHANGED_NODE]
    return full, rerun, alone


def warm_up(csv_path: Path) -> None:
    """One untimed full run + re-run (imports, OS file cache, the CSV's digest memo)."""
    full_then_rerun(csv_path, THRESHOLD_CHANGE)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(__doc__.splitlines()[0], argv, short_repeats=5)
    rows = ROWS_SHORT if args.short else ROWS_FULL
    repeats = args.repeats
    print(f"Re-run after a parameter change: {rows:,} synthetic rows (make_classification, "
          f"20 features, seed 0), {repeats} repetitions after a warm-up; "
          f"'{CHANGED_NODE}.{THRESHOLD_CHANGE[0]}' 0.5 -> {THRESHOLD_CHANGE[1]}.\n"
          f"{machine_line()}")

    full_times: list[float] = []
    rerun_times: list[float] = []
    recorded_times: list[float] = []
    alone_times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="axon-bench-") as folder:
        csv_path = write_synthetic_csv(Path(folder), rows)
        warm_up(csv_path)
        change = THRESHOLD_CHANGE
        for index in range(repeats):
            full, rerun, alone = full_then_rerun(csv_path, change)
            full_times.append(full.seconds)
            rerun_times.append(rerun.seconds)
            recorded_times.append(rerun.record.nodes[CHANGED_NODE].duration_s or 0.0)
            alone_times.append(alone)
            print(f"  repetition {index + 1}: full run {seconds(full.seconds)}, "
                  f"re-run {seconds(rerun.seconds)} ('{CHANGED_NODE}' alone "
                  f"{seconds(alone)})", flush=True)

    changed = f"{CHANGED_NODE}.{change[0]}={change[1]!r}"
    print(f"\nAfter {changed}, only '{CHANGED_NODE}' ran in every re-run; "
          "the 7 other nodes were cache hits.\n")
    rerun_s, alone_s = median(rerun_times), median(alone_times)
    print_table(["re-run, medians", "time"], [
        ["whole re-run", seconds(rerun_s)],
        [f"'{CHANGED_NODE}' as recorded (submit to done, with output digests)",
         seconds(median(recorded_times))],
        [f"'{CHANGED_NODE}' node code alone (node harness, same input)", seconds(alone_s)],
        ["engine (whole re-run - node code alone)", seconds(rerun_s - alone_s)],
        [f"lowest reachable ratio ('{CHANGED_NODE}' alone / full run)",
         f"{alone_s / median(full_times):.3f}"],
    ], sys.stdout)
    print()

    note = f"{rows:,} rows; medians of {repeats} (measured: re-run, baseline: full run)"
    figure = Figure("re-run / full run (evaluate param changed)", rerun_s, median(full_times),
                    TARGET_RATIO, note=note)
    print_figures([figure])
    write_results(args.results, [figure])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
