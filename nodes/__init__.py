"""The Axon Studio node catalog and the small, Qt-free node API it is built on.

Importing this package loads neither Qt nor TensorFlow; node modules are
imported when the registry is first asked for (``default_registry()``).
"""

from nodes.context import DatasetRead, RunContext
from nodes.errors import (
    NodeInputError,
    ParameterError,
    RunCancelled,
    StudioError,
    UnknownNodeTypeError,
    UntrustedCodeError,
)
from nodes.node import Node
from nodes.params import (
    BoolParam,
    ChoiceParam,
    ColumnParam,
    FloatParam,
    IntParam,
    ListParam,
    Param,
    SeedParam,
    StringParam,
)
from nodes.ports import (
    ANY,
    HARDWARE_REPORT,
    LEARNER,
    METRICS,
    MODEL,
    PORT_TYPES,
    TABLE,
    TRANSFORM,
    Input,
    Output,
    PortType,
)
from nodes.registry import NodeRegistry, default_registry
from nodes.values import Learner, Matrix, Metrics, Model, Table, Transform

__all__ = [
    "ANY", "HARDWARE_REPORT", "LEARNER", "METRICS", "MODEL", "PORT_TYPES", "TABLE", "TRANSFORM",
    "BoolParam", "ChoiceParam", "ColumnParam", "DatasetRead", "FloatParam", "Input", "IntParam",
    "Learner", "ListParam", "Matrix", "Metrics", "Model", "Node", "NodeInputError",
    "NodeRegistry", "Output", "Param", "ParameterError", "PortType", "RunCancelled",
    "RunContext", "SeedParam", "StringParam", "StudioError", "Table", "Transform",
    "UnknownNodeTypeError", "UntrustedCodeError", "default_registry",
]
