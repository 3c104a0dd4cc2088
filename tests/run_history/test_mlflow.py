"""Runs sent to a real MLflow file store: parameters, metrics, lineage, models,
and nested runs for a sweep and for cross-validation folds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nodes.values import Model
from studio.engine import Engine
from studio.runs import RunStore, record_run
from studio.runs.mlflow_log import MlflowLoggingError, metric_key, tracking_uri
from studio.workflow import Workflow, load_workflow

mlflow = pytest.importorskip("mlflow")
from mlflow.tracking import MlflowClient  # noqa: E402

SWEEP = Path(__file__).resolve().parents[2] / "examples" / "hyperparameter_sweep.axon.json"


def _children(client, experiment_id, parent):
    return client.search_runs([experiment_id],
                              filter_string=f"tags.mlflow.parentRunId = '{parent}'")


def test_a_sweep_reaches_mlflow_with_params_metrics_models_and_a_run_per_setting(tmp_path):
    store_folder = tmp_path / "mlruns"
    workflow = load_workflow(SWEEP)
    with Engine() as engine:
        record = engine.run(workflow, workflow_path=SWEEP)
        stored = record_run(record, workflow, overrides=[], workflow_path=SWEEP,
                            engine=engine, mlflow_uri=str(store_folder))
    client = MlflowClient(tracking_uri=tracking_uri(str(store_folder)))
    run = client.get_run(stored.mlflow["run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.tags["axon.run_id"] == stored.run_id
    assert run.data.params["split.fraction"] == "0.7"
    assert run.data.params["tune.parameter_ranges"] == \
        "n_estimators: 20, 50; learning_rate: 0.1, 0.3; max_depth: 2, 3"
    assert run.data.params["seed"] == "0"
    scalars = stored.metrics["evaluate.metrics"]
    assert run.data.metrics["evaluate.metrics.accuracy"] == scalars["accuracy"]
    key = metric_key("evaluate.metrics.precision[class_0]")
    assert key == "evaluate.metrics.precision_class_0_"
    assert run.data.metrics[key] == scalars["precision[class_0]"]
    artifacts = Path(client.download_artifacts(run.info.run_id, "", str(tmp_path / "got")))
    assert json.loads((artifacts / "lineage.json").read_text()) == stored.record["lineage"]
    assert json.loads((artifacts / "metric_names.json").read_text())[key] == \
        "evaluate.metrics.precision[class_0]"
    model = Model.load(artifacts / "models" / "tune.model")  # digest-checked skops file
    assert model.name.endswith("(tuned)")
    children = _children(client, run.info.experiment_id, run.info.run_id)
    assert len(children) == 8 == len(stored.mlflow["nested_run_ids"])
    ranks = sorted(c.data.metrics["rank"] for c in children)
    assert ranks[0] == 1
    assert {c.data.params["max_depth"] for c in children} == {"2", "3"}
    assert RunStore().get(stored.run_id).mlflow["run_id"] == run.info.run_id


def test_cross_validation_folds_become_nested_runs(tmp_path):
    workflow = Workflow()
    workflow.add_node("sample_dataset", {"dataset": "iris"}, node_id="data")
    workflow.add_node("logistic_regression", node_id="learner")
    workflow.add_node("cross_validate_model", {"folds": 3}, node_id="cv")
    workflow.connect("data", "data", "cv", "data")
    workflow.connect("learner", "learner", "cv", "learner")
    workflow.info.name = "iris folds"
    with Engine() as engine:
        record = engine.run(workflow)
        stored = record_run(record, workflow, engine=engine, source="api",
                            mlflow_uri=(tmp_path / "mlruns").as_uri())
    client = MlflowClient(tracking_uri=(tmp_path / "mlruns").as_uri())
    parent = client.get_run(stored.mlflow["run_id"])
    folds = _children(client, parent.info.experiment_id, parent.info.run_id)
    assert sorted(f.data.params["fold"] for f in folds) == ["1", "2", "3"]
    mean = parent.data.metrics["cv.metrics.accuracy"]
    assert mean == pytest.approx(sum(f.data.metrics["accuracy"] for f in folds) / 3)


def test_a_refused_uri_is_an_error_after_the_run_is_kept(tmp_path):
    workflow = load_workflow(SWEEP)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with Engine() as engine:
        record = engine.run(workflow, targets=["split"])
        with pytest.raises(MlflowLoggingError) as caught:
            record_run(record, workflow, engine=engine, mlflow_uri=str(blocker / "mlruns"))
    assert caught.value.fix and "studio runs show" in caught.value.fix
    assert RunStore().get(record.run_id).status == "succeeded"
    with pytest.raises(MlflowLoggingError, match="needs a tracking URI"):
        tracking_uri(" ")
