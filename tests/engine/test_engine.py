"""The engine: order, parallel branches, caching, partial re-runs, failures, cancellation."""

from __future__ import annotations

import threading
import time

import pytest

from studio.engine import DiskCache, Engine, MemoryCache, NodeState
from studio.workflow import Workflow, WorkflowInvalidError


def _chain(registry) -> Workflow:
    """src -> add1 -> add2, and src -> add3 (a second branch)."""
    workflow = Workflow(registry)
    workflow.add_node("make_table", {"rows": 10}, node_id="src")
    workflow.add_node("add_constant", {"amount": 1}, node_id="add1")
    workflow.add_node("add_constant", {"amount": 2}, node_id="add2")
    workflow.add_node("add_constant", {"amount": 3}, node_id="add3")
    workflow.connect("src", "data", "add1", "data")
    workflow.connect("add1", "data", "add2", "data")
    workflow.connect("src", "data", "add3", "data")
    return workflow


def _states(record) -> dict[str, str]:
    return {node_id: node.state for node_id, node in record.nodes.items()}


def test_runs_in_topological_order_and_computes_real_values(toy_registry, run_counts):
    workflow = _chain(toy_registry)
    order = []
    with Engine(jobs=1) as engine:
        engine.events.subscribe(lambda e: order.append(e["node_id"])
                                if e["state"] == NodeState.RUNNING else None, kind="node_state")
        record = engine.run(workflow)
        result = engine.outputs(workflow, "add2")["data"].frame
    assert record.status == "succeeded"
    assert set(_states(record).values()) == {"done"}
    assert order.index("src") < order.index("add1") < order.index("add2")
    assert list(result["y"]) == [x + 3.0 for x in range(10)]


def test_independent_branches_run_in_parallel(toy_registry):
    workflow = Workflow(toy_registry)
    workflow.add_node("make_table", node_id="src")
    for name in ("left", "right"):
        workflow.add_node("sleep", {"seconds": 0.4}, node_id=name)
        workflow.connect("src", "data", name, "data")
    running, overlap = set(), []
    lock = threading.Lock()

    def watch(event):
        with lock:
            if event["state"] == NodeState.RUNNING:
                running.add(event["node_id"])
                overlap.append(len(running))
            elif event["state"] in (NodeState.DONE, NodeState.FAILED):
                running.discard(event["node_id"])

    with Engine(jobs=2) as engine:
        engine.events.subscribe(watch, kind="node_state")
        record = engine.run(workflow)
    assert record.status == "succeeded"
    assert max(overlap) == 2, "the two sleep branches never ran at the same time"


def test_rerun_is_all_cache_hits(toy_registry, run_counts):
    workflow = _chain(toy_registry)
    with Engine() as engine:
        engine.run(workflow)
        second = engine.run(workflow)
    assert set(_states(second).values()) == {"cached"}
    assert all(node.cache_hit for node in second.nodes.values())
    assert run_counts == {"Make Table": 1, "Add Constant": 3}


def test_changing_one_parameter_reruns_only_it_and_its_downstream(toy_registry, run_counts):
    workflow = _chain(toy_registry)
    with Engine() as engine:
        engine.run(workflow)
        workflow.set_param("add1", "amount", 10)
        assert engine.states(workflow) == {
            "src": NodeState.DONE, "add1": NodeState.OUTDATED, "add2": NodeState.OUTDATED,
            "add3": NodeState.DONE}
        record = engine.run(workflow)
        result = engine.outputs(workflow, "add2")["data"].frame
    assert _states(record) == {"src": "cached", "add1": "done", "add2": "done",
                               "add3": "cached"}
    assert list(result["y"]) == [x + 12.0 for x in range(10)]


def test_run_targets_only_what_the_target_needs(toy_registry):
    workflow = _chain(toy_registry)
    with Engine() as engine:
        record = engine.run(workflow, targets=["add1"])
        assert set(record.nodes) == {"src", "add1"}
        assert engine.states(workflow)["add2"] == NodeState.NOT_RUN


def test_no_cache_recomputes_everything(toy_registry, run_counts):
    workflow = _chain(toy_registry)
    with Engine() as engine:
        engine.run(workflow)
        record = engine.run(workflow, use_cache=False)
    assert set(_states(record).values()) == {"done"}
    assert run_counts["Make Table"] == 2


def test_failure_skips_downstream_but_not_independent_branches(toy_registry):
    workflow = _chain(toy_registry)
    workflow.add_node("fail", node_id="bad")
    workflow.add_node("add_constant", node_id="after_bad")
    workflow.connect("add1", "data", "bad", "data")
    workflow.connect("bad", "data", "after_bad", "data")
    errors = []
    with Engine(jobs=1) as engine:
        engine.events.subscribe(lambda e: errors.append(e["error"])
                                if e["state"] == NodeState.FAILED else None, kind="node_state")
        record = engine.run(workflow)
        assert engine.outputs(workflow, "bad") is None  # nothing cached for a failure
    states = _states(record)
    assert record.status == "failed"
    assert states["bad"] == "failed" and states["after_bad"] == "skipped"
    assert states["add2"] == "done" and states["add3"] == "done"
    assert "'Fail'" in record.nodes["bad"].error and "price" in record.nodes["bad"].error
    assert "Fix:" in record.nodes["bad"].error
    assert record.nodes["bad"].error_type == "NodeInputError"
    assert "'Fail' failed" in record.nodes["after_bad"].error
    assert errors == [record.nodes["bad"].error]


def test_a_bug_in_a_node_is_reported_with_its_type(toy_registry):
    workflow = Workflow(toy_registry)
    workflow.add_node("make_table", node_id="src")
    workflow.add_node("crash", node_id="crash")
    workflow.connect("src", "data", "crash", "data")
    with Engine() as engine:
        record = engine.run(workflow)
    assert record.nodes["crash"].state == "failed"
    assert record.nodes["crash"].error.startswith("KeyError")


def test_failed_node_does_not_corrupt_cached_results(toy_registry):
    workflow = _chain(toy_registry)
    with Engine() as engine:
        engine.run(workflow)
        before = engine.outputs(workflow, "add2")["data"].frame.copy()
        workflow.add_node("fail", node_id="bad")
        workflow.connect("add2", "data", "bad", "data")
        engine.run(workflow)
        after = engine.outputs(workflow, "add2")["data"].frame
    assert after.equals(before)


def test_invalid_workflow_is_reported_before_anything_runs(toy_registry, run_counts):
    workflow = Workflow(toy_registry)
    workflow.add_node("make_table", node_id="src")
    workflow.add_node("add_constant", node_id="lonely")
    workflow.add_node("combine", node_id="combine")
    workflow.connect("src", "data", "combine", "second")
    workflow.nodes["src"].params["rows"] = -1  # as if edited behind the model's back
    with Engine() as engine, pytest.raises(WorkflowInvalidError) as info:
        engine.run(workflow)
    messages = [str(p) for p in info.value.problems]
    assert len(messages) == 3
    assert any("'Add Constant' needs its input 'Data'" in m for m in messages)
    assert any("'Combine' needs its input 'First'" in m for m in messages)
    assert any("'rows'" in m for m in messages)
    assert run_counts == {}


def test_cancel_stops_a_long_node_and_what_follows(toy_registry):
    workflow = Workflow(toy_registry)
    workflow.add_node("make_table", node_id="src")
    workflow.add_node("sleep", {"seconds": 30}, node_id="long")
    workflow.add_node("add_constant", node_id="after")
    workflow.connect("src", "data", "long", "data")
    workflow.connect("long", "data", "after", "data")
    cancel = threading.Event()
    with Engine() as engine:
        def on_progress(event):
            if event["node_id"] == "long":
                cancel.set()

        engine.events.subscribe(on_progress, kind="node_progress")
        start = time.perf_counter()
        record = engine.run(workflow, cancel_event=cancel)
        elapsed = time.perf_counter() - start
    assert elapsed < 10
    assert record.status == "cancelled"
    assert _states(record) == {"src": "done", "long": "cancelled", "after": "not run"}


def test_progress_events_reach_subscribers(toy_registry):
    workflow = Workflow(toy_registry)
    workflow.add_node("make_table", node_id="src")
    workflow.add_node("sleep", {"seconds": 0.1}, node_id="nap")
    workflow.connect("src", "data", "nap", "data")
    fractions = []
    with Engine() as engine:
        engine.events.subscribe(lambda e: fractions.append(e["fraction"]), kind="node_progress")
        engine.run(workflow)
    assert fractions and all(0 <= f <= 1 for f in fractions)
    assert fractions == sorted(fractions)


def test_run_record_has_timings_environment_and_lineage(toy_registry):
    workflow = _chain(toy_registry)
    with Engine() as engine:
        record = engine.run(workflow).to_dict()
    assert record["status"] == "succeeded"
    node = record["nodes"]["add1"]
    assert node["duration_s"] >= 0 and node["started"] and node["finished"]
    assert node["outputs"]["data"] == {"kind": "table", "rows": 10, "columns": 2}
    env = record["environment"]
    assert env["python"] and env["packages"]["pandas"] and len(env["fingerprint"]) == 64
    assert record["workflow"]["sha256"]


def test_disk_cache_survives_a_new_engine_and_records_the_origin(toy_registry, tmp_path):
    workflow = _chain(toy_registry)
    with Engine(cache=DiskCache(tmp_path)) as engine:
        first = engine.run(workflow)
    with Engine(cache=DiskCache(tmp_path)) as engine:
        second = engine.run(workflow)
        frame = engine.outputs(workflow, "add2")["data"].frame
    assert set(_states(second).values()) == {"cached"}
    origin = second.nodes["add2"].origin
    assert origin["run_id"] == first.run_id and origin["same_environment"] is True
    assert list(frame["y"]) == [x + 3.0 for x in range(10)]


def test_a_damaged_disk_cache_entry_is_a_miss_not_a_wrong_answer(toy_registry, tmp_path):
    workflow = _chain(toy_registry)
    with Engine(cache=DiskCache(tmp_path)) as engine:
        engine.run(workflow)
    for parquet in tmp_path.rglob("table.parquet"):
        parquet.write_bytes(b"garbage")
    with Engine(cache=DiskCache(tmp_path)) as engine:
        # Asked for every output: each damaged entry is read, found out, recomputed.
        record = engine.run(workflow, keep=lambda node, port, info: True)
        frame = engine.kept[("add2", "data")].frame
    assert set(_states(record).values()) == {"done"}
    assert all(n.cache_problem for n in record.nodes.values())
    assert list(frame["y"]) == [x + 3.0 for x in range(10)]
    with Engine(cache=DiskCache(tmp_path)) as engine:  # the damaged entries were rewritten
        assert set(_states(engine.run(workflow)).values()) == {"cached"}


def test_a_damaged_entry_no_node_needs_is_not_read_until_asked_for(toy_registry, tmp_path):
    workflow = _chain(toy_registry)
    with Engine(cache=DiskCache(tmp_path)) as engine:
        engine.run(workflow)
    for parquet in tmp_path.rglob("table.parquet"):
        parquet.write_bytes(b"garbage")
    with Engine(cache=DiskCache(tmp_path)) as engine:
        record = engine.run(workflow)  # nothing runs, so no table is read
        assert set(_states(record).values()) == {"cached"}
        assert engine.outputs(workflow, "add2") is None  # read now: damaged, dropped
        again = engine.run(workflow)
        assert again.nodes["add2"].state == "done"
        assert list(engine.outputs(workflow, "add2")["data"].frame["y"]) == [
            x + 3.0 for x in range(10)]


def test_memory_cache_drops_least_recently_used():
    from studio.engine import CacheEntry

    cache = MemoryCache(max_entries=2)
    for key in ("a", "b", "c"):
        cache.put(key, CacheEntry({}, {}))
    assert "a" not in cache and "b" in cache and "c" in cache


def test_a_multiple_input_gets_its_values_in_wire_order_and_old_files_merge_into_it():
    import json

    import pandas as pd

    from nodes import TABLE, Input, IntParam, Node, NodeRegistry, Output, Table
    from nodes.contract import ScoringRole
    from studio.workflow import loads

    class Number(Node):
        """A one-cell table."""

        type_id = "number"
        scoring_role = ScoringRole.TRAINING_ONLY

        class Outputs:
            data = Output(TABLE)

        value = IntParam(0)

        def run(self, ctx):
            return {"data": Table(pd.DataFrame({"v": [self.value]}))}

    class Gather(Node):
        """Stacks its tables."""

        type_id = "gather"
        version = 2
        scoring_role = ScoringRole.TRAINING_ONLY
        merged_inputs = {"tables": ("first", "second")}

        class Inputs:
            tables = Input(TABLE, multiple=True, optional=True)

        class Outputs:
            data = Output(TABLE)

        def run(self, ctx, tables):
            frames = [t.frame for t in tables] or [pd.DataFrame({"v": []})]
            return {"data": Table(pd.concat(frames, ignore_index=True))}

    registry = NodeRegistry([Number, Gather])
    workflow = Workflow(registry)
    for value in (3, 1, 2):
        workflow.add_node("number", {"value": value}, node_id=f"n{value}")
    workflow.add_node("gather", node_id="g")
    workflow.add_node("gather", node_id="empty")
    for value in (2, 3, 1):
        workflow.connect(f"n{value}", "data", "g", "tables")
    with Engine(jobs=3) as engine:
        engine.run(workflow)
        assert engine.outputs(workflow, "g")["data"].frame["v"].tolist() == [2, 3, 1]
        assert engine.outputs(workflow, "empty")["data"].frame.empty
    old = {"format": "axon-studio-workflow", "schema_version": 1,
           "nodes": [{"id": "a", "type_id": "number", "params": {"value": 5}},
                     {"id": "b", "type_id": "number", "params": {"value": 6}},
                     {"id": "g", "type_id": "gather", "version": 1, "params": {}}],
           "edges": [{"source": {"node": "b", "port": "data"},
                      "target": {"node": "g", "port": "second"}},
                     {"source": {"node": "a", "port": "data"},
                      "target": {"node": "g", "port": "first"}}]}
    loaded = loads(json.dumps(old), registry)
    assert [(e.source, e.target_port) for e in loaded.edges] == [("a", "tables"),
                                                                ("b", "tables")]


def test_the_memory_cache_keeps_within_its_byte_budget():
    import pandas as pd

    from nodes import Table
    from studio.engine import CacheEntry
    from studio.engine.cache import entry_size

    def entry(rows: int) -> CacheEntry:
        return CacheEntry({"data": Table(pd.DataFrame({"x": range(rows)}))}, {})

    size = entry_size(entry(1000))
    cache = MemoryCache(max_bytes=int(size * 2.5))
    for key in ("a", "b", "c"):
        cache.put(key, entry(1000))
    assert "a" not in cache and "b" in cache and "c" in cache
    assert cache.size_bytes <= int(size * 2.5)
    cache.put("huge", entry(100_000))  # larger than the whole budget: not kept
    assert "huge" not in cache and "c" in cache
    assert "x" not in MemoryCache(max_bytes=0) and MemoryCache(max_bytes=0).size_bytes == 0
