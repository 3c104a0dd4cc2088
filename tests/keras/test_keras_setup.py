"""The Keras learner without TensorFlow: parameters, estimator protocol, lazy import, examples.

Nothing here trains, so nothing here may import TensorFlow; a subprocess
checks that the catalog, the CLI listing, building a Keras learner and
running a non-Keras workflow leave it unimported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from example_workflows import EXAMPLES, EXAMPLES_BUILT
from sklearn.base import clone, is_classifier, is_regressor

from nodes.errors import ParameterError
from nodes.models._keras_layers import LAYER_TYPES, validate_layer
from nodes.models.keras_network import KerasNetwork, NeuralNetworkKeras
from nodes.testing import run_node
from nodes.values import ARTIFACT_CLASSES, Learner
from studio.workflow import dumps, load_workflow

ROOT = Path(__file__).resolve().parents[2]


def test_a_layer_gets_every_setting_filled_in():
    assert validate_layer({"type": "Dense", "units": 512.0}) == {
        "type": "dense", "units": 512, "activation": "relu"}
    assert validate_layer({"type": "conv2d", "filters": 8}) == {
        "type": "conv2d", "filters": 8, "kernel_size": 3, "strides": 1, "padding": "valid",
        "activation": "relu"}
    assert validate_layer({"type": "reshape", "shape": [8, 8, 1]})["shape"] == [8, 8, 1]


@pytest.mark.parametrize(("layer", "said"), [
    ({"type": "dense", "units": 0}, "'units' must be a whole number >= 1"),
    ({"type": "dense", "units": 1.5}, "'units' must be a whole number >= 1"),
    ({"type": "dense", "activation": "relu6"}, "'activation' must be one of 'relu'"),
    ({"type": "dropout", "rate": 1.0}, "'rate' must be a number >= 0 and < 1"),
    ({"type": "dense", "unit": 5}, "has no setting 'unit' (its settings: units, activation)"),
    ({"type": "lstm"}, "layer type 'lstm' is not one of dense, dropout"),
    ({"units": 5}, "must be an object with a 'type'"),
    ({"type": "reshape", "shape": [8, 0]}, "non-empty list of whole numbers >= 1"),
])
def test_a_wrong_layer_is_refused_naming_its_place_and_setting(layer, said):
    stack = [{"type": "dense", "units": 4}, layer]
    with pytest.raises(ParameterError) as caught:
        NeuralNetworkKeras({"layers": stack}, label="Net")
    assert caught.value.parameter == "layers[1]"
    assert caught.value.node == "Net"
    assert said in str(caught.value)


@pytest.mark.parametrize(("params", "parameter"), [
    ({"task": "regression", "loss": "crossentropy"}, "loss"),
    ({"task": "classification", "loss": "huber"}, "loss"),
    ({"task": "classification", "metrics": ["mae"]}, "metrics"),
    ({"task": "regression", "metrics": ["rmse", "accuracy"]}, "metrics"),
])
def test_loss_and_metrics_must_suit_the_task(params, parameter):
    with pytest.raises(ParameterError) as caught:
        NeuralNetworkKeras(params)
    assert caught.value.parameter == parameter and params["task"] in str(caught.value)


def test_the_layer_editor_gets_a_schema_of_every_layer_type():
    described = {p["name"]: p for p in NeuralNetworkKeras.describe()["parameters"]}
    schema = described["layers"]["layer_types"]
    assert set(schema) == set(LAYER_TYPES)
    assert schema["dense"]["fields"]["units"] == {
        "kind": "int", "default": 64, "help": "Number of units (outputs).", "minimum": 1,
        "maximum": None, "exclusive_maximum": False, "choices": []}
    json.dumps(described)


def test_the_learner_is_a_scikit_learn_estimator_that_clone_copies():
    layers = [{"type": "dense", "units": 8, "activation": "tanh"}]
    learner = run_node(NeuralNetworkKeras, {"task": "regression", "layers": layers,
                                            "epochs": 3, "seed": 7})["learner"]
    assert isinstance(learner, Learner) and learner.task == "regression"
    estimator = learner.estimator
    copy = clone(estimator)
    assert copy is not estimator and copy.get_params() == estimator.get_params()
    assert copy.get_params()["layers"] == [{"type": "dense", "units": 8, "activation": "tanh"}]
    assert is_regressor(estimator) and is_classifier(KerasNetwork(task="classification"))
    assert Learner(copy, "regression", "x").digest() == Learner(estimator, "regression",
                                                                "x").digest()
    other = clone(estimator).set_params(layers=[{"type": "dense", "units": 9}])
    assert Learner(other, "regression", "x").digest() != learner.digest()
    name = f"{KerasNetwork.__module__}.{KerasNetwork.__qualname__}"
    assert ARTIFACT_CLASSES[name] is KerasNetwork


def test_tensorflow_is_imported_only_when_a_keras_network_trains():
    script = """
import contextlib, io, json, sys
from sklearn.base import clone
from nodes import default_registry
from nodes.models.keras_network import NeuralNetworkKeras
from nodes.testing import run_node
from studio.cli.main import main
from studio.engine import Engine
from studio.workflow import load_workflow

default_registry()
with contextlib.redirect_stdout(io.StringIO()) as listing:
    main(["nodes", "--json"])
assert "keras_neural_network" in listing.getvalue()
learner = run_node(NeuralNetworkKeras, {"layers": [{"type": "dense", "units": 4}]})["learner"]
clone(learner.estimator); learner.digest(); learner.summary()
import tempfile, pathlib
from nodes.values import Learner
with tempfile.TemporaryDirectory() as folder:
    learner.save(pathlib.Path(folder))
    again = Learner.load(pathlib.Path(folder))
assert again.estimator.get_params() == learner.estimator.get_params()
assert again.digest() == learner.digest()
keras_example = load_workflow("examples/keras_digits_dense.axon.json")
with Engine() as engine:
    engine.keys(keras_example)
    record = engine.run(load_workflow("examples/breast_cancer_classification.axon.json"))
assert record.status == "succeeded", record.status
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


@pytest.mark.parametrize("name", sorted(EXAMPLES_BUILT))
def test_the_example_files_are_what_the_builders_make(name):
    """Regenerate with: python tests/keras/example_workflows.py"""
    built = EXAMPLES_BUILT[name]()
    assert (EXAMPLES / name).read_text() == dumps(built)
    loaded = load_workflow(EXAMPLES / name)
    assert loaded.nodes["learner"].type_id == "keras_neural_network"
    rows = {node.id: node.position[1] for node in loaded.nodes.values()}
    for edge in loaded.edges:  # top to bottom: every wire points down
        assert rows[edge.source] < rows[edge.target], edge
