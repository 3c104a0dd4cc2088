"""The first run in a fresh process may start several nodes at once, each
importing scikit-learn for the first time: that must not fail."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_parallel_first_runs_in_a_fresh_process_import_cleanly():
    script = textwrap.dedent("""
        import sys
        from studio.engine import Engine, MemoryCache
        from studio.workflow import load_workflow
        assert "sklearn" not in sys.modules
        workflow = load_workflow("examples/classification_two_models.axon.json")
        with Engine(jobs=4, cache=MemoryCache()) as engine:
            record = engine.run(workflow)
        errors = {n: r.error for n, r in record.nodes.items() if r.error}
        print(record.status, errors)
    """)
    for _ in range(3):  # the collision was timing-dependent
        result = subprocess.run([sys.executable, "-c", script], capture_output=True,
                                text=True, timeout=180)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("succeeded {}"), result.stdout


def test_a_plugin_that_declares_no_imports_cannot_collide_on_its_first_run(tmp_path):
    """Its first run holds the import lock; built-in nodes preload what they declare."""
    script = textwrap.dedent("""
        import sys
        from nodes import LEARNER, Learner, Node, NodeRegistry, Output, default_registry
        from nodes.contract import ScoringRole
        from studio.engine import Engine, MemoryCache
        from studio.workflow import load_workflow

        class Forest(Node):
            "A plugin learner importing scikit-learn itself, undeclared."
            type_id = "acme_forest"
            scoring_role = ScoringRole.TRAINING_ONLY
            class Outputs:
                learner = Output(LEARNER)
            def run(self, ctx):
                from sklearn.ensemble import HistGradientBoostingClassifier
                return {"learner": Learner(HistGradientBoostingClassifier(max_iter=5),
                                           "classification", "Forest")}

        registry = NodeRegistry([*default_registry().all(), Forest])
        workflow = load_workflow("examples/classification_two_models.axon.json", registry)
        workflow.add_node("acme_forest", node_id="plugin")
        workflow.add_node("train_model", node_id="train_plugin")
        workflow.connect("plugin", "learner", "train_plugin", "learner")
        workflow.connect("split", "train", "train_plugin", "data")
        assert "sklearn" not in sys.modules
        with Engine(jobs=4, cache=MemoryCache()) as engine:
            record = engine.run(workflow)
        errors = {n: r.error for n, r in record.nodes.items() if r.error}
        print(record.status, errors)
    """)
    for _ in range(3):
        result = subprocess.run([sys.executable, "-c", script], capture_output=True,
                                text=True, timeout=180)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("succeeded {}"), result.stdout


def test_modules_are_imported_before_the_first_node_and_only_for_nodes_that_run(tmp_path):
    """The in-process executor imports the declared modules of the nodes that will
    run before the first starts (not beside a CSV read); a module that fails on
    import fails its node, with the run's record written."""
    (tmp_path / "acme_broken.py").write_text("raise RuntimeError('acme is broken')\n")
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        from nodes import LEARNER, Node, NodeRegistry, Output, default_registry
        from nodes.contract import ScoringRole
        from studio.engine import Engine, MemoryCache
        from studio.workflow import load_workflow

        class Broken(Node):
            type_id = "acme_broken"
            imports = ("acme_broken",)
            scoring_role = ScoringRole.TRAINING_ONLY
            class Outputs:
                learner = Output(LEARNER)
            def run(self, ctx):
                import acme_broken  # noqa: F401
                raise AssertionError("unreachable")

        workflow = load_workflow("examples/classification_two_models.axon.json")
        cache = MemoryCache()
        with Engine(cache=cache) as engine:
            seen = {{}}
            engine.events.subscribe(lambda event: seen.setdefault(
                "first_running", "sklearn.linear_model" in sys.modules)
                if event["state"].value == "running" else None, "node_state")
            engine.run(workflow)
        print("before first node:", seen["first_running"])
        registry = NodeRegistry([*default_registry().all(), Broken])
        broken = load_workflow("examples/classification_two_models.axon.json", registry)
        broken.add_node("acme_broken", node_id="plugin")
        with Engine(cache=MemoryCache()) as engine:
            record = engine.run(broken)
        print("plugin:", record.nodes["plugin"].state, "acme is broken" in
              (record.nodes["plugin"].error or ""))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=240)
    assert result.returncode == 0, result.stderr
    assert "before first node: True" in result.stdout, result.stdout
    assert "plugin: failed True" in result.stdout, result.stdout
