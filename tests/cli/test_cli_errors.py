"""Mistakes in files and arguments: exit code 2, before anything runs, with a message
that says where the mistake is."""

from __future__ import annotations

import re

from cli_helpers import HOUSING, describe, load_document, node_entry, write_document


def test_override_of_an_unknown_node_names_it(studio, tmp_path):
    process = studio("run", HOUSING, "--out", tmp_path / "out", "--set", "nosuch.x=1")
    assert process.returncode == 2, describe(process)
    assert "'nosuch'" in process.stderr
    assert "split" in process.stderr  # the known ids are listed
    assert not (tmp_path / "out" / "run_record.json").exists()


def test_override_with_an_out_of_range_value_names_the_parameter(studio, tmp_path):
    process = studio("run", HOUSING, "--out", tmp_path / "out", "--set", "split.fraction=7")
    assert process.returncode == 2, describe(process)
    assert "'fraction'" in process.stderr
    assert "Split Data" in process.stderr
    assert not (tmp_path / "out" / "run_record.json").exists()


def test_invalid_json_reports_line_and_column(studio, tmp_path):
    broken = tmp_path / "broken.axon.json"
    broken.write_text('{\n  "format": "axon-studio-workflow",\n  "nodes": [,]\n}\n')
    process = studio("run", broken, "--out", tmp_path / "out")
    assert process.returncode == 2, describe(process)
    assert re.search(r"line 3, column \d+", process.stderr), process.stderr
    assert "invalid JSON" in process.stderr


def test_unknown_node_type_suggests_the_closest_type(studio, tmp_path):
    document = load_document(HOUSING)
    node_entry(document, "learner")["type_id"] = "linear_regresion"
    workflow = write_document(document, tmp_path / "typo.axon.json")
    process = studio("run", workflow, "--out", tmp_path / "out")
    assert process.returncode == 2, describe(process)
    assert "'linear_regresion'" in process.stderr
    assert "'learner'" in process.stderr
    assert "Did you mean 'linear_regression'" in process.stderr


def test_unconnected_required_input_is_listed_before_running(studio, tmp_path):
    document = load_document(HOUSING)
    document["edges"] = [e for e in document["edges"] if e["target"]["node"] != "evaluate"]
    workflow = write_document(document, tmp_path / "unwired.axon.json")
    process = studio("run", workflow, "--out", tmp_path / "out")
    assert process.returncode == 2, describe(process)
    # Named by title and port label, never by internal ids.
    assert "'Evaluate Model' needs its input 'Scored' (Table) connected" in process.stderr
    assert "'evaluate'" not in process.stderr
    assert not (tmp_path / "out" / "run_record.json").exists()
