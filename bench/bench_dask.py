"""Does a sweep of 16 model fits run 1.6 times faster on a 2-worker Dask cluster?

The workflow: synthetic rows (scikit-learn's make_classification, 20
features, seed 0; 20,000 rows, --short 8,000) read by Import CSV, a
Decision Forest (20 trees; --short 15) and Tune Model Hyperparameters
sweeping a grid of 4 settings ('max_depth' 8 or 16, 'min_samples_leaf' 1
or 20) with 4-fold cross-validation: 16 fits, then one refit of the best
setting on all rows (which runs alone, so the best reachable speed-up on 2
workers is (16 x 3/4 + 1) / (8 x 3/4 + 1) = 1.86).

Baseline: the same workflow on the in-process executor with 'parallel_jobs'
1, every fit one after the other in this process. Measured: the workflow on
the Dask executor with a LocalCluster of 2 worker processes (1 thread
each), 'parallel_jobs' 0, so the node's joblib fans the fits out over both
workers. The cluster is started once (its start-up is printed, not timed);
each side gets an untimed warm-up, then 5 timed runs (--short 2), all
recomputing every node. Both must give the same sweep table and model.

Target: speed-up = in-process time / Dask time >= 1.6 (reported as Dask /
in-process <= 1/1.6).

    python bench/bench_dask.py [--short] [--repeats N] [--results FILE]
"""

from __future__ import annotations

import gc
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from report import machine_line, median, parse_args, report_speedup, seconds
from workload import LABEL, write_synthetic_csv

from studio.engine import Engine, MemoryCache
from studio.workflow import Workflow

TARGET_SPEEDUP = 1.6
WORKERS = 2
GRID = "max_depth: 8, 16; min_samples_leaf: 1, 20"
FOLDS = 4


def build_workflow(csv_path: Path, trees: int, parallel_jobs: int) -> Workflow:
    """Import CSV -> Decision Forest -> Tune Model Hyperparameters (4 settings x 4 folds)."""
    workflow = Workflow()
    workflow.info.name = "Benchmark: a 16-fit hyperparameter sweep"
    workflow.add_node("import_csv", {"path": str(csv_path), "label_column": LABEL},
                      node_id="data")
    workflow.add_node("decision_forest", {"trees": trees, "seed": 0}, node_id="learner")
    workflow.add_node("tune_model_hyperparameters", {
        "parameter_ranges": GRID, "sweep_mode": "grid", "folds": FOLDS, "seed": 0,
        "parallel_jobs": parallel_jobs}, node_id="tune")
    workflow.connect("data", "data", "tune", "data")
    workflow.connect("learner", "learner", "tune", "learner")
    return workflow


def timed_runs(engine: Engine, workflow: Workflow, repeats: int, label: str
               ) -> tuple[list[float], pd.DataFrame, str]:
    """An untimed warm-up, then ``repeats`` timed runs recomputing every node."""
    times = []
    for index in range(repeats + 1):
        gc.collect()
        start = time.perf_counter()
        record = engine.run(workflow, use_cache=False)
        elapsed = time.perf_counter() - start
        if record.status != "succeeded":
            raise RuntimeError(f"{label}: the sweep failed: {record.nodes['tune'].error}")
        if index:
            times.append(elapsed)
            print(f"  {label} run {index}: {seconds(elapsed)}", flush=True)
    sweep = engine.outputs(workflow, "tune")["sweep"].frame
    return times, sweep, record.nodes["tune"].outputs["model"]["sha256"]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(__doc__.splitlines()[0], argv)
    rows, trees = (8_000, 15) if args.short else (20_000, 20)
    print(f"A 16-fit sweep: {rows:,} synthetic rows, 20 features; Decision Forest of {trees} "
          f"trees; grid '{GRID}' x {FOLDS} folds; {args.repeats} runs after a warm-up.\n"
          f"{machine_line()} Load average when starting: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}.")
    logging.getLogger("distributed").setLevel(logging.WARNING)
    from studio.engine.dask_executor import DaskExecutor

    with tempfile.TemporaryDirectory(prefix="axon-bench-") as folder:
        csv_path = write_synthetic_csv(Path(folder), rows)
        with Engine(cache=MemoryCache(), jobs=1) as engine:
            local_times, local_sweep, local_model = timed_runs(
                engine, build_workflow(csv_path, trees, parallel_jobs=1), args.repeats,
                "in-process, one fit after the other")
        start = time.perf_counter()
        executor = DaskExecutor(local_workers=WORKERS, threads_per_worker=1)
        print(f"  LocalCluster of {WORKERS} workers started in "
              f"{seconds(time.perf_counter() - start)} (not timed)", flush=True)
        with Engine(cache=MemoryCache(), executor=executor) as engine:
            dask_times, dask_sweep, dask_model = timed_runs(
                engine, build_workflow(csv_path, trees, parallel_jobs=0), args.repeats,
                f"Dask, {WORKERS} workers")
    pd.testing.assert_frame_equal(dask_sweep, local_sweep)
    if dask_model != local_model:
        raise AssertionError(f"the tuned models differ: {dask_model} vs {local_model}")

    report_speedup("16-fit sweep on 2 Dask workers / in one process",
                   "in-process, one fit after the other", median(local_times),
                   f"Dask LocalCluster, {WORKERS} workers x 1 thread", median(dask_times),
                   TARGET_SPEEDUP, f"{rows:,} rows, {trees} trees, medians of {args.repeats}",
                   args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
