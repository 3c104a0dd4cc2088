"""A notebook export holds no outputs, one cell per node, and runs top to bottom."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.cli.main import main
from studio.workflow import load_workflow

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_notebook_runs_top_to_bottom_and_prints_the_runs_metrics(tmp_path, capsys):
    source = EXAMPLES / "breast_cancer_classification.axon.json"
    path = tmp_path / "pipeline.ipynb"
    assert main(["export-script", str(source), "--notebook", "--out", str(path)]) == 0
    assert "Wrote the notebook" in capsys.readouterr().out
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    markdown = [c.source for c in notebook.cells if c.cell_type == "markdown"]
    workflow = load_workflow(source)
    assert len(code) == len(workflow.nodes) + 2  # setup, one per node, the metrics
    assert all(not c.outputs and c.execution_count is None for c in code)
    for node_id in workflow.nodes:
        assert any(m.startswith(f"## {workflow.label(node_id)}") and f"`{node_id}`" in m
                   for m in markdown)
    assert any(workflow.info.description in m for m in markdown)

    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(o.get("text", "") for o in notebook.cells[-1].outputs)
    assert main(["run", str(source), "--json", "--out", str(tmp_path / "out")]) == 0
    assert json.loads(printed) == json.loads(capsys.readouterr().out)["metrics"]
