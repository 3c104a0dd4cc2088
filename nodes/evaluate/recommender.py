"""Evaluate Recommender: how good are the top-N recommendations on held-out ratings?"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from nodes.context import RunContext
from nodes.contract import ScoringRole
from nodes.data.checks import require_columns, require_numeric, require_rows, resolve_label_column
from nodes.errors import NodeInputError
from nodes.models.recommender import RANK
from nodes.node import Node
from nodes.params import ColumnParam, FloatParam, IntParam
from nodes.ports import METRICS, TABLE, Input, Output
from nodes.values import Metrics, Table


def ranking_metrics(recommended: dict[Any, list[Any]], relevant: dict[Any, set[Any]],
                    k: int) -> dict[str, float]:
    """Mean precision@k, recall@k and NDCG@k (binary relevance) over the users
    that have relevant items and recommendations."""
    precision, recall, ndcg = [], [], []
    for user, items in relevant.items():
        if not items or user not in recommended:
            continue
        top = recommended[user][:k]
        hits = [1.0 if item in items else 0.0 for item in top]
        discounts = 1.0 / np.log2(np.arange(2, k + 2))
        ideal = discounts[:min(len(items), k)].sum()
        precision.append(sum(hits) / k)
        recall.append(sum(hits) / len(items))
        ndcg.append(float(np.dot(hits, discounts[:len(hits)])) / ideal)
    return {f"precision_at_{k}": float(np.mean(precision)) if precision else float("nan"),
            f"recall_at_{k}": float(np.mean(recall)) if recall else float("nan"),
            f"ndcg_at_{k}": float(np.mean(ndcg)) if ndcg else float("nan"),
            "users_evaluated": float(len(precision))}


class EvaluateRecommender(Node):
    """Measure top-N recommendations against ratings the recommender never saw.

    Input 'recommendations': the output of Score Recommender in
    'recommend_items' mode (user, 'Rank', item). Input 'test': held-out
    ratings (user, item, rating), e.g. the test output of Split Data.
    Output 'metrics': precision_at_K (share of the top K that the user
    rated >= 'relevance_threshold'), recall_at_K (share of those relevant
    items found in the top K), ndcg_at_K (normalised discounted cumulative
    gain with 0/1 relevance: hits near the top count more), each averaged
    over the users with at least one relevant test item, and
    users_evaluated.

    'user_column' and 'item_column' name the columns in both inputs;
    'rating_column' empty means the test table's label column.
    """

    type_id = "evaluate_recommender"
    title = "Evaluate Recommender"
    category = "Evaluate"
    scoring_role = ScoringRole.TRAINING_ONLY

    class Inputs:
        recommendations = Input(TABLE, help="Top-N recommendations from Score Recommender.")
        test = Input(TABLE, help="Held-out ratings: user, item, rating.")

    class Outputs:
        metrics = Output(METRICS, help="precision@K, recall@K and NDCG@K.")

    k = IntParam(10, minimum=1, maximum=1000, help="How many top recommendations count (K).")
    relevance_threshold = FloatParam(4.0, help="A test rating >= this makes an item relevant.")
    user_column = ColumnParam("user", input_port="test", help="Column identifying the user.")
    item_column = ColumnParam("item", input_port="test", help="Column identifying the item.")
    rating_column = ColumnParam("", input_port="test",
                                help="Rating column of 'test'; empty: its label column.")

    def run(self, ctx: RunContext, recommendations: Table, test: Table) -> dict[str, Any]:
        user, item = self.user_column, self.item_column
        require_rows(self.label, test, port="test")
        require_columns(self.label, recommendations, [user, item, RANK], port="recommendations",
                        why=" (connect Score Recommender in 'recommend_items' mode)")
        require_columns(self.label, test, [user, item], port="test")
        rating = resolve_label_column(self.label, test, self.rating_column, port="test")
        require_numeric(self.label, test, [rating], port="test", what="rating")
        ordered = recommendations.frame.sort_values([user, RANK], kind="stable")
        recommended = {str(u): [str(i) for i in group[item]]
                       for u, group in ordered.groupby(user, sort=False)}
        liked = test.frame[test.frame[rating] >= self.relevance_threshold]
        relevant = {str(u): {str(i) for i in group[item]}
                    for u, group in liked.groupby(user, sort=False)}
        scalars = ranking_metrics(recommended, relevant, self.k)
        if scalars["users_evaluated"] == 0:
            raise NodeInputError(
                self.label, "no test user has both a relevant rating (>= "
                f"{self.relevance_threshold:g}) and recommendations.", port="test",
                fix="Check that both inputs use the same users, or lower "
                    "'relevance_threshold'.")
        hit_rate = pd.Series({u: bool(set(recommended.get(u, [])[:self.k]) & items)
                              for u, items in relevant.items() if u in recommended})
        scalars[f"hit_rate_at_{self.k}"] = float(hit_rate.mean())
        return {"metrics": Metrics("recommendation", scalars)}
