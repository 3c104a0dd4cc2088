"""Do two independent heavy branches run twice as fast on 2 cores?

The workflow: one synthetic table (scikit-learn's make_classification, 20
features, seed 0; 40,000 rows, --short 10,000) read by Import CSV, then two
independent branches, each a Decision Forest (40 trees, seeds 1 and 2;
--short 20 trees) trained by its own Train Model node. scikit-learn grows
the trees with the GIL released, so two threads can use two cores.

The data node is computed once and served from the cache, so each timed
run is just the two training branches. Each repetition (5, --short 2, after
an untimed warm-up) runs them on the in-process executor twice, each time
on a fresh cache holding only the data: with one thread (the branches one
after the other, the baseline) and with two (side by side). Both must give
models with the same digests.

Target: speed-up = one-after-the-other time / side-by-side time >= 1.7
(reported as side by side / one after the other <= 1/1.7).

    python bench/bench_parallel.py [--short] [--repeats N] [--results FILE]
"""

from __future__ import annotations

import gc
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from report import machine_line, median, parse_args, report_speedup, seconds
from workload import LABEL, write_synthetic_csv

from studio.engine import CacheEntry, Engine, MemoryCache, RunRecord
from studio.workflow import Workflow

TARGET_SPEEDUP = 1.7
BRANCHES = ("left", "right")


def build_workflow(csv_path: Path, trees: int) -> Workflow:
    """Import CSV -> two Decision Forest + Train Model branches that share nothing else."""
    workflow = Workflow()
    workflow.info.name = "Benchmark: two independent training branches"
    workflow.add_node("import_csv", {"path": str(csv_path), "label_column": LABEL},
                      node_id="data")
    for seed, branch in enumerate(BRANCHES, start=1):
        workflow.add_node("decision_forest", {"trees": trees, "seed": seed},
                          node_id=f"{branch}_learner")
        workflow.add_node("train_model", node_id=f"{branch}_train")
        workflow.connect(f"{branch}_learner", "learner", f"{branch}_train", "learner")
        workflow.connect("data", "data", f"{branch}_train", "data")
    return workflow


def read_data(workflow: Workflow) -> tuple[str, CacheEntry]:
    """The data node's cache key and result, computed once for the whole benchmark."""
    with Engine(jobs=1) as engine:
        record = engine.run(workflow, targets=["data"])
        if record.status != "succeeded":
            raise RuntimeError(f"reading the data failed: {record.nodes['data'].error}")
        key = record.nodes["data"].cache_key
        return key, engine.cache.get(key)


def timed_branches(workflow: Workflow, data: tuple[str, CacheEntry], jobs: int
                   ) -> tuple[float, RunRecord]:
    """Run the workflow on a fresh cache holding only the data: only the branches run."""
    cache = MemoryCache()
    cache.put(*data)
    gc.collect()
    with Engine(cache=cache, jobs=jobs) as engine:
        start = time.perf_counter()
        record = engine.run(workflow)
        elapsed = time.perf_counter() - start
    if record.status != "succeeded":
        raise RuntimeError(f"the branches did not succeed: "
                           f"{ {n: r.error for n, r in record.nodes.items() if r.error} }")
    ran = {n for n, r in record.nodes.items() if r.state == "done"}
    if "data" in ran or not {f"{b}_train" for b in BRANCHES} <= ran:
        raise AssertionError(f"expected only the branches to run, ran: {sorted(ran)}")
    return elapsed, record


def model_digests(record: RunRecord) -> dict[str, str]:
    return {f"{b}_train": record.nodes[f"{b}_train"].outputs["model"]["sha256"]
            for b in BRANCHES}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(__doc__.splitlines()[0], argv)
    rows, trees = (10_000, 20) if args.short else (40_000, 40)
    print(f"Two independent branches: {rows:,} synthetic rows, 20 features; each branch a "
          f"{trees}-tree Decision Forest trained by Train Model; {args.repeats} repetitions "
          f"after a warm-up.\n{machine_line()} Load average when starting: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}.")
    serial_times: list[float] = []
    parallel_times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="axon-bench-") as folder:
        workflow = build_workflow(write_synthetic_csv(Path(folder), rows), trees)
        data = read_data(workflow)
        _, reference = timed_branches(workflow, data, jobs=2)  # warm-up: imports
        for index in range(args.repeats):
            serial, serial_record = timed_branches(workflow, data, jobs=1)
            parallel, parallel_record = timed_branches(workflow, data, jobs=2)
            for record in (serial_record, parallel_record):
                if model_digests(record) != model_digests(reference):
                    raise AssertionError("the models differ between runs: "
                                         f"{model_digests(record)} vs {model_digests(reference)}")
            serial_times.append(serial)
            parallel_times.append(parallel)
            print(f"  repetition {index + 1}: one after the other {seconds(serial)}, "
                  f"side by side {seconds(parallel)} (speed-up {serial / parallel:.2f})",
                  flush=True)

    report_speedup("two branches side by side / one after the other",
                   "one after the other (in-process, 1 thread)", median(serial_times),
                   "side by side (in-process, 2 threads)", median(parallel_times),
                   TARGET_SPEEDUP,
                   f"{rows:,} rows, {trees} trees per branch, medians of {args.repeats}",
                   args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
