"""The Evaluate viewer (issue 13, item 3 and the Evaluate list): models overlaid on one
chart each, metrics side by side, a threshold slider that needs no re-run."""

from __future__ import annotations

import pytest
from conftest import example_window, run_and_wait

from nodes.testing import run_node
from studio.gui.viewers import metrics_viewer
from studio.gui.viewers.metrics_viewer import MetricsViewer

SLIDER_STEPS = getattr(metrics_viewer, "SLIDER_STEPS", 1000)


@pytest.fixture
def two_models(make_window, qtbot):
    window = example_window(make_window, "classification_two_models")
    run_and_wait(window, qtbot)
    viewer = window.open_viewer("evaluate", "metrics")
    assert isinstance(viewer, MetricsViewer)
    return window, viewer


def _chart(viewer: MetricsViewer, title: str):  # type: ignore[no-untyped-def]
    (chart,) = [c for c in viewer.charts if getattr(c, "title", "") == title]
    return chart


def test_two_models_share_one_roc_chart_whose_legend_gives_each_auc(two_models):
    window, viewer = two_models
    metrics = window.document.engine.outputs(window.document.workflow, "evaluate")["metrics"]
    titles = [getattr(c, "title", "") for c in viewer.charts]
    assert titles.count("ROC curve") == 1 and not any("(2)" in t for t in titles), titles
    names = ["Logistic Regression", "Boosted Decision Tree"]
    assert _chart(viewer, "ROC curve").legend_texts() == [
        f"{names[0]} (AUC {metrics.scalars['auc']:.3f})",
        f"{names[1]} (AUC {metrics.scalars['auc (2)']:.3f})"]
    for title in ("Precision-recall curve", "Lift curve"):
        assert _chart(viewer, title).line_names() == names
    # No threshold plotted as if it were data: every curve stays inside its axes.
    for chart in viewer.charts:
        for item in chart.getPlotItem().listDataItems():
            x, y = item.getData()
            assert "threshold" not in (item.name() or "")
            if chart.title == "ROC curve" and y is not None and len(y):
                assert y.min() >= 0 and y.max() <= 1


def test_metrics_stand_side_by_side_one_column_per_model(two_models):
    window, viewer = two_models
    metrics = window.document.engine.outputs(window.document.workflow, "evaluate")["metrics"]
    headers = [viewer.scalars.horizontalHeaderItem(c).text()
               for c in range(viewer.scalars.columnCount())]
    assert headers == ["metric", "Logistic Regression", "Boosted Decision Tree"]
    rows = [viewer.scalars.item(r, 0).text() for r in range(viewer.scalars.rowCount())]
    assert not any("(2)" in row for row in rows) and "auc" in rows
    assert viewer.value("accuracy", 0) == f"{metrics.scalars['accuracy']:.6g}"
    assert viewer.value("accuracy", 1) == f"{metrics.scalars['accuracy (2)']:.6g}"


def test_the_threshold_slider_moves_matrices_and_metrics_as_a_rerun_would(two_models):
    window, viewer = two_models
    engine, workflow = window.document.engine, window.document.workflow
    scored = engine.outputs(workflow, "score_logistic")["scored"]
    compared = engine.outputs(workflow, "score_boosted")["scored"]
    evaluate_type = workflow.node_type("evaluate")
    for threshold in (0.05, 0.2, 0.3, 0.45, 0.62, 0.8, 0.97):
        viewer.slider.setValue(round(threshold * SLIDER_STEPS))
        rerun = run_node(evaluate_type, {"threshold": threshold}, scored=scored,
                         scored_to_compare=[compared] if compared is not None else [])["metrics"]
        for model, suffix in ((0, ""), (1, " (2)")):
            expected = rerun.matrices["confusion_matrix" + suffix].values
            heat = viewer.heat_maps[model]
            assert heat.values.astype(int).tolist() == expected, (threshold, model)
            for name in ("accuracy", "precision", "recall", "f1"):
                assert viewer.value(name, model) == f"{rerun.scalars[name + suffix]:.6g}"
    assert "0.970" in viewer.threshold_label.text()
    viewer.slider.setValue(round(0.5 * SLIDER_STEPS))  # back at the node's own threshold
    metrics = engine.outputs(workflow, "evaluate")["metrics"]
    assert viewer.heat_maps[0].values.astype(int).tolist() == \
        metrics.matrices["confusion_matrix"].values
    assert "the node's" in viewer.threshold_label.text()


def test_one_model_keeps_its_curves_named_by_the_chart(make_window, qtbot):
    window = example_window(make_window, "breast_cancer_classification")
    run_and_wait(window, qtbot)
    viewer = window.open_viewer("evaluate", "metrics")
    headers = [viewer.scalars.horizontalHeaderItem(c).text()
               for c in range(viewer.scalars.columnCount())]
    assert headers == ["metric", "Logistic Regression"]  # the model, by name
    (legend,) = _chart(viewer, "ROC curve").legend_texts()
    assert legend.startswith("Logistic Regression (AUC 0.98")


def test_regression_residuals_of_two_models_overlay_with_a_legend(make_window, qtbot):
    window = example_window(make_window, "diabetes_regression")
    run_and_wait(window, qtbot)
    evaluate = next(n for n, node in window.document.workflow.nodes.items()
                    if node.type_id == "evaluate_model")
    viewer = window.open_viewer(evaluate, "metrics")
    assert viewer.scalars.columnCount() == 3
    residuals = _chart(viewer, "Residuals")
    assert len(residuals.legend_texts()) == 2
    assert not viewer.threshold_box.isVisibleTo(viewer)
