"""Training on a table in partitions, where the partitions are (nodes/partitions.py).

Logistic regression (scikit-learn's lbfgs solver, L2 penalty, no class
weights, two classes) is fitted without gathering the rows: each L-BFGS
step asks every partition for its share of the loss and the gradient, and
sums them. The objective, the starting point and the stopping rule are
scikit-learn's own:

    mean(log(1 + exp(z)) - y z) + ||w||^2 / (2 C n),   z = X w + b,

minimised by scipy's L-BFGS-B from zeros with maxiter = max_iter, maxls 50,
gtol = tol and ftol = 64 eps. The coefficients agree with
``LogisticRegression.fit`` on the whole table to the solver's tolerance
(the sums are taken in another order, so not to the last bit); the fitted
estimator is a scikit-learn LogisticRegression like the one ``fit`` leaves.
Other learners gather the rows into one worker (``Partitions.gather``).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from nodes.values import Table


def trains_on_partitions(estimator: Any, classes: list[Any]) -> bool:
    """Whether this untrained estimator is fitted here partition by partition."""
    from sklearn.linear_model import LogisticRegression

    if type(estimator) is not LogisticRegression or len(classes) != 2:
        return False
    params = estimator.get_params()
    return (params["solver"] == "lbfgs" and params["class_weight"] is None
            and params["fit_intercept"] and not params["warm_start"]
            and params.get("l1_ratio") in (None, 0, 0.0)
            and params.get("penalty") in ("l2", "deprecated"))


def design(tables: list[Table], features: list[str], label: str, positive: Any
           ) -> tuple[np.ndarray, np.ndarray]:
    """Partitions' features as one float matrix and their label as 0/1 (filled
    partition by partition: no second copy)."""
    rows = sum(len(t.frame) for t in tables)
    X = np.empty((rows, len(features)))
    y = np.empty(rows)
    start = 0
    for table in tables:
        frame = table.frame
        end = start + len(frame)
        X[start:end] = frame[features].to_numpy(dtype=float)
        y[start:end] = frame[label].to_numpy() == positive
        start = end
    return X, y


def loss_gradient(part: tuple[np.ndarray, np.ndarray], coef: np.ndarray
                  ) -> tuple[float, np.ndarray]:
    """A partition's sum of pointwise losses and of their gradient (weights, intercept)."""
    X, y = part
    raw = X @ coef[:-1] + coef[-1]
    loss = float(np.sum(np.logaddexp(0.0, raw) - y * raw))
    residual = 1.0 / (1.0 + np.exp(-raw)) - y
    gradient = np.empty_like(coef)
    gradient[:-1] = X.T @ residual
    gradient[-1] = residual.sum()
    return loss, gradient


def fit_logistic(estimator: Any, partitions: Any, features: list[str], label: str,
                 classes: list[Any], rows: int, ctx: Any) -> Any:
    """``estimator`` (an unfitted LogisticRegression) fitted on the partitions."""
    from scipy import optimize
    from sklearn.base import clone
    from sklearn.exceptions import ConvergenceWarning

    designs = partitions.derive_per_worker(design, features, label, classes[1])
    strength = 1.0 / (estimator.C * rows)
    max_iter = estimator.max_iter
    steps = [0]

    def objective(coef: np.ndarray) -> tuple[float, np.ndarray]:
        ctx.check_cancelled()
        parts = designs.map(loss_gradient, coef)
        loss = sum(p[0] for p in parts) / rows
        gradient = np.sum([p[1] for p in parts], axis=0) / rows
        weights = coef[:-1]
        loss += 0.5 * strength * float(weights @ weights)
        gradient[:-1] += strength * weights
        steps[0] += 1
        ctx.progress(min(0.95, 0.05 + 0.9 * steps[0] / max_iter),
                     f"training on {partitions.rows:,} rows in {len(partitions)} partitions")
        return loss, gradient

    result = optimize.minimize(objective, np.zeros(len(features) + 1), method="L-BFGS-B",
                               jac=True, options={"maxiter": max_iter, "maxls": 50,
                                                  "gtol": estimator.tol,
                                                  "ftol": 64 * np.finfo(float).eps})
    if result.status != 0:
        warnings.warn(ConvergenceWarning(
            f"lbfgs failed to converge after {result.nit} iteration(s) (status="
            f"{result.status}): {result.message}. Increase the number of iterations "
            "(max_iter) or scale the data."), stacklevel=2)
    fitted = clone(estimator)
    fitted.classes_ = np.asarray(classes)
    fitted.coef_ = result.x[:-1].reshape(1, -1)
    fitted.intercept_ = result.x[-1:].copy()
    fitted.n_iter_ = np.asarray([min(result.nit, max_iter)], dtype=np.int32)
    fitted.n_features_in_ = len(features)
    return fitted
