"""Tables partitioned across the workers of a real LocalCluster (2 processes).

A CSV file is read in blocks on the workers; Clean Missing Data and
Normalize fit from the partitions' summaries and apply where each partition
is; Split and Score run per partition; Train Model gathers its rows into one
worker; Evaluate receives only the label and score columns. The answers are
the in-process ones (Split aside, which draws per partition), and the tables
stay on the workers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster

from nodes import default_registry
from studio.engine import Engine, MemoryCache
from studio.engine.dask_executor import DaskExecutor
from studio.engine.dask_partitions import PartitionedValue
from studio.workflow import Workflow

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
REPO = Path(__file__).resolve().parents[2]
BLOCK = 60_000  # bytes of file per partition: about 900 rows, 12 partitions


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    dask_client = Client(cluster, set_as_default=False)
    dask_client.wait_for_workers(2, timeout=60)
    yield dask_client
    dask_client.close()
    cluster.close()


@pytest.fixture(scope="module")
def data_file(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(10_000, 5)), columns=[f"x{i}" for i in range(5)])
    frame["y"] = (frame.x0 + frame.x1 + rng.normal(0, 0.5, len(frame)) > 0).astype(int)
    frame.loc[::13, "x2"] = np.nan
    path = tmp_path_factory.mktemp("partitions") / "rows.csv"
    frame.to_csv(path, index=False)
    return path


def _workflow(path: Path, *, split: bool = True) -> Workflow:
    w = Workflow(default_registry())
    w.add_node("import_csv", {"path": str(path), "label_column": "y"}, node_id="read")
    w.add_node("clean_missing_data", {"method": "mean"}, node_id="clean")
    w.add_node("normalize_data", {"method": "zscore"}, node_id="norm")
    w.add_node("logistic_regression", {}, node_id="lr")
    w.add_node("train_model", {}, node_id="train")
    w.add_node("score_model", {}, node_id="score")
    w.add_node("evaluate_model", {}, node_id="eval")
    w.connect("read", "data", "clean", "data")
    w.connect("clean", "data", "norm", "data")
    w.connect("lr", "learner", "train", "learner")
    w.connect("train", "model", "score", "model")
    w.connect("score", "scored", "eval", "scored")
    if split:
        w.add_node("split_data", {"fraction": 0.8, "seed": 1}, node_id="split")
        w.connect("norm", "data", "split", "data")
        w.connect("split", "train", "train", "data")
        w.connect("split", "test", "score", "data")
    else:  # train and score on the same rows: every figure must be the in-process one
        w.connect("norm", "data", "train", "data")
        w.connect("norm", "data", "score", "data")
    return w


def _run(workflow: Workflow, executor=None):
    with Engine(executor=executor, cache=MemoryCache()) as engine:
        record = engine.run(workflow)
        outputs = {n: engine.outputs(workflow, n) for n in record.nodes
                   if record.nodes[n].state == "done"}
        kept = {n: dict(engine.cache.get(engine.keys(workflow)[n]).outputs)
                for n in record.nodes if record.nodes[n].state == "done"}
    return record, outputs, kept


def test_a_workflow_on_partitions_gives_the_in_process_answers(client, data_file):
    workflow = _workflow(data_file, split=False)
    local, local_out, _ = _run(workflow)
    executor = DaskExecutor(client=client, partition_bytes=BLOCK)
    record, out, kept = _run(workflow, executor)
    assert record.status == "succeeded", {n: r.error for n, r in record.nodes.items()}
    read = record.nodes["read"]
    assert read.outputs["data"]["partitions"] >= 10
    assert read.outputs["data"]["rows"] == 10_000
    assert any("partitions on the Dask workers" in m for m in read.messages)
    # The tables stayed on the workers, spread over both.
    value = kept["norm"]["data"]
    assert isinstance(value, PartitionedValue)
    holders = {w for ws in client.who_has(value.futures).values() for w in ws}
    assert len(holders) == 2
    # Fits from partition summaries equal fits on the whole table.
    for node in ("clean", "norm"):
        np.testing.assert_allclose(
            np.asarray(getattr(out[node]["transform"].transformer, "mean_", [0.0])),
            np.asarray(getattr(local_out[node]["transform"].transformer, "mean_", [0.0])),
            rtol=1e-12)
    assert (out["clean"]["transform"].transformer.state_values["values"]
            == pytest.approx(local_out["clean"]["transform"].transformer.state_values["values"],
                             rel=1e-12))
    pd.testing.assert_frame_equal(out["norm"]["data"].frame, local_out["norm"]["data"].frame,
                                  rtol=1e-12)
    for name, figure in local_out["eval"]["metrics"].scalars.items():
        # Logistic regression trained on the partitions agrees to the solver's tolerance.
        assert out["eval"]["metrics"].scalars[name] == pytest.approx(figure, rel=1e-4), name
    # The lineage names the file once, with its rows counted.
    assert ([(d["sha256"], d["rows"]) for d in record.lineage["datasets"]]
            == [(d["sha256"], d["rows"]) for d in local.lineage["datasets"]])
    assert record.nodes["clean"].messages == local.nodes["clean"].messages


def test_split_on_partitions_keeps_every_row_once_and_scores_the_test_rows(client, data_file):
    executor = DaskExecutor(client=client, partition_bytes=BLOCK)
    record, out, _ = _run(_workflow(data_file), executor)
    assert record.status == "succeeded", {n: r.error for n, r in record.nodes.items()}
    train, test = out["split"]["train"].frame, out["split"]["test"].frame
    assert len(train) + len(test) == 10_000
    assert abs(len(train) - 8_000) <= record.nodes["read"].outputs["data"]["partitions"]
    normalized = out["norm"]["data"].frame
    assert sorted(pd.concat([train, test])["x0"]) == sorted(normalized["x0"])
    assert out["eval"]["metrics"].scalars["rows"] == len(test)
    assert out["eval"]["metrics"].scalars["auc"] > 0.9
    assert "not the rows an in-process run draws" in record.nodes["split"].messages[0]


def test_a_node_that_needs_more_than_a_worker_may_gather_is_refused(client, data_file):
    executor = DaskExecutor(client=client, partition_bytes=BLOCK, gather_limit=100_000)
    workflow = _workflow(data_file)
    workflow.add_node("summarize_data", {}, node_id="profile")  # needs every row
    workflow.connect("norm", "data", "profile", "data")
    workflow.remove_node("lr")
    workflow.add_node("decision_forest", {"trees": 3}, node_id="lr")  # trains on all rows
    workflow.connect("lr", "learner", "train", "learner")
    record, _, _ = _run(workflow, executor)
    assert record.status == "failed"
    error = record.nodes["profile"].error
    assert "Summarize Data" in error and "'data'" in error and "needs every row at once" in error
    assert "partitions on the Dask workers" in error and "--gather-limit" in error
    error = record.nodes["train"].error
    assert "Train Model" in error and "trains on every row at once" in error
    assert "Logistic Regression" in error and "--gather-limit" in error
    assert record.nodes["split"].state == "done"  # per partition, never gathered
    assert record.nodes["score"].state == record.nodes["eval"].state == "skipped"


def test_an_error_in_one_partition_reads_as_in_process(client, tmp_path):
    path = tmp_path / "rows.csv"
    pd.DataFrame({"a": range(5_000), "b": 1.0}).to_csv(path, index=False)
    workflow = Workflow(default_registry())
    workflow.add_node("import_csv", {"path": str(path)}, node_id="read")
    workflow.add_node("select_columns", {"columns": ["a", "c"]}, node_id="pick")
    workflow.connect("read", "data", "pick", "data")
    local, _, _ = _run(workflow)
    record, _, _ = _run(workflow, DaskExecutor(client=client, partition_bytes=4_000))
    assert record.nodes["read"].outputs["data"]["partitions"] > 3
    assert record.nodes["pick"].state == "failed"
    assert record.nodes["pick"].error == local.nodes["pick"].error


def test_without_partitions_the_file_is_read_whole_on_one_worker(client, data_file):
    executor = DaskExecutor(client=client, partition_tables=False)
    record, out, kept = _run(_workflow(data_file, split=False), executor)
    assert record.status == "succeeded"
    assert "partitions" not in record.nodes["read"].outputs["data"]
    assert not isinstance(kept["norm"]["data"], PartitionedValue)


def test_cli_runs_on_partitions(client, data_file, tmp_path):
    from studio.workflow import save_workflow

    path = tmp_path / "rows.axon.json"
    save_workflow(_workflow(data_file), path)
    done = subprocess.run(
        [sys.executable, "-m", "studio.cli.main", "run", str(path), "--scheduler",
         client.scheduler.address, "--partition-size", "0.06", "--out", str(tmp_path / "out"),
         "--allow-path", str(data_file.parent)],
        capture_output=True, text=True, timeout=240, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    record = json.loads(next((tmp_path / "out").glob("**/run_record.json")).read_text())
    assert record["nodes"]["read"]["outputs"]["data"]["partitions"] >= 10


def test_results_made_on_partitions_have_their_own_cache_keys(client, data_file):
    """A split drawn per partition must not stand in for an in-process split (a
    disk cache is shared between executors), nor one cut in other partitions."""
    workflow = _workflow(data_file)
    with Engine() as engine:
        local = engine.keys(workflow)
    keys = {}
    for name, executor in (("whole", DaskExecutor(client=client, partition_tables=False)),
                           ("small", DaskExecutor(client=client, partition_bytes=BLOCK)),
                           ("big", DaskExecutor(client=client, partition_bytes=2 * BLOCK))):
        with Engine(executor=executor) as engine:
            keys[name] = engine.keys(workflow)
    assert keys["whole"] == local  # reading whole gives the in-process results
    for name in ("small", "big"):
        assert keys[name]["lr"] == local["lr"]  # no data: the same learner
        assert all(keys[name][n] != local[n] for n in ("read", "split", "eval"))
    assert keys["small"]["split"] != keys["big"]["split"]


def test_a_quoted_line_break_where_the_file_would_be_cut_reads_it_whole(client, tmp_path):
    path = tmp_path / "notes.csv"
    notes = [f"{'x' * (i % 7)}\n{'y' * (i % 5)}" for i in range(3_000)]
    pd.DataFrame({"n": range(3_000), "note": notes}).to_csv(path, index=False)
    workflow = Workflow(default_registry())
    workflow.add_node("import_csv", {"path": str(path)}, node_id="read")
    _, local, _ = _run(workflow)
    record, out, _ = _run(workflow, DaskExecutor(client=client, partition_bytes=4_000))
    assert record.status == "succeeded"
    assert "partitions" not in record.nodes["read"].outputs["data"]
    assert "quoted field" in record.nodes["read"].messages[0]
    pd.testing.assert_frame_equal(out["read"]["data"].frame, local["read"]["data"].frame)
