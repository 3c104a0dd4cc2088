"""The node registry: built-ins, renamed types, third-party entry points."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from nodes import TABLE, Node, NodeRegistry, Output, UnknownNodeTypeError, default_registry


def test_builtin_catalog_has_the_core_nodes_with_help_text():
    registry = default_registry()
    for type_id in ("sample_dataset", "import_csv", "select_columns", "normalize_data",
                    "split_data", "linear_regression", "logistic_regression", "train_model",
                    "score_model", "evaluate_model", "apply_transformation"):
        node_type = registry.get(type_id)
        assert node_type.help_text(), f"{type_id} has no help text"
        assert all(p.help for p in node_type.parameters.values()), f"{type_id} param help"


def test_unknown_type_suggests_close_names():
    with pytest.raises(UnknownNodeTypeError) as info:
        default_registry().get("split_dat")
    assert "split_data" in info.value.suggestions


def test_replaced_type_ids_still_resolve():
    class NewName(Node):
        """New."""

        type_id = "new_name"
        replaces = ("old_name",)

        class Outputs:
            data = Output(TABLE)

    registry = NodeRegistry([NewName])
    assert registry.get("old_name") is NewName
    assert registry.resolve("old_name") == "new_name"


def test_duplicate_type_ids_are_refused():
    class A(Node):
        """A."""

        type_id = "same"

    class B(Node):
        """B."""

        type_id = "same"

    with pytest.raises(ValueError, match="already used"):
        NodeRegistry([A, B])


def test_third_party_nodes_arrive_through_the_entry_point_group(tmp_path):
    package = tmp_path / "acme_nodes"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent('''
        from nodes import Node, Output, TABLE, Table
        import pandas as pd

        class Hello(Node):
            """Says hello in a table."""
            type_id = "acme_hello"
            category = "Data"
            class Outputs:
                data = Output(TABLE)
            def run(self, ctx):
                return {"data": Table(pd.DataFrame({"greeting": ["hello"]}))}
    '''))
    dist = tmp_path / "acme_nodes-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-nodes\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[axon_studio.nodes]\nacme = acme_nodes\n")
    (tmp_path / "broken-1.0.dist-info").mkdir()
    (tmp_path / "broken-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: broken\nVersion: 1.0\n")
    (tmp_path / "broken-1.0.dist-info" / "entry_points.txt").write_text(
        "[axon_studio.nodes]\nbroken = no_such_module_here\n")
    script = textwrap.dedent('''
        from nodes import default_registry
        from nodes.testing import run_node
        registry = default_registry()
        hello = registry.get("acme_hello")
        print(run_node(hello)["data"].frame.iloc[0, 0])
        print(len(registry.load_problems), "broken" in registry.load_problems[0])
    ''')
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["hello", "1", "True"]
