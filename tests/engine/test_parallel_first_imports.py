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
