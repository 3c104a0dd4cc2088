"""The hardware example workflows (examples/hardware_*.axon.json), built with the workflow API.

    python tests/hardware/hardware_example_workflows.py     # rewrite the files in examples/

The tests check that the saved files are exactly what these functions build.
Layout: data flows top to bottom, one row per step (120 px), branches in
columns (220 px).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from studio.workflow import Workflow, save_workflow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
ROW, COLUMN = 120, 220


def _node(workflow: Workflow, node_id: str, type_id: str, column: float, row: float,
          params: dict[str, Any] | None = None, title: str = "") -> None:
    params = dict(params or {})
    if "seed" in workflow.registry.get(type_id).parameters:
        params.setdefault("seed", 0)  # the documented figures: a fixed seed, not inherited
    workflow.add_node(type_id, params, node_id=node_id, title=title,
                      position=(column * COLUMN, row * ROW))


def _trained_digits_network(workflow: Workflow) -> None:
    """Digits -> stratified 70/30 split -> Neural Network (64 ReLU units) -> Train Model."""
    _node(workflow, "digits", "sample_dataset", 0, 0, {"dataset": "digits"})
    _node(workflow, "split", "split_data", 0, 1,
          {"fraction": 0.7, "seed": 1, "stratify": True})
    _node(workflow, "network", "neural_network", -1, 1,
          {"hidden_layers": [64], "activation": "relu", "max_iterations": 300, "seed": 0})
    _node(workflow, "train", "train_model", -1, 2)
    workflow.connect("digits", "data", "split", "data")
    workflow.connect("network", "learner", "train", "learner")
    workflow.connect("split", "train", "train", "data")


def digits_on_four_backends() -> Workflow:
    workflow = Workflow()
    workflow.info.name = "Digits MLP on SpiNNaker, Graphcore GC2, IBM PCM and ETA Compute TENSAI"
    workflow.info.description = (
        "Train a 64-64-10 ReLU network on the 8x8 digits, score the test rows digitally and "
        "on the four simulated backends, evaluate each, and compare accuracy, latency, "
        "energy and resources.")
    _trained_digits_network(workflow)
    _node(workflow, "score", "score_model", -1, 3)
    _node(workflow, "evaluate", "evaluate_model", -1, 4, title="Evaluate (digital)")
    backends = [("spinnaker", "run_on_spinnaker", {}), ("gc2", "run_on_graphcore", {}),
                ("pcm", "run_on_pcm", {"time_since_programming": "1 day"}),
                ("tensai", "run_on_tensai", {})]
    for column, (node_id, type_id, params) in enumerate(backends):
        _node(workflow, node_id, type_id, column, 3, params)
        _node(workflow, f"evaluate_{node_id}", "evaluate_model", column, 4,
              title=f"Evaluate ({node_id})")
        workflow.connect("train", "model", node_id, "model")
        workflow.connect("split", "test", node_id, "data")
        workflow.connect(node_id, "scored", f"evaluate_{node_id}", "scored")
    workflow.connect("split", "train", "tensai", "calibration")
    workflow.connect("train", "model", "score", "model")
    workflow.connect("split", "test", "score", "data")
    workflow.connect("score", "scored", "evaluate", "scored")
    _node(workflow, "compare", "compare_hardware", 1.5, 5)
    for node_id, _, _ in backends:
        workflow.connect(node_id, "report", "compare", "reports")
    return workflow


def tensai_int8_and_spiking() -> Workflow:
    workflow = Workflow()
    workflow.info.name = "Digits MLP on ETA Compute TENSAI: int8 or spiking, battery life"
    workflow.info.description = (
        "Run the trained digits network on a simulated TENSAI microcontroller as int8 layers "
        "on its DSP and as a spiking network, waking up once a minute and listening in "
        "between, and compare energy per inference, latency and battery life on a coin cell.")
    _trained_digits_network(workflow)
    variants = [("int8", {"inference": "int8"}),
                ("spiking", {"inference": "spiking", "timesteps": 32})]
    for column, (node_id, params) in enumerate(variants):
        _node(workflow, node_id, "run_on_tensai", column, 3,
              {**params, "inferences_per_hour": 60}, title=f"Run on TENSAI ({node_id})")
        workflow.connect("train", "model", node_id, "model")
        workflow.connect("split", "test", node_id, "data")
        workflow.connect("split", "train", node_id, "calibration")
    _node(workflow, "compare", "compare_hardware", 0.5, 4)
    for node_id, _ in variants:
        workflow.connect(node_id, "report", "compare", "reports")
    return workflow


def pcm_hardware_aware_training() -> Workflow:
    workflow = Workflow()
    workflow.info.name = "Digits on PCM: plain training against hardware-aware training"
    workflow.info.description = (
        "Train the digits network twice, plainly and with aihwkit's hardware-aware recipe "
        "(weight noise 0.1 of each layer's max |w| per mini-batch, clipping at 2.5 sigma), "
        "program both onto simulated PCM with aihwkit's defaults and read them a year "
        "later: the noise-trained network keeps its accuracy.")
    _node(workflow, "digits", "sample_dataset", 0, 0, {"dataset": "digits"})
    _node(workflow, "split", "split_data", 0, 1, {"fraction": 0.7, "seed": 1, "stratify": True})
    workflow.connect("digits", "data", "split", "data")
    for column, (node_id, noise, clip) in enumerate((("plain", 0.0, 0.0), ("aware", 0.1, 2.5))):
        _node(workflow, f"{node_id}_network", "hardware_aware_neural_network", column * 2 - 1, 1,
              {"hidden_layers": [64], "max_iterations": 300, "weight_noise": noise,
               "clip_sigma": clip, "seed": 0}, title=f"Neural network ({node_id})")
        _node(workflow, f"{node_id}_train", "train_model", column * 2 - 1, 2,
              title=f"Train ({node_id})")
        _node(workflow, f"{node_id}_pcm", "run_on_pcm", column * 2 - 1, 3,
              {"time_since_programming": "1 year"}, title=f"Run on PCM ({node_id})")
        _node(workflow, f"{node_id}_evaluate", "evaluate_model", column * 2 - 1, 4,
              title=f"Evaluate ({node_id})")
        workflow.connect(f"{node_id}_network", "learner", f"{node_id}_train", "learner")
        workflow.connect("split", "train", f"{node_id}_train", "data")
        workflow.connect(f"{node_id}_train", "model", f"{node_id}_pcm", "model")
        workflow.connect("split", "test", f"{node_id}_pcm", "data")
        workflow.connect(f"{node_id}_pcm", "scored", f"{node_id}_evaluate", "scored")
    return workflow


def pcm_drift_sweep() -> Workflow:
    workflow = Workflow()
    workflow.info.name = "Digits MLP on PCM: accuracy from 1 second to 10 years"
    workflow.info.description = (
        "Program the trained digits network onto simulated PCM crossbars and read it from "
        "1 second to 10 years after programming, with and without global drift "
        "compensation (the report's drift_sweep table); the scored rows are read after 1 year "
        "without compensation.")
    _trained_digits_network(workflow)
    _node(workflow, "pcm", "run_on_pcm", 0, 3, {"time_since_programming": "1 year",
                                                "drift_compensation": False})
    _node(workflow, "evaluate", "evaluate_model", 0, 4)
    workflow.connect("train", "model", "pcm", "model")
    workflow.connect("split", "test", "pcm", "data")
    workflow.connect("pcm", "scored", "evaluate", "scored")
    return workflow


def spinnaker_timesteps_sweep() -> Workflow:
    workflow = Workflow()
    workflow.info.name = "Digits MLP on SpiNNaker: accuracy against simulated time"
    workflow.info.description = (
        "Convert the trained digits network to a spiking network (normalised on the training "
        "rows) and read its accuracy after 1 to 300 timesteps of 1 ms (the report's "
        "timesteps_sweep table).")
    _trained_digits_network(workflow)
    _node(workflow, "spinnaker", "run_on_spinnaker", 0, 3,
          {"timesteps": 300, "sweep_timesteps": [1, 2, 5, 10, 20, 50, 100, 200, 300]})
    _node(workflow, "evaluate", "evaluate_model", 0, 4)
    workflow.connect("train", "model", "spinnaker", "model")
    workflow.connect("split", "test", "spinnaker", "data")
    workflow.connect("split", "train", "spinnaker", "calibration")
    workflow.connect("spinnaker", "scored", "evaluate", "scored")
    return workflow


EXAMPLE_BUILDERS: dict[str, Callable[[], Workflow]] = {
    "hardware_digits_compare.axon.json": digits_on_four_backends,
    "hardware_tensai_int8_spiking.axon.json": tensai_int8_and_spiking,
    "hardware_pcm_aware_training.axon.json": pcm_hardware_aware_training,
    "hardware_pcm_drift.axon.json": pcm_drift_sweep,
    "hardware_spinnaker_timesteps.axon.json": spinnaker_timesteps_sweep,
}


def main() -> int:
    for name, build in EXAMPLE_BUILDERS.items():
        print(save_workflow(build(), EXAMPLES / name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
