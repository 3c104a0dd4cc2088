"""A table bigger than one worker should hold: 2 Dask workers against in-process.

    python bench/bench_dask_large.py [--short] [--rows N] [--repeats N]

The workload of bench_large.py (N rows x 20 float columns, 1% missing in
five, a binary label; Import CSV -> Clean Missing Data -> Normalize ->
Split 0.8 -> Logistic Regression -> Train -> Score -> Evaluate), run
through the engine's Python API:

- in-process: the default executor, in a process of its own;
- Dask: a LocalCluster of 2 worker processes (1 thread each) started in a
  process of its own before the clock starts; the file is read in 64 MB
  partitions on the workers, Clean Missing Data and Normalize fit from the
  partitions' summaries, Split and Score run per partition, Logistic
  Regression trains where the partitions are (one design matrix per
  worker, L-BFGS steps summed over them), Evaluate gets the label and score
  columns only.

The file's digest is computed once before the rounds (it is memoised
across processes, as in any second run of a workflow).

Rounds alternate between the two. Figures (ratios in this run):

- Dask / in-process, wall time of the run (target <= 1.0: at least as fast);
- the largest peak RSS of a Dask worker / the in-process peak RSS (target
  <= 0.6); the Dask client's own peak is printed too (it holds no table).

Full mode: 10,000,000 rows; short mode (CI): 1,000,000 rows, one round.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import Figure, machine_line, parse_args, print_figures, write_results

BENCH = Path(__file__).resolve().parent


def side(kind: str, workflow_path: Path) -> dict[str, float]:
    """One run, in this process (called as a child of main)."""
    import logging

    from studio.engine import Engine, MemoryCache
    from studio.workflow import load_workflow

    logging.disable(logging.WARNING)
    workflow = load_workflow(workflow_path)
    workers: dict[str, float] = {}
    if kind == "local":
        executor = None
    else:
        from distributed import Client, LocalCluster

        from studio.engine.dask_executor import DaskExecutor

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster, set_as_default=False)
        client.wait_for_workers(2, timeout=120)
        executor = DaskExecutor(client=client)
    start = time.perf_counter()
    with Engine(executor=executor, cache=MemoryCache(max_bytes=0)) as engine:
        record = engine.run(workflow, keep=lambda node, port, info: node == "evaluate")
        wall = time.perf_counter() - start
        if record.status != "succeeded":
            raise SystemExit(f"{kind} run {record.status}: "
                             f"{ {n: r.error for n, r in record.nodes.items() if r.error} }")
        metrics = engine.kept[("evaluate", "metrics")]
        auc = (metrics.fetch() if hasattr(metrics, "fetch") else metrics).scalars["auc"]
        if kind == "dask":
            peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
            workers = {address: kb / 1024 for address, kb in peaks.items()}
    if kind == "dask":
        client.close()
        cluster.close()
    partitions = record.nodes["data"].outputs["data"].get("partitions", 1)
    durations = {n: round(r.duration_s or 0.0, 2) for n, r in record.nodes.items()}
    print(json.dumps(durations), file=sys.stderr)
    return {"wall_s": wall, "auc": auc, "partitions": partitions,
            "worker_peak_mb": max(workers.values()) if workers else 0.0,
            "client_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def measure(kind: str, workflow_path: Path) -> dict[str, float]:
    process = subprocess.Popen([sys.executable, __file__, "--side", kind, str(workflow_path)],
                               cwd=BENCH, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    out, err = process.stdout.read().decode(), process.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"the {kind} run failed:\n{err[-3000:]}")
    figures = json.loads(out.strip().splitlines()[-1])
    figures["peak_mb"] = usage.ru_maxrss / 1024  # the process itself (local: the whole run)
    return figures


def main() -> int:
    from bench_large import write_data, write_workflow

    args = parse_args(__doc__.split("\n\n")[0], short_repeats=1,
                      extra=[(("--rows",), {"type": int, "default": None})])
    rows = args.rows or (1_000_000 if args.short else 10_000_000)
    print(machine_line())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        csv = write_data(folder, rows)
        workflow = write_workflow(folder, csv)
        from nodes.digest import file_digest

        file_digest(csv)  # hashed once for both sides (the memo outlives the process)
        print(f"{rows:,} rows, {csv.stat().st_size / 1e6:,.0f} MB of CSV "
              f"(written in {time.perf_counter() - started:.0f} s)")
        runs: dict[str, list[dict[str, float]]] = {"local": [], "dask": []}
        for round_number in range(args.repeats):
            for kind in (("local", "dask") if round_number % 2 == 0 else ("dask", "local")):
                result = measure(kind, workflow)
                runs[kind].append(result)
                print(f"round {round_number + 1} {kind:5}: {result['wall_s']:6.1f} s, peak "
                      f"{result['peak_mb']:,.0f} MB"
                      + (f", worker peak {result['worker_peak_mb']:,.0f} MB, "
                         f"{result['partitions']} partitions" if kind == "dask" else "")
                      + f", AUC {result['auc']:.4f}", flush=True)
    local = statistics.median(r["wall_s"] for r in runs["local"])
    dask = statistics.median(r["wall_s"] for r in runs["dask"])
    local_peak = statistics.median(r["peak_mb"] for r in runs["local"])
    worker_peak = statistics.median(r["worker_peak_mb"] for r in runs["dask"])
    client_peak = statistics.median(r["client_peak_mb"] for r in runs["dask"])
    figures = [
        Figure(f"Dask 2 workers vs in-process, {rows:,} rows (wall)", dask, local, 1.0),
        Figure(f"worker peak RSS vs in-process peak, {rows:,} rows", worker_peak, local_peak,
               0.6, unit="MB",
               note=f"client peak {client_peak:,.0f} MB"),
    ]
    print_figures(figures)
    write_results(args.results, figures)
    return 0  # missed targets are reported (as by the other benchmarks), not an error


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--side":
        print(json.dumps(side(sys.argv[2], Path(sys.argv[3]))))
    else:
        sys.exit(main())
