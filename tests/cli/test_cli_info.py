"""`studio validate`, `studio nodes`, `studio doctor` and `studio gui` without a display."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cli_helpers import HOUSING, TIMEOUT_S, describe, load_document, studio_env, write_document

# -- validate --------------------------------------------------------------------------

def test_validate_accepts_the_examples(studio):
    process = studio("validate", HOUSING)
    assert process.returncode == 0, describe(process)
    assert process.stdout.startswith("OK:")
    assert "8 nodes, 9 wires" in process.stdout


def test_validate_rejects_an_unconnected_input(studio, tmp_path):
    document = load_document(HOUSING)
    document["edges"] = [e for e in document["edges"] if e["target"]["port"] != "learner"]
    workflow = write_document(document, tmp_path / "unwired.axon.json")
    process = studio("validate", workflow)
    assert process.returncode == 2, describe(process)
    assert "'Train Model' needs its input 'Learner'" in process.stderr


def test_validate_rejects_a_file_that_is_not_json(studio, tmp_path):
    broken = tmp_path / "broken.axon.json"
    broken.write_text('{"nodes": [}')
    process = studio("validate", broken)
    assert process.returncode == 2, describe(process)
    assert "line 1, column" in process.stderr


# -- nodes -------------------------------------------------------------------------------

def test_nodes_lists_the_catalog_through_the_installed_entry_point(tmp_path):
    entry_point = Path(sys.executable).with_name("studio")
    if not entry_point.exists():
        pytest.skip(f"no `studio` script beside {sys.executable}")
    process = subprocess.run([str(entry_point), "nodes"], cwd=tmp_path, capture_output=True,
                             text=True, timeout=TIMEOUT_S, check=False)
    assert process.returncode == 0, describe(process)
    assert "Split Data" in process.stdout
    assert "split_data" in process.stdout


def test_nodes_of_one_category_as_json(studio):
    process = studio("nodes", "--category", "Evaluate", "--json")
    assert process.returncode == 0, describe(process)
    catalog = json.loads(process.stdout)
    assert catalog, "the Evaluate category is empty"
    assert {entry["category"] for entry in catalog} == {"Evaluate"}
    assert "evaluate_model" in {entry["type_id"] for entry in catalog}


def test_nodes_of_an_unknown_category_lists_the_categories(studio):
    process = studio("nodes", "--category", "nosuch")
    assert process.returncode == 2, describe(process)
    assert "'nosuch'" in process.stderr
    assert "Evaluate" in process.stderr
    assert process.stdout == ""


# -- doctor ------------------------------------------------------------------------------

def test_doctor_reports_qt_and_tensorflow(studio):
    process = studio("doctor")
    assert process.returncode == 0, describe(process)
    assert "Qt" in process.stdout
    assert "TensorFlow" in process.stdout


def test_doctor_does_not_import_tensorflow(tmp_path):
    # In-process, so that sys.modules shows what doctor imported (its own
    # subprocess checks, e.g. for Qt, do not count).
    script = textwrap.dedent("""
        import contextlib, io, json, sys
        from studio.cli.main import main
        with contextlib.redirect_stdout(io.StringIO()):
            code = main(["doctor"])
        print(json.dumps({"code": code,
                          "imported": sorted(m for m in ("tensorflow", "keras")
                                             if m in sys.modules)}))
    """)
    process = subprocess.run([sys.executable, "-c", script], cwd=tmp_path,
                             env=studio_env(tmp_path / "user-cache"), capture_output=True,
                             text=True, timeout=TIMEOUT_S, check=False)
    assert process.returncode == 0, describe(process)
    result = json.loads(process.stdout.strip().splitlines()[-1])
    assert result == {"code": 0, "imported": []}


# -- gui ---------------------------------------------------------------------------------

def test_gui_without_a_display_says_so_once_and_runs_headless(studio, tmp_path):
    env = studio_env(tmp_path / "user-cache",
                     remove=("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))
    process = studio("gui", HOUSING, env=env)
    assert process.returncode == 0, describe(process)
    lines = (process.stdout + process.stderr).splitlines()
    about_display = [line for line in lines if "display" in line.lower()]
    assert len(about_display) == 1, describe(process)
    assert "No display available" in about_display[0]
    assert "headless" in about_display[0]
    assert "succeeded" in process.stdout
