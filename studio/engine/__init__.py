"""The engine (Qt-free): DAG checks, cache keys, executors, runs and run records.

Names are looked up in their modules when first used, so that importing a
small part (``studio.engine.states``) does not load pandas and networkx.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    **dict.fromkeys(("Cache", "CacheEntry", "DiskCache", "MemoryCache", "compute_keys"),
                    "studio.engine.cache"),
    "Engine": "studio.engine.engine", "LastResult": "studio.engine.engine",
    **dict.fromkeys(("Executor", "InProcessExecutor", "NodeTask", "TaskOutcome"),
                    "studio.engine.executor"),
    "build_graph": "studio.engine.graph", "check_workflow": "studio.engine.graph",
    **dict.fromkeys(("NodeRecord", "RunRecord", "environment", "is_foreign", "load_record"),
                    "studio.engine.record"),
    "NodeState": "studio.engine.states",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'studio.engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
