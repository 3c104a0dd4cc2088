"""Every test here keeps its runs in its own store (never the user's)."""

import pytest


@pytest.fixture(autouse=True)
def runs_dir(tmp_path, monkeypatch):
    folder = tmp_path / "run-store"
    monkeypatch.setenv("AXON_STUDIO_RUNS_DIR", str(folder))
    return folder
