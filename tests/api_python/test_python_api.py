"""The Python API: docs/python-api.md's example runs, DataFrames bind to dataset
nodes, results share the cache and the run store with the CLI."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import studio
from studio.api import ApiError
from studio.runs import RunStore
from studio.workflow import Workflow, WorkflowInvalidError

ROOT = Path(__file__).resolve().parents[2]
HOUSING = ROOT / "examples" / "housing_regression.axon.json"


def test_the_documented_example_runs(monkeypatch, capsys):
    text = (ROOT / "docs" / "python-api.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks
    monkeypatch.chdir(ROOT)
    for block in blocks:
        exec(compile(block, "docs/python-api.md", "exec"), {"__name__": "docs"})
    printed = capsys.readouterr().out
    assert "succeeded" in printed and "split fraction 0.8 -> 0.7" in printed
    assert len(RunStore().list()) == 2


def test_a_bound_dataframe_is_the_data_its_cache_key_and_its_lineage():
    frame = pd.read_csv(ROOT / "sample_datasets" / "boston_housing.csv")
    first = studio.run(HOUSING, data={"Sample Dataset": frame.head(200)}, record=False)
    assert first.succeeded and len(first.table("split", "train")) == 160
    same = studio.run(HOUSING, data={"dataset": frame.head(200).copy()}, record=False)
    assert all(node.cache_hit for node in same.record.nodes.values())
    assert same.metrics("evaluate") == first.metrics("evaluate")
    other = studio.run(HOUSING, data={"dataset": frame.head(201)}, record=False)
    assert not other.record.nodes["dataset"].cache_hit
    assert other.record.lineage["datasets"][0]["rows"] == 201
    # The label role follows the node it replaces (MEDV), so training finds it.
    assert first.record.nodes["train"].state == "done"


def test_the_workflow_passed_in_is_never_changed_and_results_come_as_plain_values():
    workflow = studio.load(HOUSING)
    result = studio.run(workflow, set={"split.fraction": 0.6}, seed=4)
    assert workflow.nodes["split"].params["fraction"] == 0.8 and workflow.info.seed == 0
    assert isinstance(result.table("score"), pd.DataFrame)
    assert set(result.metrics()) == {"evaluate.metrics"}
    assert result.metrics() == {"evaluate.metrics": result.metrics("evaluate")}
    stored = RunStore().get(result.run_id)
    assert stored.source == "api" and stored.overrides == ["split.fraction=0.6"]
    assert stored.seed == 4 and stored.metrics == result.metrics()
    assert result.value("train").task == "regression"


def test_mistakes_name_what_is_wrong():
    with pytest.raises(ApiError, match="no node with id or title 'nope'"):
        studio.run(HOUSING, data={"nope": pd.DataFrame({"x": [1]})})
    with pytest.raises(ApiError, match="not a dataset node"):
        studio.run(HOUSING, data={"split": pd.DataFrame({"x": [1]})})
    with pytest.raises(ApiError, match="not a pandas DataFrame"):
        studio.run(HOUSING, data={"dataset": [1, 2]})
    with pytest.raises(ApiError, match="NODE.PARAMETER"):
        studio.run(HOUSING, set={"fraction": 0.5})
    empty = Workflow()
    empty.add_node("split_data", node_id="split")
    with pytest.raises(WorkflowInvalidError):
        studio.run(empty)
    result = studio.run(HOUSING, record=False)
    with pytest.raises(ApiError, match="2 table outputs"):
        result.table("split")
    with pytest.raises(ApiError, match="has no metrics output"):
        result.metrics("split")
    failing = studio.run(HOUSING, data={"dataset": pd.DataFrame({"MEDV": [1.0] * 3})},
                         record=False)
    assert failing.status == "failed"
    with pytest.raises(ApiError, match="failed"):
        failing.raise_for_status()
