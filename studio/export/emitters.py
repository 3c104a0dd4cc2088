"""The code each node type becomes in an exported script.

An emitter gets the builder, the node id and the node's parameters as the
run uses them, and returns the block's lines. It mirrors the node's
``run`` in plain pandas and scikit-learn (see studio/export/helpers.py);
``NotPlainError`` says why a node, with these parameters, cannot be
written so. Learner nodes need no emitter of their own: the learner is
built at export time by the node itself (no data is involved) and written
as the scikit-learn constructor call that rebuilds it, with every
parameter that differs from scikit-learn's default.
"""

from __future__ import annotations

import importlib
import inspect
import math
import re
from typing import Any

import numpy as np

from nodes.context import RunContext, derive_seed
from nodes.ports import LEARNER
from nodes.registry import default_registry
from studio.export.script import (
    EMITTERS,
    LearnerInfo,
    MetricsInfo,
    ModelInfo,
    NotPlainError,
    ScriptBuilder,
    TableInfo,
    TransformInfo,
    emitter,
)

SCORED_LABELS = "Scored Labels"
SCORED_PROBABILITIES = "Scored Probabilities"


def _table(b: ScriptBuilder, node_id: str, port: str) -> tuple[str, TableInfo]:
    got = b.input(node_id, port)
    if got is None:
        raise NotPlainError(f"its input '{port}' is not connected")
    if not isinstance(got[1], TableInfo):
        raise NotPlainError(f"its input '{port}' is not a table the script computes")
    return got


# -- data --------------------------------------------------------------------------

@emitter("sample_dataset")
def sample_dataset(b: ScriptBuilder, node_id: str, params: dict[str, Any]) -> list[str]:
    from nodes.data.datasets import dataset_info

    info = dataset_info(params["dataset"])
    folder = b.sample_data_folder()
    b.use("check_sha256")
    b.need("import pandas as pd")
    roles = {info["label"]: "label", **dict.fromkeys(info.get("id_columns", []), "id")}
    var = b.output(node_id, "data", TableInfo(roles))
    path = f"{folder} / {info['file']!r}"
    return [f"# {info.get('title', params['dataset'])}: label {info['label']!r}"
            + (f", id columns {info['id_columns']}" if info.get("id_columns") else ""),
            f"check_sha256({path}, {info['sha256']!r})",
            f"{var} = pd.read_csv({path})"]


@emitter("import_csv")
def import_csv(b: ScriptBuilder, node_id: str, params: dict[str, Any]) -> list[str]:
    from nodes.data.datasets import _DELIMITERS
    from nodes.data.files import resolve_path

    if params["column_types"].strip():
        raise NotPlainError("its 'column_types' conversions are not exported yet")
    b.need("import pandas as pd")
    path = str(resolve_path(params["path"]).resolve())
    roles = {params["label_column"]: "label"} if params["label_column"] else {}
    var = b.output(node_id, "data", TableInfo(roles))
    header = 0 if params["has_header"] else None
    lines = [f"{var} = pd.read_csv({path!r}, sep={_DELIMITERS[params['delimiter']]!r}, "
             f"header={header!r})"]
    if not params["has_header"]:
        lines.append(f"{var}.columns = [f'Col{{i + 1}}' for i in range(len({var}.columns))]")
    return lines


@emitter("import_parquet")
def import_parquet(b: ScriptBuilder, node_id: str, params: dict[str, Any]) -> list[str]:
    from nodes.data.files import resolve_path

    b.need("import pandas as pd")
    path = str(resolve_path(params["path"]).resolve())
    roles = {params["label_column"]: "label"} if params["label_column"] else {}
    var = b.output(node_id, "data", TableInfo(roles))
    return [f"{var} = pd.read_parquet({path!r}).reset_index(drop=True)"]


# -- transforms ----------------------------------------------------------------------

@emitter("split_data")
def split_data(b: ScriptBuilder, node_id: str, params: dict[str, Any]) -> list[str]:
    data, info = _table(b, node_id, "data")
    stratify = "None"
    if params["stratify"]:
        column = params["stratify_column"] or info.label
        if column is None:
            raise NotPlainError("'stratify' is on but the table has no label column")
        stratify = f"{data}[{column!r}]"
    b.need("from sklearn.model_selection import train_test_split")
    train = b.output(node_id, "train", info)
    test = b.output(node_id, "test", info)
    return [f"{train}, {test} = train_test_split(",
            f"    {data}, train_size={params['fraction']!r}, random_state={params['seed']!r}, "
            f"shuffle={params['shuffle']!r},",
            f"    stratify={stratify})",
            f"{train} = {train}.reset_index(drop=True)",
            f"{test} = {test}.reset_index(drop=True)"]


_SCALERS = {"zscore": "StandardScaler", "minmax": "MinMaxScaler", "robust": "RobustScaler"}


@emitter("normalize_data")
def normalize_data(b: ScriptBuilder, node_id: str, params: dict[str, Any]) -> list[str]:
    data, info = _table(b, node_id, "data")
    columns = b.local(node_id, "columns")
    if params["columns"]:
        lines = [f"{columns} = {list(params['columns'])!r}"]
    else:
        b.use("numeric_feature_columns")
        lines = [f"{columns} = numeric_feature_columns({data}, {info.not_features()}, "
                 "booleans=False)"]
    if params["method"] == "log":
        b.use("log_columns")
        transform = b.output(node_id, "transform", TransformInfo(
            lambda table: f"log_columns({columns}, {table})"))
        out = b.output(node_id, "data", info)
        return [*lines, f"{transform} = {columns}  # ln(1 + x) learns nothing",
                f"{out} = log_columns({columns}, {data})"]
    scaler = _SCALERS[params["method"]]
    b.need(f"from sklearn.preprocessing import {scaler}")
    b.use("scale_columns")
    transform_var = b.local(node_id, "transform")
    b.output_as(node_id, "transform", transform_var, TransformInfo(
        lambda table: f"scale_columns({transform_var}, {columns}, {table})"))
    out = b.output(node_id, "data", info)
    return [*lines, f"{transform_var} = {scaler}().fit({data}[{columns}].to_numpy(dtype=float))",
            f"{out} = scale_columns({transform_var}, {columns}, {data})"]


@emitter("apply_transformation")
def apply_transformation(b: ScriptBuilder, node_id: str, params: dict[str, Any]) -> list[str]:
    got = b.input(node_id, "transform")
    if got is None or not isinstance(got[1], TransformInfo):
        raise NotPlainError("its 'transform' does not come from a node the script computes")
    data, info = _table(b, node_id, "data")
    out = b.output(node_id, "data", got[1].after(info))
    return [f"{out} = {got[1].apply(data)}"]


# -- text ----------------------------------------------------------------------------

def _text_column(b: ScriptBuilder, node_id: str, data: str, info: TableInfo,
                 requested: str) -> tuple[list[str], str]:
    if requested:
        return [], repr(requested)
    b.use("first_text_column")
    column = b.local(node_id, "text_column")
    return [f"{column} = first_text_column({data}, {info.not_features()})"], column


@emitter("preprocess_text")
def preprocess_text(b: ScriptBuilder, node_id: str, params: dict[str, Any]) -> list[str]:
    data, info = _table(b, node_id, "data")
    lines, column = _text_column(b, node_id, data, info, params["text_column"])
    target = repr(params["output_column"]) if params["output_column"] else column
    b.use("clean_text")
    out = b.output(node_id, "data", info)
    options = ", ".join(f"{name}={params[name]!r}" for name in (
        "lowercase", "remove_urls", "remove_punctuation", "remove_numbers", "remove_stop_words"))
    return [*lines, f"{out} = {data}.copy()",
            f"{out}[{target}] = [clean_text(text, {options})",
            f"    {' ' * len(out)}for text in {data}[{column}].fillna('').astype(str)]",
            f"{out}[{target}] = {out}[{target}].astype('str')"]


@emitter("vectorize_text")
def vectorize_text(b: ScriptBuilder, node_id: str, params: dict[str, Any]) -> list[str]:
    from nodes.text.tokens import TOKEN_PATTERN

    data, info = _table(b, node_id, "data")
    if b.workflow.outgoing(node_id) and any(e.source_port == "vocabulary"
                                            for e in b.workflow.outgoing(node_id)):
        raise NotPlainError("its 'vocabulary' output is used, and the exporter does not "
                            "write that table")
    lines, column = _text_column(b, node_id, data, info, params["text_column"])
    if params["keep_text"] and not params["text_column"]:
        raise NotPlainError("'keep_text' with the text column found automatically is not "
                            "exported; name the column in 'text_column'")
    b.need("from sklearn.feature_extraction.text import TfidfVectorizer")
    b.use("text_features")
    vectorizer = b.local(node_id, "transform")
    arguments = (f"{params['method']!r}, {column}, {params['prefix']!r}, "
                 f"{params['keep_text']!r}")

    def after(table: TableInfo) -> TableInfo:
        if params["keep_text"]:
            return table.with_roles({params["text_column"]: "ignore"})
        return TableInfo({c: r for c, r in table.roles.items() if c != params["text_column"]})

    b.output_as(node_id, "transform", vectorizer, TransformInfo(
        lambda table: f"text_features({vectorizer}, {arguments}, {table})", after))
    out = b.output(node_id, "data", after(info))
    return [*lines,
            f"{vectorizer} = TfidfVectorizer(",
            f"    ngram_range=({params['ngram_min']}, {params['ngram_max']}), "
            f"lowercase={params['lowercase']!r}, token_pattern={TOKEN_PATTERN!r},",
            f"    max_features={params['max_features'] or None!r}, "
            f"min_df={params['min_document_frequency']!r}, "
            f"binary={params['method'] == 'multi_hot'!r})",
            f"{vectorizer}.fit({data}[{column}].fillna('').astype(str))",
            f"{out} = text_features({vectorizer}, {arguments}, {data})"]


# -- learners ------------------------------------------------------------------------

def learner(b: ScriptBuilder, node_id: str, params: dict[str, Any]) -> list[str]:
    """Any node whose outputs are all learners: built now, written as its constructor."""
    node_type = b.workflow.node_type(node_id)
    inputs = {}
    for port in node_type.inputs:
        got = b.input(node_id, port)
        if got is not None:
            if not isinstance(got[1], LearnerInfo):
                raise NotPlainError(f"its input '{port}' is not a learner the script builds")
            inputs[port] = got[1].value
    label = b.workflow.label(node_id)
    node = node_type(params, label=label)
    context = RunContext(node_id=node_id, node_title=label,
                         seed=derive_seed(b.workflow.info.seed, node_id))
    lines = []
    for port, value in node.execute(context, inputs).items():
        code = estimator_code(value.estimator, b)
        var = b.output(node_id, port, LearnerInfo(value, value.task, value.estimator))
        lines.append(f"{var} = {code}")
    return lines


def estimator_code(estimator: Any, b: ScriptBuilder) -> str:
    """The constructor call that rebuilds ``estimator`` (scikit-learn only)."""
    cls = type(estimator)
    module = cls.__module__
    if not (module == "sklearn" or module.startswith("sklearn.")):
        raise NotPlainError(f"its model is {cls.__name__} from {module.split('.')[0]!r}, not "
                            "a scikit-learn estimator (Keras networks and Axon Studio's own "
                            "models have no plain scikit-learn equivalent)")
    b.need(f"from {_public_module(cls)} import {cls.__name__}")
    signature = inspect.signature(cls.__init__)
    arguments = []
    for name, value in estimator.get_params(deep=False).items():
        default = signature.parameters.get(name)
        if default is not None and default.default is not inspect.Parameter.empty \
                and _same(value, default.default):
            continue
        arguments.append(f"{name}={_literal(value, b)}")
    return f"{cls.__name__}({', '.join(arguments)})"


def _public_module(cls: type) -> str:
    parts = cls.__module__.split(".")
    for end in range(2, len(parts) + 1):
        candidate = ".".join(parts[:end])
        try:
            if getattr(importlib.import_module(candidate), cls.__name__, None) is cls:
                return candidate
        except ImportError:
            continue
    return cls.__module__


def _same(value: Any, default: Any) -> bool:
    if type(value) is not type(default):
        return False
    try:
        return bool(value == default)
    except (TypeError, ValueError):
        return False


def _literal(value: Any, b: ScriptBuilder) -> str:
    if hasattr(value, "get_params") and hasattr(value, "fit"):
        return estimator_code(value, b)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        b.need("import math")
        return f"float({str(value)!r})"
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        items = [_literal(v, b) for v in value]
        if isinstance(value, tuple):
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        return "[" + ", ".join(items) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k, b)}: {_literal(v, b)}"
                               for k, v in value.items()) + "}"
    raise NotPlainError(f"a setting of its model ({type(value).__name__}) cannot be written "
                        "as plain Python")


# -- training and scoring ------------------------------------------------------------

def _learner_input(b: ScriptBuilder, node_id: str) -> tuple[str, LearnerInfo]:
    got = b.input(node_id, "learner")
    if got is None or not isinstance(got[1], LearnerInfo):
        raise NotPlainError("its learner does not come from a learner node the script builds")
    return got


def _training(b: ScriptBuilder, node_id: str, data: str, info: TableInfo, task: str,
              label_column: str) -> tuple[list[str], str, str, str, str]:
    label = label_column or info.label
    if label is None:
        raise NotPlainError("the table has no label column (set 'label_column')")
    b.use("feature_columns")
    features, X, y = (b.local(node_id, "features"), b.local(node_id, "X"),
                      b.local(node_id, "y"))
    not_features = info.with_roles({label: "label"}).not_features()
    lines = [f"{features} = feature_columns({data}, {not_features})",
             f"{X} = {data}[{features}].to_numpy(dtype=float)",
             f"{y} = {data}[{label!r}].to_numpy({'dtype=float' if task == 'regression' else ''})"]
    return lines, features, X, y, label


@emitter("train_model")
def train_model(b: ScriptBuilder, node_id: str, params: dict[str, Any]) -> list[str]:
    learner_var, learner_info = _learner_input(b, node_id)
    if learner_info.task not in ("classification", "regression"):
        raise NotPlainError(f"it trains a {learner_info.task} learner")
    data, info = _table(b, node_id, "data")
    lines, features, X, y, label = _training(b, node_id, data, info, learner_info.task,
                                             params["label_column"])
    b.need("from sklearn.base import clone")
    model = b.output(node_id, "model", ModelInfo(learner_info.task, features, label))
    return [*lines, f"{model} = clone({learner_var}).fit({X}, {y})"]


@emitter("score_model")
def score_model(b: ScriptBuilder, node_id: str, params: dict[str, Any]) -> list[str]:
    got = b.input(node_id, "model")
    if got is None or not isinstance(got[1], ModelInfo) or got[1].task not in (
            "classification", "regression"):
        raise NotPlainError("its model does not come from Train Model or Tune Model "
                            "Hyperparameters in the script")
    model, model_info = got
    data, info = _table(b, node_id, "data")
    b.use("score_columns")
    scores = b.local(node_id, "scores")
    classification = model_info.task == "classification"
    roles = {SCORED_LABELS: "score"}
    if classification:
        roles[SCORED_PROBABILITIES] = "score"
    if model_info.label and info.label is None:
        roles[model_info.label] = "label"
    out = b.output(node_id, "scored", TableInfo({**info.roles, **roles}, model_info.task))
    lines = [f"{scores} = score_columns({model}, {data}[{model_info.features}]"
             f".to_numpy(dtype=float), classification={classification!r})"]
    if params["append_scores_to_input"]:
        b.use("add_scores")
        stale = [c for c, r in info.roles.items() if r == "score"]
        lines.append(f"{out} = add_scores({data}, {scores}, stale={stale!r})")
    else:
        b.need("import pandas as pd")
        keep = f"[c for c in [{model_info.label!r}] if c in {data}.columns]"
        lines.append(f"{out} = pd.concat([{data}[{keep}], pd.DataFrame({scores}, "
                     f"index={data}.index)], axis=1)")
    return lines


# -- evaluation ------------------------------------------------------------------------

def _evaluation(b: ScriptBuilder, data: str, info: TableInfo, params: dict[str, Any]) -> str:
    label = params["label_column"] or info.label
    if info.task == "clustering":
        b.use("clustering_metrics")
        b.use("numeric_feature_columns")
        return (f"{{**clustering_metrics({data}, numeric_feature_columns({data}, "
                f"{info.not_features()}), {label!r}), 'rows': float(len({data}))}}")
    if label is None:
        raise NotPlainError("the scored table has no label column (set 'label_column')")
    if info.task == "classification":
        b.use("classification_metrics")
        return (f"{{**classification_metrics({data}, {label!r}, "
                f"threshold={params['threshold']!r}), 'rows': float(len({data}))}}")
    if info.task == "regression":
        b.use("regression_metrics")
        return f"{{**regression_metrics({data}, {label!r}), 'rows': float(len({data}))}}"
    raise NotPlainError("its input does not come from Score Model or Train Clustering Model "
                        "in the script")


@emitter("evaluate_model")
def evaluate_model(b: ScriptBuilder, node_id: str, params: dict[str, Any]) -> list[str]:
    data, info = _table(b, node_id, "scored")
    b.use("plain_metrics")
    out = b.output(node_id, "metrics", MetricsInfo())
    lines = [f"{out} = {_evaluation(b, data, info, params)}"]
    for k, edge in enumerate(b.workflow.input_edges(node_id, "scored_to_compare"), start=2):
        key = (edge.source, edge.source_port)
        if key not in b.variables or not isinstance(b.values[key], TableInfo):
            raise NotPlainError("its 'scored_to_compare' is not a table the script computes")
        if b.values[key].task != info.task:
            raise NotPlainError("its inputs hold results of different tasks")
        other = b.local(node_id, "second" if k == 2 else f"model_{k}")
        lines += [f"{other} = {_evaluation(b, b.variables[key], b.values[key], params)}",
                  f"{out} = {{**{out}, **{{f'{{name}} ({k})': value "
                  f"for name, value in {other}.items()}}}}"]
    key = f"{node_id}.metrics"
    b.metrics.append((key, out))
    lines.append(f"metrics[{key!r}] = plain_metrics({out})")
    return lines


# -- sweeps ----------------------------------------------------------------------------

_DISTRIBUTION = re.compile(r"^(uniform|loguniform|randint)\(\s*([^,]+),\s*([^)]+)\)$")
_SCORER_NAMES = {"accuracy": "'accuracy'", "log_loss": "'neg_log_loss'", "r2": "'r2'",
                 "mae": "'neg_mean_absolute_error'", "rmse": "'neg_root_mean_squared_error'"}


@emitter("tune_model_hyperparameters")
def tune_model_hyperparameters(b: ScriptBuilder, node_id: str,
                               params: dict[str, Any]) -> list[str]:
    from nodes.models.tune import _value

    learner_var, learner_info = _learner_input(b, node_id)
    if learner_info.task not in ("classification", "regression"):
        raise NotPlainError(f"it tunes a {learner_info.task} learner")
    if b.input(node_id, "validation") is not None:
        raise NotPlainError("a 'validation' table is not exported yet (cross-validation is)")
    data, info = _table(b, node_id, "data")
    task = learner_info.task
    lines, features, X, y, label = _training(b, node_id, data, info, task,
                                             params["label_column"])
    ranges = []
    for entry in params["parameter_ranges"].split(";"):
        if not entry.strip():
            continue
        name, _, values = entry.partition(":")
        match = _DISTRIBUTION.match(values.strip())
        if match:
            b.need("from scipy import stats")
            low, high = float(match[2]), float(match[3])
            code = {"uniform": f"stats.uniform({low!r}, {high - low!r})",
                    "loguniform": f"stats.loguniform({low!r}, {high!r})",
                    "randint": f"stats.randint({int(low)!r}, {int(high) + 1!r})"}[match[1]]
        else:
            code = _literal([_value(v) for v in values.split(",")], b)
        ranges.append(f"{name.strip()!r}: {code}")
    metric = params["metric"] if params["metric"] != "auto" else (
        "accuracy" if task == "classification" else "r2")
    classes = b.local(node_id, "classes")
    if metric in ("f1", "precision", "recall"):
        b.need("from sklearn import metrics as skm", "import pandas as pd")
        lines.append(f"{classes} = sorted(pd.unique({y}).tolist())")
        scoring = (f"skm.make_scorer(skm.{metric}_score, zero_division=0, **("
                   f"{{'pos_label': {classes}[1]}} if len({classes}) == 2 "
                   f"else {{'average': 'macro'}}))")
    elif metric == "auc":
        b.need("import pandas as pd")
        lines.append(f"{classes} = sorted(pd.unique({y}).tolist())")
        scoring = f"'roc_auc' if len({classes}) == 2 else 'roc_auc_ovr'"
    else:
        scoring = _SCORER_NAMES[metric]
    splitter = "StratifiedKFold" if task == "classification" else "KFold"
    seed = params["seed"] if params["shuffle"] else None
    b.need(f"from sklearn.model_selection import {splitter}", "from sklearn.base import clone",
           "import joblib", "import numpy as np", "import pandas as pd")
    search = b.local(node_id, "search")
    jobs = -1 if params["parallel_jobs"] == 0 else params["parallel_jobs"]
    common = (f"scoring={scoring}, cv={splitter}({params['folds']}, "
              f"shuffle={params['shuffle']!r}, random_state={seed!r}), n_jobs={jobs}, "
              "refit=False, error_score='raise'")
    grid = "{" + ", ".join(ranges) + "}"
    if params["sweep_mode"] == "grid":
        b.need("from sklearn.model_selection import GridSearchCV")
        lines.append(f"{search} = GridSearchCV(clone({learner_var}), {grid}, {common})")
    else:
        b.need("from sklearn.model_selection import RandomizedSearchCV")
        lines.append(f"{search} = RandomizedSearchCV(clone({learner_var}), {grid}, "
                     f"n_iter={params['max_runs']}, random_state={params['seed']!r}, {common})")
    sign = -1.0 if metric in ("log_loss", "mae", "rmse") else 1.0
    model = b.output(node_id, "model", ModelInfo(task, features, label))
    sweep = b.output(node_id, "sweep", TableInfo({}))
    lines += [
        "with joblib.parallel_config(prefer='threads'):  # fits share the data, no copies",
        f"    {search}.fit({X}, {y})",
        f"{model} = clone({learner_var}).set_params(**{search}.best_params_).fit({X}, {y})",
        f"{sweep} = pd.DataFrame({search}.cv_results_['params'])",
        f"{sweep}[{metric!r}] = {sign!r} * np.asarray({search}.cv_results_['mean_test_score'])",
        f"{sweep}[{metric + '_std'!r}] = {search}.cv_results_['std_test_score']",
        f"{sweep}['rank'] = {search}.cv_results_['rank_test_score']",
        f"{sweep} = {sweep}.sort_values('rank', kind='stable').reset_index(drop=True)",
        f"print('best {metric}:', {search}.best_params_)"]
    return lines


# -- clustering ------------------------------------------------------------------------

def _cluster_columns(b: ScriptBuilder, node_id: str, data: str, info: TableInfo,
                     requested: list[str]) -> tuple[list[str], str]:
    columns = b.local(node_id, "columns")
    if requested:
        return [f"{columns} = {list(requested)!r}"], columns
    b.use("numeric_feature_columns")
    return [f"{columns} = numeric_feature_columns({data}, {info.not_features()})"], columns


@emitter("train_clustering_model")
def train_clustering_model(b: ScriptBuilder, node_id: str, params: dict[str, Any]) -> list[str]:
    learner_var, learner_info = _learner_input(b, node_id)
    if learner_info.task != "clustering":
        raise NotPlainError(f"it trains a {learner_info.task} learner")
    data, info = _table(b, node_id, "data")
    lines, columns = _cluster_columns(b, node_id, data, info, params["columns"])
    b.need("from sklearn.base import clone")
    b.use("assign_clusters")
    model = b.output(node_id, "model", ModelInfo("clustering", columns, None))
    assignments = b.output(node_id, "assignments", TableInfo(
        {**info.roles, "Assignments": "score", "DistanceToClusterCenter": "score"},
        "clustering"))
    return [*lines, f"{model} = clone({learner_var}).fit({data}[{columns}].to_numpy(dtype=float))",
            f"{assignments} = assign_clusters({model}, {columns}, {data})"]


@emitter("assign_data_to_clusters")
def assign_data_to_clusters(b: ScriptBuilder, node_id: str, params: dict[str, Any]) -> list[str]:
    got = b.input(node_id, "model")
    if got is None or not isinstance(got[1], ModelInfo) or got[1].task != "clustering":
        raise NotPlainError("its model does not come from Train Clustering Model in the script")
    data, info = _table(b, node_id, "data")
    b.use("assign_clusters")
    out = b.output(node_id, "assignments", TableInfo(
        {**info.roles, "Assignments": "score", "DistanceToClusterCenter": "score"},
        "clustering"))
    return [f"{out} = assign_clusters({got[0]}, {got[1].features}, {data})"]


def _register_learners() -> None:
    for node_type in default_registry().all():
        if (node_type.type_id not in EMITTERS and node_type.outputs
                and all(port.type == LEARNER for port in node_type.outputs.values())):
            EMITTERS[node_type.type_id] = learner


_register_learners()
