"""Small real data for the ownership tests: a CSV of loans owned per row, its
sidecar written by `studio data describe`, and a workflow that trains on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from studio.ownership.describe import Description, describe_file
from studio.workflow import Workflow, save_workflow

OWNERS = ("alice", "bob", "carol")


def loans_frame(rows: int = 120, seed: int = 0) -> pd.DataFrame:
    generator = np.random.default_rng(seed)
    income = np.round(generator.uniform(10, 100, rows), 2)
    debt = np.round(generator.uniform(0, 50, rows), 2)
    return pd.DataFrame({"income": income, "debt": debt,
                         "owner": [OWNERS[i % 3] for i in range(rows)],
                         "label": (income - debt > 40).astype(int)})


def write_loans(folder: Path, *, rows: int = 120, **terms: object) -> Path:
    """loans.csv with a sidecar: owners per row (column 'owner'), the given terms."""
    path = folder / "loans.csv"
    loans_frame(rows).to_csv(path, index=False)
    describe_file(path, Description(owner_column="owner", terms=terms), force=True)
    return path


def training_workflow(csv: Path, folder: Path, **settings: object) -> Path:
    """Import CSV -> Split 0.7 -> Train logistic regression -> Score -> Evaluate."""
    workflow = Workflow()
    workflow.info.name = "loans"
    workflow.info.extra.update(settings)
    workflow.add_node("import_csv", {"path": str(csv), "label_column": "label"}, node_id="data")
    workflow.add_node("select_columns", {"columns": ["income", "debt", "label"]},
                      node_id="select")
    workflow.add_node("split_data", {"fraction": 0.7, "seed": 0}, node_id="split")
    workflow.add_node("logistic_regression", {}, node_id="learner")
    workflow.add_node("train_model", node_id="train")
    workflow.add_node("score_model", node_id="score")
    workflow.add_node("evaluate_model", node_id="evaluate")
    for edge in (("data", "data", "select", "data"), ("select", "data", "split", "data"),
                 ("split", "train", "train", "data"), ("learner", "learner", "train", "learner"),
                 ("train", "model", "score", "model"), ("split", "test", "score", "data"),
                 ("score", "scored", "evaluate", "scored")):
        workflow.connect(*edge)
    return save_workflow(workflow, folder / "loans.axon.json")
