"""The choices of a Keras network's settings, importable without scikit-learn or TensorFlow.

The Neural Network (Keras) node declares its parameters with these, so the
node catalog can be built without loading the estimator
(:mod:`nodes.models._keras_estimator`, which subclasses scikit-learn's
BaseEstimator).
"""

from __future__ import annotations

TASKS = ("classification", "regression")
OPTIMIZERS = ("rmsprop", "adam", "adamw", "sgd")
LOSSES = ("auto", "crossentropy", "mse", "mae", "huber")
METRICS = ("accuracy", "auc", "mae", "mse", "rmse")
CLASSIFICATION_LOSSES = ("auto", "crossentropy")
CLASSIFICATION_METRICS = ("accuracy", "auc")
