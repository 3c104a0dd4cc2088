"""Sample tables shared by the node tests (loaded once; tables are never mutated)."""

from __future__ import annotations

import pandas as pd
import pytest

from nodes.data.datasets import SampleDataset
from nodes.testing import run_node
from nodes.values import Table
from sample_datasets import DATA_DIR


def load_sample(name: str) -> Table:
    return run_node(SampleDataset, {"dataset": name})["data"]


def read_sample_csv(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / f"{name}.csv")


@pytest.fixture(scope="session")
def sample_csv():
    """``sample_csv(name)``: the dataset as a plain pandas read, for reference computations."""
    return read_sample_csv


@pytest.fixture(scope="session")
def breast_cancer() -> Table:
    return load_sample("breast_cancer")


@pytest.fixture(scope="session")
def iris() -> Table:
    return load_sample("iris")


@pytest.fixture(scope="session")
def boston() -> Table:
    return load_sample("boston_housing")
