"""Cache keys and result caches (in memory, and on disk in the user's cache folder).

A node's key is the SHA-256 of its type id, type version, parameters (with
an inherited seed replaced by the seed the node runs with, so the workflow
seed reaches exactly the nodes that draw random numbers), the keys and port
names of its inputs and, for nodes that read files, the digest of the
file's content. Two runs with the same key compute the same outputs, so a
key hit lets the engine skip the node. Changing one parameter changes that
node's key and, through the input keys, the keys of everything downstream —
and nothing else.

The disk cache trusts nothing it reads: every entry carries the SHA-256 of
each of its files and of its own description, checked on every read, and
the digests of models and metrics are checked again on the loaded values.
A damaged entry is dropped (the node runs again) and the reason reaches
the run record. Writes are atomic and fsynced.
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
from nodes.contract import Partitioning, params_in_use
from nodes.data.files import paths_relative_to
from nodes.digest import file_digest
from nodes.errors import MissingDependencyError, StudioError
from nodes.file_access import FileAccess
from nodes.values import StoredValue, UnsafeArtifactError, load_value, save_value, value_digest
from studio.engine.executor import describe_value
from studio.workflow.fileformat import fsync_folder
from studio.workflow.model import Workflow

log = logging.getLogger(__name__)

KEY_SCHEME = 2  # bump when the key recipe changes, so old entries stop matching
ENTRY_FORMAT = 2  # bump when a disk entry's layout changes


def compute_keys(workflow: Workflow, graph: nx.DiGraph, nodes: set[str] | None = None,
                 files: FileAccess | None = None,
                 layout: dict[str, Any] | None = None) -> dict[str, str]:
    """The cache key of every node (of ``nodes`` and their ancestors) in topological order.

    Relative paths in nodes start where ``files`` says (default: the workflow's).
    ``layout`` is the executor's way of cutting tables into partitions
    (``Executor.data_layout``): it joins the keys of the data sources it cuts,
    and so of everything downstream, because some results depend on it (a
    split drawn per partition)."""
    files = files or FileAccess.for_workflow(workflow)
    with paths_relative_to(files.base):
        return _keys(workflow, graph, nodes, layout)


def _keys(workflow: Workflow, graph: nx.DiGraph, nodes: set[str] | None,
          layout: dict[str, Any] | None = None) -> dict[str, str]:
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
        params = params_in_use(node_type, node.params, workflow.info.seed, node_id)
        recipe = {"scheme": KEY_SCHEME, "type": node_type.type_id,
                  "version": node_type.version, "params": params,
                  "inputs": inputs, "source": source}
        if layout is not None and node_type.partitioning_for(params) is Partitioning.SOURCE:
            recipe["layout"] = layout
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
    warnings: list[str] = field(default_factory=list)


class Cache:
    """Interface of result caches."""

    def get(self, key: str) -> CacheEntry | None:
        return self.get_checked(key)[0]

    def get_checked(self, key: str, ports: list[str] | None = None, *,
                    stored: bool = False) -> tuple[CacheEntry | None, str | None]:
        """The entry of ``key`` (None: a miss) and, when a stored entry was found
        damaged and dropped, why. ``ports``: only these outputs are needed (a
        cache that reads from disk loads and checks only them). ``stored``: fitted
        objects may come as StoredValue (checked files, not deserialised)."""
        raise NotImplementedError

    def describe(self, key: str) -> tuple[CacheEntry | None, str | None]:
        """The entry of ``key`` for the record (kinds, sizes, digests, lineage),
        without necessarily its output values; as ``get_checked`` otherwise."""
        return self.get_checked(key)

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
    """Results kept in this process: the least recently used are dropped past
    ``max_entries`` entries or ``max_bytes`` bytes of output values (None: no
    byte limit; 0: nothing is kept beyond the run that computed it). An entry
    larger than the whole budget is not kept."""

    def __init__(self, max_entries: int = 512, max_bytes: int | None = None) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()
        self._sizes: dict[str, int] = {}
        self._lock = threading.Lock()

    @property
    def size_bytes(self) -> int:
        with self._lock:
            return sum(self._sizes.values())

    def get_checked(self, key: str, ports: list[str] | None = None, *,
                    stored: bool = False) -> tuple[CacheEntry | None, str | None]:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry, None

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._entries

    def put(self, key: str, entry: CacheEntry) -> None:
        size = entry_size(entry) if self.max_bytes is not None else 0
        with self._lock:
            if self.max_bytes is not None and size > self.max_bytes:
                self._entries.pop(key, None)
                self._sizes.pop(key, None)
                return
            self._entries[key] = entry
            self._sizes[key] = size
            self._entries.move_to_end(key)
            self._evict()

    def set_budget(self, max_bytes: int | None) -> None:
        """Change the byte budget now: the least recently used entries past it go."""
        with self._lock:
            self.max_bytes = max_bytes
            if max_bytes is not None:
                self._sizes = {key: entry_size(e) for key, e in self._entries.items()}
            self._evict()

    def _evict(self) -> None:  # under the lock
        total = sum(self._sizes.values())
        while len(self._entries) > self.max_entries or (
                self.max_bytes is not None and total > self.max_bytes):
            old, _ = self._entries.popitem(last=False)
            total -= self._sizes.pop(old, 0)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def memory_keys(self) -> list[str]:
        with self._lock:
            return list(self._entries)

    def discard(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)
            self._sizes.pop(key, None)


def memory_layer(cache: Cache) -> MemoryCache | None:
    """The in-memory part of ``cache`` (a disk cache keeps one in front of its files)."""
    if isinstance(cache, MemoryCache):
        return cache
    if isinstance(cache, DiskCache):
        return cache.memory
    return None


def entry_size(entry: CacheEntry) -> int:
    """Bytes the entry's output values hold (tables by their columns' buffers,
    fitted objects by their numpy arrays; an estimate, cheap to take)."""
    return sum(value_size(v) for v in entry.outputs.values())


def value_size(value: Any) -> int:
    held = getattr(value, "nbytes", None)  # a table left in partitions on Dask workers
    if isinstance(held, int):
        return held
    frame = getattr(value, "frame", None)
    if frame is not None:
        return int(frame.memory_usage(index=True, deep=False).sum())
    inner = getattr(value, "estimator", None)
    if inner is None:
        inner = getattr(value, "transformer", None)
    if inner is not None and hasattr(inner, "__dict__"):
        return 1024 + sum(int(getattr(v, "nbytes", 0) or 0) for v in vars(inner).values())
    return 1024


def memory_budget(share: float = 0.25) -> int | None:
    """``share`` of this machine's memory in bytes (None when it cannot be told)."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") * share)
    except (ValueError, OSError, AttributeError):
        return None


def default_disk_cache_dir() -> Path:
    """The user's own cache folder (never a shared project folder)."""
    override = os.environ.get("AXON_STUDIO_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("axon-studio")) / "results"


class DiskCache(Cache):
    """Results stored as Parquet / JSON / skops files, one folder per key.

    An entry is written to a temporary folder, fsynced and renamed into
    place, so a crash never leaves a half-written entry. ``entry.json``
    lists the SHA-256 of every file of the entry and carries a digest of
    itself; a read checks them all, then checks the loaded models' and
    metrics' digests against the ones recorded when they were computed. An
    entry that fails any check is dropped and reported (``get_checked``). A
    memory layer in front avoids re-reading what this process has seen.
    """

    def __init__(self, root: Path | None = None, memory_entries: int = 128,
                 memory_bytes: int | None = None) -> None:
        self.root = Path(root) if root else default_disk_cache_dir()
        self.memory = MemoryCache(memory_entries, memory_bytes)

    def _folder(self, key: str) -> Path:
        return self.root / key[:2] / key

    def __contains__(self, key: str) -> bool:
        return key in self.memory or (self._folder(key) / "entry.json").is_file()

    def describe(self, key: str) -> tuple[CacheEntry | None, str | None]:
        return self.get_checked(key, ports=[])

    def get_checked(self, key: str, ports: list[str] | None = None, *,
                    stored: bool = False) -> tuple[CacheEntry | None, str | None]:
        entry = self.memory.get(key)
        if entry is not None:
            return entry, None
        folder = self._folder(key)
        if not (folder / "entry.json").exists():
            return None, None
        try:
            entry = _read_entry(folder, ports, stored)
        except MissingDependencyError as error:  # not damaged: kept for when it is there
            return None, f"the cache entry {folder} needs what is not installed: {error}"
        except _DamagedEntry as damage:
            problem = str(damage)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError,
                UnsafeArtifactError, StudioError) as error:
            problem = f"it cannot be read ({type(error).__name__}: {error})"
        else:
            if ports is None and not stored:
                self.memory.put(key, entry)
            return entry, None
        log.warning("dropping the damaged cache entry %s: %s", folder, problem)
        shutil.rmtree(folder, ignore_errors=True)  # so the next put can rewrite it
        return None, f"the cache entry {folder} was damaged: {problem}"

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
            files = {}
            for path in sorted(p for p in staging.rglob("*") if p.is_file()):
                _fsync_file(path)
                files[path.relative_to(staging).as_posix()] = file_digest(path)
            meta = {"format": ENTRY_FORMAT, "kinds": kinds, "digests": entry.output_digests,
                    "info": entry.output_info, "datasets": [asdict(d) for d in entry.datasets],
                    "origin": asdict(entry.origin) if entry.origin else None,
                    "warnings": entry.warnings, "files": files}
            text = json.dumps({"meta": meta, "sha256": _meta_digest(meta)}, indent=1,
                              allow_nan=False)
            with open(staging / "entry.json", "w", encoding="utf-8") as stream:
                stream.write(text)
                stream.flush()
                os.fsync(stream.fileno())
            for directory in sorted({p.parent for p in staging.rglob("*")} | {staging},
                                    key=lambda d: len(d.parts), reverse=True):
                fsync_folder(directory)
            os.replace(staging, folder)
            fsync_folder(folder.parent)
        except (OSError, TypeError, ValueError) as error:
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


_REBUILT_KINDS = ("model", "transform", "learner")


class _DamagedEntry(Exception):
    """A disk entry that does not match what was written."""


def _read_entry(folder: Path, ports: list[str] | None = None,
                stored: bool = False) -> CacheEntry:
    """The entry in ``folder``, checked; with ``ports``, only those outputs are
    loaded (and their files checked), the rest of the entry is its description."""
    document = json.loads((folder / "entry.json").read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not isinstance(document.get("meta"), dict):
        raise _DamagedEntry("entry.json is not an entry description")
    meta = document["meta"]
    if meta.get("format") != ENTRY_FORMAT:
        raise _DamagedEntry(f"it was written in another format ({meta.get('format')!r})")
    if document.get("sha256") != _meta_digest(meta):
        raise _DamagedEntry("entry.json does not match its own digest")
    listed = meta["files"]
    wanted = list(meta["kinds"]) if ports is None else [p for p in ports if p in meta["kinds"]]
    for relative, expected in listed.items():
        if ports is not None and not any(relative.startswith(f"outputs/{p}/") for p in wanted):
            continue
        path = folder / relative
        if not path.is_file() or path.is_symlink():
            raise _DamagedEntry(f"'{relative}' is missing or is not a plain file")
        if file_digest(path) != expected:
            raise _DamagedEntry(f"'{relative}' does not match its SHA-256")
    present = {p.relative_to(folder).as_posix() for port in wanted
               for p in (folder / "outputs" / port).rglob("*") if not p.is_dir()}
    if present - set(listed):
        extra = sorted(present - set(listed))
        raise _DamagedEntry(f"it holds files that were not written: {extra}")
    outputs = {port: (StoredValue(meta["kinds"][port], folder / "outputs" / port)
                      if stored and meta["kinds"][port] in _REBUILT_KINDS
                      else load_value(meta["kinds"][port], folder / "outputs" / port))
               for port in wanted}
    info = {}
    for port, value in outputs.items():
        if isinstance(value, StoredValue):
            info[port] = dict(meta["info"].get(port, {}))
            continue
        recorded = meta["digests"].get(port)
        # Fitted objects (skops, artifact formats) are digested again once loaded:
        # the file digests prove the bytes, this proves the format gives the value
        # back. Tables and metrics are plain Parquet/JSON, proved by their bytes.
        if (recorded is not None and meta["kinds"][port] in _REBUILT_KINDS
                and value_digest(value) != recorded):
            raise _DamagedEntry(f"output '{port}' loads as a different value than was "
                                "computed (its digest differs)")
        info[port] = describe_value(value)
        stored = meta["info"].get(port, {})
        if any(stored.get(k) != info[port].get(k) for k in ("kind", "rows", "columns")):
            raise _DamagedEntry(f"output '{port}' has another shape than was computed")
    return CacheEntry(outputs=outputs, output_digests=meta["digests"],
                      datasets=[DatasetRead(**d) for d in meta.get("datasets", [])],
                      origin=Origin(**meta["origin"]) if meta.get("origin") else None,
                      output_info={p: {**meta["info"].get(p, {}), **info.get(p, {})}
                                   for p in meta["kinds"]},
                      warnings=list(meta.get("warnings", [])))


def _meta_digest(meta: dict[str, Any]) -> str:
    text = json.dumps(meta, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as stream:
        os.fsync(stream.fileno())
