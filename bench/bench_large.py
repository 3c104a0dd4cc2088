"""Large data through the command line: `studio run` against a hand-written script.

    python bench/bench_large.py [--short] [--rows N] [--repeats N]

The workload of issue 14: N rows x 20 float columns (1% missing in five of
them) + a binary label, Import CSV -> Clean Missing Data -> Normalize ->
Split 0.8 -> Logistic Regression -> Train -> Score -> Evaluate. Each side
runs as its own process, in alternating rounds, and is measured with
os.wait4: CPU time (user + system) and peak RSS of that process alone.

Figures (ratios, both measured in this run):

- `studio run` / script, CPU time (target <= 1.10);
- `studio run` / script, peak RSS (target <= 1.2);
- a cached re-run after changing only Evaluate's threshold (`--cache-dir`)
  / the full run, wall time, both through the CLI (target <= 0.05).

Full mode: 1,000,000 rows (pass --rows for 100,000 or 10,000,000); short
mode (CI): 100,000 rows, two rounds.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from report import Figure, parse_args, print_figures, write_results

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
FEATURES = 20


def write_data(folder: Path, rows: int) -> Path:
    """Write the table in a process of its own, so that this one stays small:
    a child process starts with its parent's resident memory counted in its
    peak RSS (Linux keeps the high-water mark across fork and exec), and the
    sides measured later are children of this process."""
    subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; "
                    "from bench_large import write_data_here; "
                    "write_data_here(Path(sys.argv[1]), int(sys.argv[2]))",
                    str(folder), str(rows)], cwd=BENCH, check=True)
    return folder / f"large_{rows}.csv"


def write_data_here(folder: Path, rows: int) -> Path:
    generator = np.random.default_rng(0)
    frame = pd.DataFrame(generator.normal(size=(rows, FEATURES)),
                         columns=[f"f{i:02d}" for i in range(FEATURES)])
    weights = generator.normal(size=FEATURES)
    frame["label"] = (frame.to_numpy() @ weights + generator.normal(size=rows) > 0).astype(int)
    for column in frame.columns[:5]:
        frame.loc[generator.random(rows) < 0.01, column] = np.nan
    path = folder / f"large_{rows}.csv"
    frame.to_csv(path, index=False)
    return path


def write_workflow(folder: Path, csv: Path) -> Path:
    from studio.workflow import Workflow, save_workflow

    workflow = Workflow()
    workflow.info.name = "Benchmark: large data"
    workflow.add_node("import_csv", {"path": str(csv), "label_column": "label"},
                      node_id="data")
    workflow.add_node("clean_missing_data", {"method": "mean"}, node_id="clean")
    workflow.add_node("normalize_data", {"method": "zscore"}, node_id="normalize")
    workflow.add_node("split_data", {"fraction": 0.8, "seed": 0}, node_id="split")
    workflow.add_node("logistic_regression", {"regularization_strength": 1.0,
                                              "max_iterations": 1000, "tolerance": 1e-4,
                                              "seed": 0}, node_id="learner")
    workflow.add_node("train_model", node_id="train")
    workflow.add_node("score_model", node_id="score")
    workflow.add_node("evaluate_model", node_id="evaluate")
    for source, source_port, target, target_port in (
            ("data", "data", "clean", "data"), ("clean", "data", "normalize", "data"),
            ("normalize", "data", "split", "data"), ("split", "train", "train", "data"),
            ("learner", "learner", "train", "learner"), ("split", "test", "score", "data"),
            ("train", "model", "score", "model"), ("score", "scored", "evaluate", "scored")):
        workflow.connect(source, source_port, target, target_port)
    return save_workflow(workflow, folder / "large.axon.json")


def measure(command: list[str], cwd: Path) -> dict[str, float]:
    """Run ``command`` alone; its wall time, CPU time and peak RSS (os.wait4)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    out, err = process.stdout.read(), process.stderr.read()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n"
                           f"{err.decode()[-2000:]}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
            "rss_mb": usage.ru_maxrss / 1024, "stdout": out.decode()}


def main() -> int:
    args = parse_args(__doc__.splitlines()[0], extra=[
        (("--rows",), {"type": int, "help": "rows of the table (default 1,000,000; short "
                                            "100,000)"})])
    rows = args.rows or (100_000 if args.short else 1_000_000)
    studio = [sys.executable, "-m", "studio.cli.main"]
    with tempfile.TemporaryDirectory(prefix="axon-bench-large-") as name:
        folder = Path(name)
        csv = write_data(folder, rows)
        flow = write_workflow(folder, csv)
        script = [sys.executable, str(BENCH / "large_script.py"), str(csv)]
        run = [*studio, "run", str(flow), "--out", str(folder / "out"), "--json"]
        samples: dict[str, list[dict[str, float]]] = {"script": [], "studio": [], "rerun": []}
        for index in range(args.repeats):
            samples["script"].append(measure(script, folder))
            samples["studio"].append(measure(run, folder))
            cache = folder / f"cache{index}"
            cached = [*run[:-1], "--cache-dir", str(cache)]
            measure(cached, folder)
            samples["rerun"].append(measure([*cached, "--set", "evaluate.threshold=0.6"],
                                            folder))
        expected = json.loads(samples["script"][0]["stdout"])
        got = json.loads(samples["studio"][0]["stdout"])["metrics"]["evaluate.metrics"]
        for metric in ("accuracy", "auc"):
            if not np.isclose(got[metric], expected[metric], rtol=1e-9):
                raise AssertionError(f"{metric}: studio {got[metric]} != script "
                                     f"{expected[metric]}")

    def median(kind: str, key: str) -> float:
        return statistics.median(s[key] for s in samples[kind])

    for kind in samples:
        print(f"{kind:>7}: wall {median(kind, 'wall_s'):6.2f} s, cpu {median(kind, 'cpu_s'):6.2f}"
              f" s, peak RSS {median(kind, 'rss_mb'):7.0f} MB")
    label = f"{rows:,} rows"
    figures = [
        Figure(f"studio run CPU / script ({label})", median("studio", "cpu_s"),
               median("script", "cpu_s"), 1.10),
        Figure(f"studio run peak RSS / script ({label})", median("studio", "rss_mb"),
               median("script", "rss_mb"), 1.2, unit="MB"),
        Figure(f"cached re-run after a threshold change / full run ({label}, CLI)",
               median("rerun", "wall_s"), median("studio", "wall_s"), 0.05),
    ]
    print_figures(figures)
    write_results(args.results, figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
