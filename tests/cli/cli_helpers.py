"""Helpers for the CLI tests: run `studio` as a real subprocess, edit workflow copies.

Every command runs in a fresh interpreter (``sys.executable -m studio.cli.main``)
with the test's temporary folder as working directory, so nothing is written
into the repository (`studio gui` writes its outputs under ./runs) and the
user's own result cache is never touched.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
HOUSING = EXAMPLES / "housing_regression.axon.json"
BREAST_CANCER = EXAMPLES / "breast_cancer_classification.axon.json"

#: Generous: one run takes about a second; a hung process must not hang the suite.
TIMEOUT_S = 120

StudioRunner = Callable[..., subprocess.CompletedProcess[str]]


def studio_env(cache_dir: Path, remove: tuple[str, ...] = (),
               extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a `studio` subprocess: ours, with a private cache folder."""
    env = {k: v for k, v in os.environ.items() if k not in remove}
    env["AXON_STUDIO_CACHE_DIR"] = str(cache_dir)
    env.update(extra or {})
    return env


def run_studio(*args: Any, cwd: Path, env: Mapping[str, str] | None = None
               ) -> subprocess.CompletedProcess[str]:
    """``studio ARGS...`` in a new interpreter; returns the finished process."""
    return subprocess.run([sys.executable, "-m", "studio.cli.main", *map(str, args)],
                          cwd=cwd, env=dict(env) if env is not None else None,
                          capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


def load_document(path: Path) -> dict[str, Any]:
    """A workflow file as a JSON document (a deep copy: edit it freely)."""
    return copy.deepcopy(json.loads(path.read_text(encoding="utf-8")))


def write_document(document: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


def node_entry(document: dict[str, Any], node_id: str) -> dict[str, Any]:
    """The ``nodes[]`` entry of ``node_id`` in a workflow document."""
    for entry in document["nodes"]:
        if entry["id"] == node_id:
            return entry
    raise KeyError(node_id)


def read_record(out_dir: Path) -> dict[str, Any]:
    return json.loads((out_dir / "run_record.json").read_text())


def read_metrics(out_dir: Path, node_id: str = "evaluate") -> dict[str, Any]:
    """The scalars of ``outputs/<node>.metrics.json`` written by `studio run`."""
    document = json.loads((out_dir / "outputs" / f"{node_id}.metrics.json").read_text())
    return document["scalars"]


def describe(process: subprocess.CompletedProcess[str]) -> str:
    """For assertion messages: the exit code and both streams."""
    return (f"exit {process.returncode}\n--- stdout ---\n{process.stdout}"
            f"\n--- stderr ---\n{process.stderr}")
