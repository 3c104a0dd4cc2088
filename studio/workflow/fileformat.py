"""The ``*.axon.json`` workflow file: read, check, migrate, write atomically.

Loading parses JSON and nothing else: no code runs, nothing is unpickled.
Every problem in a file is collected and reported at once. Saving writes a
temporary file in the same folder, fsyncs it and renames it over the old
one, so a crash leaves either the old file or the new one, never a torn one.
See docs/file-format.md for the format.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nodes.errors import StudioError, UnknownNodeTypeError
from nodes.registry import NodeRegistry, default_registry
from studio.workflow.errors import Problem, WorkflowFileError
from studio.workflow.model import Annotation, Edge, NodeInstance, Workflow, WorkflowInfo

FORMAT_NAME = "axon-studio-workflow"
SCHEMA_VERSION = 1
SUFFIX = ".axon.json"

#: MIGRATIONS[n] upgrades a document of schema n to schema n + 1.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


# -- writing ---------------------------------------------------------------

def workflow_to_dict(workflow: Workflow) -> dict[str, Any]:
    """The JSON document of a workflow (stable key order, so diffs stay small)."""
    info = workflow.info
    document: dict[str, Any] = {
        "format": FORMAT_NAME,
        "schema_version": SCHEMA_VERSION,
        "name": info.name,
        "description": info.description,
        "settings": {"seed": info.seed, **info.extra},
        "nodes": [],
        "edges": [],
        "annotations": [],
        "groups": [],
    }
    for node in workflow.nodes.values():
        entry: dict[str, Any] = {"id": node.id, "type_id": node.type_id,
                                 "version": node.version}
        if node.title:
            entry["title"] = node.title
        entry["position"] = [_number(node.position[0]), _number(node.position[1])]
        entry["params"] = node.params
        if node.comment:
            entry["comment"] = node.comment
        document["nodes"].append(entry)
    for edge in workflow.edges:
        document["edges"].append({"source": {"node": edge.source, "port": edge.source_port},
                                  "target": {"node": edge.target, "port": edge.target_port}})
    for note in workflow.annotations.values():
        document["annotations"].append({"id": note.id, "text": note.text,
                                        "rect": [_number(v) for v in note.rect]})
    return document


def dumps(workflow: Workflow) -> str:
    return json.dumps(workflow_to_dict(workflow), indent=2, ensure_ascii=False,
                      allow_nan=False) + "\n"


def save_workflow(workflow: Workflow, path: str | os.PathLike[str]) -> Path:
    """Write the workflow atomically; returns the path written."""
    path = Path(path)
    atomic_write_text(path, dumps(workflow))
    return path


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that readers see old or new, never a mix."""
    folder = path.resolve().parent
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        else:
            os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # not possible on every platform; the rename is still atomic
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


# -- reading ---------------------------------------------------------------

def load_workflow(path: str | os.PathLike[str], registry: NodeRegistry | None = None) -> Workflow:
    """Read and check a workflow file; raises WorkflowFileError listing all problems."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WorkflowFileError(str(path), [Problem("the file does not exist",
                                                    fix="Check the path.")]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise WorkflowFileError(str(path), [Problem(f"the file cannot be read: {error}")]) from None
    return loads(text, registry, source=str(path))


def loads(text: str, registry: NodeRegistry | None = None, *, source: str = "<text>") -> Workflow:
    """Parse a workflow document from text (see load_workflow)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise WorkflowFileError(source, [Problem(
            f"invalid JSON: {error.msg}", where=f"line {error.lineno}, column {error.colno}",
            fix="Correct the JSON syntax at that position (a missing comma or quote is common).",
        )]) from None
    return workflow_from_dict(document, registry, source=source)


def workflow_from_dict(document: Any, registry: NodeRegistry | None = None, *,
                       source: str = "<document>") -> Workflow:
    """Build a Workflow from a parsed document, checking everything."""
    registry = registry or default_registry()
    problems: list[Problem] = []
    if not isinstance(document, dict):
        raise WorkflowFileError(source, [Problem("the document is not a JSON object")])
    document = _migrate(document, source)

    workflow = Workflow(registry)
    settings = document.get("settings", {})
    if not isinstance(settings, dict):
        problems.append(Problem("'settings' must be an object", where="settings"))
        settings = {}
    seed = settings.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        problems.append(Problem(f"'seed' must be a whole number, not {seed!r}",
                                where="settings.seed"))
        seed = 0
    workflow.info = WorkflowInfo(
        name=str(document.get("name", "")), description=str(document.get("description", "")),
        seed=seed, extra={k: v for k, v in settings.items() if k != "seed"})

    for index, entry in enumerate(_list(document, "nodes", problems)):
        node = _read_node(entry, index, registry, workflow, problems)
        if node is not None:
            workflow.nodes[node.id] = node

    for index, entry in enumerate(_list(document, "edges", problems)):
        edge = _read_edge(entry, index, problems)
        if edge is None:
            continue
        if edge.source not in workflow.nodes or edge.target not in workflow.nodes:
            if _node_was_bad(edge, document):
                continue  # the node's own problem is already reported
            missing = edge.source if edge.source not in workflow.nodes else edge.target
            problems.append(Problem(f"the wire refers to node '{missing}', which does not exist",
                                    where=f"edges[{index}] ({edge})",
                                    fix="Remove the wire or add the node."))
            continue
        reason = workflow.connection_problem(edge.source, edge.source_port, edge.target,
                                             edge.target_port)
        if reason:
            problems.append(Problem(reason, where=f"edges[{index}] ({edge})"))
            continue
        workflow.edges.append(edge)

    for index, entry in enumerate(_list(document, "annotations", problems)):
        note = _read_annotation(entry, index, problems)
        if note is not None:
            workflow.annotations[note.id] = note

    if problems:
        raise WorkflowFileError(source, problems)
    return workflow


def _migrate(document: dict[str, Any], source: str) -> dict[str, Any]:
    version = document.get("schema_version")
    if document.get("format", FORMAT_NAME) != FORMAT_NAME:
        raise WorkflowFileError(source, [Problem(
            f"this is not an Axon Studio workflow (format {document.get('format')!r})")])
    if isinstance(version, bool) or not isinstance(version, int):
        raise WorkflowFileError(source, [Problem(
            f"'schema_version' must be a whole number, found {version!r}",
            where="schema_version", fix=f"Axon Studio writes schema_version {SCHEMA_VERSION}.")])
    if version > SCHEMA_VERSION:
        raise WorkflowFileError(source, [Problem(
            f"the file uses schema version {version}, newer than this program understands "
            f"(up to {SCHEMA_VERSION})", where="schema_version",
            fix="Upgrade Axon Studio to open this file.")])
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise WorkflowFileError(source, [Problem(
                f"schema version {version} is not supported", where="schema_version")])
        document = step(document)
        version += 1
        document["schema_version"] = version
    return document


def _list(document: dict[str, Any], key: str, problems: list[Problem]) -> list[Any]:
    value = document.get(key, [])
    if not isinstance(value, list):
        problems.append(Problem(f"'{key}' must be a list", where=key))
        return []
    return value


def _read_node(entry: Any, index: int, registry: NodeRegistry, workflow: Workflow,
               problems: list[Problem]) -> NodeInstance | None:
    where = f"nodes[{index}]"
    if not isinstance(entry, dict):
        problems.append(Problem("each node must be an object", where=where))
        return None
    node_id = entry.get("id")
    if not isinstance(node_id, str) or not node_id:
        problems.append(Problem("the node has no 'id'", where=where))
        return None
    where = f"nodes[{index}] (id '{node_id}')"
    if node_id in workflow.nodes:
        problems.append(Problem(f"the id '{node_id}' is used twice", node=node_id, where=where))
        return None
    type_id = entry.get("type_id")
    if not isinstance(type_id, str):
        problems.append(Problem("the node has no 'type_id'", node=node_id, where=where))
        return None
    try:
        node_type = registry.get(type_id)
    except UnknownNodeTypeError as error:
        problems.append(Problem(error.message, node=node_id, where=where, fix=error.fix))
        return None
    version = entry.get("version", node_type.version)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        problems.append(Problem(f"'version' must be a whole number >= 1, found {version!r}",
                                node=node_id, where=where))
        return None
    if version > node_type.version:
        problems.append(Problem(
            f"'{node_type.title}' was saved by node version {version}; this program has "
            f"version {node_type.version}", node=node_id, where=where,
            fix="Upgrade Axon Studio (or the plugin that provides this node)."))
        return None
    raw_params = entry.get("params", {})
    if not isinstance(raw_params, dict):
        problems.append(Problem("'params' must be an object", node=node_id, where=where))
        return None
    if version < node_type.version:
        try:
            raw_params = node_type.migrate_params(dict(raw_params), version)
        except StudioError as error:
            problems.append(Problem(f"parameters could not be upgraded: {error}",
                                    node=node_id, where=where))
            return None
    title = entry.get("title", "")
    if not isinstance(title, str):
        problems.append(Problem("'title' must be text", node=node_id, where=where))
        title = ""
    params, param_problems = node_type.parameter_problems(raw_params, title or node_type.title,
                                                          complete=False)
    for error in param_problems:
        problems.append(Problem(error.message, node=node_id, where=f"{where}.params",
                                fix=error.fix))
    position = _pair(entry.get("position", [0, 0]))
    if position is None:
        problems.append(Problem("'position' must be [x, y] numbers", node=node_id, where=where))
        position = (0.0, 0.0)
    comment = entry.get("comment", "")
    if param_problems:
        return None
    return NodeInstance(node_id, node_type.type_id, node_type.version, params, position,
                        title, comment if isinstance(comment, str) else "")


def _read_edge(entry: Any, index: int, problems: list[Problem]) -> Edge | None:
    where = f"edges[{index}]"
    try:
        source, target = entry["source"], entry["target"]
        edge = Edge(source["node"], source["port"], target["node"], target["port"])
    except (KeyError, TypeError):
        problems.append(Problem("a wire needs {'source': {'node', 'port'}, "
                                "'target': {'node', 'port'}}", where=where))
        return None
    if not all(isinstance(v, str) for v in (edge.source, edge.source_port, edge.target,
                                            edge.target_port)):
        problems.append(Problem("node ids and port names must be text", where=where))
        return None
    return edge


def _read_annotation(entry: Any, index: int, problems: list[Problem]) -> Annotation | None:
    where = f"annotations[{index}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        problems.append(Problem("an annotation needs an 'id' and 'text'", where=where))
        return None
    rect = entry.get("rect", [0, 0, 200, 80])
    if (not isinstance(rect, list) or len(rect) != 4
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in rect)):
        problems.append(Problem("'rect' must be [x, y, width, height]", where=where))
        return None
    return Annotation(entry["id"], str(entry.get("text", "")),
                      tuple(float(v) for v in rect))  # type: ignore[arg-type]


def _node_was_bad(edge: Edge, document: dict[str, Any]) -> bool:
    listed = {n.get("id") for n in document.get("nodes", []) if isinstance(n, dict)}
    return edge.source in listed and edge.target in listed


def _pair(value: Any) -> tuple[float, float] | None:
    if (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        return float(value[0]), float(value[1])
    return None


def _number(value: float) -> float | int:
    """Whole floats as ints, so hand-written files round-trip byte for byte."""
    return int(value) if float(value).is_integer() else value
