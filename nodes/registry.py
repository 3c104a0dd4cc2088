"""Finding node types: built-ins plus third-party entry points.

A third-party package adds nodes through the entry-point group
``axon_studio.nodes``; an entry point may name a Node subclass, a module
(every Node subclass with a ``type_id`` in it is registered) or a callable
returning an iterable of Node subclasses::

    [project.entry-points."axon_studio.nodes"]
    my_nodes = "my_package.nodes"
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import pkgutil
import threading
from collections.abc import Iterable
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

from nodes.contract import check_declarations
from nodes.errors import UnknownNodeTypeError
from nodes.node import Node
from nodes.values import trust_stored_types

ENTRY_POINT_GROUP = "axon_studio.nodes"

#: Packages of the built-in catalog: every public module in them is scanned
#: for node types. A package that does not exist (yet) is skipped.
CATALOG_PACKAGES = (
    "nodes.data",
    "nodes.transform",
    "nodes.text",
    "nodes.features",
    "nodes.models",
    "nodes.evaluate",
    "nodes.hardware",
    "nodes.service",
    "nodes.script",
)

CATEGORY_ORDER = ("Data", "Transform", "Text", "Feature Selection", "Models", "Train/Score",
                  "Evaluate", "Hardware", "Web Service", "Script", "Other")


class NodeRegistry:
    """A set of node types by ``type_id`` (and by the old ids they replace)."""

    def __init__(self, types: Iterable[type[Node]] = ()) -> None:
        self._types: dict[str, type[Node]] = {}
        self._aliases: dict[str, str] = {}
        self.load_problems: list[str] = []
        for node_type in types:
            self.register(node_type)

    def register(self, node_type: type[Node]) -> type[Node]:
        """Add a node type; usable as a class decorator."""
        if not (inspect.isclass(node_type) and issubclass(node_type, Node) and node_type.type_id):
            raise TypeError(f"{node_type!r} is not a Node subclass with a type_id")
        existing = self._types.get(node_type.type_id)
        if existing is not None and existing is not node_type:
            raise ValueError(f"node type id '{node_type.type_id}' is already used by "
                             f"{existing.__module__}.{existing.__qualname__}")
        check_declarations(node_type)
        trust_stored_types(node_type.trusted_types)
        self._types[node_type.type_id] = node_type
        for old in node_type.replaces:
            self._aliases[old] = node_type.type_id
        return node_type

    def register_module(self, module: ModuleType) -> None:
        for value in vars(module).values():
            if (inspect.isclass(value) and issubclass(value, Node) and value.type_id
                    and value.__module__ == module.__name__):
                self.register(value)

    def load_entry_points(self) -> None:
        """Register third-party node types; a broken plugin is reported, not fatal."""
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            try:
                self._register_any(entry.load())
            except Exception as error:  # a plugin's bug must not stop the app
                self.load_problems.append(f"plugin '{entry.name}' ({entry.value}): {error}")

    def _register_any(self, target: Any) -> None:
        if isinstance(target, ModuleType):
            self.register_module(target)
        elif inspect.isclass(target):
            self.register(target)
        elif callable(target):
            for node_type in target():
                self.register(node_type)
        else:
            raise TypeError(f"entry point gives {type(target).__name__}, "
                            "expected a Node subclass, a module or a callable")

    # -- queries --------------------------------------------------------
    def get(self, type_id: str) -> type[Node]:
        resolved = self._aliases.get(type_id, type_id)
        try:
            return self._types[resolved]
        except KeyError:
            raise UnknownNodeTypeError(type_id, self.suggest(type_id)) from None

    def __contains__(self, type_id: object) -> bool:
        return type_id in self._types or type_id in self._aliases

    def resolve(self, type_id: str) -> str:
        """The current type id for ``type_id`` (following ``replaces``)."""
        return self.get(type_id).type_id

    def suggest(self, type_id: str) -> list[str]:
        names = list(self._types) + [t.title for t in self._types.values()]
        close = difflib.get_close_matches(type_id, names, n=3, cutoff=0.5)
        by_title = {t.title: t.type_id for t in self._types.values()}
        return list(dict.fromkeys(by_title.get(name, name) for name in close))

    def all(self) -> list[type[Node]]:
        order = {name: index for index, name in enumerate(CATEGORY_ORDER)}
        return sorted(self._types.values(),
                      key=lambda t: (order.get(t.category, len(order)), t.category, t.title))

    def categories(self) -> list[str]:
        return list(dict.fromkeys(t.category for t in self.all()))


def builtin_modules() -> list[ModuleType]:
    """Import and return every public module of the catalog packages.

    Node modules must import only what they need at load time: TensorFlow
    and other heavy libraries are imported inside ``run``.
    """
    modules = []
    for package_name in CATALOG_PACKAGES:
        try:
            package = importlib.import_module(package_name)
        except ModuleNotFoundError as error:
            if error.name == package_name:
                continue
            raise
        for info in pkgutil.iter_modules(package.__path__):
            if not info.name.startswith("_"):
                modules.append(importlib.import_module(f"{package_name}.{info.name}"))
    return modules


_default: NodeRegistry | None = None
_default_lock = threading.Lock()


def default_registry() -> NodeRegistry:
    """The built-in node types plus installed plugins (built once, then shared)."""
    global _default
    with _default_lock:
        if _default is None:
            registry = NodeRegistry()
            for module in builtin_modules():
                registry.register_module(module)
            registry.load_entry_points()
            _default = registry
        return _default
