"""Every built-in node type declares what the GUI, the CLI and the help need."""

from __future__ import annotations

import json
import re

import pytest

from nodes.errors import ParameterError
from nodes.registry import CATEGORY_ORDER, builtin_modules, default_registry

EXPECTED = {
    "sample_dataset", "import_csv", "select_columns", "normalize_data", "apply_transformation",
    "split_data", "linear_regression", "logistic_regression", "train_model", "score_model",
    "evaluate_model",
    # the catalog of issue 3
    "preprocess_text", "text_to_word_indices", "vectorize_text", "neural_network",
    "neural_network_regression", "decision_forest", "boosted_decision_tree",
    "support_vector_machine", "k_nearest_neighbours", "naive_bayes", "averaged_perceptron",
    "one_vs_all_multiclass", "bayesian_linear_regression", "decision_forest_regression",
    "boosted_decision_tree_regression", "poisson_regression", "k_means", "one_class_svm",
    "isolation_forest", "train_clustering_model", "assign_data_to_clusters",
    "train_anomaly_detection_model", "matrix_factorization_recommender", "train_recommender",
    "score_recommender", "evaluate_recommender", "cross_validate_model",
    "tune_model_hyperparameters", "enter_data_manually", "export_data", "summarize_data",
    "edit_metadata", "clean_missing_data", "remove_duplicate_rows", "join_data", "add_rows",
    "add_columns", "convert_to_indicator_values", "group_data_into_bins", "clip_values",
    "apply_sql_transformation", "principal_component_analysis", "split_data_by_expression",
    "partition_and_sample", "filter_based_feature_selection",
    "permutation_feature_importance", "execute_python_script",
}
#: Node types whose defaults are deliberately incomplete (the user must fill them in).
NEEDS_SETTING = {"import_csv": "path", "select_columns": "columns",
                 "tune_model_hyperparameters": "parameter_ranges",
                 "enter_data_manually": "text", "export_data": "path",
                 "edit_metadata": "columns", "join_data": "right_keys",
                 "split_data_by_expression": "expression", "import_parquet": "path",
                 "import_database": "url"}

# Every built-in type (installed plugins may add types with rules of their own).
_BUILTIN = {m.__name__ for m in builtin_modules()}
NODE_TYPES = [t for t in default_registry().all() if t.__module__ in _BUILTIN]


def test_the_builtin_modules_give_the_expected_node_types():
    assert {t.type_id for t in NODE_TYPES} >= EXPECTED


@pytest.mark.parametrize("node_type", NODE_TYPES, ids=lambda t: t.type_id)
def test_declarations(node_type):
    assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", node_type.type_id)
    assert isinstance(node_type.version, int) and node_type.version >= 1
    assert node_type.title and node_type.category in CATEGORY_ORDER
    help_text = node_type.help_text()
    assert node_type.summary_line().endswith(".") and len(help_text.split("\n\n")) >= 2
    for port in [*node_type.inputs.values(), *node_type.outputs.values()]:
        assert port.help, f"{node_type.type_id}: port {port.name} has no help"
        assert f"'{port.name}'" in help_text, f"{node_type.type_id}: help omits {port.name}"
    for param in node_type.parameters.values():
        assert param.help, f"{node_type.type_id}: parameter {param.name} has no help"
    json.dumps(node_type.describe())


@pytest.mark.parametrize("node_type", NODE_TYPES, ids=lambda t: t.type_id)
def test_defaults_are_valid_unless_a_setting_is_required(node_type):
    required = NEEDS_SETTING.get(node_type.type_id)
    if required is None:
        node_type()
    else:
        with pytest.raises(ParameterError, match=f"'{required}'"):
            node_type()
