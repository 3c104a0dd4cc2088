"""Axon Studio. The Python API (docs/python-api.md)::

    import studio

    result = studio.run("examples/housing_regression.axon.json", set={"split.fraction": 0.8})
    result.metrics("evaluate")

``load``, ``run``, ``Workflow`` and ``RunResult`` are loaded on first use, so
importing a subpackage (``studio.engine``, ``studio.cli``) costs nothing more.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RunResult", "Workflow", "load", "run"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from studio import api

        return getattr(api, name)
    raise AttributeError(f"module 'studio' has no attribute {name!r}")
