"""How much slower is a workflow run than the same work written as a plain script?

The workload (see workload.py) reads a CSV of synthetic rows (scikit-learn's
make_classification, 20 features, seed 0; 200,000 rows, --short 50,000),
splits it 70/30, z-scores the features (fitted on the training rows),
trains a logistic regression and evaluates it on the test rows (accuracy,
precision, recall, f1, auc, log loss, confusion matrix, ROC curve).

The baseline is that computation written by hand with pandas +
scikit-learn. The workflow is the same computation as eight nodes, run in
this process with Engine(jobs=1) and a fresh MemoryCache each time. Runs
alternate (5 of each, also with --short) after one untimed warm-up of each, which
pays the one-time costs (imports, the OS file cache, the engine's per-process
memo of the CSV's SHA-256); those first runs are shown separately.

Target: median workflow time / median baseline time <= 1.05.

    python bench/bench_executor_overhead.py [--short] [--repeats N] [--results FILE]
"""

from __future__ import annotations

import gc
import hashlib
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from report import Figure, machine_line, median, parse_args, print_figures, seconds, write_results
from workload import (
    ROWS_FULL,
    ROWS_SHORT,
    StepClock,
    WorkflowRun,
    build_workflow,
    check_same_metrics,
    node_work_seconds,
    timed_baseline_run,
    timed_workflow_run,
    write_synthetic_csv,
)

from studio.cli.display import print_table

TARGET_RATIO = 1.05


def sha256_seconds(path: Path) -> float:
    start = time.perf_counter()
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return time.perf_counter() - start


def print_breakdown(run: WorkflowRun, node_alone: dict[str, float],
                    script_steps: dict[str, float], workflow_s: float, script_s: float) -> None:
    """Where the time goes, node by node, next to the script's matching step."""
    rows = []
    for node_id, node in run.record.nodes.items():
        rows.append([node_id, node.type_id, seconds(script_steps.get(node_id, 0.0)),
                     seconds(node_alone[node_id]), seconds(node.duration_s or 0.0)])
    alone_total = sum(node_alone.values())
    rows.append(["(sum)", "", seconds(sum(script_steps.values())), seconds(alone_total), ""])
    print_table(["node", "type", "script step", "node code alone", "recorded in run"],
                rows, sys.stdout)
    print("  'node code alone': the node run by the node harness on the same inputs (no "
          "engine);\n  'recorded in run': the run record's duration_s (submit to done: "
          "includes waiting\n  for the one worker and the output digests).\n")
    print_table(["where the extra time goes (medians)", "time"], [
        ["workflow run", seconds(workflow_s)],
        ["script", seconds(script_s)],
        ["difference", seconds(workflow_s - script_s)],
        ["  in node code (sum of nodes alone - script)", seconds(alone_total - script_s)],
        ["  in the engine (run - sum of nodes alone)", seconds(workflow_s - alone_total)],
    ], sys.stdout)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(__doc__.splitlines()[0], argv, short_repeats=5)
    rows = ROWS_SHORT if args.short else ROWS_FULL
    repeats = args.repeats
    print(f"Executor overhead: {rows:,} synthetic rows (make_classification, 20 features, "
          f"seed 0), {repeats} alternating runs of each after a warm-up.\n{machine_line()}\n")

    with tempfile.TemporaryDirectory(prefix="axon-bench-") as folder:
        csv_path = write_synthetic_csv(Path(folder), rows)
        size_mb = csv_path.stat().st_size / 1e6
        workflow = build_workflow(csv_path)

        cold_baseline_s, baseline = timed_baseline_run(csv_path)
        cold_workflow = timed_workflow_run(workflow)
        check_same_metrics(cold_workflow.metrics, baseline)

        baseline_times: list[float] = []
        workflow_times: list[float] = []
        step_times: dict[str, list[float]] = {}
        last_run = cold_workflow
        for index in range(repeats):
            # Alternate which goes first, so that drift (heat, other load) hits both.
            for which in (("baseline", "workflow") if index % 2 == 0
                          else ("workflow", "baseline")):
                gc.collect()
                if which == "baseline":
                    clock = StepClock()
                    elapsed, baseline = timed_baseline_run(csv_path, clock)
                    baseline_times.append(elapsed)
                    for step, step_s in clock.seconds.items():
                        step_times.setdefault(step, []).append(step_s)
                else:
                    last_run = timed_workflow_run(workflow)
                    workflow_times.append(last_run.seconds)
            check_same_metrics(last_run.metrics, baseline)
            print(f"  round {index + 1}: baseline {seconds(baseline_times[-1])}, "
                  f"workflow {seconds(workflow_times[-1])}", flush=True)
        digest_s = sha256_seconds(csv_path)
        node_alone = node_work_seconds(workflow, last_run)

    print(f"\nSame results: accuracy {baseline['accuracy']:.6f} in both "
          f"(auc {baseline['auc']:.6f}, log loss {baseline['log_loss']:.6f}).\n")
    print(f"Node by node ({rows:,} rows, CSV {size_mb:.1f} MB; script steps: medians, "
          "node code alone: median of 3, recorded: last run):")
    print_breakdown(last_run, node_alone, {k: median(v) for k, v in step_times.items()},
                    median(workflow_times), median(baseline_times))
    print()
    print_table(["first run (one-time costs)", "time"], [
        ["baseline script", seconds(cold_baseline_s)],
        ["workflow", seconds(cold_workflow.seconds)],
        ["SHA-256 of the CSV (once per process and file version)", seconds(digest_s)],
    ], sys.stdout)
    print()

    figure = Figure("workflow / script time", median(workflow_times), median(baseline_times),
                    TARGET_RATIO, note=f"{rows:,} rows; medians of {repeats} runs each "
                                       "(measured: workflow, baseline: script)")
    print_figures([figure])
    write_results(args.results, [figure])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
