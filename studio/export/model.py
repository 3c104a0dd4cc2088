"""One trained model out: the fitted transforms and the estimator as one Pipeline.

    exported = export_model(workflow, "train", "model.skops")
    pipeline = skops.io.load("model.skops", trusted=exported.trusted_types)
    pipeline.predict(rows)      # = Score Model's 'Scored Labels' = the web service's answer

The workflow is run (unchanged nodes are cache hits). Starting from the
model node's training input, the exporter walks upstream through the nodes
a published service would apply to request rows: each fitted rescaling
(Normalize Data, or Apply Transformation of one) becomes a step, until the
training-only part (a split, a dataset) is reached. The result is a
scikit-learn ``Pipeline``: one ``ColumnTransformer`` per transform, taking
columns by name (so ``feature_names_in_`` is the model's feature list and
rows may hold their columns in any order), then a step that lays the
matrix out column-major (as pandas hands it to Score Model), then the
estimator. Each
rescaling is split into one scaler per column with the fitted values of
the original (the arithmetic is per column, so the numbers are the same
to the last bit); the pipeline is saved with skops, and the types skops
does not trust by default are listed for ``skops.io.load(trusted=...)``.

A transform with no scikit-learn step of exactly the same arithmetic
(text vectorizing to float32, ln(1 + x), Axon Studio's own table
transformers) is refused with the reason.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nodes.contract import CompiledStep, ScoringRole
from nodes.errors import StudioError
from nodes.values import Model, Transform
from studio.engine import Engine
from studio.workflow import Workflow


class ModelExportError(StudioError):
    """The node's model cannot become one scikit-learn Pipeline."""


@dataclass
class ExportedModel:
    """What was written: the pipeline, its steps, its input columns, the types
    to pass to ``skops.io.load(trusted=...)``."""

    path: Path
    pipeline: Any
    steps: list[str]
    feature_names: list[str]
    trusted_types: list[str]


#: Per-column slices of a fitted scaler's attributes, by scaler class name.
_PER_COLUMN = {"StandardScaler": ("mean_", "var_", "scale_"),
               "MinMaxScaler": ("min_", "scale_", "data_min_", "data_max_", "data_range_"),
               "RobustScaler": ("center_", "scale_")}


def export_model(workflow: Workflow, node: str, out: str | os.PathLike[str], *,
                 workflow_path: str | os.PathLike[str] | None = None,
                 engine: Engine | None = None) -> ExportedModel:
    """Run what ``node`` needs, build its Pipeline and save it to ``out`` (skops)."""
    import skops.io

    model_node = workflow.find_node(node).id
    model_port = _model_port(workflow, model_node)
    own_engine = engine is None
    engine = engine or Engine()
    try:
        record = engine.run(workflow, targets=[model_node], workflow_path=workflow_path)
        if record.status != "succeeded":
            failed = "; ".join(f"'{n.title}': {n.error}" for n in record.nodes.values()
                               if n.error)
            raise ModelExportError(f"the workflow did not train '{workflow.label(model_node)}':"
                                   f" {failed}", fix="Fix the failing node and export again.")
        model = engine.outputs(workflow, model_node)[model_port]
        if not isinstance(model, Model) or model.task not in ("classification", "regression"):
            raise ModelExportError(f"'{workflow.label(model_node)}' gives no classification or "
                                   "regression model.", fix="Name a Train Model or Tune Model "
                                                            "Hyperparameters node.")
        if type(model.estimator).__module__.split(".")[0] != "sklearn":
            raise ModelExportError(
                f"the model of '{workflow.label(model_node)}' is a "
                f"{type(model.estimator).__name__}, not a scikit-learn estimator.",
                fix="Export it as a web-service bundle (studio export) instead.")
        transforms, training = _transforms_before(workflow, engine, model_node)
        pipeline = build_pipeline(model, transforms, training)
    finally:
        if own_engine:
            engine.close()
    path = Path(out)
    skops.io.dump(pipeline, path)
    trusted = sorted(skops.io.get_untrusted_types(file=path))
    return ExportedModel(path, pipeline, [name for name, _ in pipeline.steps],
                         list(pipeline.feature_names_in_), trusted)


def _model_port(workflow: Workflow, node_id: str) -> str:
    from nodes.ports import MODEL

    ports = [name for name, port in workflow.node_type(node_id).outputs.items()
             if port.type == MODEL]
    if not ports:
        raise ModelExportError(f"'{workflow.label(node_id)}' has no model output.",
                               fix="Name a Train Model or Tune Model Hyperparameters node.")
    return ports[0]


def _transforms_before(workflow: Workflow, engine: Engine, model_node: str
                       ) -> tuple[list[tuple[str, Transform]], Any]:
    """The fitted transforms a request row goes through before the model, in order,
    and the table the first of them (or the model) was trained on."""
    from nodes.ports import TABLE, TRANSFORM

    found: list[tuple[str, Transform]] = []
    edge = workflow.input_edge(model_node, "data")
    while edge is not None:
        source = edge.source
        node_type = workflow.node_type(source)
        role = node_type.scoring_role_for(workflow.nodes[source].params)
        table_input = next((name for name, port in node_type.inputs.items()
                            if port.type == TABLE), None)
        if node_type.compiled_step is CompiledStep.APPLY_TRANSFORM:
            transform_edge = next(e for e in workflow.incoming(source)
                                  if node_type.inputs[e.target_port].type == TRANSFORM)
            value = engine.outputs(workflow, transform_edge.source)[transform_edge.source_port]
            found.append((transform_edge.source, value))
        elif role is ScoringRole.FITTED and node_type.fitted_transform_port:
            found.append((source, engine.outputs(workflow, source)[
                node_type.fitted_transform_port]))
        elif role is not ScoringRole.ROW_WISE:
            break  # the training-only part: requests enter here
        else:
            raise ModelExportError(
                f"'{workflow.label(source)}' changes rows before the model in Axon Studio's own "
                "code; it has no scikit-learn step.",
                fix="Export a web-service bundle (studio export) to keep it.")
        if table_input is None:
            break
        edge = workflow.input_edge(source, table_input)
    if edge is None:
        raise ModelExportError("the model's training rows do not come from a dataset.")
    training = engine.outputs(workflow, edge.source)[edge.source_port]
    found.reverse()
    return found, training


def build_pipeline(model: Model, transforms: list[tuple[str, Transform]], training: Any) -> Any:
    """The fitted Pipeline: one ColumnTransformer per transform, then the estimator."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    features = list(model.feature_columns)
    columns = [_column_step(node_id, transform, features) for node_id, transform in transforms]
    frame = training.frame[features]
    steps = []
    for index, ((node_id, transform), step) in enumerate(zip(transforms, columns, strict=True)):
        step.fit(frame)
        for column, fitted in step.named_transformers_.items():
            original = transform.transformer
            if column in transform.columns:
                position = transform.columns.index(column)
                for name in _PER_COLUMN[type(original).__name__]:
                    setattr(fitted, name, np.array(getattr(original, name)[position:position + 1]))
                if hasattr(original, "n_samples_seen_"):
                    fitted.n_samples_seen_ = copy.deepcopy(original.n_samples_seen_)
        steps.append((f"{index + 1}_{node_id}", step))
        frame = _as_frame(step.transform(frame), features, frame.index)
    if not steps:  # a first step that names the columns: feature_names_in_ even so
        passthrough = ColumnTransformer([(c, "passthrough", [c]) for c in features],
                                        verbose_feature_names_out=False)
        passthrough.fit(frame)
        steps.append(("columns", passthrough))
    # Score Model hands the estimator pandas' float matrix, which is column-major;
    # BLAS sums a row's products in an order that depends on the layout, so the
    # same layout is what makes the predictions equal to the last bit.
    from sklearn.preprocessing import FunctionTransformer

    steps.append(("column_major", FunctionTransformer(np.asfortranarray, validate=False,
                                                      check_inverse=False).fit(frame)))
    steps.append(("model", model.estimator))
    return Pipeline(steps)


def _column_step(node_id: str, transform: Transform, features: list[str]) -> Any:
    from sklearn.base import clone
    from sklearn.compose import ColumnTransformer

    scaler = transform.transformer
    if not transform.numeric or type(scaler).__name__ not in _PER_COLUMN \
            or type(scaler).__module__.split(".")[0] != "sklearn":
        raise ModelExportError(
            f"the transform of '{node_id}' ({transform.name}) has no scikit-learn step with "
            "the same arithmetic (only Normalize Data's zscore, minmax and robust do).",
            fix="Export a web-service bundle (studio export) instead.")
    return ColumnTransformer(
        [(c, clone(scaler) if c in transform.columns else "passthrough", [c]) for c in features],
        verbose_feature_names_out=False)


def _as_frame(values: Any, columns: list[str], index: Any) -> Any:
    import pandas as pd

    return pd.DataFrame(values, columns=columns, index=index)
