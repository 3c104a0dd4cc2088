"""Every shipped example made of scikit-learn nodes exports to a plain script whose
printed metrics equal `studio run --json`'s to the last bit; the others are refused
with the reason."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from studio.cli.main import main
from studio.export import ExportRefusedError, build_script
from studio.workflow import load_workflow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: The examples made of scikit-learn nodes only (checked below against the exporter).
PLAIN = ["breast_cancer_classification", "classification_two_models", "diabetes_regression",
         "housing_regression", "hyperparameter_sweep", "iris_clustering",
         "text_classification"]


def _imports(source: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add((node.module or "").split(".")[0])
    return found


def test_exactly_the_plain_examples_export_and_the_others_say_why():
    exported, refused = [], {}
    for path in sorted(EXAMPLES.glob("*.axon.json")):
        name = path.name.removesuffix(".axon.json")
        try:
            build_script(load_workflow(path), workflow_path=path)
            exported.append(name)
        except ExportRefusedError as error:
            refused[name] = error
    assert exported == PLAIN
    for name, error in refused.items():
        reasons = " ".join(reason for _, _, reason in error.refusals)
        assert any(word in reasons for word in ("hardware", "Keras", "recommender",
                                                "not a scikit-learn")), name
        assert error.fix


@pytest.mark.parametrize("name", PLAIN)
def test_the_script_prints_the_metrics_of_studio_run_to_the_last_bit(name, tmp_path, capsys):
    script = tmp_path / f"{name}.py"
    workflow_file = EXAMPLES / f"{name}.axon.json"
    assert main(["export-script", str(workflow_file), "--out", str(script)]) == 0
    capsys.readouterr()
    source = script.read_text()
    assert not _imports(source) & {"studio", "nodes", "sample_datasets"}
    assert _imports(source) <= {"hashlib", "json", "math", "re", "pathlib", "numpy", "pandas",
                                "sklearn", "scipy", "joblib"}
    workflow = load_workflow(workflow_file)
    for node_id in workflow.nodes:  # one block per node, headed by its title
        assert f"# {workflow.label(node_id)} (" in source and f"{node_id})" in source
    # The script runs in its own interpreter, in another folder, isolated from the
    # repository (-I: no current folder, no PYTHON* variables) while the run happens here.
    process = subprocess.Popen([sys.executable, "-I", str(script)], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert main(["run", str(workflow_file), "--json", "--out", str(tmp_path / "out")]) == 0
    expected = json.loads(capsys.readouterr().out)["metrics"]
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    printed = json.loads(out[out.index("{\n"):])
    assert printed == expected
    assert all(isinstance(v, float) or v is None for m in printed.values() for v in m.values())


def test_refusals_through_the_command_line(tmp_path, capsys):
    out = tmp_path / "pipeline.py"
    code = main(["export-script", str(EXAMPLES / "hardware_pcm_drift.axon.json"),
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert "'Run on PCM' (pcm)" in err and "hardware" in err and "Traceback" not in err
    assert main(["export-script", str(EXAMPLES / "iris_clustering.axon.json"),
                 "--out", str(tmp_path / "x.txt")]) == 2
    assert "should end with .py" in capsys.readouterr().err
    out.write_text("mine")
    assert main(["export-script", str(EXAMPLES / "iris_clustering.axon.json"),
                 "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err and out.read_text() == "mine"
