"""One scikit-learn Pipeline out: it loads with skops and its listed types, names its
input columns, and predicts what Score Model and the web service answer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import skops.io
from sklearn.pipeline import Pipeline

from studio.cli.main import main
from studio.engine import Engine
from studio.export.model import export_model
from studio.serve import ScoringPipeline, prepare_scoring_workflow
from studio.workflow import load_workflow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_pipeline_answers_what_the_service_answers(tmp_path, capsys):
    source = EXAMPLES / "breast_cancer_classification.axon.json"
    out = tmp_path / "model.skops"
    assert main(["export-model", str(source), "--node", "train",
                 "--out", str(out)]) == 0
    said = capsys.readouterr().out
    trusted = skops.io.get_untrusted_types(file=out)
    assert str(trusted) in said  # the command lists the types to trust
    pipeline = skops.io.load(out, trusted=trusted)
    assert isinstance(pipeline, Pipeline)
    workflow = load_workflow(source)
    with Engine() as engine:
        engine.run(workflow)
        scored = engine.outputs(workflow, "score")["scored"].frame
        test = engine.outputs(workflow, "split")["test"].frame
        model = engine.outputs(workflow, "train")["model"]
        scoring = prepare_scoring_workflow(workflow, engine, artifact_dir=tmp_path / "art")
    assert list(pipeline.feature_names_in_) == model.feature_columns
    rows = test.drop(columns=["diagnosis"]).iloc[:, ::-1]  # columns by name, any order
    labels = pipeline.predict(rows)
    assert np.array_equal(labels, scored["Scored Labels"].to_numpy())
    probability = pipeline.predict_proba(rows)[:, 1]
    assert np.array_equal(probability, scored["Scored Probabilities"].to_numpy())
    answer = ScoringPipeline(scoring).score(test.drop(columns=["diagnosis"])).frame
    assert np.array_equal(answer["Scored Labels"].to_numpy(), labels)
    assert np.array_equal(answer["Scored Probabilities"].to_numpy(), probability)


def test_boosted_trees_after_a_rescaling_and_forests_on_raw_columns(tmp_path):
    workflow = load_workflow(EXAMPLES / "classification_two_models.axon.json")
    with Engine() as engine:
        exported = export_model(workflow, "train_boosted", tmp_path / "boosted.skops",
                                engine=engine)
        engine.run(workflow)
        scored = engine.outputs(workflow, "score_boosted")["scored"].frame
        test = engine.outputs(workflow, "split")["test"].frame
    pipeline = skops.io.load(exported.path, trusted=exported.trusted_types)
    assert exported.steps == ["1_normalize", "column_major", "model"]
    assert np.array_equal(pipeline.predict_proba(test)[:, 1],
                          scored["Scored Probabilities"].to_numpy())


def test_forests_and_unscaled_inputs_keep_their_column_names(tmp_path):
    workflow = load_workflow(EXAMPLES / "diabetes_regression.axon.json")
    with Engine() as engine:
        exported = export_model(workflow, "train_forest", tmp_path / "forest.skops",
                                engine=engine)
        engine.run(workflow)
        scored = engine.outputs(workflow, "score_forest")["scored"].frame
        test = engine.outputs(workflow, "split")["test"].frame
    assert "sklearn.tree._tree.Tree" in exported.trusted_types
    pipeline = skops.io.load(exported.path, trusted=exported.trusted_types)
    assert np.array_equal(pipeline.predict(test), scored["Scored Labels"].to_numpy())


def test_what_cannot_be_one_pipeline_is_refused_with_the_reason(tmp_path, capsys):
    text = EXAMPLES / "text_classification.axon.json"
    assert main(["export-model", str(text), "--node", "train",
                 "--out", str(tmp_path / "m.skops")]) == 2
    err = capsys.readouterr().err
    assert "vectorize" in err and "no scikit-learn step" in err and "Traceback" not in err
    assert main(["export-model", str(text), "--node", "nope",
                 "--out", str(tmp_path / "m.skops")]) == 2
    assert "no node with id or title 'nope'" in capsys.readouterr().err
