"""Filter Based Feature Selection, Permutation Feature Importance, Execute Python Script."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_selection import chi2, mutual_info_classif, r_regression
from sklearn.inspection import permutation_importance

from nodes.errors import NodeInputError, ParameterError
from nodes.features.selection import FilterBasedFeatureSelection, PermutationFeatureImportance
from nodes.models.classifiers import DecisionForest
from nodes.models.train_score import TrainModel
from nodes.script.python import ExecutePythonScript
from nodes.testing import run_node
from nodes.values import Table


def test_pearson_selection_matches_r_regression(boston):
    out = run_node(FilterBasedFeatureSelection, {"top_k": 4}, data=boston)
    X = boston.frame[boston.feature_columns]
    r = np.abs(r_regression(X, boston.frame["MEDV"]))
    best = set(X.columns[np.argsort(-r)[:4]])
    assert set(out["data"].frame.columns) == best | {"MEDV"}
    scores = out["scores"].frame.set_index("feature")["score"]
    np.testing.assert_allclose(scores[X.columns], r)
    assert out["data"].label_column == "MEDV"


def test_chi_squared_and_mutual_information_match_scikit_learn(iris):
    X, y = iris.frame[iris.feature_columns], iris.frame["species"]
    chi = run_node(FilterBasedFeatureSelection, {"method": "chi_squared", "top_k": 2},
                   data=iris)["scores"].frame.set_index("feature")["score"]
    np.testing.assert_allclose(chi[X.columns], chi2(X, y)[0])
    mutual = run_node(FilterBasedFeatureSelection, {"method": "mutual_information", "seed": 3},
                      data=iris)["scores"].frame.set_index("feature")["score"]
    np.testing.assert_allclose(mutual[X.columns], mutual_info_classif(X.to_numpy(), y,
                                                                      random_state=3))


def test_feature_selection_errors(iris, boston):
    with pytest.raises(NodeInputError, match="label"):
        run_node(FilterBasedFeatureSelection, data=iris)  # pearson needs a numeric label
    with pytest.raises(ParameterError, match="'method'"):
        run_node(FilterBasedFeatureSelection, {"method": "chi_squared"}, data=boston)


def test_permutation_importance_matches_scikit_learn(breast_cancer):
    learner = run_node(DecisionForest, {"trees": 20, "seed": 1})["learner"]
    train = breast_cancer.with_frame(breast_cancer.frame.iloc[:400].reset_index(drop=True))
    test = breast_cancer.with_frame(breast_cancer.frame.iloc[400:].reset_index(drop=True))
    model = run_node(TrainModel, learner=learner, data=train)["model"]
    out = run_node(PermutationFeatureImportance, {"repeats": 3, "seed": 2}, model=model,
                   data=test)["importance"].frame
    X = test.frame[model.feature_columns].to_numpy()
    reference = permutation_importance(model.estimator, X, test.frame["diagnosis"],
                                       scoring="accuracy", n_repeats=3, random_state=2)
    expected = pd.Series(reference.importances_mean, index=model.feature_columns)
    np.testing.assert_allclose(out.set_index("feature")["importance_mean"][expected.index],
                               expected)
    assert out["importance_mean"].is_monotonic_decreasing


SCRIPT = '''
def azureml_main(dataframe1=None, dataframe2=None):
    frame = dataframe1.copy()
    frame["ratio"] = frame["petal length (cm)"] / frame["petal width (cm)"]
    return frame.head(dataframe2["n"][0]),
'''


def test_python_script_gets_two_tables_and_keeps_roles(iris):
    n = Table(pd.DataFrame({"n": [5]}))
    out = run_node(ExecutePythonScript, {"code": SCRIPT}, dataframe1=iris, dataframe2=n)["data"]
    assert len(out.frame) == 5 and out.label_column == "species"
    np.testing.assert_allclose(out.frame["ratio"], (iris.frame["petal length (cm)"]
                                                    / iris.frame["petal width (cm)"])[:5])
    assert ExecutePythonScript.needs_trust


def test_python_script_errors_say_where(iris):
    with pytest.raises(ParameterError, match="valid Python"):
        ExecutePythonScript({"code": "def azureml_main(:\n"})
    failing = "def azureml_main(dataframe1, dataframe2):\n    return dataframe1['nope']\n"
    with pytest.raises(NodeInputError, match=r"KeyError \(line 2\)"):
        run_node(ExecutePythonScript, {"code": failing}, dataframe1=iris)
    with pytest.raises(NodeInputError, match="not a pandas DataFrame"):
        run_node(ExecutePythonScript, {"code": "def azureml_main(a, b):\n    return 3\n"})
    with pytest.raises(NodeInputError, match="no function azureml_main"):
        run_node(ExecutePythonScript, {"code": "x = 1\n"})


def test_a_workflow_with_a_script_needs_trust(tmp_path):
    from studio.engine import Engine
    from studio.workflow import Workflow
    from studio.workflow.errors import WorkflowInvalidError

    workflow = Workflow()
    workflow.add_node("enter_data_manually", {"text": "a\n1\n2"}, node_id="data")
    workflow.add_node("execute_python_script", {"code": SCRIPT.replace(
        'dataframe2["n"][0]', "1").replace("petal length (cm)", "a").replace(
        "petal width (cm)", "a")}, node_id="script")
    workflow.connect("data", "data", "script", "dataframe1")
    with Engine(jobs=1) as engine:
        with pytest.raises(WorkflowInvalidError, match="not trusted"):
            engine.run(workflow, trusted=False)
        engine.run(workflow, trusted=True)
        assert engine.outputs(workflow, "script")["data"].frame["ratio"].tolist() == [1.0]
