"""The *.axon.json format: round trips, every load error, atomic saves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from studio.workflow import (
    SCHEMA_VERSION,
    Workflow,
    WorkflowFileError,
    dumps,
    load_workflow,
    loads,
    save_workflow,
    workflow_to_dict,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _sample(registry) -> Workflow:
    workflow = Workflow(registry)
    workflow.info.name = "sample"
    workflow.info.seed = 7
    workflow.add_node("make_table", {"rows": 4}, position=(10.5, -3), node_id="src",
                      title="Source", comment="four rows")
    workflow.add_node("add_constant", {"amount": 2.5}, position=(0, 100), node_id="add")
    workflow.connect("src", "data", "add", "data")
    workflow.add_annotation("a note", (1, 2, 300, 40))
    return workflow


def _document(registry) -> dict:
    return workflow_to_dict(_sample(registry))


def _problems(text: str, registry) -> list[str]:
    with pytest.raises(WorkflowFileError) as info:
        loads(text, registry, source="test.axon.json")
    return [str(p) for p in info.value.problems]


def test_round_trip_is_identical(tmp_path, toy_registry):
    path = save_workflow(_sample(toy_registry), tmp_path / "w.axon.json")
    first = path.read_text()
    again = load_workflow(path, toy_registry)
    save_workflow(again, tmp_path / "w2.axon.json")
    assert (tmp_path / "w2.axon.json").read_text() == first
    assert again.nodes["src"].comment == "four rows"
    assert again.nodes["src"].position == (10.5, -3.0)
    assert again.info.seed == 7
    assert json.loads(first)["schema_version"] == SCHEMA_VERSION


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.axon.json")))
def test_examples_round_trip_byte_for_byte(name):
    text = (EXAMPLES / name).read_text()
    assert dumps(loads(text)) == text


def test_invalid_json_reports_line_and_column(toy_registry):
    text = '{\n  "schema_version": 1,\n  "nodes": [\n    {"id": "a",}\n  ]\n}'
    (problem,) = _problems(text, toy_registry)
    assert "line 4" in problem and "column" in problem and "invalid JSON" in problem


def test_unknown_node_type_names_the_closest_known_types(toy_registry):
    document = _document(toy_registry)
    document["nodes"][0]["type_id"] = "make_tabel"
    problems = _problems(json.dumps(document), toy_registry)
    assert any("make_tabel" in p and "make_table" in p for p in problems)


def test_bad_parameter_values_are_reported_with_node_and_parameter(toy_registry):
    document = _document(toy_registry)
    document["nodes"][0]["params"]["rows"] = "many"
    document["nodes"][1]["params"]["speed"] = 3
    problems = _problems(json.dumps(document), toy_registry)
    assert any("'rows'" in p and "Source" in p and "nodes[0]" in p for p in problems)
    assert any("'speed'" in p and "no such parameter" in p for p in problems)


def test_edges_to_missing_nodes_and_ports_are_reported(toy_registry):
    document = _document(toy_registry)
    document["edges"].append({"source": {"node": "ghost", "port": "data"},
                              "target": {"node": "add", "port": "data"}})
    document["edges"].append({"source": {"node": "src", "port": "nope"},
                              "target": {"node": "add", "port": "data"}})
    problems = _problems(json.dumps(document), toy_registry)
    assert any("'ghost'" in p and "does not exist" in p for p in problems)
    assert any("no output 'nope'" in p for p in problems)


def test_cycles_in_a_file_are_reported(toy_registry):
    document = _document(toy_registry)
    document["nodes"].append({"id": "add2", "type_id": "add_constant", "version": 1,
                              "position": [0, 0], "params": {}})
    document["edges"] = [
        {"source": {"node": "add", "port": "data"}, "target": {"node": "add2", "port": "data"}},
        {"source": {"node": "add2", "port": "data"}, "target": {"node": "add", "port": "data"}},
    ]
    problems = _problems(json.dumps(document), toy_registry)
    assert any("cycle" in p for p in problems)


def test_newer_schema_version_is_refused_clearly(toy_registry):
    document = _document(toy_registry)
    document["schema_version"] = SCHEMA_VERSION + 1
    (problem,) = _problems(json.dumps(document), toy_registry)
    assert "newer than this program" in problem and "Upgrade" in problem


def test_newer_node_version_is_refused_clearly(toy_registry):
    document = _document(toy_registry)
    document["nodes"][0]["version"] = 99
    problems = _problems(json.dumps(document), toy_registry)
    assert any("node version 99" in p for p in problems)


def test_every_problem_is_reported_at_once(toy_registry):
    document = _document(toy_registry)
    document["nodes"][0]["params"]["rows"] = -5
    document["nodes"][1]["type_id"] = "nonsense"
    document["annotations"][0]["rect"] = "big"
    problems = _problems(json.dumps(document), toy_registry)
    assert len(problems) >= 3


def test_not_a_workflow_and_missing_file(tmp_path, toy_registry):
    assert "not an Axon Studio workflow" in _problems('{"format": "other"}', toy_registry)[0]
    with pytest.raises(WorkflowFileError, match="does not exist"):
        load_workflow(tmp_path / "missing.axon.json", toy_registry)


def test_old_node_versions_are_migrated(toy_registry):
    node_type = toy_registry.get("make_table")
    original_version, original = node_type.version, node_type.__dict__.get("migrate_params")

    def migrate(cls, params, from_version):
        params["rows"] = params.pop("count")
        return params

    node_type.version = 2
    node_type.migrate_params = classmethod(migrate)
    try:
        document = _document(toy_registry)
        document["nodes"][0]["version"] = 1
        document["nodes"][0]["params"] = {"count": 11}
        workflow = loads(json.dumps(document), toy_registry)
        assert workflow.nodes["src"].params["rows"] == 11
        assert workflow.nodes["src"].version == 2
    finally:
        node_type.version = original_version
        if original is None:
            del node_type.migrate_params
        else:
            node_type.migrate_params = original


def test_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, toy_registry, monkeypatch):
    path = save_workflow(_sample(toy_registry), tmp_path / "w.axon.json")
    before = path.read_text()
    changed = _sample(toy_registry)
    changed.set_param("src", "rows", 999)

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        save_workflow(changed, path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["w.axon.json"]


def test_killing_a_process_mid_save_never_leaves_a_torn_file(tmp_path):
    """A writer saving a large workflow in a loop is SIGKILLed; the file always loads."""
    path = tmp_path / "big.axon.json"
    script = textwrap.dedent(f"""
        from studio.workflow import Workflow, save_workflow
        w = Workflow()
        for i in range(400):
            w.add_node("split_data", {{"seed": i}}, position=(i, i), comment="x" * 200)
        save_workflow(w, {str(path)!r})
        print("ready", flush=True)
        i = 0
        while True:
            i += 1
            w.set_param("split_data", "seed", i % 1000)
            save_workflow(w, {str(path)!r})
    """)
    for _ in range(3):
        child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
        assert child.stdout.readline().strip() == b"ready"
        time.sleep(0.3)
        child.send_signal(signal.SIGKILL)
        child.wait()
        workflow = load_workflow(path)
        assert len(workflow.nodes) == 400


def test_relative_paths_start_at_the_workflow_files_folder(tmp_path, monkeypatch):
    """Schema 2: a workflow and its data move together; the working directory is
    irrelevant. A schema-1 file keeps its old meaning (the working directory)."""
    import pandas as pd

    from studio.engine import Engine

    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]}).to_csv(project / "data" / "t.csv",
                                                          index=False)
    workflow = Workflow()
    workflow.add_node("import_csv", {"path": "data/t.csv", "label_column": "y"},
                      node_id="read")
    path = save_workflow(workflow, project / "w.axon.json")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    loaded = load_workflow(path)
    assert loaded.node_type("read").known_output_columns(
        loaded.nodes["read"].params) is None  # outside a run: the working directory
    with Engine(jobs=1) as engine:
        record = engine.run(loaded)
        assert record.status == "succeeded", record.nodes["read"].error
        assert engine.outputs(loaded, "read")["data"].frame["x"].tolist() == [1, 2, 3]
    old = json.loads(path.read_text())
    old["schema_version"] = 1
    (project / "old.axon.json").write_text(json.dumps(old))
    migrated = load_workflow(project / "old.axon.json")
    assert migrated.info.extra["relative_paths"] == "working_directory"
    with Engine(jobs=1) as engine:
        assert engine.run(migrated).status == "failed"  # data/t.csv from 'elsewhere'
    monkeypatch.chdir(project)
    with Engine(jobs=1) as engine:
        assert engine.run(migrated).status == "succeeded"  # as it always did
