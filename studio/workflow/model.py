"""The workflow document: nodes, edges, annotations, and the edits on them.

The model refuses edits that would make it invalid (a cycle, incompatible
ports, a second wire into an input, unknown ports or parameters) with a
``WorkflowEditError`` subclass per kind of refusal (``CycleError``,
``PortTypeError``...) that carries the node and port and says why, and
announces every change on its ``events`` bus. It imports no Qt: the GUI
listens to the events, the engine reads the model.

It also holds which code-running nodes the user trusted (``trust``): a
node that runs code stored in a file (Execute Python Script) runs only
when its current code is code the user trusted. Trust is never read from
or written to a file: a loaded workflow trusts nothing.

Event kinds (data keys): node_added (node), node_removed (node),
edge_added (edge), edge_removed (edge), param_changed (node_id, name, old,
new), node_moved (node_id, position), node_renamed (node_id, title),
comment_changed (node_id, comment), annotation_added / annotation_removed /
annotation_changed (annotation).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nodes.errors import ParameterError
from nodes.node import Node
from nodes.registry import NodeRegistry, default_registry
from studio.events import EventBus
from studio.workflow.errors import (
    AmbiguousTitleError,
    CycleError,
    DuplicateWireError,
    InputTakenError,
    NodeIdError,
    PortTypeError,
    UnknownAnnotationError,
    UnknownNodeError,
    UnknownPortError,
    UnknownWireError,
    WorkflowEditError,
)


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


@dataclass
class Removal:
    """What ``remove_items`` took out, with each item's place in the document,
    so ``restore`` puts everything back exactly where it was."""

    nodes: list[tuple[int, NodeInstance]] = field(default_factory=list)
    edges: list[tuple[int, Edge]] = field(default_factory=list)
    annotations: list[tuple[int, Annotation]] = field(default_factory=list)


ID_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


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
        #: node id -> digest of the code the user trusted in that node.
        self._trusted_code: dict[str, str] = {}
        #: The file the workflow was loaded from or saved to (None: not saved yet);
        #: relative paths in its nodes start at that file's folder.
        self.path: Path | None = None

    # -- queries --------------------------------------------------------
    def node(self, node_id: str) -> NodeInstance:
        try:
            return self.nodes[node_id]
        except (KeyError, TypeError):
            raise UnknownNodeError(f"There is no node with id '{node_id}'.",
                                   node=str(node_id)) from None

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
            raise AmbiguousTitleError(f"Several nodes are titled '{id_or_title}' ({ids}).",
                                      fix="Name the node by its id.")
        raise UnknownNodeError(f"There is no node with id or title '{id_or_title}'.",
                               node=id_or_title, fix="Known ids: " + ", ".join(self.nodes))

    def incoming(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.target == node_id]

    def outgoing(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.source == node_id]

    def input_edge(self, node_id: str, port: str) -> Edge | None:
        """The (first) wire into an input, or None."""
        for edge in self.edges:
            if edge.target == node_id and edge.target_port == port:
                return edge
        return None

    def input_edges(self, node_id: str, port: str) -> list[Edge]:
        """Every wire into an input, in the order they were made (one, unless
        the input is ``multiple``)."""
        return [e for e in self.edges if e.target == node_id and e.target_port == port]

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
        base = type_id if ID_PATTERN.match(type_id) else "node"
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
        if not ID_PATTERN.match(node_id):
            raise NodeIdError(
                f"Node id '{node_id}' is not valid.", node=node_id,
                fix="Use letters, digits, '_' and '-', not starting with a digit.")
        if node_id in self.nodes:
            raise NodeIdError(f"A node with id '{node_id}' already exists.", node=node_id)
        values = node_type.validate_params(params or {}, label=title or node_type.title,
                                           complete=False)
        node = NodeInstance(node_id, node_type.type_id, node_type.version, values,
                            (float(position[0]), float(position[1])), title, comment)
        return self.insert_node(node)

    def insert_node(self, node: NodeInstance, index: int | None = None) -> NodeInstance:
        """Put back a fully formed node (used by undo and paste), at ``index`` in the
        document order (default: last)."""
        if node.id in self.nodes:
            raise NodeIdError(f"A node with id '{node.id}' already exists.", node=node.id)
        self.registry.get(node.type_id)
        if index is None or index >= len(self.nodes):
            self.nodes[node.id] = node
        else:
            items = list(self.nodes.items())
            items.insert(max(index, 0), (node.id, node))
            self.nodes = dict(items)
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
        self._trusted_code.pop(node_id, None)
        self.revision += 1
        self.events.publish("node_removed", node=node)
        return node, removed

    def remove_items(self, node_ids: Iterable[str] = (), edges: Iterable[Edge] = (),
                     annotation_ids: Iterable[str] = ()) -> Removal:
        """Remove nodes (with their wires), wires and notes; ``restore`` undoes it
        exactly: the document is then the one before, byte for byte once saved."""
        node_ids = list(dict.fromkeys(node_ids))
        for node_id in node_ids:
            self.node(node_id)
        doomed = set(node_ids)
        removal = Removal()
        wires = set(edges)
        for index, edge in enumerate(self.edges):
            if edge in wires or edge.source in doomed or edge.target in doomed:
                removal.edges.append((index, edge))
        missing = wires - {edge for _, edge in removal.edges}
        if missing:
            raise UnknownWireError(f"There is no wire {next(iter(missing))}.")
        order = list(self.nodes)
        removal.nodes = sorted((order.index(n), self.nodes[n]) for n in node_ids)
        notes = list(self.annotations)
        for note_id in dict.fromkeys(annotation_ids):
            if note_id not in self.annotations:
                raise UnknownAnnotationError(f"There is no note '{note_id}'.")
            removal.annotations.append((notes.index(note_id), self.annotations[note_id]))
        removal.annotations.sort(key=lambda item: item[0])
        for _, edge in reversed(removal.edges):
            self.disconnect(edge)
        for _, node in removal.nodes:
            self.remove_node(node.id)
        for _, note in removal.annotations:
            self.remove_annotation(note.id)
        return removal

    def restore(self, removal: Removal) -> None:
        """Put back what ``remove_items`` removed, each item at its old place."""
        for index, node in removal.nodes:
            self.insert_node(node, index)
        for index, edge in removal.edges:
            self.connect(edge.source, edge.source_port, edge.target, edge.target_port,
                         index=index)
        for index, note in removal.annotations:
            self.add_annotation(note.text, note.rect, note.id, index=index)

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
    def connection_refusal(self, source: str, source_port: str, target: str,
                           target_port: str) -> WorkflowEditError | None:
        """Why this wire cannot be made, as the typed refusal ``connect`` would
        raise, or None when it can. Messages use node titles and port labels."""
        for node_id in (source, target):
            if not isinstance(node_id, str) or node_id not in self.nodes:
                return UnknownNodeError(f"there is no node '{node_id}'", node=str(node_id))
        if source == target:
            return CycleError("a node cannot feed itself", node=target, port=target_port)
        source_type = self.node_type(source)
        target_type = self.node_type(target)
        source_label, target_label = self.label(source), self.label(target)
        out_port = source_type.outputs.get(source_port)
        if out_port is None:
            return UnknownPortError(
                f"'{source_label}' has no output '{source_port}' "
                f"(outputs: {', '.join(source_type.outputs) or 'none'})",
                node=source, port=source_port)
        in_port = target_type.inputs.get(target_port)
        if in_port is None:
            return UnknownPortError(
                f"'{target_label}' has no input '{target_port}' "
                f"(inputs: {', '.join(target_type.inputs) or 'none'})",
                node=target, port=target_port)
        if in_port.type.refusal(out_port.type):
            return PortTypeError(
                f"output '{out_port.label}' of '{source_label}' is a {out_port.type.name} and "
                f"input '{in_port.label}' of '{target_label}' takes a {in_port.type.name}",
                node=target, port=target_port, source_type=out_port.type.name,
                target_type=in_port.type.name)
        existing = self.input_edges(target, target_port)
        if Edge(source, source_port, target, target_port) in existing:
            return DuplicateWireError("these ports are already connected", node=target,
                                      port=target_port)
        if existing and not in_port.multiple:
            return InputTakenError(
                f"input '{in_port.label}' of '{target_label}' is already fed by "
                f"'{self.label(existing[0].source)}'; an input takes one wire",
                node=target, port=target_port, existing=existing[0])
        if source in self.downstream(target):
            return CycleError(f"connecting '{source_label}' to '{target_label}' would make a "
                              f"cycle ('{target_label}' already feeds '{source_label}')",
                              node=target, port=target_port)
        return None

    def connection_problem(self, source: str, source_port: str, target: str,
                           target_port: str) -> str | None:
        """``connection_refusal``'s reason as text, or None when the wire can be made."""
        refusal = self.connection_refusal(source, source_port, target, target_port)
        return None if refusal is None else refusal.reason

    def connect(self, source: str, source_port: str, target: str, target_port: str, *,
                index: int | None = None) -> Edge:
        """Wire an output to an input (at ``index`` in the document's wire order,
        default last), or raise the typed WorkflowEditError saying why not."""
        refusal = self.connection_refusal(source, source_port, target, target_port)
        if refusal is not None:
            refusal.message = (f"Cannot connect {source}.{source_port} to "
                               f"{target}.{target_port}: {refusal.reason}.")
            refusal.args = (str(refusal),)
            raise refusal
        edge = Edge(source, source_port, target, target_port)
        if index is None:
            self.edges.append(edge)
        else:
            self.edges.insert(max(index, 0), edge)
        self.revision += 1
        self.events.publish("edge_added", edge=edge)
        return edge

    def disconnect(self, edge: Edge) -> None:
        try:
            self.edges.remove(edge)
        except ValueError:
            raise UnknownWireError(f"There is no wire {edge}.", node=edge.target,
                                   port=edge.target_port) from None
        self.revision += 1
        self.events.publish("edge_removed", edge=edge)

    # -- annotations ------------------------------------------------------
    def add_annotation(self, text: str, rect: tuple[float, float, float, float] = (0, 0, 200, 80),
                       annotation_id: str | None = None, *,
                       index: int | None = None) -> Annotation:
        annotation_id = annotation_id or _next_id("note", self.annotations)
        if annotation_id in self.annotations:
            raise NodeIdError(f"An annotation with id '{annotation_id}' already exists.")
        annotation = Annotation(annotation_id, text, tuple(float(v) for v in rect))  # type: ignore[arg-type]
        if index is None or index >= len(self.annotations):
            self.annotations[annotation_id] = annotation
        else:
            items = list(self.annotations.items())
            items.insert(max(index, 0), (annotation_id, annotation))
            self.annotations = dict(items)
        self.events.publish("annotation_added", annotation=annotation)
        return annotation

    def update_annotation(self, annotation_id: str, *, text: str | None = None,
                          rect: tuple[float, float, float, float] | None = None) -> None:
        if annotation_id not in self.annotations:
            raise UnknownAnnotationError(f"There is no note '{annotation_id}'.")
        annotation = self.annotations[annotation_id]
        if text is not None:
            annotation.text = text
        if rect is not None:
            annotation.rect = tuple(float(v) for v in rect)  # type: ignore[assignment]
        self.events.publish("annotation_changed", annotation=annotation)

    def remove_annotation(self, annotation_id: str) -> Annotation:
        if annotation_id not in self.annotations:
            raise UnknownAnnotationError(f"There is no note '{annotation_id}'.")
        annotation = self.annotations.pop(annotation_id)
        self.events.publish("annotation_removed", annotation=annotation)
        return annotation

    # -- trust --------------------------------------------------------------
    def code_digest(self, node_id: str) -> str | None:
        """Digest of the code a node would run (its code parameters), or None for
        a node that runs no stored code."""
        node = self.node(node_id)
        node_type = self.registry.get(node.type_id)
        if not node_type.needs_trust:
            return None
        code = {name: node.params.get(name) for name, param in node_type.parameters.items()
                if getattr(param, "code", False)}
        text = json.dumps([node.type_id, code], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def trust(self, node_ids: Iterable[str] | None = None) -> list[str]:
        """The user's explicit trust step: allow the code now in these nodes (default:
        every code-running node) to run. Editing the code afterwards withdraws it.
        Returns the nodes trusted."""
        trusted = []
        for node_id in self.nodes if node_ids is None else node_ids:
            digest = self.code_digest(node_id)
            if digest is not None:
                self._trusted_code[node_id] = digest
                trusted.append(node_id)
        return trusted

    def is_trusted(self, node_id: str) -> bool:
        """True when the node runs no stored code, or runs code the user trusted."""
        digest = self.code_digest(node_id)
        return digest is None or self._trusted_code.get(node_id) == digest

    def untrusted_code_nodes(self) -> list[str]:
        """The nodes that would run code the user has not trusted."""
        return [n for n in self.nodes if not self.is_trusted(n)]

    # -- copies -----------------------------------------------------------
    def copy(self) -> Workflow:
        """A deep copy with its own event bus (the engine runs on a snapshot)."""
        clone = Workflow(self.registry)
        clone.nodes = {k: copy.deepcopy(v) for k, v in self.nodes.items()}
        clone.edges = list(self.edges)
        clone.annotations = {k: copy.deepcopy(v) for k, v in self.annotations.items()}
        clone.info = copy.deepcopy(self.info)
        clone.revision = self.revision
        clone._trusted_code = dict(self._trusted_code)
        clone.path = self.path
        return clone


def _next_id(prefix: str, existing: Iterable[str]) -> str:
    taken = set(existing)
    index = 1
    while f"{prefix}{index}" in taken:
        index += 1
    return f"{prefix}{index}"
