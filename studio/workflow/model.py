"""The workflow document: nodes, edges, annotations, and the edits on them.

The model refuses edits that would make it invalid (a cycle, incompatible
ports, a second wire into an input, unknown ports or parameters) with a
``WorkflowEditError`` that says why, and announces every change on its
``events`` bus. It imports no Qt: the GUI listens to the events, the engine
reads the model.

Event kinds (data keys): node_added (node), node_removed (node),
edge_added (edge), edge_removed (edge), param_changed (node_id, name, old,
new), node_moved (node_id, position), node_renamed (node_id, title),
comment_changed (node_id, comment), annotation_added / annotation_removed /
annotation_changed (annotation).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nodes.errors import ParameterError
from nodes.node import Node
from nodes.registry import NodeRegistry, default_registry
from studio.events import EventBus
from studio.workflow.errors import WorkflowEditError


@dataclass
class NodeInstance:
    """One node placed in a workflow."""

    id: str
    type_id: str
    version: int
    params: dict[str, Any]
    position: tuple[float, float] = (0.0, 0.0)
    title: str = ""
    comment: str = ""

    def label(self, node_type: type[Node] | None = None) -> str:
        """What to call this node in messages: its title, else its type's title."""
        return self.title or (node_type.title if node_type else self.type_id)


@dataclass(frozen=True)
class Edge:
    """A wire from an output port to an input port, by port name."""

    source: str
    source_port: str
    target: str
    target_port: str

    def __str__(self) -> str:
        return f"{self.source}.{self.source_port} -> {self.target}.{self.target_port}"


@dataclass
class Annotation:
    """A free-text note on the canvas: ``rect`` is (x, y, width, height)."""

    id: str
    text: str
    rect: tuple[float, float, float, float] = (0.0, 0.0, 200.0, 80.0)


@dataclass
class WorkflowInfo:
    """Document-level settings."""

    name: str = ""
    description: str = ""
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


_ID_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


class Workflow:
    """A document of nodes and edges that stays valid under every edit."""

    def __init__(self, registry: NodeRegistry | None = None) -> None:
        self.registry = registry or default_registry()
        self.nodes: dict[str, NodeInstance] = {}
        self.edges: list[Edge] = []
        self.annotations: dict[str, Annotation] = {}
        self.info = WorkflowInfo()
        self.events = EventBus()
        #: Bumped by every edit that can change results (not by moves/renames).
        self.revision = 0

    # -- queries --------------------------------------------------------
    def node(self, node_id: str) -> NodeInstance:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise WorkflowEditError(f"There is no node with id '{node_id}'.") from None

    def node_type(self, node_id: str) -> type[Node]:
        return self.registry.get(self.node(node_id).type_id)

    def label(self, node_id: str) -> str:
        node = self.node(node_id)
        return node.label(self.registry.get(node.type_id))

    def find_node(self, id_or_title: str) -> NodeInstance:
        """A node by id, else by its (unique) title."""
        if id_or_title in self.nodes:
            return self.nodes[id_or_title]
        matches = [n for n in self.nodes.values() if self.label(n.id) == id_or_title]
        if len(matches) == 1:
            return matches[0]
        if matches:
            ids = ", ".join(n.id for n in matches)
            raise WorkflowEditError(f"Several nodes are titled '{id_or_title}' ({ids}).",
                                    fix="Name the node by its id.")
        raise WorkflowEditError(f"There is no node with id or title '{id_or_title}'.",
                                fix="Known ids: " + ", ".join(self.nodes))

    def incoming(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.target == node_id]

    def outgoing(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.source == node_id]

    def input_edge(self, node_id: str, port: str) -> Edge | None:
        for edge in self.edges:
            if edge.target == node_id and edge.target_port == port:
                return edge
        return None

    def downstream(self, node_id: str) -> set[str]:
        """Every node reachable from ``node_id`` (not including it)."""
        seen: set[str] = set()
        stack = [node_id]
        while stack:
            current = stack.pop()
            for edge in self.edges:
                if edge.source == current and edge.target not in seen:
                    seen.add(edge.target)
                    stack.append(edge.target)
        return seen

    # -- nodes ----------------------------------------------------------
    def new_node_id(self, type_id: str) -> str:
        base = type_id if _ID_PATTERN.match(type_id) else "node"
        if base not in self.nodes:
            return base
        index = 2
        while f"{base}_{index}" in self.nodes:
            index += 1
        return f"{base}_{index}"

    def add_node(self, type_id: str, params: Mapping[str, Any] | None = None, *,
                 position: tuple[float, float] = (0.0, 0.0), title: str = "",
                 comment: str = "", node_id: str | None = None) -> NodeInstance:
        """Place a node of ``type_id``; parameters not given take their defaults."""
        node_type = self.registry.get(type_id)
        node_id = node_id or self.new_node_id(node_type.type_id)
        if not _ID_PATTERN.match(node_id):
            raise WorkflowEditError(
                f"Node id '{node_id}' is not valid.",
                fix="Use letters, digits, '_' and '-', not starting with a digit.")
        if node_id in self.nodes:
            raise WorkflowEditError(f"A node with id '{node_id}' already exists.")
        values = node_type.validate_params(params or {}, label=title or node_type.title,
                                           complete=False)
        node = NodeInstance(node_id, node_type.type_id, node_type.version, values,
                            (float(position[0]), float(position[1])), title, comment)
        return self.insert_node(node)

    def insert_node(self, node: NodeInstance) -> NodeInstance:
        """Put back a fully formed node (used by undo and paste)."""
        if node.id in self.nodes:
            raise WorkflowEditError(f"A node with id '{node.id}' already exists.")
        self.registry.get(node.type_id)
        self.nodes[node.id] = node
        self.revision += 1
        self.events.publish("node_added", node=node)
        return node

    def remove_node(self, node_id: str) -> tuple[NodeInstance, list[Edge]]:
        """Remove a node and its wires; returns both so an undo can restore them."""
        node = self.node(node_id)
        removed = [e for e in self.edges if node_id in (e.source, e.target)]
        for edge in removed:
            self.disconnect(edge)
        del self.nodes[node_id]
        self.revision += 1
        self.events.publish("node_removed", node=node)
        return node, removed

    def set_param(self, node_id: str, name: str, value: Any) -> Any:
        """Validate and set one parameter; returns the canonical value stored."""
        node = self.node(node_id)
        node_type = self.registry.get(node.type_id)
        param = node_type.parameters.get(name)
        label = node.label(node_type)
        if param is None:
            raise ParameterError(label, name, value, f"'{node_type.title}' has no such parameter "
                                 f"(known: {', '.join(node_type.parameters) or 'none'})")
        canonical = param.validate(value, label)
        candidate = {**node.params, name: canonical}
        old = node.params.get(name)
        if old == canonical and type(old) is type(canonical):
            return canonical
        node.params = candidate
        self.revision += 1
        self.events.publish("param_changed", node_id=node_id, name=name, old=old, new=canonical)
        return canonical

    def move_node(self, node_id: str, position: tuple[float, float]) -> None:
        node = self.node(node_id)
        node.position = (float(position[0]), float(position[1]))
        self.events.publish("node_moved", node_id=node_id, position=node.position)

    def rename_node(self, node_id: str, title: str) -> None:
        node = self.node(node_id)
        node.title = title.strip()
        self.events.publish("node_renamed", node_id=node_id, title=node.title)

    def set_comment(self, node_id: str, comment: str) -> None:
        node = self.node(node_id)
        node.comment = comment
        self.events.publish("comment_changed", node_id=node_id, comment=comment)

    # -- edges ----------------------------------------------------------
    def connection_problem(self, source: str, source_port: str, target: str,
                           target_port: str) -> str | None:
        """Why this wire cannot be made, or None when it can."""
        if source not in self.nodes:
            return f"there is no node '{source}'"
        if target not in self.nodes:
            return f"there is no node '{target}'"
        if source == target:
            return "a node cannot feed itself"
        source_type = self.node_type(source)
        target_type = self.node_type(target)
        source_label, target_label = self.label(source), self.label(target)
        out_port = source_type.outputs.get(source_port)
        if out_port is None:
            return (f"'{source_label}' has no output '{source_port}' "
                    f"(outputs: {', '.join(source_type.outputs) or 'none'})")
        in_port = target_type.inputs.get(target_port)
        if in_port is None:
            return (f"'{target_label}' has no input '{target_port}' "
                    f"(inputs: {', '.join(target_type.inputs) or 'none'})")
        refusal = in_port.type.refusal(out_port.type)
        if refusal:
            return (f"output '{source_port}' of '{source_label}' is a {out_port.type.name} and "
                    f"input '{target_port}' of '{target_label}' takes a {in_port.type.name}")
        existing = self.input_edge(target, target_port)
        if existing is not None:
            if existing == Edge(source, source_port, target, target_port):
                return "these ports are already connected"
            return (f"input '{target_port}' of '{target_label}' is already fed by "
                    f"'{self.label(existing.source)}'; an input takes one wire")
        if source in self.downstream(target) or source == target:
            return (f"connecting '{source_label}' to '{target_label}' would make a cycle "
                    f"('{target_label}' already feeds '{source_label}')")
        return None

    def connect(self, source: str, source_port: str, target: str, target_port: str) -> Edge:
        """Wire an output to an input, or raise WorkflowEditError saying why not."""
        problem = self.connection_problem(source, source_port, target, target_port)
        if problem:
            raise WorkflowEditError(f"Cannot connect {source}.{source_port} to "
                                    f"{target}.{target_port}: {problem}.")
        edge = Edge(source, source_port, target, target_port)
        self.edges.append(edge)
        self.revision += 1
        self.events.publish("edge_added", edge=edge)
        return edge

    def disconnect(self, edge: Edge) -> None:
        try:
            self.edges.remove(edge)
        except ValueError:
            raise WorkflowEditError(f"There is no wire {edge}.") from None
        self.revision += 1
        self.events.publish("edge_removed", edge=edge)

    # -- annotations ------------------------------------------------------
    def add_annotation(self, text: str, rect: tuple[float, float, float, float] = (0, 0, 200, 80),
                       annotation_id: str | None = None) -> Annotation:
        annotation_id = annotation_id or _next_id("note", self.annotations)
        if annotation_id in self.annotations:
            raise WorkflowEditError(f"An annotation with id '{annotation_id}' already exists.")
        annotation = Annotation(annotation_id, text, tuple(float(v) for v in rect))  # type: ignore[arg-type]
        self.annotations[annotation_id] = annotation
        self.events.publish("annotation_added", annotation=annotation)
        return annotation

    def update_annotation(self, annotation_id: str, *, text: str | None = None,
                          rect: tuple[float, float, float, float] | None = None) -> None:
        annotation = self.annotations[annotation_id]
        if text is not None:
            annotation.text = text
        if rect is not None:
            annotation.rect = tuple(float(v) for v in rect)  # type: ignore[assignment]
        self.events.publish("annotation_changed", annotation=annotation)

    def remove_annotation(self, annotation_id: str) -> Annotation:
        annotation = self.annotations.pop(annotation_id)
        self.events.publish("annotation_removed", annotation=annotation)
        return annotation

    # -- copies -----------------------------------------------------------
    def copy(self) -> Workflow:
        """A deep copy with its own event bus (the engine runs on a snapshot)."""
        clone = Workflow(self.registry)
        clone.nodes = {k: copy.deepcopy(v) for k, v in self.nodes.items()}
        clone.edges = list(self.edges)
        clone.annotations = {k: copy.deepcopy(v) for k, v in self.annotations.items()}
        clone.info = copy.deepcopy(self.info)
        clone.revision = self.revision
        return clone


def _next_id(prefix: str, existing: Iterable[str]) -> str:
    taken = set(existing)
    index = 1
    while f"{prefix}{index}" in taken:
        index += 1
    return f"{prefix}{index}"
