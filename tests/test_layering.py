"""The layers stay apart: the headless core never loads Qt or TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _modules_after(code: str) -> set[str]:
    script = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=ROOT, check=True, timeout=120)
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def _heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in ("PySide6", "tensorflow", "keras")}


def test_core_imports_load_neither_qt_nor_tensorflow():
    modules = _modules_after(
        "import nodes, studio.workflow, studio.engine\n"
        "from nodes import default_registry\n"
        "default_registry()")
    assert "networkx" in modules and "pandas" in modules
    assert _heavy(modules) == set()


def test_running_a_non_keras_workflow_loads_neither_qt_nor_tensorflow():
    modules = _modules_after(
        "from studio.workflow import load_workflow\n"
        "from studio.engine import Engine\n"
        "w = load_workflow('examples/breast_cancer_classification.axon.json')\n"
        "assert Engine().run(w).status == 'succeeded'")
    assert _heavy(modules) == set()


def test_cli_listing_nodes_loads_neither_qt_nor_tensorflow():
    modules = _modules_after(
        "import contextlib, io\n"
        "from studio.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['nodes'])")
    assert _heavy(modules) == set()


def test_nodes_package_does_not_import_studio():
    modules = _modules_after("import nodes\nfrom nodes import default_registry\n"
                             "default_registry()")
    assert not any(m == "studio" or m.startswith("studio.") for m in modules)
