"""A trained Keras workflow exports as a bundle (native .keras model) and scores
exactly as the in-app Score Model does."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from studio.engine import Engine, MemoryCache
from studio.serve import export_bundle, load_bundle, prepare_scoring_workflow
from studio.workflow import load_workflow

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "keras_digits_dense.axon.json"


def test_keras_workflow_exports_and_scores_like_score_model(tmp_path):
    workflow = load_workflow(EXAMPLE)
    workflow.set_param("learner", "epochs", 2)
    with Engine(cache=MemoryCache()) as engine:
        assert engine.run(workflow).status == "succeeded"
        scored = engine.outputs(workflow, "score")["scored"].frame
        test_rows = engine.outputs(workflow, "split")["test"].frame
        scoring = prepare_scoring_workflow(workflow, engine)
    result = export_bundle(scoring, tmp_path / "bundle")
    assert list((tmp_path / "bundle").rglob("*.keras")), "the model is not stored as .keras"
    bundle = load_bundle(tmp_path / "bundle")
    answer = bundle.pipeline.score(test_rows.drop(columns=["digit"])).frame
    assert list(answer["Scored Labels"]) == list(scored["Scored Labels"])
    probabilities = [c for c in scored.columns if c.startswith("Scored Probabilities")]
    np.testing.assert_allclose(answer[probabilities].to_numpy(float),
                               scored[probabilities].to_numpy(float), rtol=1e-6)
    assert result.manifest["lineage"]
