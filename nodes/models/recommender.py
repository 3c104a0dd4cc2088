"""A matrix-factorisation recommender: learner, training and scoring."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nodes.context import RunContext
from nodes.contract import Randomness, ScoringRole
from nodes.data.checks import (
    require_columns,
    require_no_missing,
    require_numeric,
    require_rows,
    resolve_label_column,
)
from nodes.errors import NodeInputError
from nodes.node import Node
from nodes.params import BoolParam, ChoiceParam, ColumnParam, FloatParam, IntParam, SeedParam
from nodes.ports import LEARNER, MODEL, TABLE, Input, Output
from nodes.values import Learner, Model, Table, register_artifact_class

SCORED_RATING = "Scored Labels"
RANK = "Rank"


@register_artifact_class
class MatrixFactorization:
    """Biased matrix factorisation trained by alternating least squares.

    A rating is predicted as ``mean + user_bias + item_bias + p_user . q_item``
    with ``factors`` hidden dimensions. Each ALS half-step solves, for every
    user (then every item), the ridge regression of its ratings' residuals
    on the other side's factors and a constant, with penalty ``l2_weight``
    on the factors and the bias. Stored as JSON plus .npy arrays (no pickle).
    """

    def __init__(self, factors: int = 10, iterations: int = 15, l2_weight: float = 0.1,
                 seed: int = 0) -> None:
        self.factors = factors
        self.iterations = iterations
        self.l2_weight = l2_weight
        self.seed = seed

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        return {"factors": self.factors, "iterations": self.iterations,
                "l2_weight": self.l2_weight, "seed": self.seed}

    def set_params(self, **params: Any) -> MatrixFactorization:
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def fit(self, users: np.ndarray, items: np.ndarray, ratings: np.ndarray,
            progress: Any = None) -> MatrixFactorization:
        self.users_ = [str(u) for u in pd.unique(users)]
        self.items_ = [str(i) for i in pd.unique(items)]
        user_index = {u: n for n, u in enumerate(self.users_)}
        item_index = {i: n for n, i in enumerate(self.items_)}
        u = np.array([user_index[str(x)] for x in users])
        i = np.array([item_index[str(x)] for x in items])
        r = np.asarray(ratings, dtype=float)
        self.mean_ = float(r.mean())
        self.rating_range_ = [float(r.min()), float(r.max())]
        rng = np.random.default_rng(self.seed)
        self.user_factors_ = rng.normal(0.0, 0.1, (len(self.users_), self.factors))
        self.item_factors_ = rng.normal(0.0, 0.1, (len(self.items_), self.factors))
        self.user_bias_ = np.zeros(len(self.users_))
        self.item_bias_ = np.zeros(len(self.items_))
        by_user = [np.flatnonzero(u == n) for n in range(len(self.users_))]
        by_item = [np.flatnonzero(i == n) for n in range(len(self.items_))]
        for step in range(self.iterations):
            self.user_factors_, self.user_bias_ = self._solve(
                by_user, i, r - self.mean_ - self.item_bias_[i], self.item_factors_)
            self.item_factors_, self.item_bias_ = self._solve(
                by_item, u, r - self.mean_ - self.user_bias_[u], self.user_factors_)
            if progress is not None:
                progress((step + 1) / self.iterations)
        self.rated_ = {self.users_[n]: sorted(self.items_[k] for k in i[rows])
                       for n, rows in enumerate(by_user)}
        return self

    def _solve(self, groups: list[np.ndarray], other: np.ndarray, residual: np.ndarray,
               other_factors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        size = other_factors.shape[1] + 1
        penalty = self.l2_weight * np.eye(size)
        factors = np.zeros((len(groups), size - 1))
        bias = np.zeros(len(groups))
        for n, rows in enumerate(groups):
            design = np.hstack([other_factors[other[rows]], np.ones((len(rows), 1))])
            solution = np.linalg.solve(design.T @ design + penalty * max(len(rows), 1),
                                       design.T @ residual[rows])
            factors[n], bias[n] = solution[:-1], solution[-1]
        return factors, bias

    def predict(self, users: Any, items: Any) -> np.ndarray:
        """Predicted ratings; an unknown user or item contributes nothing but the mean."""
        user_index = {u: n for n, u in enumerate(self.users_)}
        item_index = {i: n for n, i in enumerate(self.items_)}
        result = np.empty(len(users))
        for row, (user, item) in enumerate(zip(users, items, strict=True)):
            a, b = user_index.get(str(user)), item_index.get(str(item))
            value = self.mean_
            if a is not None:
                value += self.user_bias_[a]
            if b is not None:
                value += self.item_bias_[b]
            if a is not None and b is not None:
                value += float(self.user_factors_[a] @ self.item_factors_[b])
            result[row] = value
        return np.clip(result, *self.rating_range_)

    def recommend(self, user: Any, count: int, exclude_rated: bool) -> list[tuple[str, float]]:
        """The ``count`` items with the highest predicted rating for ``user``."""
        scores = self.predict([user] * len(self.items_), self.items_)
        order = np.argsort(-scores, kind="stable")
        skip = set(self.rated_.get(str(user), [])) if exclude_rated else set()
        picked = [(self.items_[k], float(scores[k])) for k in order if self.items_[k] not in skip]
        return picked[:count]

    # -- lineage and safe storage -----------------------------------------
    _ARRAYS = ("user_factors_", "item_factors_", "user_bias_", "item_bias_")

    def digest_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"params": self.get_params()}
        if hasattr(self, "mean_"):
            state.update({name: getattr(self, name) for name in self._ARRAYS})
            state.update(users=self.users_, items=self.items_, mean=self.mean_)
        return state

    def save_artifact(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"params": self.get_params(), "fitted": hasattr(self, "mean_")}
        if meta["fitted"]:
            meta.update(users=self.users_, items=self.items_, mean=self.mean_,
                        rating_range=self.rating_range_, rated=self.rated_)
            for name in self._ARRAYS:
                np.save(folder / f"{name}.npy", getattr(self, name), allow_pickle=False)
        (folder / "state.json").write_text(json.dumps(meta, sort_keys=True))

    @classmethod
    def load_artifact(cls, folder: Path) -> MatrixFactorization:
        meta = json.loads((folder / "state.json").read_text())
        model = cls(**meta["params"])
        if meta["fitted"]:
            model.users_, model.items_ = meta["users"], meta["items"]
            model.mean_, model.rating_range_ = meta["mean"], meta["rating_range"]
            model.rated_ = meta["rated"]
            for name in cls._ARRAYS:
                setattr(model, name, np.load(folder / f"{name}.npy", allow_pickle=False))
        return model


class MatrixFactorizationRecommender(Node):
    """A matrix-factorisation recommender: learns user and item taste vectors from ratings.

    Output 'learner': the untrained recommender; connect it to Train
    Recommender.

    Each user and item gets 'factors' hidden taste values and a bias; a
    rating is predicted as the mean rating plus both biases plus the dot
    product of the taste vectors. They are fitted by alternating least
    squares for 'iterations' rounds, with an L2 penalty 'l2_weight' (times
    the number of ratings of the user or item) against overfitting.
    'seed' fixes the random start.
    """

    type_id = "matrix_factorization_recommender"
    title = "Matrix Factorization Recommender"
    category = "Models"
    scoring_role = ScoringRole.TRAINING_ONLY
    randomness = Randomness()

    class Outputs:
        learner = Output(LEARNER, help="The untrained recommender.")

    factors = IntParam(10, minimum=1, maximum=1000, help="Hidden taste dimensions.")
    iterations = IntParam(15, minimum=1, maximum=1000, help="Alternating least squares rounds.")
    l2_weight = FloatParam(0.1, minimum=0.0, exclusive_minimum=True,
                           help="Penalty on taste values and biases (per rating).")
    seed = SeedParam(help="Random seed of the starting taste values.")

    def run(self, ctx: RunContext) -> dict[str, Any]:
        estimator = MatrixFactorization(self.factors, self.iterations, self.l2_weight, self.seed)
        return {"learner": Learner(estimator, task="recommendation", name=self.title)}


def _columns(node: Node, data: Table, port: str, *, rating: bool) -> tuple[str, str, str | None]:
    user = node.user_column
    item = node.item_column
    require_columns(node.label, data, [user, item], port=port,
                    why=" named by 'user_column' / 'item_column'")
    require_no_missing(node.label, data, [user, item], port=port)
    if not rating:
        return user, item, None
    label = resolve_label_column(node.label, data, node.rating_column, port=port)
    require_numeric(node.label, data, [label], port=port, what="rating",
                    fix="Choose the numeric rating column in 'rating_column'.")
    require_no_missing(node.label, data, [label], port=port)
    return user, item, label


class TrainRecommender(Node):
    """Train a recommender on a table of ratings: one row per (user, item, rating).

    Input 'learner': an untrained recommender (Matrix Factorization
    Recommender); input 'data': the ratings. Output 'model': the trained
    recommender, for Score Recommender.

    'user_column' and 'item_column' name the user and item columns (any
    type; compared as text); 'rating_column' the numeric rating, or when
    empty the table's label column.
    """

    type_id = "train_recommender"
    title = "Train Recommender"
    category = "Train/Score"
    aliases = ("Train Matchbox Recommender",)
    scoring_role = ScoringRole.TRAINING_ONLY

    class Inputs:
        learner = Input(LEARNER, help="The untrained recommender.")
        data = Input(TABLE, help="Ratings: user, item and rating columns.")

    class Outputs:
        model = Output(MODEL, help="The trained recommender.")

    user_column = ColumnParam("user", help="Column identifying the user.")
    item_column = ColumnParam("item", help="Column identifying the item.")
    rating_column = ColumnParam("", help="Column with the rating; empty: the label column.")

    def run(self, ctx: RunContext, learner: Learner, data: Table) -> dict[str, Any]:
        if learner.task != "recommendation":
            raise NodeInputError(self.label, f"'{learner.name}' is a {learner.task} learner.",
                                 port="learner", fix="Connect Matrix Factorization "
                                                     "Recommender (or use Train Model).")
        require_rows(self.label, data, port="data")
        user, item, rating = _columns(self, data, "data", rating=True)
        estimator = MatrixFactorization(**learner.estimator.get_params())
        estimator.fit(data.frame[user].to_numpy(), data.frame[item].to_numpy(),
                      data.frame[rating].to_numpy(dtype=float),
                      progress=lambda f: ctx.progress(f, "alternating least squares"))
        ctx.log("%d users, %d items, %d ratings", len(estimator.users_),
                len(estimator.items_), len(data.frame))
        return {"model": Model(estimator=estimator, task="recommendation", name=learner.name,
                               feature_columns=[user, item],
                               feature_dtypes={c: str(data.frame[c].dtype) for c in (user, item)},
                               label_column=rating, training_data=data.digest())}


class ScoreRecommender(Node):
    """Predict ratings, or recommend the top items for each user, with a trained recommender.

    Input 'model': from Train Recommender; input 'data': with 'predict_ratings',
    (user, item) rows to rate; with 'recommend_items', rows whose users get
    recommendations (each distinct user once; other columns are ignored).
    Output 'scored':

    - predict_ratings: the input plus 'Scored Labels', the predicted rating
      (score role; the model's rating column, if present, gets the label
      role), so Evaluate Model reports MAE / RMSE.
    - recommend_items: one row per (user, recommended item): the user
      column, 'Rank' (1 = best), the item column and 'Scored Labels' (the
      predicted rating); 'top_n' items per user, leaving out the items the
      user rated in the training data when 'exclude_rated' is on. Evaluate
      Recommender measures them against held-out ratings.
    """

    type_id = "score_recommender"
    title = "Score Recommender"
    category = "Train/Score"
    aliases = ("Score Matchbox Recommender",)
    scoring_role = ScoringRole.ROW_WISE

    class Inputs:
        model = Input(MODEL, help="The trained recommender.")
        data = Input(TABLE, help="(user, item) rows, or the users to recommend to.")

    class Outputs:
        scored = Output(TABLE, help="Predicted ratings or top-N recommendations.")

    mode = ChoiceParam("recommend_items", ["recommend_items", "predict_ratings"],
                       help="recommend_items: top items per user; predict_ratings: rate "
                            "each (user, item) row.")
    top_n = IntParam(10, minimum=1, maximum=1000, help="Items recommended per user.")
    exclude_rated = BoolParam(True, help="Do not recommend items the user rated in training.")

    def run(self, ctx: RunContext, model: Model, data: Table) -> dict[str, Any]:
        if model.task != "recommendation":
            raise NodeInputError(self.label, f"'{model.name}' is a {model.task} model.",
                                 port="model", fix="Connect the output of Train Recommender.")
        require_rows(self.label, data, port="data")
        user, item = model.feature_columns
        estimator = model.estimator
        if self.mode == "predict_ratings":
            require_columns(self.label, data, [user, item], port="data",
                            why=f" that '{model.name}' was trained on")
            predicted = estimator.predict(data.frame[user].to_numpy(),
                                          data.frame[item].to_numpy())
            frame = data.frame.drop(columns=[c for c in [SCORED_RATING]
                                             if c in data.frame.columns])
            frame = frame.assign(**{SCORED_RATING: predicted})
            roles = {SCORED_RATING: "score"}
            if model.label_column in frame.columns and data.label_column is None:
                roles[model.label_column] = "label"
            return {"scored": data.with_frame(frame, roles)}
        require_columns(self.label, data, [user], port="data",
                        why=f" (the user column '{model.name}' was trained on)")
        rows = []
        for who in pd.unique(data.frame[user]):
            for rank, (what, score) in enumerate(
                    estimator.recommend(who, self.top_n, self.exclude_rated), start=1):
                rows.append((who, rank, what, score))
        frame = pd.DataFrame(rows, columns=[user, RANK, item, SCORED_RATING])
        return {"scored": Table(frame, {user: "id", SCORED_RATING: "score"})}
