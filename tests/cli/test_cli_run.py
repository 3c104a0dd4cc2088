"""`studio run`: the example workflows give exactly what pandas + scikit-learn give,
the run record and outputs are written, failures are reported node by node."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from cli_helpers import (
    BREAST_CANCER,
    HOUSING,
    describe,
    load_document,
    node_entry,
    read_metrics,
    read_record,
    run_studio,
    studio_env,
    write_document,
)
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sample_datasets import DATA_DIR


def sidecar(name: str) -> dict[str, Any]:
    return json.loads((DATA_DIR / f"{name}.json").read_text())


def sample_frame(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / sidecar(name)["file"])


def scaled(train: pd.DataFrame, test: pd.DataFrame, features: list[str]
           ) -> tuple[np.ndarray, np.ndarray]:
    """Z-scores fitted on the training rows only, applied to both."""
    scaler = StandardScaler().fit(train[features].to_numpy(dtype=float))
    return (scaler.transform(train[features].to_numpy(dtype=float)),
            scaler.transform(test[features].to_numpy(dtype=float)))


def housing_reference(fraction: float = 0.8) -> dict[str, float]:
    """The housing example written directly with pandas + scikit-learn."""
    frame = sample_frame("boston_housing")
    label = sidecar("boston_housing")["label"]
    features = [c for c in frame.columns if c != label]
    train, test = train_test_split(frame, train_size=fraction, random_state=42)
    x_train, x_test = scaled(train, test, features)
    model = LinearRegression().fit(x_train, train[label].to_numpy(dtype=float))
    predicted = model.predict(x_test)
    return {"r2": r2_score(test[label].to_numpy(dtype=float), predicted), "rows": len(test)}


def breast_cancer_reference() -> dict[str, float]:
    """The breast cancer example written directly with pandas + scikit-learn
    (nodes/models/learners.py: regularization_strength -> C, max_iterations ->
    max_iter, tolerance -> tol, seed -> random_state)."""
    frame = sample_frame("breast_cancer")
    label = sidecar("breast_cancer")["label"]
    features = [c for c in frame.columns if c != label]
    train, test = train_test_split(frame, train_size=0.7, random_state=1,
                                   stratify=frame[label])
    x_train, x_test = scaled(train, test, features)
    model = LogisticRegression(C=1.0, max_iter=1000, tol=1e-4, random_state=0)
    model.fit(x_train, train[label].to_numpy())
    positive = sorted(model.classes_)[1]  # Evaluate Model: the second sorted class
    probability = model.predict_proba(x_test)[:, list(model.classes_).index(positive)]
    actual = test[label].to_numpy()
    return {"accuracy": accuracy_score(actual, model.predict(x_test)),
            "auc": roc_auc_score(actual == positive, probability), "rows": len(test)}


def run_example(workflow: Path, out_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_studio("run", workflow, "--out", out_dir, *extra, cwd=out_dir.parent,
                      env=studio_env(out_dir.parent / "user-cache"))


# -- the housing example ---------------------------------------------------------

@pytest.fixture(scope="module")
def housing_run(tmp_path_factory: pytest.TempPathFactory
                ) -> tuple[subprocess.CompletedProcess[str], Path]:
    out_dir = tmp_path_factory.mktemp("housing") / "out"
    return run_example(HOUSING, out_dir), out_dir


def test_housing_run_succeeds_and_every_node_is_done(housing_run):
    process, out_dir = housing_run
    assert process.returncode == 0, describe(process)
    record = read_record(out_dir)
    assert record["status"] == "succeeded"
    assert set(record["nodes"]) == {n["id"] for n in load_document(HOUSING)["nodes"]}
    assert {n["state"] for n in record["nodes"].values()} == {"done"}
    assert not any(n["cache_hit"] for n in record["nodes"].values())


def test_housing_lineage_names_the_dataset_file_and_the_model(housing_run):
    _, out_dir = housing_run
    lineage = read_record(out_dir)["lineage"]
    datasets = [d for d in lineage["datasets"] if d["name"] == "boston_housing"]
    assert len(datasets) == 1
    assert datasets[0]["sha256"] == sidecar("boston_housing")["sha256"]
    assert datasets[0]["node"] == "dataset"
    models = [m for m in lineage["models"] if m["kind"] == "model"]
    assert len(models) == 1
    assert models[0]["node"] == "train"
    assert len(models[0]["sha256"]) == 64
    assert models[0]["trained_on"] == [sidecar("boston_housing")["sha256"]]
    assert "score" in models[0]["used_by"]


def test_housing_r2_equals_pandas_and_scikit_learn(housing_run):
    _, out_dir = housing_run
    metrics = read_metrics(out_dir)
    expected = housing_reference()
    assert metrics["r2"] == pytest.approx(expected["r2"], rel=1e-9)
    assert metrics["rows"] == expected["rows"]


# -- the breast cancer example -----------------------------------------------------

def test_breast_cancer_accuracy_and_auc_equal_pandas_and_scikit_learn(tmp_path):
    out_dir = tmp_path / "out"
    process = run_example(BREAST_CANCER, out_dir)
    assert process.returncode == 0, describe(process)
    record = read_record(out_dir)
    assert record["status"] == "succeeded"
    assert {n["state"] for n in record["nodes"].values()} == {"done"}
    assert [d["sha256"] for d in record["lineage"]["datasets"]] == [
        sidecar("breast_cancer")["sha256"]]
    metrics = read_metrics(out_dir)
    expected = breast_cancer_reference()
    assert metrics["accuracy"] == pytest.approx(expected["accuracy"], rel=1e-9)
    assert metrics["auc"] == pytest.approx(expected["auc"], rel=1e-9)
    assert metrics["rows"] == expected["rows"]


# -- options -------------------------------------------------------------------------

def test_json_output_and_a_parameter_override(tmp_path):
    out_dir = tmp_path / "out"
    process = run_example(HOUSING, out_dir, "--json", "--set", "split.fraction=0.6")
    assert process.returncode == 0, describe(process)
    document = json.loads(process.stdout)
    assert document["status"] == "succeeded"
    expected = housing_reference(fraction=0.6)
    assert expected["rows"] == 203  # 506 rows, floor(0.6 * 506) = 303 for training
    metrics = document["metrics"]["evaluate.metrics"]
    assert metrics["rows"] == expected["rows"]
    assert metrics["r2"] == pytest.approx(expected["r2"], rel=1e-9)
    assert document["nodes"]["split"]["outputs"]["test"]["rows"] == expected["rows"]
    assert read_record(out_dir)["run_id"] == document["run_id"]


def test_disk_cache_second_run_is_all_cache_hits_with_the_same_metrics(tmp_path):
    cache_dir = tmp_path / "cache"
    first, second = tmp_path / "first", tmp_path / "second"
    for out_dir in (first, second):
        process = run_example(HOUSING, out_dir, "--disk-cache", "--cache-dir", cache_dir)
        assert process.returncode == 0, describe(process)
    assert not any(n["cache_hit"] for n in read_record(first)["nodes"].values())
    nodes = read_record(second)["nodes"]
    assert {n: node["cache_hit"] for n, node in nodes.items()} == dict.fromkeys(nodes, True)
    assert {node["state"] for node in nodes.values()} == {"cached"}
    assert read_metrics(second) == read_metrics(first)
    assert read_metrics(second)["r2"] == pytest.approx(housing_reference()["r2"], rel=1e-9)


# -- nodes failing at run time ---------------------------------------------------------

def with_csv_import(csv_path: Path, destination: Path) -> Path:
    """The housing example reading ``csv_path`` with Import Data instead of the sample."""
    document = load_document(HOUSING)
    entry = node_entry(document, "dataset")
    entry["type_id"] = "import_csv"
    entry["params"] = {"path": str(csv_path), "label_column": "MEDV"}
    return write_document(document, destination)


def test_missing_label_values_fail_train_and_skip_what_follows(tmp_path):
    frame = sample_frame("boston_housing")
    frame.loc[[3, 50, 200], "MEDV"] = np.nan
    csv_path = tmp_path / "houses_with_gaps.csv"
    frame.to_csv(csv_path, index=False)
    workflow = with_csv_import(csv_path, tmp_path / "gaps.axon.json")
    out_dir = tmp_path / "out"

    process = run_example(workflow, out_dir)

    assert process.returncode == 1, describe(process)
    assert "error in 'Train Model' (train)" in process.stdout
    record = read_record(out_dir)
    assert record["status"] == "failed"
    train = record["nodes"]["train"]
    assert train["state"] == "failed"
    assert "Train Model" in train["error"] and "MEDV" in train["error"]
    assert "3 rows" in train["error"]
    states = {n: node["state"] for n, node in record["nodes"].items()}
    assert states == {"dataset": "done", "learner": "done", "split": "done",
                      "normalize": "done", "apply_normalization": "done", "train": "failed",
                      "score": "skipped", "evaluate": "skipped"}
    assert "Train Model" in record["nodes"]["evaluate"]["error"]
    assert not (out_dir / "outputs" / "evaluate.metrics.json").exists()


def test_missing_csv_file_fails_the_import_and_skips_what_follows(tmp_path):
    missing = tmp_path / "no_such_file.csv"
    workflow = with_csv_import(missing, tmp_path / "missing.axon.json")
    out_dir = tmp_path / "out"

    process = run_example(workflow, out_dir)

    assert process.returncode == 1, describe(process)
    assert "error in 'Import Data (CSV)' (dataset)" in process.stdout
    record = read_record(out_dir)
    assert record["status"] == "failed"
    dataset = record["nodes"]["dataset"]
    assert dataset["state"] == "failed"
    assert "Import Data (CSV)" in dataset["error"] and "no_such_file.csv" in dataset["error"]
    states = {n: node["state"] for n, node in record["nodes"].items()}
    assert states.pop("dataset") == "failed"
    assert states.pop("learner") == "done"  # independent of the import
    assert set(states.values()) == {"skipped"}


def test_tables_are_written_only_where_asked_and_as_parquet(tmp_path):
    import subprocess
    import sys

    import pandas as pd

    example = Path(__file__).resolve().parents[2] / "examples" / "housing_regression.axon.json"

    def run(*extra):
        return subprocess.run([sys.executable, "-m", "studio.cli.main", "run", str(example),
                               *extra], capture_output=True, text=True, timeout=300)

    default = run("--out", str(tmp_path / "default"))
    assert default.returncode == 0, default.stderr
    written = sorted(p.name for p in (tmp_path / "default" / "outputs").iterdir())
    assert "evaluate.metrics.json" in written and "train.model" in written
    assert not [name for name in written if name.endswith((".parquet", ".csv"))]
    asked = run("--out", str(tmp_path / "asked"), "--save", "score.scored", "--save",
                "Split Data.test")
    assert asked.returncode == 0, asked.stderr
    scored = pd.read_parquet(tmp_path / "asked" / "outputs" / "score.scored.parquet")
    assert "Scored Labels" in scored.columns
    assert (tmp_path / "asked" / "outputs" / "split.test.parquet").is_file()
    everything = run("--out", str(tmp_path / "all"), "--save-all", "--format", "csv")
    assert everything.returncode == 0, everything.stderr
    assert len(list((tmp_path / "all" / "outputs").glob("*.csv"))) >= 6
    wrong = run("--out", str(tmp_path / "wrong"), "--save", "score.nope")
    assert wrong.returncode == 2 and "has no output 'nope'" in wrong.stderr
