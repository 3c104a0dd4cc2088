"""`studio runs list | show | compare` on runs recorded from real runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.cli.main import main
from studio.cli.run import apply_overrides
from studio.engine import Engine
from studio.runs import record_run
from studio.workflow import load_workflow

HOUSING = Path(__file__).resolve().parents[2] / "examples" / "housing_regression.axon.json"


@pytest.fixture
def two_runs():
    stored = []
    for overrides in ([], ["split.fraction=0.7"]):
        workflow = load_workflow(HOUSING)
        apply_overrides(workflow, overrides)
        with Engine() as engine:
            record = engine.run(workflow, workflow_path=HOUSING)
            stored.append(record_run(record, workflow, overrides=overrides,
                                     workflow_path=HOUSING, engine=engine))
    return stored


def test_list_show_and_compare(two_runs, capsys):
    before, after = two_runs
    assert main(["runs", "list"]) == 0
    listing = capsys.readouterr().out
    assert before.run_id in listing and after.run_id in listing
    assert "split.fraction=0.7" in listing
    assert main(["runs", "show", after.run_id[:6]]) == 0
    shown = capsys.readouterr().out
    assert "Overrides: split.fraction=0.7" in shown and "boston_housing" in shown
    assert main(["runs", "compare", before.run_id, "latest", "--json"]) == 0
    comparison = json.loads(capsys.readouterr().out)
    assert comparison["parameters"] == [{"node_id": "split", "title": "Split Data",
                                         "name": "fraction", "before": 0.8, "after": 0.7}]
    mae = next(m for m in comparison["metrics"] if m["name"] == "mae")
    assert mae["delta"] == after.metrics["evaluate.metrics"]["mae"] - \
        before.metrics["evaluate.metrics"]["mae"]
    assert main(["runs", "compare", "latest~1", "latest"]) == 0
    text = capsys.readouterr().out
    assert "fraction" in text and "0.8" in text and "0.7" in text and "evaluate.mae" in text
    assert main(["runs", "list", "--json", "--workflow", str(HOUSING), "--limit", "1"]) == 0
    assert [r["run_id"] for r in json.loads(capsys.readouterr().out)] == [after.run_id]


def test_mistakes_get_a_message_and_exit_code_2(two_runs, capsys, tmp_path):
    assert main(["runs", "show", "nope12"]) == 2
    err = capsys.readouterr().err
    assert "no run 'nope12'" in err and "studio runs list" in err and "Traceback" not in err
    assert main(["runs"]) == 2
    assert "studio runs list" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert main(["runs", "list", "--runs-dir", str(tmp_path / "file")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        main(["run"])
    assert caught.value.code == 2
    assert "FILE or --from-run" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", str(HOUSING), "--from-run", "latest"])


def test_an_empty_store_says_so(capsys, runs_dir):
    assert main(["runs", "list"]) == 0
    assert "No stored runs" in capsys.readouterr().out


def test_studio_run_records_and_repeats_runs(capsys):
    assert main(["run", str(HOUSING), "--set", "split.fraction=0.7", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["runs", "show", "latest", "--json"]) == 0
    stored = json.loads(capsys.readouterr().out)
    assert stored["run_id"] == first["run_id"]
    assert stored["overrides"] == ["split.fraction=0.7"]
    assert main(["run", "--from-run", first["run_id"], "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["metrics"] == first["metrics"]
    assert main(["runs", "show", "latest", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["from_run"] == first["run_id"]
