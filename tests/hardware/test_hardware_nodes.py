"""The hardware nodes in a chain: Train Model -> Run on ... -> Evaluate Model, Compare, reports."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from nodes.errors import NodeInputError
from nodes.evaluate.evaluate import EvaluateModel
from nodes.hardware.compare import CompareHardware
from nodes.hardware.graphcore import RunOnGraphcore
from nodes.hardware.pcm import RunOnPCM
from nodes.hardware.registry import BackendDescriptor, register_backend, registered_backends
from nodes.hardware.report import HardwareReport
from nodes.hardware.spinnaker import RunOnSpiNNaker
from nodes.hardware.tensai import RunOnTensai
from nodes.models.learners import LogisticRegression
from nodes.models.train_score import ScoreModel, TrainModel
from nodes.testing import run_node
from nodes.values import load_value, save_value

FAST = {RunOnSpiNNaker: {"timesteps": 60, "sweep_timesteps": [10, 60]},
        RunOnGraphcore: {"max_batch": 16}, RunOnPCM: {}, RunOnTensai: {}}
BACKENDS = ["SpiNNaker", "Graphcore GC2", "IBM PCM", "ETA Compute TENSAI"]
REQUIRED = ("accuracy", "digital_accuracy", "agreement", "latency_per_sample_s",
            "latency_per_batch_s", "throughput_samples_per_s", "energy_per_inference_j")


@pytest.fixture(scope="module")
def runs(iris_model, iris_split):
    return {node: run_node(node, FAST[node], model=iris_model, data=iris_split["test"])
            for node in FAST}


@pytest.mark.parametrize("node", list(FAST), ids=lambda n: n.type_id)
def test_the_scored_table_is_score_models_and_evaluate_model_reads_it(node, runs, iris_model,
                                                                      iris_split):
    scored, report = runs[node]["scored"], runs[node]["report"]
    reference = run_node(ScoreModel, {}, model=iris_model, data=iris_split["test"])["scored"]
    assert list(scored.frame.columns) == list(reference.frame.columns)
    assert scored.roles == reference.roles
    metrics = run_node(EvaluateModel, {}, scored=scored)["metrics"]
    assert metrics.scalars["accuracy"] == pytest.approx(report.metrics["accuracy"])
    agreement = np.mean(scored.frame["Scored Labels"] == reference.frame["Scored Labels"])
    assert report.metrics["agreement"] == pytest.approx(agreement)
    probabilities = scored.frame[[c for c in scored.frame if c.startswith("Scored Prob")]]
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-3)
    assert set(REQUIRED) <= set(report.metrics)
    assert report.rows == len(iris_split["test"].frame)
    assert all(a.source for a in report.assumptions) and report.not_modelled


@pytest.mark.parametrize("node", list(FAST), ids=lambda n: n.type_id)
def test_reports_save_and_load_as_json_and_parquet(node, runs, tmp_path):
    report = runs[node]["report"]
    kind = save_value(report, tmp_path)
    assert kind == "hardware_report"
    suffixes = {p.suffix for p in tmp_path.rglob("*") if p.is_file()}
    assert suffixes <= {".json", ".parquet"}
    loaded = load_value(kind, tmp_path)
    assert isinstance(loaded, HardwareReport) and loaded.digest() == report.digest()
    for name, table in report.tables.items():
        pd.testing.assert_frame_equal(loaded.tables[name], table)
    summary = report.summary()
    json.dumps(summary, allow_nan=False)
    for plot in summary["plots"]:
        columns = summary["tables"][plot["table"]]["columns"]
        assert plot["x"] in columns and set(plot["y"]) <= set(columns)


def test_compare_hardware_takes_any_number_of_reports_in_wire_order(runs):
    reports = [runs[node]["report"] for node in FAST]
    table = run_node(CompareHardware, {}, reports=reports)["comparison"].frame
    assert list(table["backend"]) == BACKENDS
    for report, (_, row) in zip(reports, table.iterrows(), strict=True):
        assert row["accuracy"] == report.metrics["accuracy"]
        assert row["energy_per_inference_j"] == report.metrics["energy_per_inference_j"]
    resources = dict(zip(table["backend"], table["resources"], strict=True))
    assert resources["SpiNNaker"] == "3 cores, 1 chip, 1 board"
    assert "crossbar tile" in resources["IBM PCM"] and "1 chip" in resources["Graphcore GC2"]
    assert resources["ETA Compute TENSAI"].endswith("SRAM bytes")
    assert "flash bytes" in resources["ETA Compute TENSAI"]
    counts = dict(zip(table["backend"], table["estimated_assumptions"], strict=True))
    assert counts["Graphcore GC2"] >= 3       # sync, launch, PCIe latency, reserve, efficiency
    vendor = dict(zip(table["backend"], table["vendor_claim_assumptions"], strict=True))
    assert vendor["ETA Compute TENSAI"] >= 2  # listen and compute power
    # One report, or two in the other order, work too.
    assert len(run_node(CompareHardware, {}, reports=reports[:1])["comparison"].frame) == 1
    swapped = run_node(CompareHardware, {}, reports=reports[1::-1])["comparison"].frame
    assert list(swapped["backend"]) == BACKENDS[1::-1]
    with pytest.raises(NodeInputError, match="no hardware report"):
        run_node(CompareHardware, {}, reports=[])


def test_backends_register_themselves_and_compare_hardware_names_none(runs):
    backends = registered_backends()
    assert set(BACKENDS) <= set(backends)
    assert all(backends[name].summary for name in BACKENDS)
    # A fifth backend: registering it is all Compare Hardware needs.
    register_backend(BackendDescriptor("Test Device", "a device of the tests",
                                       (("widgets", "widget"),)))
    report = runs[RunOnPCM]["report"]
    fifth = HardwareReport(**{**report.__dict__, "backend": "Test Device",
                              "resources": {"widgets": 7}})
    table = run_node(CompareHardware, {}, reports=[report, fifth])["comparison"].frame
    assert table["resources"].iloc[1] == "7 widgets"
    # An unregistered backend still gets its whole-number resources, named as they are.
    stranger = HardwareReport(**{**report.__dict__, "backend": "Stranger",
                                 "resources": {"gadgets": 2, "name": "x"}})
    table = run_node(CompareHardware, {}, reports=[stranger])["comparison"].frame
    assert table["resources"].iloc[0] == "gadgets 2"


def test_old_compare_files_map_their_four_inputs_onto_reports():
    assert CompareHardware.version == 2 and CompareHardware.inputs["reports"].multiple
    assert CompareHardware.merged_inputs == {"reports": ("first", "second", "third", "fourth")}
    assert CompareHardware.migrate_params({}, 1) == {}


def test_compare_hardware_refuses_reports_of_different_models(runs, iris_split):
    learner = run_node(LogisticRegression, {})["learner"]
    other = run_node(TrainModel, {}, learner=learner, data=iris_split["train"])["model"]
    with pytest.raises(NodeInputError, match="different model"):
        # A report claiming another model's digest.
        report = runs[RunOnPCM]["report"]
        forged = HardwareReport(**{**report.__dict__, "model_digest": other.digest()})
        run_node(CompareHardware, {}, reports=[runs[RunOnGraphcore]["report"], forged])


def test_a_model_that_is_not_a_network_is_refused_by_name(iris_split):
    learner = run_node(LogisticRegression, {})["learner"]
    model = run_node(TrainModel, {}, learner=learner, data=iris_split["train"])["model"]
    with pytest.raises(NodeInputError, match="LogisticRegression") as error:
        run_node(RunOnPCM, {}, model=model, data=iris_split["test"])
    assert error.value.node == "Run on PCM" and error.value.port == "model"


def test_missing_feature_columns_are_named(iris_model, iris_split):
    test = iris_split["test"]
    data = test.with_frame(test.frame.drop(columns=["petal width (cm)"]))
    with pytest.raises(NodeInputError, match="petal width"):
        run_node(RunOnGraphcore, {}, model=iris_model, data=data)


def test_spinnaker_calibration_rows_set_the_normalisation(iris_model, iris_split):
    params = {"timesteps": 30, "sweep_timesteps": []}
    own = run_node(RunOnSpiNNaker, params, model=iris_model, data=iris_split["test"])["report"]
    calibrated = run_node(RunOnSpiNNaker, params, model=iris_model, data=iris_split["test"],
                          calibration=iris_split["train"])["report"]
    assert calibrated.settings["calibration_rows"] == len(iris_split["train"].frame)
    assert calibrated.settings["normalisation_scales"] != own.settings["normalisation_scales"]
