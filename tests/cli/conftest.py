"""The ``studio`` fixture: the `studio` command in a fresh interpreter, in a temporary folder."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import StudioRunner, run_studio, studio_env


@pytest.fixture
def studio(tmp_path: Path) -> StudioRunner:
    """``studio("run", FILE, ...)`` runs in ``tmp_path`` with a private cache folder."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    default_env = studio_env(tmp_path / "user-cache")

    def runner(*args: Any, env: Mapping[str, str] | None = None
               ) -> subprocess.CompletedProcess[str]:
        return run_studio(*args, cwd=cwd, env=env if env is not None else default_env)

    return runner

