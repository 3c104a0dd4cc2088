"""Ctrl-C during a long scikit-learn fit: the first says "cancelling" and stops the
fit inside it; the record says cancelled and the exit code is 130. (How fast is
measured in bench/bench_cancel.py; here the bound is only "not the whole fit".)"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from studio.workflow import Workflow, save_workflow


def _long_fit(folder: Path) -> Path:
    flow = Workflow()
    flow.add_node("sample_dataset", {"dataset": "digits"}, node_id="digits")
    flow.add_node("boosted_decision_tree", {"trees": 5000, "seed": 0}, node_id="boosting")
    flow.add_node("train_model", node_id="train")
    flow.connect("digits", "data", "train", "data")
    flow.connect("boosting", "learner", "train", "learner")
    return save_workflow(flow, folder / "long.axon.json")


def _start(path: Path, out: Path) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "studio.cli.main", "run", str(path),
                                "--out", str(out)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    for line in process.stderr:
        if "Train Model (train): running" in line:
            break
    time.sleep(1.0)
    return process


def test_ctrl_c_stops_a_fit_inside_it_with_a_cancelled_record(tmp_path):
    process = _start(_long_fit(tmp_path), tmp_path / "out")
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert time.monotonic() - sent < 30  # the whole fit takes minutes
    assert "cancelling" in stderr and "Traceback" not in stderr
    record = json.loads((tmp_path / "out" / "run_record.json").read_text())
    assert record["status"] == "cancelled" and record["nodes"]["train"]["state"] == "cancelled"


def test_a_second_ctrl_c_stops_at_once_and_keeps_the_record(tmp_path):
    process = _start(_long_fit(tmp_path), tmp_path / "out")
    process.send_signal(signal.SIGINT)
    time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    record = json.loads((tmp_path / "out" / "run_record.json").read_text())
    assert record["status"] == "cancelled"
