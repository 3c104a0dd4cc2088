"""Plain helper functions written into exported scripts, each only when used.

Each mirrors, in pandas and scikit-learn only, what one Axon Studio node
computes, step for step in the same order (the same column-at-a-time
assignments, the same dtypes), because the script must reproduce the
workflow's metrics to the last bit; tests/export checks that it does for
every shipped example made of scikit-learn nodes. A helper names the node
it stands for in its docstring.
"""

from __future__ import annotations

#: name -> (imports it needs, source). Sources are written as they stand.
HELPERS: dict[str, tuple[tuple[str, ...], str]] = {}


def helper(name: str, imports: tuple[str, ...], source: str) -> None:
    HELPERS[name] = (imports, source.strip("\n") + "\n")


helper("check_sha256", ("import hashlib",), '''
def check_sha256(path, expected):
    """Refuse a data file that is not the one the workflow ran on."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    if digest != expected:
        raise SystemExit(f"{path} has SHA-256 {digest}, not {expected}: it is not the file "
                         "the workflow ran on.")
''')

helper("feature_columns", (), '''
def feature_columns(frame, not_features):
    """The feature columns: every column but the label, id, score and ignored ones."""
    return [c for c in frame.columns if c not in not_features]
''')

helper("numeric_feature_columns", ("import pandas as pd",), '''
def numeric_feature_columns(frame, not_features, booleans=True):
    """The numeric feature columns (booleans count as numbers unless told otherwise)."""
    return [c for c in feature_columns(frame, not_features)
            if pd.api.types.is_numeric_dtype(frame[c].dtype)
            and not pd.api.types.is_complex_dtype(frame[c].dtype)
            and (booleans or not pd.api.types.is_bool_dtype(frame[c].dtype))]
''')

helper("first_text_column", ("import pandas as pd",), '''
def first_text_column(frame, not_features):
    """The first feature column holding text."""
    return next(c for c in feature_columns(frame, not_features)
                if pd.api.types.is_string_dtype(frame[c].dtype)
                or pd.api.types.is_object_dtype(frame[c].dtype))
''')

helper("scale_columns", (), '''
def scale_columns(scaler, columns, frame):
    """A fitted scikit-learn scaler applied to `columns` (Normalize Data, Apply
    Transformation): the values replaced one column at a time."""
    values = scaler.transform(frame[columns].to_numpy(dtype=float))
    frame = frame.copy(deep=False)
    for index, column in enumerate(columns):
        frame[column] = values[:, index]
    return frame
''')

helper("log_columns", ("import numpy as np",), '''
def log_columns(columns, frame):
    """ln(1 + x) of `columns` (Normalize Data, method 'log')."""
    frame = frame.copy()
    for column in columns:
        frame[column] = np.log1p(frame[column].astype(float))
    return frame
''')

helper("clean_text", ("import re", "from sklearn.feature_extraction.text import "
                                    "ENGLISH_STOP_WORDS"), r'''
URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
PUNCTUATION = re.compile(r"[^\w\s]|_")
NUMBER = re.compile(r"\b\d+(?:[.,]\d+)*\b")
SPACES = re.compile(r"\s+")


def clean_text(text, lowercase, remove_urls, remove_punctuation, remove_numbers,
               remove_stop_words):
    """Preprocess Text: links, case, punctuation, numbers, stop words, in this order."""
    if remove_urls:
        text = URL.sub(" ", text)
    if lowercase:
        text = text.lower()
    if remove_punctuation:
        text = PUNCTUATION.sub(" ", text)
    if remove_numbers:
        text = NUMBER.sub(" ", text)
    tokens = SPACES.split(text.strip())
    if remove_stop_words:
        tokens = [t for t in tokens if t.lower() not in ENGLISH_STOP_WORDS]
    return " ".join(t for t in tokens if t)
''')

helper("text_features", ("import numpy as np", "import pandas as pd",
                         "from sklearn.feature_extraction.text import CountVectorizer",
                         "from sklearn.preprocessing import normalize"), r'''
def text_features(vectorizer, method, column, prefix, keep_text, frame):
    """Vectorize Text (and Apply Transformation of it): one column per term of the
    fitted vocabulary; 'tfidf' counts times idf with rows scaled to length 1
    (float32), 'counts' occurrences (float32), 'multi_hot' presence (uint8)."""
    terms = list(vectorizer.get_feature_names_out())
    counter = CountVectorizer(vocabulary={term: i for i, term in enumerate(terms)},
                              ngram_range=vectorizer.ngram_range,
                              lowercase=vectorizer.lowercase,
                              token_pattern=vectorizer.token_pattern,
                              binary=method == "multi_hot")
    counts = counter.transform(frame[column].fillna("").astype(str))
    if method == "tfidf":
        weighted = counts.multiply(vectorizer.idf_[None, :]).tocsr()
        values = normalize(weighted, norm="l2").toarray().astype(np.float32)
    else:
        values = counts.toarray().astype(np.float32 if method == "counts" else np.uint8)
    features = pd.DataFrame(values, columns=[prefix + t for t in terms], index=frame.index)
    base = frame if keep_text else frame.drop(columns=[column])
    base = base.drop(columns=[c for c in features.columns if c in base.columns])
    return pd.concat([base, features], axis=1)
''')

helper("score_columns", (), '''
def score_columns(model, X, classification):
    """Score Model's columns: 'Scored Labels', and for a classifier with
    probabilities 'Scored Probabilities' (two classes: of the second, positive
    class) or one 'Scored Probabilities_<class>' per class."""
    scores = {"Scored Labels": model.predict(X)}
    if classification and hasattr(model, "predict_proba"):
        probabilities = model.predict_proba(X)
        if len(model.classes_) == 2:
            scores["Scored Probabilities"] = probabilities[:, 1]
        else:
            for index, name in enumerate(list(model.classes_)):
                scores[f"Scored Probabilities_{name}"] = probabilities[:, index]
    return scores
''')

helper("add_scores", ("import pandas as pd",), '''
def add_scores(frame, scores, stale):
    """The rows with the score columns appended (earlier ones of the same names,
    and `stale` score columns, dropped first)."""
    stale = set(stale) | set(scores)
    base = frame.drop(columns=[c for c in frame.columns if c in stale])
    return pd.concat([base, pd.DataFrame(scores, index=base.index)], axis=1)
''')

helper("assign_clusters", ("import numpy as np", "import pandas as pd"), '''
def assign_clusters(model, columns, frame):
    """Train Clustering Model / Assign Data to Clusters: each row's cluster and its
    distance to that cluster's centre."""
    X = frame[columns].to_numpy(dtype=float)
    assignments = model.predict(X)
    distances = model.transform(X)[np.arange(len(X)), assignments]
    frame = frame.drop(columns=[c for c in ("Assignments", "DistanceToClusterCenter")
                                if c in frame.columns])
    return pd.concat([frame, pd.DataFrame({"Assignments": assignments.astype(np.int64),
                                           "DistanceToClusterCenter": distances},
                                          index=frame.index)], axis=1)
''')

helper("classification_metrics", ("import numpy as np", "import pandas as pd",
                                  "from sklearn import metrics as skm"), '''
def classification_metrics(frame, label, threshold=0.5):
    """Evaluate Model on a classifier's scored rows (as scikit-learn.metrics gives them)."""
    actual = frame[label].to_numpy()
    predicted = frame["Scored Labels"].to_numpy()
    probability_columns = [c for c in frame.columns if c == "Scored Probabilities"
                           or c.startswith("Scored Probabilities_")]
    classes = sorted(set(pd.unique(actual).tolist()) | set(pd.unique(predicted).tolist()))
    if "Scored Probabilities" in probability_columns or (
            not probability_columns and len(classes) <= 2):
        negative, positive = classes
        probability = (frame["Scored Probabilities"].to_numpy(dtype=float)
                       if probability_columns else None)
        if probability is not None and threshold != 0.5:
            predicted = np.where(probability >= threshold, positive, negative)
        scalars = {
            "accuracy": skm.accuracy_score(actual, predicted),
            "precision": skm.precision_score(actual, predicted, pos_label=positive,
                                             zero_division=0),
            "recall": skm.recall_score(actual, predicted, pos_label=positive, zero_division=0),
            "f1": skm.f1_score(actual, predicted, pos_label=positive, zero_division=0),
        }
        if probability is not None:
            scalars["log_loss"] = skm.log_loss(actual, probability, labels=classes)
            if 0 < (actual == positive).sum() < len(actual):
                scalars["auc"] = skm.roc_auc_score(actual == positive, probability)
        return {name: float(value) for name, value in scalars.items()}
    scalars = {"accuracy": skm.accuracy_score(actual, predicted)}
    for average in ("macro", "micro"):
        precision, recall, f1, _ = skm.precision_recall_fscore_support(
            actual, predicted, labels=classes, average=average, zero_division=0)
        scalars.update({f"precision_{average}": precision, f"recall_{average}": recall,
                        f"f1_{average}": f1})
    precision, recall, f1, _ = skm.precision_recall_fscore_support(
        actual, predicted, labels=classes, average=None, zero_division=0)
    for index, name in enumerate(classes):
        scalars.update({f"precision[{name}]": precision[index],
                        f"recall[{name}]": recall[index], f"f1[{name}]": f1[index]})
    by_class = {c[len("Scored Probabilities_"):]: c for c in probability_columns}
    if probability_columns and set(by_class) == {str(c) for c in classes}:
        probabilities = frame[[by_class[str(c)] for c in classes]].to_numpy(dtype=float)
        scalars["log_loss"] = skm.log_loss(actual, probabilities, labels=classes)
    return {name: float(value) for name, value in scalars.items()}
''')

helper("regression_metrics", ("import numpy as np", "from sklearn import metrics as skm"), '''
def regression_metrics(frame, label):
    """Evaluate Model on a regression's scored rows."""
    actual = frame[label].to_numpy(dtype=float)
    predicted = frame["Scored Labels"].to_numpy(dtype=float)
    error = actual - predicted
    deviation = actual - actual.mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        relative_absolute = np.abs(error).sum() / np.abs(deviation).sum()
        relative_squared = (error ** 2).sum() / (deviation ** 2).sum()
    scalars = {
        "mae": skm.mean_absolute_error(actual, predicted),
        "rmse": skm.root_mean_squared_error(actual, predicted),
        "r2": skm.r2_score(actual, predicted),
        "relative_absolute_error": relative_absolute,
        "relative_squared_error": relative_squared,
    }
    return {name: float(value) for name, value in scalars.items()}
''')

helper("clustering_metrics", ("import pandas as pd", "from sklearn import metrics as skm"), '''
def clustering_metrics(frame, features, label):
    """Evaluate Model on clustered rows: silhouette, Davies-Bouldin, sizes, and
    against the label (if any) the adjusted Rand index."""
    assignments = frame["Assignments"].to_numpy()
    X = frame[features].to_numpy(dtype=float)
    clusters = sorted(set(assignments.tolist()))
    scalars = {"clusters": float(len(clusters))}
    if 2 <= len(clusters) < len(X):
        scalars["silhouette"] = skm.silhouette_score(X, assignments)
        scalars["davies_bouldin"] = skm.davies_bouldin_score(X, assignments)
    for cluster in clusters:
        scalars[f"size[{cluster}]"] = float((assignments == cluster).sum())
    if "DistanceToClusterCenter" in frame.columns:
        scalars["mean_distance_to_center"] = float(frame["DistanceToClusterCenter"].mean())
    if label:
        scalars["adjusted_rand_index"] = skm.adjusted_rand_score(frame[label].to_numpy(),
                                                                 assignments)
    return {name: float(value) for name, value in scalars.items()}
''')

helper("plain_metrics", ("import math",), '''
def plain_metrics(scalars):
    """Metrics as JSON numbers (NaN and infinities as null, as 'studio run --json')."""
    return {name: (value if math.isfinite(value) else None) for name, value in scalars.items()}
''')

#: Helpers that call other helpers.
DEPENDS = {"numeric_feature_columns": ("feature_columns",),
           "first_text_column": ("feature_columns",)}
