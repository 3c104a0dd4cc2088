"""The run store: real runs kept in a real SQLite file, compared, repeated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from studio.cli.run import apply_overrides
from studio.engine import Engine
from studio.runs import (
    RunStore,
    RunStoreError,
    UnknownRunError,
    compare_runs,
    record_run,
    workflow_from_run,
)
from studio.workflow import load_workflow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HOUSING = EXAMPLES / "housing_regression.axon.json"


def _run(overrides=(), seed=None, **kwargs):
    workflow = load_workflow(HOUSING)
    apply_overrides(workflow, list(overrides))
    if seed is not None:
        workflow.info.seed = seed
    with Engine() as engine:
        record = engine.run(workflow, workflow_path=HOUSING)
        return record_run(record, workflow, overrides=list(overrides), workflow_path=HOUSING,
                          engine=engine, **kwargs), engine.outputs(workflow, "evaluate")


def test_a_run_is_kept_with_its_parameters_overrides_seed_metrics_and_lineage(runs_dir):
    stored, outputs = _run(["split.fraction=0.7"], seed=5)
    assert (runs_dir / "runs.sqlite3").is_file()
    again = RunStore().get(stored.run_id)
    assert again.overrides == ["split.fraction=0.7"]
    assert again.seed == 5 and again.status == "succeeded" and again.source == "cli"
    assert again.params["split"]["fraction"] == 0.7
    assert again.params["split"]["seed"] == 42  # set in the file, so not the workflow seed
    assert again.metrics == {"evaluate.metrics": outputs["metrics"].scalars}
    assert again.record["lineage"]["datasets"][0]["name"] == "boston_housing"
    assert again.record["nodes"]["train"]["duration_s"] >= 0
    assert again.record["environment"]["fingerprint"]
    assert again.workflow_path == str(HOUSING)
    # The tables are plain SQLite, queryable without Axon Studio.
    with sqlite3.connect(runs_dir / "runs.sqlite3") as connection:
        rows = connection.execute(
            "SELECT value FROM metrics WHERE run_id = ? AND name = 'mae'",
            (stored.run_id,)).fetchall()
        params = connection.execute(
            "SELECT value FROM node_params WHERE run_id = ? AND node_id = 'split' "
            "AND name = 'fraction'", (stored.run_id,)).fetchall()
    assert rows == [(outputs["metrics"].scalars["mae"],)] and params == [("0.7",)]


def test_runs_are_found_by_id_prefix_and_latest(tmp_path):
    first, _ = _run()
    second, _ = _run(["split.fraction=0.6"])
    store = RunStore()
    assert [r.run_id for r in store.list()] == [second.run_id, first.run_id]
    assert store.resolve("latest").run_id == second.run_id
    assert store.resolve("latest~1").run_id == first.run_id
    assert store.resolve(first.run_id[:6]).run_id == first.run_id
    assert [r.run_id for r in store.list(workflow_path=HOUSING)] == [second.run_id,
                                                                     first.run_id]
    assert store.list(workflow_path=tmp_path / "other.axon.json") == []
    for reference, words in [("latest~2", "only 2 stored run"), ("zzzzzz", "no run"),
                             ("ab", "not a run id"), ("latest~x", "not a run reference")]:
        with pytest.raises(UnknownRunError, match=words):
            store.resolve(reference)


def test_a_comparison_shows_the_parameter_change_and_its_metric_delta():
    before, _ = _run()
    after, _ = _run(["split.fraction=0.7"])
    comparison = compare_runs(before, after)
    assert [(c.node_id, c.name, c.before, c.after)
            for c in comparison.parameter_changes] == [("split", "fraction", 0.8, 0.7)]
    mae = next(m for m in comparison.metric_deltas if m.name == "mae")
    assert mae.before == before.metrics["evaluate.metrics"]["mae"]
    assert mae.after == after.metrics["evaluate.metrics"]["mae"]
    assert mae.delta == mae.after - mae.before != 0
    assert comparison.overrides == ([], ["split.fraction=0.7"])
    assert comparison.same_environment and not comparison.dataset_changes
    assert compare_runs(before, before).changed_metrics == []


def test_a_run_is_repeated_exactly_from_the_store_even_after_the_file_changed(tmp_path):
    copy = tmp_path / "housing.axon.json"
    copy.write_text(HOUSING.read_text())
    workflow = load_workflow(copy)
    apply_overrides(workflow, ["split.fraction=0.75"])
    workflow.info.seed = 3
    with Engine() as engine:
        record = engine.run(workflow, workflow_path=copy)
        stored = record_run(record, workflow, overrides=["split.fraction=0.75"],
                            workflow_path=copy, engine=engine)
        copy.write_text(HOUSING.read_text().replace('"fraction": 0.8', '"fraction": 0.5'))
        repeated = workflow_from_run(stored.run_id[:8])
        assert repeated.workflow_path == copy
        assert repeated.workflow.info.seed == 3
        assert repeated.workflow.nodes["split"].params["fraction"] == 0.75
        assert engine.keys(repeated.workflow) == engine.keys(workflow)
        again = engine.run(repeated.workflow, use_cache=False)
        assert again.lineage["models"][0]["sha256"] == record.lineage["models"][0]["sha256"]


def test_a_damaged_or_newer_store_is_refused_with_the_fix(tmp_path):
    stored, _ = _run()
    store = RunStore()
    with sqlite3.connect(store.path) as connection:
        connection.execute("UPDATE runs SET document = document || ' '")
    with pytest.raises(RunStoreError, match="does not match its digest"):
        workflow_from_run(stored.run_id)
    newer = tmp_path / "newer"
    newer.mkdir()
    with sqlite3.connect(newer / "runs.sqlite3") as connection:
        connection.execute("PRAGMA user_version = 99")
    with pytest.raises(RunStoreError, match="newer Axon Studio") as caught:
        RunStore(newer)
    assert caught.value.fix
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(RunStoreError, match="is a file, not a folder"):
        RunStore(tmp_path / "a-file")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "runs.sqlite3").write_bytes(b"not a database" * 100)
    with pytest.raises(RunStoreError, match="cannot be used"):
        RunStore(tmp_path / "junk")
