"""Cache keys and result caches (in memory, and on disk in the user's cache folder).

A node's key is the SHA-256 of its type id, type version, parameters, the
keys and port names of its inputs and, for nodes that read files, the digest
of the file's content. Two runs with the same key compute the same outputs,
so a key hit lets the engine skip the node. Changing one parameter changes
that node's key and, through the input keys, the keys of everything
downstream — and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from nodes.context import DatasetRead
from nodes.errors import StudioError
from nodes.values import UnsafeArtifactError, load_value, save_value
from studio.workflow.model import Workflow

log = logging.getLogger(__name__)

KEY_SCHEME = 1  # bump when the key recipe changes, so old entries stop matching


def compute_keys(workflow: Workflow, graph: nx.DiGraph, nodes: set[str] | None = None
                 ) -> dict[str, str]:
    """The cache key of every node (of ``nodes`` and their ancestors) in topological order."""
    keys: dict[str, str] = {}
    for node_id in nx.topological_sort(graph):
        if nodes is not None and node_id not in nodes:
            continue
        node = workflow.nodes[node_id]
        node_type = workflow.registry.get(node.type_id)
        try:
            source = node_type.source_digest(node.params)
        except (OSError, StudioError):
            source = "unavailable"  # the node will run and report the problem itself
        inputs = sorted((edge.target_port, keys[edge.source], edge.source_port)
                        for edge in workflow.incoming(node_id))
        recipe = {"scheme": KEY_SCHEME, "type": node_type.type_id,
                  "version": node_type.version, "params": node.params,
                  "inputs": inputs, "source": source}
        text = json.dumps(recipe, sort_keys=True, separators=(",", ":"), allow_nan=False)
        keys[node_id] = hashlib.sha256(text.encode()).hexdigest()
    return keys


@dataclass
class Origin:
    """Where a cached result was computed: which run, in which environment."""

    run_id: str
    environment: str  # the environment fingerprint digest
    host: str
    finished: str


@dataclass
class CacheEntry:
    """A node's outputs with what is needed to record a cache hit faithfully."""

    outputs: dict[str, Any]
    output_digests: dict[str, str | None]
    datasets: list[DatasetRead] = field(default_factory=list)
    origin: Origin | None = None
    output_info: dict[str, dict[str, Any]] = field(default_factory=dict)


class Cache:
    """Interface of result caches."""

    def get(self, key: str) -> CacheEntry | None:
        raise NotImplementedError

    def put(self, key: str, entry: CacheEntry) -> None:
        raise NotImplementedError

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def clear(self) -> None:
        raise NotImplementedError

    def memory_keys(self) -> list[str]:
        """Keys of the entries held in this process's memory."""
        return []

    def discard(self, key: str) -> None:
        """Forget one entry (e.g. its outputs were on a worker that is gone)."""


class MemoryCache(Cache):
    """Results kept in this process, least recently used dropped past ``max_entries``."""

    def __init__(self, max_entries: int = 512) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> CacheEntry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._entries

    def put(self, key: str, entry: CacheEntry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def memory_keys(self) -> list[str]:
        with self._lock:
            return list(self._entries)

    def discard(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)


def default_disk_cache_dir() -> Path:
    """The user's own cache folder (never a shared project folder)."""
    override = os.environ.get("AXON_STUDIO_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("axon-studio")) / "results"


class DiskCache(Cache):
    """Results stored as Parquet / JSON / skops files, one folder per key.

    An entry is written to a temporary folder and renamed into place, so a
    crash never leaves a half-written entry that a later run would trust.
    Entries that fail to load (edited, truncated, unsafe types) are misses.
    A memory layer in front avoids re-reading what this process has seen.
    """

    def __init__(self, root: Path | None = None, memory_entries: int = 128) -> None:
        self.root = Path(root) if root else default_disk_cache_dir()
        self.memory = MemoryCache(memory_entries)

    def _folder(self, key: str) -> Path:
        return self.root / key[:2] / key

    def __contains__(self, key: str) -> bool:
        return key in self.memory or (self._folder(key) / "entry.json").exists()

    def get(self, key: str) -> CacheEntry | None:
        entry = self.memory.get(key)
        if entry is not None:
            return entry
        folder = self._folder(key)
        if not (folder / "entry.json").exists():
            return None
        try:
            meta = json.loads((folder / "entry.json").read_text())
            outputs = {port: load_value(kind, folder / "outputs" / port)
                       for port, kind in meta["kinds"].items()}
            entry = CacheEntry(
                outputs=outputs, output_digests=meta["digests"],
                datasets=[DatasetRead(**d) for d in meta.get("datasets", [])],
                origin=Origin(**meta["origin"]) if meta.get("origin") else None,
                output_info=meta.get("info", {}))
        except (OSError, ValueError, KeyError, TypeError, UnsafeArtifactError) as error:
            log.warning("dropping unreadable cache entry %s: %s", folder, error)
            shutil.rmtree(folder, ignore_errors=True)  # so the next put can rewrite it
            return None
        self.memory.put(key, entry)
        return entry

    def put(self, key: str, entry: CacheEntry) -> None:
        self.memory.put(key, entry)
        folder = self._folder(key)
        if (folder / "entry.json").exists():
            return
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{key[:8]}.", dir=folder.parent))
        try:
            kinds = {port: save_value(value, staging / "outputs" / port)
                     for port, value in entry.outputs.items()}
            meta = {"kinds": kinds, "digests": entry.output_digests, "info": entry.output_info,
                    "datasets": [asdict(d) for d in entry.datasets],
                    "origin": asdict(entry.origin) if entry.origin else None}
            (staging / "entry.json").write_text(json.dumps(meta, indent=1))
            os.replace(staging, folder)
        except (OSError, TypeError) as error:
            # Values we cannot store safely stay in memory only.
            log.info("not caching %s on disk: %s", key[:12], error)
            shutil.rmtree(staging, ignore_errors=True)

    def clear(self) -> None:
        self.memory.clear()
        shutil.rmtree(self.root, ignore_errors=True)

    def memory_keys(self) -> list[str]:
        return self.memory.memory_keys()

    def discard(self, key: str) -> None:
        self.memory.discard(key)
        shutil.rmtree(self._folder(key), ignore_errors=True)

