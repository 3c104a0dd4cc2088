"""The node contract, checked over every registered node type (built-ins and a plugin).

For each type: its declarations are present and consistent; it round-trips
through the file format; `studio nodes --json` lists its contract; its
cache key is the same in another process; its task ships to a Dask worker
(pickles by reference). For every type that draws random numbers: equal
workflow seeds give equal results, different seeds different ones. For
every type that may run in a service: one record and a batch get the same
answer per row (row-wise nodes run as they are; fitted nodes through the
transform they fitted, as a service applies it).

A new node type that draws random numbers or may run in a service needs an
entry in RECIPES below; a test fails until it has one.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest

from nodes import TABLE, Input, Node, NodeRegistry, Output, SeedParam, default_registry
from nodes.contract import Randomness, ScoringRole, SideEffect, check_declarations
from nodes.data.datasets import SampleDataset
from nodes.node import Node as NodeBase
from nodes.testing import NodeHarness, run_node
from nodes.values import Learner, Table, value_digest
from studio.engine.cache import compute_keys
from studio.engine.executor import NodeTask
from studio.engine.graph import build_graph
from studio.workflow import Workflow, dumps, loads


class AcmeJitter(Node):
    """A plugin's node: adds seeded noise to a column, row by row.

    Input 'data': a table. Output 'data': column 'x' plus noise drawn from
    the run's random generator.
    """

    type_id = "acme_jitter"
    category = "Transform"
    scoring_role = ScoringRole.TRAINING_ONLY
    randomness = Randomness()

    class Inputs:
        data = Input(TABLE, help="A table with a numeric column x.")

    class Outputs:
        data = Output(TABLE, help="The table with noise added to x.")

    seed = SeedParam()

    def run(self, ctx, data):
        noise = np.random.default_rng(self.seed).normal(size=len(data.frame))
        return {"data": data.with_frame(data.frame.assign(x=data.frame["x"] + noise))}


REGISTRY = NodeRegistry([*default_registry().all(), AcmeJitter])
ALL_TYPES = REGISTRY.all()
#: TensorFlow takes seconds to import; the Keras learner's seed is tested in tests/keras.
SLOW = {"keras_neural_network"}


# -- inputs the recipes draw on (small real tables, fitted values) -------------------------

def _sample(name: str, rows: int | None = None) -> Table:
    table = run_node(SampleDataset, {"dataset": name})["data"]
    return table if rows is None else table.with_frame(table.frame.head(rows))


def _cancer(rows: int = 120) -> Table:
    return _sample("breast_cancer", rows)


def _trained(learner_type: str, data: Table, **params: Any) -> Any:
    learner = run_node(REGISTRY.get(learner_type), params)["learner"]
    trainer = "train_clustering_model" if learner.task == "clustering" else "train_model"
    return run_node(REGISTRY.get(trainer), {}, learner=learner, data=data)["model"]


def _ratings() -> Table:
    return _sample("synthetic_ratings")


def _tweets(rows: int = 60) -> Table:
    return _sample("health_news_tweets", rows)


def _with_holes(table: Table) -> Table:
    """The table with a missing value on the diagonal of its numeric columns."""
    frame = table.frame.copy()
    numeric = frame.select_dtypes("number").columns
    for index, column in enumerate(numeric):
        frame.loc[index % len(frame), column] = np.nan
    return table.with_frame(frame)


def _on_device() -> dict[str, Any]:
    """A small trained network and the digit rows to run it on."""
    digits = _sample("digits", 200)
    model = _trained("neural_network", digits, hidden_layers=[16], max_iterations=50, seed=0)
    return {"model": model, "data": digits.with_frame(digits.frame.head(24))}


def _recommender() -> Any:
    learner = run_node(REGISTRY.get("matrix_factorization_recommender"),
                       {"factors": 3, "iterations": 3, "seed": 0})["learner"]
    return run_node(REGISTRY.get("train_recommender"), {"rating_column": "rating"},
                    learner=learner, data=_ratings())["model"]


@dataclass
class Recipe:
    """How to run a node type in these tests: parameters and inputs (built lazily)."""

    params: dict[str, Any] = field(default_factory=dict)
    inputs: Callable[[], dict[str, Any]] = dict
    #: The table input whose rows are scored one by one (row-wise and fitted nodes).
    rows: str = "data"
    #: Rows to score (a small slice of the input).
    count: int = 6


RECIPES: dict[str, Recipe] = {
    # -- nodes that draw random numbers --
    "split_data": Recipe(inputs=lambda: {"data": _sample("boston_housing")}),
    "partition_and_sample": Recipe({"rate": 0.5},
                                   inputs=lambda: {"data": _sample("boston_housing")}),
    "filter_based_feature_selection": Recipe({"method": "mutual_information", "top_k": 5},
                                             inputs=lambda: {"data": _cancer()}),
    "permutation_feature_importance": Recipe(
        {"repeats": 2}, inputs=lambda: {"model": _trained("logistic_regression", _cancer()),
                                        "data": _cancer()}),
    "tune_model_hyperparameters": Recipe(
        {"parameter_ranges": "n_estimators: 3, 5", "folds": 3},
        inputs=lambda: {"learner": run_node(REGISTRY.get("decision_forest"),
                                            {"trees": 3})["learner"], "data": _cancer()}),
    "cross_validate_model": Recipe(
        {"folds": 3}, inputs=lambda: {"learner": run_node(REGISTRY.get("decision_forest"),
                                                          {"trees": 3})["learner"],
                                      "data": _cancer()}),
    "acme_jitter": Recipe(inputs=lambda: {"data": Table(pd.DataFrame({"x": range(20)}))}),
    # device simulations, on the settings where they draw random numbers
    "run_on_spinnaker": Recipe({"timesteps": 20, "input_encoding": "poisson",
                                "sweep_timesteps": [5]}, inputs=lambda: _on_device()),
    "run_on_pcm": Recipe({"drift_sweep": False}, inputs=lambda: _on_device()),
    "run_on_tensai": Recipe({"inference": "spiking", "timesteps": 8},
                            inputs=lambda: _on_device()),
    "hardware_aware_neural_network": Recipe({"hidden_layers": [8], "max_iterations": 5}),
    # learners: the seed reaches the untrained model (its random_state)
    **{name: Recipe() for name in (
        "averaged_perceptron", "boosted_decision_tree", "boosted_decision_tree_regression",
        "decision_forest", "decision_forest_regression", "isolation_forest", "k_means",
        "logistic_regression", "matrix_factorization_recommender", "neural_network",
        "neural_network_regression")},
    # -- nodes that run in a service, row by row --
    "select_columns": Recipe({"columns": ["mean radius", "diagnosis"]},
                             inputs=lambda: {"data": _cancer()}),
    "edit_metadata": Recipe({"columns": ["mean radius"], "role": "ignore"},
                            inputs=lambda: {"data": _cancer()}),
    "score_model": Recipe(inputs=lambda: {"model": _trained("logistic_regression", _cancer()),
                                          "data": _cancer(40)}),
    "assign_data_to_clusters": Recipe(
        inputs=lambda: {"model": _trained("k_means", _sample("iris"), seed=0),
                        "data": _sample("iris", 40)}),
    "score_recommender": Recipe(inputs=lambda: {"model": _recommender(),
                                                "data": Table(pd.DataFrame(
                                                    {"user": ["u001", "u002", "u003"]}))},
                                count=3),
    "preprocess_text": Recipe({"text_column": "text"}, inputs=lambda: {"data": _tweets()}),
    "web_service_input": Recipe(inputs=lambda: {"data": _cancer()}),
    "web_service_output": Recipe(inputs=lambda: {"data": _cancer()}),
    "apply_transformation": Recipe(
        inputs=lambda: {"transform": run_node(REGISTRY.get("normalize_data"),
                                              data=_cancer())["transform"],
                        "data": _cancer(40)}),
    "clip_values": Recipe({"lower": 5, "upper": 95}, inputs=lambda: {"data": _cancer()}),
    # -- fitted nodes: their transform is applied per request --
    "normalize_data": Recipe(inputs=lambda: {"data": _cancer()}),
    "clean_missing_data": Recipe(inputs=lambda: {"data": _with_holes(_cancer())}),
    "convert_to_indicator_values": Recipe({"columns": ["species"]},
                                          inputs=lambda: {"data": _sample("iris")}),
    "group_data_into_bins": Recipe({"columns": ["mean radius"], "bins": 4},
                                   inputs=lambda: {"data": _cancer()}),
    "principal_component_analysis": Recipe({"columns": ["mean radius", "mean texture",
                                                        "mean area"]},
                                           inputs=lambda: {"data": _cancer()}),
    "vectorize_text": Recipe({"text_column": "text", "max_features": 50},
                             inputs=lambda: {"data": _tweets()}),
    "text_to_word_indices": Recipe({"text_column": "text", "vocabulary_size": 200},
                                   inputs=lambda: {"data": _tweets()}),
}

RANDOM = [t for t in ALL_TYPES if t.randomness is not None and t.type_id not in SLOW]
SERVED = [t for t in ALL_TYPES if t.scoring_role in (ScoringRole.ROW_WISE, ScoringRole.FITTED)]
_ids = {"ids": lambda t: t.type_id}


# -- declarations --------------------------------------------------------------------------

@pytest.mark.parametrize("node_type", ALL_TYPES, **_ids)
def test_every_declaration_is_present_and_consistent(node_type):
    check_declarations(node_type)  # raises on a contradiction
    assert node_type.scoring_role is not ScoringRole.UNDECLARED, (
        f"{node_type.type_id} does not declare its scoring_role")
    assert isinstance(node_type.side_effects, SideEffect)
    assert node_type.version >= 1
    code = [p for p in node_type.parameters.values() if getattr(p, "code", False)]
    assert bool(code) == node_type.needs_trust
    contract = node_type.describe()["contract"]
    assert json.loads(json.dumps(contract)) == contract
    assert contract["scoring_role"] == node_type.scoring_role.value
    if node_type.scoring_role is ScoringRole.FROZEN_VALUE:
        assert node_type.loads_stored_kind


def test_every_node_that_draws_random_numbers_or_serves_has_a_recipe():
    needed = {t.type_id for t in [*RANDOM, *SERVED]}
    assert needed <= set(RECIPES), f"add RECIPES for {sorted(needed - set(RECIPES))}"


@pytest.mark.parametrize("node_type", ALL_TYPES, **_ids)
def test_round_trips_through_the_file_format(node_type):
    workflow = Workflow(REGISTRY)
    workflow.add_node(node_type.type_id, RECIPES.get(node_type.type_id, Recipe()).params,
                      node_id="node", position=(12.5, -3))
    text = dumps(workflow)
    again = loads(text, REGISTRY)
    assert dumps(again) == text
    assert again.nodes["node"].params == workflow.nodes["node"].params


@pytest.mark.parametrize("node_type", ALL_TYPES, **_ids)
def test_its_task_ships_to_another_process_by_reference(node_type):
    from distributed.protocol import pickle as dask_pickle

    task = NodeTask("node", node_type.title, node_type, node_type.defaults(), 7)
    shipped = dask_pickle.loads(dask_pickle.dumps(task))
    assert shipped.node_type is node_type and shipped.params == task.params
    if node_type.__module__ != __name__:  # built-ins are found by name on a worker
        assert pickle.loads(pickle.dumps(node_type)) is node_type


def test_studio_nodes_json_lists_every_contract():
    process = subprocess.run([sys.executable, "-m", "studio.cli.main", "nodes", "--json"],
                             capture_output=True, text=True, timeout=120)
    assert process.returncode == 0, process.stderr
    listed = {entry["type_id"]: entry for entry in json.loads(process.stdout)}
    for node_type in default_registry().all():
        entry = listed[node_type.type_id]
        assert entry["contract"]["scoring_role"] == node_type.scoring_role.value
        assert entry["contract"]["side_effects"] == node_type.side_effects.value
        assert (entry["contract"]["randomness"] is None) == (node_type.randomness is None)


_KEY_SCRIPT = """
import json, sys
from nodes.registry import default_registry
from studio.engine.cache import compute_keys
from studio.engine.graph import build_graph
from studio.workflow import Workflow
keys = {}
for node_type in default_registry().all():
    workflow = Workflow()
    workflow.info.seed = 11
    workflow.add_node(node_type.type_id, node_id="node")
    keys[node_type.type_id] = compute_keys(workflow, build_graph(workflow))["node"]
print(json.dumps(keys))
"""


def test_cache_keys_are_the_same_in_another_process():
    process = subprocess.run([sys.executable, "-c", _KEY_SCRIPT], capture_output=True,
                             text=True, timeout=120)
    assert process.returncode == 0, process.stderr
    theirs = json.loads(process.stdout)
    for node_type in default_registry().all():
        workflow = Workflow()
        workflow.info.seed = 11
        workflow.add_node(node_type.type_id, node_id="node")
        keys = compute_keys(workflow, build_graph(workflow))
        assert keys["node"] == theirs[node_type.type_id], node_type.type_id


@pytest.mark.parametrize("node_type", [t for t in ALL_TYPES if t.randomness is not None],
                         **_ids)
def test_the_workflow_seed_is_in_the_cache_key_of_random_nodes_only(node_type):
    def key(seed: int, type_id: str) -> str:
        workflow = Workflow(REGISTRY)
        workflow.info.seed = seed
        workflow.add_node(type_id, node_id="node")
        return compute_keys(workflow, build_graph(workflow))["node"]

    assert key(1, node_type.type_id) == key(1, node_type.type_id)
    assert key(1, node_type.type_id) != key(2, node_type.type_id)
    assert key(1, "summarize_data") == key(2, "summarize_data")


# -- seeds -----------------------------------------------------------------------------------

def _run(node_type: type[NodeBase], recipe: Recipe, run_seed: int, inputs: dict[str, Any]
         ) -> dict[str, Any]:
    return NodeHarness(node_type, recipe.params, run_seed=run_seed).run(**inputs)


def _digest(outputs: dict[str, Any]) -> dict[str, str]:
    return {port: value_digest(value) for port, value in outputs.items()}


@pytest.mark.parametrize("node_type", RANDOM, **_ids)
def test_equal_seeds_give_equal_results_and_different_seeds_different_ones(node_type):
    recipe = RECIPES[node_type.type_id]
    inputs = recipe.inputs()
    first = _digest(_run(node_type, recipe, 1, inputs))
    again = _digest(_run(node_type, recipe, 1, inputs))
    other = _digest(_run(node_type, recipe, 2, inputs))
    assert first == again, "the same workflow seed gave other results"
    assert first != other, "another workflow seed changed nothing"
    learners = [v for v in _run(node_type, recipe, 1, inputs).values()
                if isinstance(v, Learner)]
    for learner in learners:  # the seed reaches the estimator itself
        params = learner.estimator.get_params()
        seeds = [v for k, v in params.items() if k.endswith("random_state") or k == "seed"]
        assert seeds and all(isinstance(s, int) for s in seeds)


# -- one record and a batch -------------------------------------------------------------------

def _per_row(node_type: type[NodeBase], recipe: Recipe) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The node's (or its fitted transform's) answer for a batch, and for each row alone."""
    inputs = recipe.inputs()
    batch = inputs[recipe.rows].with_frame(inputs[recipe.rows].frame.head(recipe.count))
    if node_type.scoring_role_for(node_type.validate_params(recipe.params)) \
            is ScoringRole.FITTED:
        fitted = run_node(node_type, recipe.params, **inputs)[node_type.fitted_transform_port]

        def answer(rows: Table) -> pd.DataFrame:
            return fitted.apply(rows).frame
    else:
        def answer(rows: Table) -> pd.DataFrame:
            outputs = run_node(node_type, recipe.params, **{**inputs, recipe.rows: rows})
            return next(v for v in outputs.values() if isinstance(v, Table)).frame

    whole = answer(batch)
    pieces = [answer(batch.with_frame(batch.frame.iloc[[i]])) for i in range(len(batch.frame))]
    return whole, pd.concat(pieces)


@pytest.mark.parametrize("node_type", SERVED, **_ids)
def test_one_record_and_a_batch_get_the_same_answer_per_row(node_type):
    whole, one_by_one = _per_row(node_type, RECIPES[node_type.type_id])
    assert len(whole) > 0
    pd.testing.assert_frame_equal(whole.reset_index(drop=True),
                                  one_by_one.reset_index(drop=True), check_dtype=False,
                                  rtol=1e-9)


def test_the_example_node_of_the_node_api_docs_registers_and_runs():
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "node-api.md").read_text()
    namespace: dict[str, Any] = {}
    exec(re.search(r"```python\n(.*?)```", text, re.S).group(1), namespace)
    node_type = namespace["ClipAndJitter"]
    NodeRegistry([node_type])  # its declarations hold together
    table = Table(pd.DataFrame({"x": [-1.0, 0.5, 2.0]}))
    clipped = run_node(node_type, {"column": "x"}, data=table)["data"].frame["x"]
    assert clipped.tolist() == [0.0, 0.5, 1.0]
    params = node_type.validate_params({"column": "x", "noise": 0.1})
    assert node_type.scoring_role_for(params) is ScoringRole.TRAINING_ONLY


_HEAVY = ("sklearn", "scipy", "skops", "duckdb", "joblib")


def _heavy_imports(tree: Any) -> set[str]:
    import ast
    import importlib

    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.split(".")[0] in _HEAVY:
            for alias in node.names:
                try:
                    importlib.import_module(f"{node.module}.{alias.name}")
                    found.add(f"{node.module}.{alias.name}")
                except ImportError:
                    found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] in _HEAVY}
    return found


@pytest.mark.parametrize("node_type", [t for t in default_registry().all()
                                       if t.__module__.startswith("nodes.")], **_ids)
def test_the_modules_a_node_imports_while_running_are_declared(node_type):
    """Undeclared first imports from parallel node threads can collide (see
    nodes/imports.py): every heavy import in the node's methods, its bases' and
    its module's functions is in its ``imports``."""
    import ast
    import inspect
    import textwrap

    found: set[str] = set()
    for klass in node_type.__mro__:
        if not klass.__module__.startswith("nodes.") or klass.__module__ == "nodes.node":
            continue
        found |= _heavy_imports(ast.parse(textwrap.dedent(inspect.getsource(klass))))
        module = ast.parse(inspect.getsource(sys.modules[klass.__module__]))
        for item in module.body:
            if isinstance(item, ast.FunctionDef):
                found |= _heavy_imports(item)
    assert found <= set(node_type.imports), f"declare {sorted(found - set(node_type.imports))}"
