"""The Axon Studio node catalog and the small, Qt-free node API it is built on.

Importing this package loads neither Qt nor TensorFlow, nor even pandas: the
names below are looked up in their modules when first used (so the command
line starts fast); node modules are imported when the registry is first
asked for (``default_registry()``).
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> the module that defines it.
_WHERE = {
    "DatasetRead": "nodes.context", "RunContext": "nodes.context",
    "NodeInputError": "nodes.errors", "ParameterError": "nodes.errors",
    "RunCancelled": "nodes.errors", "StudioError": "nodes.errors",
    "UnknownNodeTypeError": "nodes.errors", "UntrustedCodeError": "nodes.errors",
    "Node": "nodes.node",
    **dict.fromkeys(("BoolParam", "ChoiceParam", "ColumnParam", "FloatParam", "IntParam",
                     "ListParam", "Param", "SeedParam", "StringParam"), "nodes.params"),
    **dict.fromkeys(("ANY", "HARDWARE_REPORT", "LEARNER", "METRICS", "MODEL", "PORT_TYPES",
                     "TABLE", "TRANSFORM", "Input", "Output", "PortType"), "nodes.ports"),
    "NodeRegistry": "nodes.registry", "default_registry": "nodes.registry",
    **dict.fromkeys(("Learner", "Matrix", "Metrics", "Model", "Table", "Transform"),
                    "nodes.values"),
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'nodes' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
