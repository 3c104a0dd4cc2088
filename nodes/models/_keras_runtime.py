"""TensorFlow and Keras, imported on first use and configured once.

Nothing imports TensorFlow at module level: ``studio nodes``, the GUI start
and workflows without Keras nodes never pay its ~10 s import. The first
Keras node that runs calls :func:`keras_modules`, which limits TensorFlow to
a few threads (the machine is shared with the rest of the workflow) and
silences its start-up chatter.

TensorFlow keeps global state (the random seed, op determinism), so
training holds :data:`TRAINING_LOCK`: two Keras nodes running in parallel
threads would otherwise reseed each other mid-build.

TensorFlow is an optional extra (``pip install 'axon-studio[keras]'``): without
it the Neural Network (Keras) node refuses to run with that fix
(:func:`require_tensorflow`), and anything that would train or load a
network raises :class:`TensorFlowMissingError`.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from typing import Any

from nodes.errors import MissingDependencyError, NodeInputError

#: Most threads TensorFlow may use inside one op and across ops.
MAX_THREADS = 2

TRAINING_LOCK = threading.RLock()
_import_lock = threading.Lock()
_modules: tuple[Any, Any] | None = None

#: How to install what the Keras nodes need.
INSTALL_KERAS = "pip install 'axon-studio[keras]'"


class TensorFlowMissingError(MissingDependencyError):
    """TensorFlow (or Keras) cannot be imported, so no network can train or load."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(f"the Keras nodes need TensorFlow, which {problem}.",
                         fix=INSTALL_KERAS)


def tensorflow_installed() -> bool:
    """Whether TensorFlow and Keras can be found (without importing them)."""
    return all(importlib.util.find_spec(name) is not None for name in ("tensorflow", "keras"))


def require_tensorflow(node: str) -> None:
    """NodeInputError naming ``node`` and the install command when TensorFlow is absent."""
    if not tensorflow_installed():
        raise NodeInputError(node, "TensorFlow is not installed, and a Neural Network "
                             "(Keras) node needs it to train and use a network.",
                             fix=INSTALL_KERAS)


def keras_modules() -> tuple[Any, Any]:
    """``(tensorflow, keras)``, imported and configured on the first call."""
    global _modules
    with _import_lock:
        if _modules is None:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            os.environ.setdefault("KERAS_BACKEND", "tensorflow")
            try:
                import keras
                import tensorflow as tf
            except ImportError as error:
                missing = getattr(error, "name", None) in ("tensorflow", "keras")
                raise TensorFlowMissingError(
                    "is not installed" if missing else f"does not import ({error})") from error

            threads = max(1, min(MAX_THREADS, os.cpu_count() or 1))
            try:
                tf.config.threading.set_intra_op_parallelism_threads(threads)
                tf.config.threading.set_inter_op_parallelism_threads(threads)
            except RuntimeError:
                pass  # TensorFlow already started (someone imported it first): keep its setting
            tf.get_logger().setLevel("ERROR")  # e.g. retracing notes when several models predict
            if keras.backend.backend() != "tensorflow":
                raise RuntimeError("the Keras nodes need the TensorFlow backend, but "
                                   f"KERAS_BACKEND is {keras.backend.backend()!r}")
            _modules = (tf, keras)
        return _modules


def seed_everything(seed: int) -> None:
    """Same seed, same weights and metrics: seed Python, NumPy and TensorFlow, and
    make TensorFlow's ops deterministic (hold TRAINING_LOCK while training)."""
    tf, keras = keras_modules()
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
