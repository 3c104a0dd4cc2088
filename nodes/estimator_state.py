"""Fitted scikit-learn estimators whose state is plain data, stored without skops.

Most models a workflow trains (linear models, scalers, imputers, k-means,
PCA) hold nothing but numbers, strings and numeric or string arrays. For
those, the estimator's attributes are written as ``state.json`` (the plain
values, tagged where JSON would lose their type) and ``arrays.npz`` (the
arrays, read back with ``allow_pickle=False``). Loading imports the
estimator's class from a ``sklearn.`` module, checks that it is a
scikit-learn estimator, and sets the attributes on an instance made without
calling ``__init__``, as unpickling would, but nothing in the files can name
a function or a class other than that one estimator's.

Why not skops for these: importing ``skops.io`` imports every scikit-learn
module (it lists all estimators to build its trusted types), about 0.7 s in
every ``studio run`` that writes a model. skops remains the format of every
estimator this module declines (trees, ensembles, pipelines, anything
holding an object that is not plain data), and of ``studio export-model``.
"""

from __future__ import annotations

import importlib
import io
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "sklearn-state/1"
STATE_FILE = "state.json"
ARRAYS_FILE = "arrays.npz"
#: Array dtypes stored as they are: booleans, integers, floats, complex, text.
_PLAIN_KINDS = frozenset("biufcU")
_MODULE = re.compile(r"sklearn(\.[A-Za-z_][A-Za-z0-9_]*)+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class StateFormatError(Exception):
    """A stored estimator state that is not one this module wrote, or was altered."""


class _Declined(Exception):
    """The estimator holds something other than plain data: store it with skops."""


def dump_state(estimator: Any, folder: Path) -> dict[str, Any] | None:
    """Write ``estimator``'s state into ``folder``; what to record beside it.

    Returns None, writing nothing, when the estimator is not a scikit-learn
    estimator made of plain data (the caller then uses skops)."""
    cls = type(estimator)
    if not _MODULE.fullmatch(cls.__module__) or not _NAME.fullmatch(cls.__qualname__):
        return None
    from sklearn.base import BaseEstimator

    if not isinstance(estimator, BaseEstimator):
        return None
    arrays: dict[str, np.ndarray] = {}
    try:
        attributes = _encode(vars(estimator), arrays, depth=0)
    except _Declined:
        return None
    import sklearn

    state = {"format": FORMAT, "class": f"{cls.__module__}.{cls.__qualname__}",
             "sklearn_version": sklearn.__version__, "attributes": attributes}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / STATE_FILE).write_text(json.dumps(state, sort_keys=True, allow_nan=False))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    (folder / ARRAYS_FILE).write_bytes(buffer.getvalue())
    return {"state_format": FORMAT, "class": state["class"]}


def load_state(folder: Path) -> Any:
    """The estimator ``dump_state`` wrote into ``folder`` (its files' digests
    are the caller's to check first)."""
    try:
        state = json.loads((folder / STATE_FILE).read_text())
    except (OSError, ValueError) as error:
        raise StateFormatError(f"{folder / STATE_FILE}: not readable ({error})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise StateFormatError(f"{folder / STATE_FILE}: not a {FORMAT} file")
    cls = _estimator_class(str(state.get("class")), folder)
    import sklearn

    if state.get("sklearn_version") != sklearn.__version__:
        raise StateFormatError(
            f"{folder}: the model was stored with scikit-learn {state.get('sklearn_version')} "
            f"and this is {sklearn.__version__}; its attributes may not mean the same here. "
            "Re-run the workflow (or rebuild the bundle) with this version.")
    try:
        with np.load(folder / ARRAYS_FILE, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except (OSError, ValueError) as error:
        raise StateFormatError(f"{folder / ARRAYS_FILE}: not readable without pickle "
                               f"({error})") from None
    attributes = _decode(state.get("attributes"), arrays, folder, depth=0)
    if not isinstance(attributes, dict):
        raise StateFormatError(f"{folder / STATE_FILE}: attributes are not a mapping")
    estimator = cls.__new__(cls)
    estimator.__dict__.update(attributes)
    return estimator


def _estimator_class(name: str, folder: Path) -> type:
    module_name, _, class_name = name.rpartition(".")
    if (not _MODULE.fullmatch(module_name) or not _NAME.fullmatch(class_name)
            or any(part.startswith(("test", "conftest")) for part in module_name.split("."))):
        raise StateFormatError(f"{folder / STATE_FILE}: {name!r} is not a scikit-learn class")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise StateFormatError(f"{folder / STATE_FILE}: scikit-learn has no module "
                               f"{module_name!r}") from None
    cls = getattr(module, class_name, None)
    from sklearn.base import BaseEstimator

    if not (isinstance(cls, type) and issubclass(cls, BaseEstimator)
            and cls.__module__ == module_name and cls.__qualname__ == class_name):
        raise StateFormatError(f"{folder / STATE_FILE}: {name!r} is not a scikit-learn "
                               "estimator")
    return cls


def _encode(value: Any, arrays: dict[str, np.ndarray], depth: int) -> Any:
    if depth > 16:
        raise _Declined
    depth += 1
    if value is None or isinstance(value, (bool, str)):
        return value
    if type(value) is int:
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, (np.generic, np.ndarray)):
        array = np.asarray(value)
        if array.dtype.kind == "O":
            if not all(type(item) is str for item in array.ravel()):
                raise _Declined
            stored, kind = array.astype(str), "object-str"
        elif array.dtype.kind in _PLAIN_KINDS and not array.dtype.names:
            stored, kind = array, "plain"
        else:
            raise _Declined
        key = f"a{len(arrays)}"
        arrays[key] = stored
        return {"array": key, "kind": kind, "scalar": isinstance(value, np.generic)}
    if isinstance(value, np.dtype):
        if value.kind not in _PLAIN_KINDS | {"O"} or value.names:
            raise _Declined
        return {"dtype": value.str}
    if type(value) in (list, tuple):
        return {type(value).__name__: [_encode(item, arrays, depth) for item in value]}
    if type(value) is dict and all(type(key) is str for key in value):
        return {"dict": {key: _encode(item, arrays, depth) for key, item in value.items()}}
    raise _Declined


def _decode(value: Any, arrays: dict[str, np.ndarray], folder: Path, depth: int) -> Any:
    if depth > 16:
        raise StateFormatError(f"{folder / STATE_FILE}: nested too deeply")
    depth += 1
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (tag, inner), = value.items()
        if tag == "float" and inner in ("nan", "inf", "-inf"):
            return float(inner)
        if tag in ("list", "tuple") and isinstance(inner, list):
            items = [_decode(item, arrays, folder, depth) for item in inner]
            return items if tag == "list" else tuple(items)
        if tag == "dtype" and isinstance(inner, str) and re.fullmatch(r"[<>|=][biufcUO]\d+", inner):
            return np.dtype(inner)
        if tag == "dict" and isinstance(inner, dict):
            return {key: _decode(item, arrays, folder, depth) for key, item in inner.items()}
    if isinstance(value, dict) and set(value) == {"array", "kind", "scalar"}:
        array = arrays.get(value["array"])
        if array is None:
            raise StateFormatError(f"{folder / ARRAYS_FILE}: no array {value['array']!r}")
        if value["kind"] == "object-str":
            array = array.astype(object)
        elif value["kind"] != "plain":
            raise StateFormatError(f"{folder / STATE_FILE}: unknown array kind")
        return array[()] if value["scalar"] else array
    raise StateFormatError(f"{folder / STATE_FILE}: a value this format does not write")
