"""Stable SHA-256 digests of data, files and fitted models.

Digests go into cache keys and run records, so they must be the same in
every process and on every machine for the same content: no ``hash()``, no
``id()``, no ``repr`` that can carry a memory address.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

_CHUNK = 1 << 20


def file_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, memoised on the file's identity and times.

    The memo outlives the process (a small file in the user's cache folder,
    ``AXON_STUDIO_DIGEST_MEMO`` overrides, empty turns it off), so a large
    input is hashed once, not once per run. Its key cannot miss an edit: an
    edit changes the file's ctime, which no program can set back (unlike the
    mtime), and an atomic replace changes the inode.
    """
    path = Path(path).resolve()
    stat = path.stat()
    memo_key = (str(path), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
    with _file_memo_lock:
        cached = _file_memo.get(memo_key)
        if cached is None and stat.st_size >= _PERSIST_FROM:
            cached = _persistent().get(json.dumps(memo_key))
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    result = digest.hexdigest()
    with _file_memo_lock:
        _file_memo[memo_key] = result
        if stat.st_size >= _PERSIST_FROM:
            _remember(json.dumps(memo_key), result)
    return result


_file_memo: dict[tuple[str, int, int, int, int], str] = {}
_file_memo_lock = threading.Lock()
#: Files smaller than this are hashed again rather than remembered across runs.
_PERSIST_FROM = 8 * _CHUNK
_MEMO_ENTRIES = 2000
_persisted: dict[str, str] | None = None


def _memo_path() -> Path | None:
    override = os.environ.get("AXON_STUDIO_DIGEST_MEMO")
    if override is not None:
        return Path(override) if override else None
    import platformdirs

    return Path(platformdirs.user_cache_dir("axon-studio")) / "file-digests.json"


def _persistent() -> dict[str, str]:
    global _persisted
    if _persisted is None:
        _persisted = {}
        path = _memo_path()
        if path is not None:
            try:
                loaded = json.loads(path.read_text())
                if isinstance(loaded, dict):
                    _persisted = {k: v for k, v in loaded.items()
                                  if isinstance(k, str) and isinstance(v, str) and len(v) == 64}
            except (OSError, ValueError):
                pass
    return _persisted


def _remember(key: str, digest: str) -> None:
    memo = _persistent()
    memo[key] = digest
    while len(memo) > _MEMO_ENTRIES:
        memo.pop(next(iter(memo)))
    path = _memo_path()
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(memo))
        os.replace(temporary, path)
    except OSError:  # a read-only home: the memo lives in this process only
        pass


def frame_digest(frame: pd.DataFrame) -> str:
    """SHA-256 of a DataFrame's column names, dtypes and values (index ignored)."""
    digest = hashlib.sha256()
    _feed_frame(digest, frame)
    return digest.hexdigest()


def stable_digest(value: Any) -> str:
    """SHA-256 of any value built from JSON types, numpy, pandas and estimators."""
    digest = hashlib.sha256()
    _feed(digest, value, depth=0)
    return digest.hexdigest()


def _feed_frame(digest: Any, frame: pd.DataFrame) -> None:
    digest.update(b"frame")
    for name, dtype in frame.dtypes.items():
        digest.update(f"{name!s}\x00{dtype!s}\x01".encode())
    digest.update(str(len(frame)).encode())
    if len(frame) and len(frame.columns):
        hashed = pd.util.hash_pandas_object(frame, index=False)
        digest.update(np.ascontiguousarray(hashed.to_numpy()).tobytes())


def _feed(digest: Any, value: Any, depth: int) -> None:
    if depth > 64:
        raise ValueError("value is nested too deeply to digest")
    depth += 1
    if value is None or isinstance(value, (bool, int, float, str, np.generic)):
        digest.update(f"{type(value).__name__}:{value!r}\x00".encode())
    elif isinstance(value, bytes):
        digest.update(b"bytes" + len(value).to_bytes(8, "little") + value)
    elif isinstance(value, np.ndarray):
        digest.update(f"ndarray:{value.dtype.str}:{value.shape}".encode())
        if value.dtype.names:
            # Structured arrays (e.g. tree nodes) have padding bytes of undefined
            # content: hash field by field, never the raw record bytes.
            for name in value.dtype.names:
                _feed(digest, name, depth)
                _feed(digest, np.ascontiguousarray(value[name]), depth)
        elif value.dtype.hasobject:
            for item in value.ravel():
                _feed(digest, item, depth)
        else:
            digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, pd.DataFrame):
        _feed_frame(digest, value)
    elif isinstance(value, pd.Series):
        _feed_frame(digest, value.to_frame())
    elif isinstance(value, (list, tuple)):
        digest.update(f"{type(value).__name__}:{len(value)}".encode())
        for item in value:
            _feed(digest, item, depth)
    elif isinstance(value, dict):
        digest.update(f"dict:{len(value)}".encode())
        for key in sorted(value, key=str):
            _feed(digest, str(key), depth)
            _feed(digest, value[key], depth)
    elif isinstance(value, type):
        digest.update(f"type:{value.__module__}.{value.__qualname__}".encode())
    elif hasattr(value, "digest_state"):
        digest.update(f"obj:{type(value).__qualname__}".encode())
        _feed(digest, value.digest_state(), depth)
    elif hasattr(value, "get_params") and hasattr(value, "fit"):
        # A scikit-learn estimator: its settings plus every fitted attribute.
        digest.update(f"estimator:{type(value).__module__}.{type(value).__qualname__}".encode())
        _feed(digest, value.get_params(deep=False), depth)
        fitted = {k: v for k, v in vars(value).items() if k.endswith("_") and not k.startswith("_")}
        _feed(digest, fitted, depth)
    elif hasattr(value, "__getstate__") and type(value).__getstate__ is not object.__getstate__:
        digest.update(f"state:{type(value).__qualname__}".encode())
        _feed(digest, value.__getstate__(), depth)
    elif hasattr(value, "__dict__"):
        digest.update(f"obj:{type(value).__qualname__}".encode())
        _feed(digest, vars(value), depth)
    elif callable(value):
        digest.update(f"callable:{getattr(value, '__module__', '')}."
                      f"{getattr(value, '__qualname__', type(value).__name__)}".encode())
    else:
        raise TypeError(f"cannot digest a value of type {type(value).__name__}")
