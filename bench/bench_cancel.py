"""Ctrl-C during a long scikit-learn fit: how long `studio run` takes to exit.

    python bench/bench_cancel.py [--short] [--repeats N]

A boosted decision tree (5,000 rounds, ten classes: about 5 minutes) trains on
the digits; once Train Model is running, the benchmark sends one SIGINT and
times the exit. The run must end with exit code 130 and a run record saying
"cancelled". Target: <= 2 s (the issue's figure), against a fit that alone
would take minutes.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import Figure, parse_args, print_figures, write_results


def workflow(folder: Path) -> Path:
    from studio.workflow import Workflow, save_workflow

    flow = Workflow()
    flow.add_node("sample_dataset", {"dataset": "digits"}, node_id="digits")
    flow.add_node("boosted_decision_tree", {"trees": 5000, "seed": 0}, node_id="boosting")
    flow.add_node("train_model", node_id="train")
    flow.connect("digits", "data", "train", "data")
    flow.connect("boosting", "learner", "train", "learner")
    return save_workflow(flow, folder / "long_fit.axon.json")


def cancel_once(path: Path, out: Path) -> float:
    """Seconds from the SIGINT to the process's exit."""
    process = subprocess.Popen([sys.executable, "-m", "studio.cli.main", "run", str(path),
                                "--out", str(out)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    for line in process.stderr:
        if "Train Model (train): running" in line:
            break
    time.sleep(1.0)  # well inside the fit
    sent = time.perf_counter()
    process.send_signal(signal.SIGINT)
    process.wait(timeout=120)
    seconds = time.perf_counter() - sent
    record = json.loads((out / "run_record.json").read_text())
    if process.returncode != 130 or record["status"] != "cancelled":
        raise RuntimeError(f"exit {process.returncode}, status {record['status']}")
    return seconds


def main() -> int:
    args = parse_args(__doc__.splitlines()[0], short_repeats=1)
    with tempfile.TemporaryDirectory(prefix="axon-bench-cancel-") as name:
        folder = Path(name)
        path = workflow(folder)
        env_note = os.environ.get("OMP_NUM_THREADS", "default")
        times = [cancel_once(path, folder / f"out{i}") for i in range(args.repeats)]
    print("seconds from Ctrl-C to exit:", ", ".join(f"{t:.2f}" for t in times))
    figure = Figure("Ctrl-C during a fit: seconds to exit (baseline: the 2 s target)",
                    statistics.median(times), 2.0, 1.0,
                    note=f"exit 130, record 'cancelled'; OMP threads {env_note}")
    print_figures([figure])
    write_results(args.results, [figure])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
