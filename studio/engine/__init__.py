"""The engine (Qt-free): DAG checks, cache keys, executors, runs and run records."""

from studio.engine.cache import Cache, CacheEntry, DiskCache, MemoryCache, compute_keys
from studio.engine.engine import Engine, LastResult
from studio.engine.executor import Executor, InProcessExecutor, NodeTask, TaskOutcome
from studio.engine.graph import build_graph, check_workflow
from studio.engine.record import NodeRecord, RunRecord, environment, is_foreign, load_record
from studio.engine.states import NodeState

__all__ = [
    "Cache", "CacheEntry", "DiskCache", "Engine", "Executor", "InProcessExecutor", "LastResult",
    "MemoryCache", "NodeRecord", "NodeState", "NodeTask", "RunRecord", "TaskOutcome",
    "build_graph", "check_workflow", "compute_keys", "environment", "is_foreign", "load_record",
]
