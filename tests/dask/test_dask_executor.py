"""The Dask executor on a real LocalCluster: 2 worker processes, 1 thread each.

One cluster serves the whole module (starting one takes seconds); each test
makes its own DaskExecutor on that cluster's client. The tests that kill
workers come last and wait for the nanny to bring them back.
"""

from __future__ import annotations

import gc
import json
import os
import re
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import dask
import pandas as pd
import pytest
from dask_nodes import DASK_TEST_TYPES, Pause
from distributed import Client, LocalCluster, get_task_stream

from nodes import NodeRegistry, default_registry
from studio.engine import DiskCache, Engine, NodeState
from studio.engine.dask_executor import DaskExecutor, DaskValue
from studio.workflow import Workflow, WorkflowInvalidError, load_workflow

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "breast_cancer_classification.axon.json"
SEPALS = ["sepal length (cm)", "sepal width (cm)"]


@pytest.fixture(scope="module")
def client():
    # One death of a task's worker is survived (the task runs again elsewhere);
    # a second is reported. The default (3) would only make the test slower.
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    dask_client = Client(cluster, set_as_default=False)
    dask_client.wait_for_workers(2, timeout=60)
    yield dask_client
    dask_client.close()
    cluster.close()


@pytest.fixture
def executor(client):
    client.wait_for_workers(2, timeout=60)  # after a test that killed some
    with DaskExecutor(client=client) as dask_executor:
        yield dask_executor
    # Results of this test must not outlive it on the shared cluster: a worker
    # killed by a later test would make Dask compute them again, on the threads
    # that test's nodes wait for.
    gc.collect()


@pytest.fixture
def registry() -> NodeRegistry:
    return NodeRegistry([*default_registry().all(), *DASK_TEST_TYPES])


def _branches(registry, seconds: float = 0.8) -> Workflow:
    """iris -> its two sepal columns -> 'left' (+1) and 'right' (+10), two Pause branches."""
    workflow = Workflow(registry)
    workflow.add_node("sample_dataset", {"dataset": "iris"}, node_id="data")
    workflow.add_node("select_columns", {"columns": SEPALS},
                      node_id="numbers")
    workflow.connect("data", "data", "numbers", "data")
    for name, amount in (("left", 1.0), ("right", 10.0)):
        workflow.add_node("test_pause", {"seconds": seconds, "amount": amount}, node_id=name)
        workflow.connect("numbers", "data", name, "data")
    return workflow


def _local_run(workflow: Workflow):
    with Engine(jobs=2) as engine:
        record = engine.run(workflow)
        outputs = {n: engine.outputs(workflow, n) for n in record.nodes}
    return record, outputs


def _lineage(document: dict) -> dict:
    """A record's lineage as written (tuples are lists), less what names the run."""
    lineage = json.loads(json.dumps(document["lineage"]))
    for dataset in lineage["datasets"]:
        if dataset.get("ownership"):
            dataset["ownership"]["use"].pop("run_id")  # each use names its own run
    return lineage


def _comparable(record) -> dict:
    """What must not depend on the executor: states, keys, outputs, lineage."""
    document = record.to_dict()
    return {"status": document["status"], "lineage": _lineage(document),
            "nodes": {n: {k: v[k] for k in ("state", "cache_key", "outputs", "error",
                                             "error_type", "type_id", "version")}
                      for n, v in document["nodes"].items()}}


def test_branches_run_on_both_workers_and_equal_in_process(executor, registry):
    workflow = _branches(registry)
    running, overlap = set(), []
    lock = threading.Lock()

    def watch(event):
        with lock:
            if event["state"] == NodeState.RUNNING:
                running.add(event["node_id"])
                overlap.append(set(running))
            elif event["state"].finished or event["state"] == NodeState.FAILED:
                running.discard(event["node_id"])

    with Engine(executor=executor) as engine:
        engine.events.subscribe(watch, kind="node_state")
        record = engine.run(workflow)
        assert record.status == "succeeded", {n: r.error for n, r in record.nodes.items()}
        handle = engine.cache.get(record.nodes["left"].cache_key).outputs["data"]
        assert isinstance(handle, DaskValue)  # the table stayed on its worker
        outputs = {n: engine.outputs(workflow, n) for n in record.nodes}

    assert {"left", "right"} in overlap, "the two branches never ran at the same time"
    assert executor.ran_on["left"] != executor.ran_on["right"]
    assert set(executor.ran_on.values()) == set(executor.client.nthreads())
    assert record.executor["name"] == "dask" and record.executor["workers"] == 2

    local_record, local_outputs = _local_run(workflow)
    assert _comparable(record) == _comparable(local_record)
    for node_id in ("left", "right"):
        pd.testing.assert_frame_equal(outputs[node_id]["data"].frame,
                                      local_outputs[node_id]["data"].frame)
    expected = local_outputs["numbers"]["data"].frame + 10.0
    pd.testing.assert_frame_equal(outputs["right"]["data"].frame, expected)


def test_example_gives_the_same_record_and_lineage_as_in_process(executor):
    workflow = load_workflow(EXAMPLE)
    with Engine(executor=executor) as engine:
        record = engine.run(workflow)
        metrics = engine.outputs(workflow, "evaluate")["metrics"]
    local_record, local_outputs = _local_run(workflow)
    assert record.status == "succeeded"
    assert _comparable(record) == _comparable(local_record)
    assert record.lineage["models"] and all(m["sha256"] for m in record.lineage["models"])
    assert metrics.to_dict() == local_outputs["evaluate"]["metrics"].to_dict()


def test_keras_example_trains_on_the_workers(executor):
    """A Keras network trains on a worker (TensorFlow imported there) and its
    fitted model comes back. The run has the cache keys and data lineage of a
    local run; the trained weights need not be bit-identical (TensorFlow's CPU
    kernels may sum in another order in another process, see docs/scaling.md),
    so the metrics are compared within a tolerance."""
    workflow = load_workflow(REPO / "examples" / "keras_housing_regression.axon.json")
    with Engine(executor=executor) as engine:
        record = engine.run(workflow)
        metrics = {n: engine.outputs(workflow, n)["metrics"].scalars
                   for n in ("crossvalidate", "evaluate")}
    assert record.status == "succeeded", {n: r.error for n, r in record.nodes.items()}
    assert {executor.ran_on["train"], executor.ran_on["crossvalidate"]} <= set(
        executor.client.nthreads())
    local_record, local_outputs = _local_run(workflow)
    assert ({n: r.cache_key for n, r in record.nodes.items()}
            == {n: r.cache_key for n, r in local_record.nodes.items()})
    assert (_lineage(record.to_dict())["datasets"]
            == _lineage(local_record.to_dict())["datasets"])
    for node_id, scalars in metrics.items():
        local = local_outputs[node_id]["metrics"].scalars
        assert scalars["mae"] == pytest.approx(local["mae"], rel=0.1), node_id
    assert metrics["evaluate"]["mae"] < 4.0  # thousands of dollars


def test_cli_runs_on_a_running_scheduler(client, tmp_path):
    out = tmp_path / "out"
    process = subprocess.run(
        [sys.executable, "-m", "studio.cli.main", "run", str(EXAMPLE), "--json", "--out", str(out),
         "--scheduler", client.scheduler.address, "--save", "split.train", "--format", "csv"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "AXON_STUDIO_CACHE_DIR": str(tmp_path / "cache")}, cwd=tmp_path)
    assert process.returncode == 0, process.stderr
    document = json.loads(process.stdout)
    assert document["executor"]["scheduler"] == client.scheduler.address
    workflow = load_workflow(EXAMPLE)
    local_record, local_outputs = _local_run(workflow)
    assert _lineage(document) == _lineage(local_record.to_dict())
    assert document["metrics"]["evaluate.metrics"] == pytest.approx(
        local_outputs["evaluate"]["metrics"].scalars, rel=1e-12)
    written = json.loads((out / "outputs" / "evaluate.metrics.json").read_text())
    assert written["scalars"] == document["metrics"]["evaluate.metrics"]
    model_dir = out / "outputs" / "train.model"
    # fetched from the worker, stored safely (plain data, or skops)
    assert (model_dir / "state.json").exists() or (model_dir / "object.skops").exists()
    train_rows = len((out / "outputs" / "split.train.csv").read_text().splitlines()) - 1
    assert train_rows == local_outputs["split"]["train"].shape[0]


def test_progress_reaches_the_client_before_the_node_is_done(executor, registry):
    workflow = _branches(registry, seconds=0.6)
    events = []
    with Engine(executor=executor) as engine:
        engine.events.subscribe(events.append)
        record = engine.run(workflow, targets=["left"])
    assert record.status == "succeeded"
    left = [e for e in events if e.data.get("node_id") == "left"]
    fractions = [e["fraction"] for e in left if e.kind == "node_progress"]
    assert len(fractions) >= 3 and fractions == sorted(fractions) and fractions[-1] == 1.0
    done_at = next(i for i, e in enumerate(left)
                   if e.kind == "node_state" and e["state"] == NodeState.DONE)
    assert all(i < done_at for i, e in enumerate(left) if e.kind == "node_progress")


def test_cancel_stops_the_node_on_its_worker(executor, registry, tmp_path):
    marker = tmp_path / "marker.txt"
    workflow = _branches(registry)
    workflow.set_param("left", "seconds", 60.0)
    workflow.set_param("left", "marker", str(marker))
    workflow.add_node("test_pause", {"seconds": 0.1}, node_id="after")
    workflow.connect("left", "data", "after", "data")
    cancel = threading.Event()

    def cancel_once_running(event):
        if event.kind == "node_progress" and event["node_id"] == "left":
            cancel.set()

    with Engine(executor=executor) as engine:
        engine.events.subscribe(cancel_once_running)
        start = time.perf_counter()
        record = engine.run(workflow, cancel_event=cancel, targets=["after"])
        elapsed = time.perf_counter() - start
    assert record.status == "cancelled"
    assert record.nodes["left"].state == "cancelled"
    assert record.nodes["after"].state == "not run"
    assert elapsed < 20
    deadline = time.monotonic() + 5
    # The worker creates the file, then writes: wait for the whole line.
    while time.monotonic() < deadline and not (marker.exists() and marker.read_text()):
        time.sleep(0.05)
    assert marker.read_text() == "cancelled\n", "the node kept running on its worker"


def test_node_error_is_reported_as_in_process(executor, registry):
    workflow = _branches(registry, seconds=0.0)
    workflow.add_node("test_reject_column", {"column": "petal_area"}, node_id="reject")
    workflow.connect("left", "data", "reject", "data")
    workflow.add_node("test_pause", {"seconds": 0.0}, node_id="below")
    workflow.connect("reject", "data", "below", "data")
    with Engine(executor=executor) as engine:
        record = engine.run(workflow)
    local_record, _ = _local_run(workflow)
    assert record.status == "failed"
    assert record.nodes["reject"].error_type == "NodeInputError"
    assert "Node 'Test Reject Column', input 'data': column 'petal_area'" in record.nodes[
        "reject"].error
    assert record.nodes["below"].state == "skipped" and record.nodes["right"].state == "done"
    assert _comparable(record) == _comparable(local_record)


def test_output_that_cannot_be_shipped_names_node_and_port(executor, registry):
    workflow = _branches(registry, seconds=0.0)
    workflow.add_node("test_locked_metrics", node_id="locked")
    workflow.connect("numbers", "data", "locked", "data")
    with Engine(executor=executor) as engine:
        record = engine.run(workflow, targets=["locked"])
    node = record.nodes["locked"]
    assert node.state == "failed" and node.error_type == "ClusterError"
    assert "'Test Locked Metrics'" in node.error and "output 'metrics'" in node.error


def test_node_type_the_workers_cannot_load_is_refused_before_running(executor, registry):
    # A node package installed here but not on the workers.
    module = types.ModuleType("axon_client_only_nodes")
    only_here = type("OnlyHere", (Pause,), {"__module__": module.__name__,
                                             "type_id": "test_only_here",
                                             "__doc__": "Pause, from a client-only package."})
    module.OnlyHere = only_here
    sys.modules[module.__name__] = module
    try:
        registry.register(only_here)
        workflow = _branches(registry, seconds=0.0)
        workflow.add_node("test_only_here", {"seconds": 0.0}, node_id="here")
        workflow.connect("numbers", "data", "here", "data")
        states = []
        with Engine(executor=executor) as engine:
            engine.events.subscribe(states.append, kind="node_state")
            with pytest.raises(WorkflowInvalidError) as caught:
                engine.run(workflow)
    finally:
        del sys.modules[module.__name__]
    assert len(caught.value.problems) == 1
    problem = caught.value.problems[0]
    assert problem.node == "here" and "axon_client_only_nodes" in problem.message
    assert states == []  # nothing started


def test_joblib_inside_a_node_fans_out_over_the_workers(executor, registry, client):
    workflow = _branches(registry, seconds=0.0)
    for name, jobs in (("all", -1), ("default", 0)):
        workflow.add_node("test_joblib_fan_out", {"tasks": 16, "jobs": jobs}, node_id=name)
        workflow.connect("numbers", "data", name, "data")
    with Engine(executor=executor) as engine:
        # One after the other: "default" holds its worker's only thread for its
        # whole run, so run beside "all" it would leave "all" a single worker.
        records = [engine.run(workflow, targets=[name]) for name in ("all", "default")]
        spread = engine.outputs(workflow, "all")["data"].frame
        single = engine.outputs(workflow, "default")["data"].frame
    assert [r.status for r in records] == ["succeeded", "succeeded"]
    worker_pids = set(client.run(os.getpid).values())
    assert set(spread["pid"]) == worker_pids  # n_jobs=-1: every worker took some
    assert set(single["pid"]) == {client.run(os.getpid, workers=[executor.ran_on["default"]])[
        executor.ran_on["default"]]}  # n_jobs=None stays one job, on the node's worker


def test_tune_model_hyperparameters_fans_its_fits_out(executor, client):
    workflow = Workflow()
    workflow.add_node("sample_dataset", {"dataset": "breast_cancer"}, node_id="data")
    workflow.add_node("decision_forest", {"trees": 40}, node_id="forest")
    workflow.add_node("tune_model_hyperparameters", {
        "parameter_ranges": "max_depth: 2, 4; min_samples_leaf: 1, 5", "folds": 4,
        "parallel_jobs": 0}, node_id="tune")
    workflow.connect("forest", "learner", "tune", "learner")
    workflow.connect("data", "data", "tune", "data")
    with Engine(executor=executor) as engine, get_task_stream(client) as stream:
        record = engine.run(workflow)
        sweep = engine.outputs(workflow, "tune")["sweep"].frame
    assert record.status == "succeeded", record.nodes["tune"].error
    fits = [t for t in stream.data if not t["key"].startswith(("axon-", "_unpicklable"))]
    assert {t["worker"] for t in fits} == set(client.nthreads())  # on both workers
    # The sweep's tasks are batches of cross-validation fits (a forest's trees
    # are not tasks then); the refit of the best setting on all rows runs
    # alone, so it spreads its trees over the workers.
    sweep_fits = [t for t in fits if "_fit_and_score" in t["key"]]
    refit = [t for t in fits if t not in sweep_fits]
    calls = sum(int(re.search(r"_(\d+)_calls", t["key"]).group(1)) for t in sweep_fits)
    assert calls == 16 and refit, sorted({t["key"].split("-")[0] for t in fits})
    assert all("_parallel_build_trees" in t["key"] for t in refit), {t["key"] for t in refit}
    workflow.set_param("tune", "parallel_jobs", 1)  # one fit after the other, here
    local_record, local_outputs = _local_run(workflow)
    pd.testing.assert_frame_equal(sweep, local_outputs["tune"]["sweep"].frame)
    assert (record.nodes["tune"].outputs["model"]["sha256"]
            == local_record.nodes["tune"].outputs["model"]["sha256"])


def test_disk_cache_gets_the_values_and_serves_a_local_run(executor, registry, tmp_path):
    workflow = _branches(registry, seconds=0.0)
    with Engine(cache=DiskCache(tmp_path), executor=executor) as engine:
        record = engine.run(workflow)
    assert record.status == "succeeded"
    with Engine(cache=DiskCache(tmp_path)) as local:
        again = local.run(workflow)
        frame = local.outputs(workflow, "right")["data"].frame
    assert {n.state for n in again.nodes.values()} == {"cached"}
    assert frame[SEPALS[0]].min() > 10.0


def test_no_worker_is_reported_instead_of_waiting():
    with LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as empty, \
            Client(empty, set_as_default=False) as empty_client, \
            DaskExecutor(client=empty_client, no_worker_timeout=1.0) as executor, \
            Engine(executor=executor) as engine:
        workflow = Workflow()
        workflow.add_node("sample_dataset", {"dataset": "iris"}, node_id="data")
        start = time.perf_counter()
        with pytest.raises(WorkflowInvalidError, match="no Dask worker answered"):
            engine.run(workflow)
    assert time.perf_counter() - start < 10


def test_worker_killed_during_a_long_node_is_survived(executor, registry, tmp_path):
    attempts = tmp_path / "attempts.txt"
    workflow = _branches(registry, seconds=0.0)
    workflow.add_node("test_kill_worker", {"attempts": str(attempts), "kills": 1,
                                           "seconds": 0.5}, node_id="fragile")
    workflow.connect("numbers", "data", "fragile", "data")
    with Engine(executor=executor) as engine:
        record = engine.run(workflow)
        rows = len(engine.outputs(workflow, "fragile")["data"].frame)
    assert record.status == "succeeded", record.nodes["fragile"].error
    pids = attempts.read_text().split()
    assert len(pids) == 2 and pids[0] != pids[1]  # died once, ran again in another process
    assert rows == 150


def test_node_whose_workers_all_die_is_reported_by_name(executor, registry, tmp_path):
    workflow = _branches(registry, seconds=0.0)
    workflow.add_node("test_kill_worker", {"attempts": str(tmp_path / "attempts.txt"),
                                           "kills": 99, "seconds": 0.0}, node_id="doomed")
    workflow.connect("numbers", "data", "doomed", "data")
    with Engine(executor=executor) as engine:
        record = engine.run(workflow)
    node = record.nodes["doomed"]
    assert record.status == "failed" and node.state == "failed"
    assert node.error_type == "ClusterError"
    assert node.error.startswith("Node 'Test Kill Worker': every Dask worker that ran it died")
    assert record.nodes["left"].state == "done"


def test_a_node_whose_only_worker_died_runs_on_its_replacement(registry, tmp_path):
    """With every worker gone at once (here the only one), Dask left the node's task
    and its lost inputs waiting for their preferred worker forever, although the
    nanny had started a new one; the executor has them placed."""
    attempts = tmp_path / "attempts.txt"
    workflow = _branches(registry, seconds=0.0)
    workflow.add_node("test_kill_worker", {"attempts": str(attempts), "kills": 1,
                                           "seconds": 0.2}, node_id="fragile")
    workflow.connect("numbers", "data", "fragile", "data")
    with dask.config.set({"distributed.scheduler.allowed-failures": 2}):
        cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    with cluster, Client(cluster, set_as_default=False) as one_worker, \
            DaskExecutor(client=one_worker) as executor, Engine(executor=executor) as engine:
        cancel, outcome = threading.Event(), {}
        runner = threading.Thread(target=lambda: outcome.update(
            record=engine.run(workflow, cancel_event=cancel, targets=["fragile"])))
        runner.start()
        runner.join(90)
        if runner.is_alive():  # the hang this test is about: stop it, then fail
            cancel.set()
            runner.join(30)
        record = outcome.get("record")
        assert record is not None and record.status == "succeeded", record
        assert len(engine.outputs(workflow, "fragile")["data"].frame) == 150
    assert len(attempts.read_text().split()) == 2  # died once, ran again


@pytest.mark.parametrize(("flags", "message"), [
    (["--executor", "local", "--local-workers", "2"], "--local-workers only apply to --executor"),
    (["--scheduler", "tcp://127.0.0.1:8786", "--local-workers", "2"], "exclude each other"),
])
def test_cli_refuses_contradictory_executor_flags(flags, message, capsys, tmp_path):
    from studio.cli.main import EXIT_INVALID, main

    assert main(["run", str(EXAMPLE), "--out", str(tmp_path), *flags]) == EXIT_INVALID
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run_record.json").exists()


def test_unreachable_scheduler_is_a_clear_error():
    import socket

    from nodes.errors import StudioError

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(StudioError, match="Cannot reach the Dask scheduler") as caught:
        DaskExecutor(address, connect_timeout=1.0)
    assert address in str(caught.value) and "dask scheduler" in caught.value.fix


def test_closing_the_engine_releases_its_results_on_the_cluster(client, registry):
    workflow = _branches(registry, seconds=0.0)
    with DaskExecutor(client=client) as executor, Engine(executor=executor) as engine:
        engine.run(workflow)
        tokens = {key.rsplit("-", 1)[1] for key in _held_keys(client)}
        assert any(f"axon-left-{t}" in _held_keys(client) for t in tokens)
    gc.collect()
    deadline = time.monotonic() + 10
    while any(key.rsplit("-", 1)[1] in tokens for key in _held_keys(client)):
        assert time.monotonic() < deadline, _held_keys(client)
        time.sleep(0.1)


def _held_keys(client) -> set[str]:
    return {str(key) for keys in client.has_what().values() for key in keys
            if str(key).startswith("axon-")}
