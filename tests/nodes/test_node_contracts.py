"""Issue 12's reproductions: what the engine and the service know about a node is
declared on it, and each of these gave a silent wrong answer before.

1. a cached side effect (Export Data) is performed again on every run;
2. the workflow seed reaches every node whose own seed inherits, through the
   cache key, and the record shows the seed each node used;
3. a node of undeclared scoring role between the training rows and Score
   Model is refused at export (it was silently left out); a declared row-wise
   one is served;
4. Clip Values in percentile mode is served with its training thresholds (it
   was fitted again on every request);
5. a plugin learner (through the entry point) that handles missing values
   trains on them, caches on disk and exports like a built-in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nodes import TABLE, Input, Node, NodeRegistry, Output, default_registry
from nodes.contract import ScoringRole
from nodes.values import Table
from studio.engine import DiskCache, Engine, MemoryCache
from studio.serve.errors import PrepareError
from studio.serve.prepare import prepare_scoring_workflow
from studio.serve.scoring import ScoringPipeline
from studio.workflow import Workflow, save_workflow

REPO = Path(__file__).resolve().parents[2]


# -- 1. side effects ------------------------------------------------------------------

def _export_workflow(folder: Path) -> tuple[Workflow, Path]:
    workflow = Workflow()
    workflow.add_node("sample_dataset", {"dataset": "iris"}, node_id="iris")
    workflow.add_node("export_data", {"path": "out.csv"}, node_id="export")
    workflow.connect("iris", "data", "export", "data")
    path = save_workflow(workflow, folder / "export.axon.json")
    return workflow, path


@pytest.mark.parametrize("cache_kind", ["memory", "disk"])
def test_a_cached_export_writes_its_file_again(tmp_path, monkeypatch, cache_kind):
    monkeypatch.chdir(tmp_path)
    workflow, path = _export_workflow(tmp_path)
    out = tmp_path / "out.csv"

    def cache():
        return MemoryCache() if cache_kind == "memory" else DiskCache(tmp_path / "cache")

    shared = cache()
    with Engine(cache=shared) as engine:
        engine.run(workflow, workflow_path=path)
    assert out.is_file()
    out.unlink()
    # The same cache (the app's memory cache), or a new process on the same disk cache.
    with Engine(cache=shared if cache_kind == "memory" else cache()) as engine:
        record = engine.run(workflow, workflow_path=path)
    assert out.is_file(), "the export was satisfied by a cache hit and wrote nothing"
    assert record.nodes["iris"].cache_hit and not record.nodes["export"].cache_hit
    assert record.nodes["export"].side_effects == "writes_files"
    assert any("side effects" in m for m in record.nodes["export"].messages)
    pd.testing.assert_frame_equal(pd.read_csv(out), pd.read_csv(REPO / "sample_datasets" /
                                                               "iris.csv"))


# -- 2. the workflow seed --------------------------------------------------------------

def _split_workflow(seed: int | None = None) -> Workflow:
    workflow = Workflow()
    workflow.add_node("sample_dataset", {"dataset": "boston_housing"}, node_id="data")
    workflow.add_node("split_data", {} if seed is None else {"seed": seed}, node_id="split")
    workflow.add_node("decision_forest_regression", {"trees": 5}, node_id="forest")
    workflow.add_node("train_model", node_id="train")
    workflow.connect("data", "data", "split", "data")
    workflow.connect("split", "train", "train", "data")
    workflow.connect("forest", "learner", "train", "learner")
    return workflow


def _run_with_seed(workflow: Workflow, seed: int) -> tuple[Engine, dict]:
    workflow.info.seed = seed
    engine = Engine(jobs=1)
    record = engine.run(workflow)
    return engine, record


def test_the_workflow_seed_drives_every_node_that_inherits_it():
    workflow = _split_workflow()
    results = {}
    for seed in (1, 2, 1):
        engine, record = _run_with_seed(workflow, seed)
        with engine:
            train = engine.outputs(workflow, "split")["train"].frame
            model = engine.outputs(workflow, "train")["model"]
        results.setdefault(seed, []).append((train.index.tolist(), train["CRIM"].tolist(),
                                             model.digest(), record))
    (first, _, model_1, record_1), (again, _, model_1b, _) = results[1]
    second, _, model_2, record_2 = results[2][0]
    assert first == again and model_1 == model_1b, "equal seeds must give equal results"
    assert results[1][0][1] != results[2][0][1], "another seed must give another split"
    assert model_1 != model_2
    # The record shows the seed each node ran with; the data node draws none.
    assert record_1.nodes["split"].seed != record_2.nodes["split"].seed
    assert record_1.nodes["forest"].seed is not None
    assert record_1.nodes["data"].seed is None
    assert record_1.nodes["split"].params["seed"] == record_1.nodes["split"].seed


def test_a_changed_seed_reruns_only_the_nodes_that_draw_random_numbers():
    workflow = _split_workflow()
    with Engine(jobs=1) as engine:
        workflow.info.seed = 1
        engine.run(workflow)
        workflow.info.seed = 2
        record = engine.run(workflow)
    assert record.nodes["data"].cache_hit
    assert not record.nodes["split"].cache_hit and not record.nodes["forest"].cache_hit


def test_an_explicit_seed_wins_over_the_workflow_seed():
    workflow = _split_workflow(seed=5)
    splits = []
    for seed in (1, 2):
        engine, record = _run_with_seed(workflow, seed)
        with engine:
            splits.append(engine.outputs(workflow, "split")["train"].frame.index.tolist())
        assert record.nodes["split"].seed == 5
    assert splits[0] == splits[1]


def test_studio_run_seed_changes_the_results_and_says_so_when_it_cannot(tmp_path):
    path = save_workflow(_split_workflow(), tmp_path / "split.axon.json")

    def run(*extra: str) -> dict:
        process = subprocess.run(
            [sys.executable, "-m", "studio.cli.main", "run", str(path), "--json",
             "--out", str(tmp_path / "out"), *extra],
            capture_output=True, text=True, timeout=300, cwd=tmp_path)
        assert process.returncode == 0, process.stderr
        return json.loads(process.stdout), process.stderr

    one, _ = run("--seed", "1")
    two, _ = run("--seed", "2")
    assert one["seed"] == 1 and two["seed"] == 2
    assert one["nodes"]["split"]["seed"] != two["nodes"]["split"]["seed"]
    fixed = _split_workflow(seed=3)
    fixed.set_param("forest", "seed", 4)
    path = save_workflow(fixed, tmp_path / "split.axon.json")
    _, stderr = run("--seed", "9")
    assert "--seed changed nothing" in stderr and "'Split Data'" in stderr


def test_an_undeclared_use_of_the_random_generator_is_refused():
    from nodes.context import RunContext

    class Sneaky(Node):
        """Draws random numbers without declaring randomness."""

        type_id = "sneaky"
        scoring_role = ScoringRole.TRAINING_ONLY

        class Outputs:
            data = Output(TABLE)

        def run(self, ctx):
            return {"data": Table(pd.DataFrame({"x": ctx.rng.random(3)}))}

    with pytest.raises(RuntimeError, match="does not declare randomness"):
        Sneaky().execute(RunContext(), {})


# -- 3. a node left out of a published service ------------------------------------------

def _clip_type(declared: bool) -> type[Node]:
    class ClipCrime(Node):
        """Clip CRIM at 10 (a plugin's row-wise transform)."""

        type_id = "acme_clip_crime"
        category = "Transform"
        if declared:
            scoring_role = ScoringRole.ROW_WISE

        class Inputs:
            data = Input(TABLE)

        class Outputs:
            data = Output(TABLE)

        def run(self, ctx, data):
            return {"data": data.with_frame(data.frame.assign(CRIM=data.frame["CRIM"].clip(
                upper=10.0)))}

    return ClipCrime


def _housing_with(node_type: type[Node]) -> Workflow:
    registry = NodeRegistry([*default_registry().all(), node_type])
    workflow = Workflow(registry)
    workflow.add_node("sample_dataset", {"dataset": "boston_housing"}, node_id="data")
    workflow.add_node("split_data", {"seed": 0}, node_id="split")
    workflow.add_node(node_type.type_id, node_id="clip")
    workflow.add_node("linear_regression", node_id="linear")
    workflow.add_node("train_model", node_id="train")
    workflow.add_node("score_model", node_id="score")
    workflow.connect("data", "data", "split", "data")
    workflow.connect("split", "train", "train", "data")
    workflow.connect("linear", "learner", "train", "learner")
    workflow.connect("split", "test", "clip", "data")
    workflow.connect("clip", "data", "score", "data")
    workflow.connect("train", "model", "score", "model")
    return workflow


def test_a_transform_of_undeclared_role_is_refused_at_export_by_name(tmp_path):
    workflow = _housing_with(_clip_type(declared=False))
    with Engine(jobs=1) as engine, pytest.raises(PrepareError) as info:
        prepare_scoring_workflow(workflow, engine, artifact_dir=tmp_path)
    assert "'Acme Clip Crime'" in str(info.value) and "scoring_role" in str(info.value)
    assert info.value.fix and "scoring_role" in info.value.fix


def test_a_declared_row_wise_plugin_transform_is_served(tmp_path):
    workflow = _housing_with(_clip_type(declared=True))
    with Engine(jobs=1) as engine:
        scoring = prepare_scoring_workflow(workflow, engine, artifact_dir=tmp_path)
        model = engine.outputs(workflow, "train")["model"]
    pipeline = ScoringPipeline(scoring)
    record = dict(pipeline.example, CRIM=50.0)
    served = pipeline.answer([record]).records()[0]["Scored Labels"]
    features = pd.DataFrame([{**record, "CRIM": 10.0}])[model.feature_columns].to_numpy(float)
    assert served == pytest.approx(float(model.estimator.predict(features)[0]), rel=1e-12)
    unclipped = pd.DataFrame([record])[model.feature_columns].to_numpy(float)
    assert served != pytest.approx(float(model.estimator.predict(unclipped)[0]))


# -- 4. no re-fit per request ------------------------------------------------------------

def test_clip_values_in_percentile_mode_serves_its_training_thresholds(tmp_path):
    workflow = Workflow()
    workflow.add_node("sample_dataset", {"dataset": "boston_housing"}, node_id="data")
    workflow.add_node("split_data", {"seed": 0}, node_id="split")
    workflow.add_node("web_service_input", node_id="input")
    workflow.add_node("clip_values", {"lower": 5, "upper": 95}, node_id="clip")
    workflow.add_node("linear_regression", node_id="linear")
    workflow.add_node("train_model", node_id="train")
    workflow.add_node("score_model", node_id="score")
    workflow.add_node("web_service_output", node_id="output")
    workflow.connect("data", "data", "split", "data")
    workflow.connect("split", "train", "train", "data")
    workflow.connect("linear", "learner", "train", "learner")
    workflow.connect("split", "test", "input", "data")
    workflow.connect("input", "data", "clip", "data")
    workflow.connect("clip", "data", "score", "data")
    workflow.connect("train", "model", "score", "model")
    workflow.connect("score", "scored", "output", "data")
    with Engine(jobs=1) as engine:
        engine.run(workflow)
        scoring = prepare_scoring_workflow(workflow, engine, artifact_dir=tmp_path)
        test_rows = engine.outputs(workflow, "split")["test"].frame.drop(columns=["MEDV"])
        scored_test = engine.outputs(workflow, "score")["scored"].frame
    assert scoring.nodes["clip"].type_id == "apply_transformation"
    pipeline = ScoringPipeline(scoring)
    rows = [json.loads(test_rows.iloc[[i]].to_json(orient="records"))[0] for i in range(2)]
    alone = pipeline.answer([rows[0]]).records()[0]["Scored Labels"]
    together = pipeline.answer(rows).records()[0]["Scored Labels"]
    assert alone == pytest.approx(together, rel=1e-12), "the answer depended on other rows"
    # And it is the training run's own answer for that test row (clipped at the
    # training rows' percentiles, not the request's).
    assert alone == pytest.approx(scored_test["Scored Labels"].iloc[0], rel=1e-12)


# -- 5. a plugin learner through the entry point ------------------------------------------

PLUGIN = '''
from nodes import LEARNER, Learner, Node, Output, SeedParam
from nodes.contract import Randomness, ScoringRole


class HistGradientBoosting(Node):
    """Histogram gradient boosting, which trains on missing values."""

    type_id = "acme_hist_gradient_boosting"
    category = "Models"
    scoring_role = ScoringRole.TRAINING_ONLY
    randomness = Randomness()
    accepts_missing_values = True
    trusted_types = ("sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",)

    class Outputs:
        learner = Output(LEARNER)

    seed = SeedParam()

    def run(self, ctx):
        from sklearn.ensemble import HistGradientBoostingClassifier

        return {"learner": Learner(HistGradientBoostingClassifier(
            max_iter=20, random_state=self.seed), "classification", "Hist GB")}
'''


def _install_plugin(folder: Path) -> dict[str, str]:
    package = folder / "acme_learners"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    dist = folder / "acme_learners-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-learners\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[axon_studio.nodes]\nacme = acme_learners\n")
    return {"PYTHONPATH": str(folder)}


def test_a_plugin_learner_trains_on_missing_values_caches_and_exports(tmp_path):
    (tmp_path / "site").mkdir()
    env = {**os.environ, **_install_plugin(tmp_path / "site")}
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(300, 4)), columns=list("abcd"))
    frame["label"] = np.where(frame["a"] + frame["b"] > 0, "yes", "no")
    frame.loc[frame.index % 5 == 0, "c"] = np.nan  # missing feature values
    frame.to_csv(tmp_path / "data.csv", index=False)
    registry = NodeRegistry([*default_registry().all()])
    workflow = Workflow(registry)
    workflow.add_node("import_csv", {"path": str(tmp_path / "data.csv"),
                                     "label_column": "label"}, node_id="data")
    workflow.add_node("split_data", {"seed": 0}, node_id="split")
    workflow.add_node("train_model", node_id="train")
    workflow.add_node("score_model", node_id="score")
    workflow.connect("data", "data", "split", "data")
    workflow.connect("split", "train", "train", "data")
    workflow.connect("split", "test", "score", "data")
    workflow.connect("train", "model", "score", "model")
    document = json.loads((save_workflow(workflow, tmp_path / "w.axon.json")).read_text())
    document["nodes"].append({"id": "hgb", "type_id": "acme_hist_gradient_boosting",
                              "version": 1, "position": [0, 0], "params": {}})
    document["edges"].append({"source": {"node": "hgb", "port": "learner"},
                              "target": {"node": "train", "port": "learner"}})
    path = tmp_path / "w.axon.json"
    path.write_text(json.dumps(document))

    def studio(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "studio.cli.main", *args],
                              capture_output=True, text=True, timeout=300, env=env,
                              cwd=tmp_path)

    cache = tmp_path / "cache"
    first = studio("run", str(path), "--cache-dir", str(cache), "--json", "--out",
                   str(tmp_path / "run1"))
    assert first.returncode == 0, first.stderr
    second = studio("run", str(path), "--cache-dir", str(cache), "--json", "--out",
                    str(tmp_path / "run2"))
    assert second.returncode == 0, second.stderr
    record = json.loads(second.stdout)
    assert record["nodes"]["train"]["cache_hit"], "the disk cache retrained the plugin model"
    assert record["nodes"]["train"]["cache_problem"] is None
    exported = studio("export", str(path), "--out", str(tmp_path / "bundle"))
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "bundle" / "manifest.json").is_file()
