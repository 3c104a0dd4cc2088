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
        "from studio.engine import Engine\n"
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


#: Libraries a node may use only inside run() (or a helper it calls): the
#: catalog is built when the desktop app starts, which must stay quick.
_LOADED_ON_USE = ("sklearn", "scipy", "duckdb", "skops", "tensorflow", "keras", "dask",
                  "distributed", "fastapi", "uvicorn", "matplotlib", "PySide6")


def test_building_and_describing_the_catalog_loads_no_heavy_library():
    modules = _modules_after(
        "from nodes import default_registry\n"
        "registry = default_registry()\n"
        "for node_type in registry.all():\n"
        "    node_type.describe()\n"
        "    node_type.parameter_problems(node_type.defaults())\n"
        "assert len(registry.all()) > 50, len(registry.all())")
    assert "nodes.models.classifiers" in modules and "nodes.text.vectorize" in modules
    assert {m for m in modules if m.split(".")[0] in _LOADED_ON_USE} == set()


def test_a_stored_keras_learner_loads_where_only_the_catalog_was_built(tmp_path):
    # The catalog no longer imports the Keras estimator's module; loading a
    # stored one imports it on demand (a declared, deferred artifact class).
    folder = tmp_path / "learner"
    _modules_after(
        "from pathlib import Path\n"
        "from nodes.models.keras_network import KerasNetwork\n"
        "from nodes.values import Learner, save_value\n"
        "learner = Learner(KerasNetwork(task='regression', epochs=7, seed=3), 'regression', 'n')\n"
        f"assert save_value(learner, Path({str(folder)!r})) == 'learner'")
    modules = _modules_after(
        "from pathlib import Path\n"
        "from nodes import default_registry\n"
        "from nodes.values import load_value\n"
        "default_registry()\n"
        f"learner = load_value('learner', Path({str(folder)!r}))\n"
        "params = learner.estimator.get_params()\n"
        "assert type(learner.estimator).__name__ == 'KerasNetwork', learner.estimator\n"
        "assert (params['task'], params['epochs'], params['seed']) == ('regression', 7, 3)\n"
        "assert (learner.task, learner.name) == ('regression', 'n')")
    assert "nodes.models._keras_estimator" in modules
    assert _heavy(modules) == set()


def test_the_command_line_starts_without_the_data_stack():
    """`studio --help` and `studio --version` answer before pandas would have loaded."""
    for argument in ("--help", "--version"):
        modules = _modules_after(
            "import contextlib, io\n"
            "from studio.cli.main import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n"
            f"        main([{argument!r}])\n"
            "    except SystemExit:\n"
            "        pass")
        heavy = {m for m in modules if m.split(".")[0] in ("pandas", "numpy", "networkx",
                                                         "sklearn", "scipy", "pyarrow")}
        assert heavy == set(), f"{argument} imports {sorted(heavy)[:5]}"
