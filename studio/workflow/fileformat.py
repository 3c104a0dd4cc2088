"""The ``*.axon.json`` workflow file: read, check, migrate, write atomically.

Loading parses JSON and nothing else: no code runs, nothing is unpickled,
and code stored in a node is not trusted (``Workflow.trust`` is the explicit
step). Every problem in a file is collected and reported at once, and every
malformed input gets a verdict, never a traceback (tests/workflow fuzzes
this with Hypothesis). Saving writes a temporary file in the same folder,
fsyncs it and renames it over the old one, so a crash leaves either the old
file or the new one, never a torn one; a temporary file left by a save that
was killed is removed by the next save or load of that file. See
docs/file-format.md for the format.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nodes.errors import StudioError, UnknownNodeTypeError, short_repr
from nodes.params import MAX_TEXT
from nodes.registry import NodeRegistry, default_registry
from studio.workflow.errors import Problem, WorkflowFileError
from studio.workflow.model import (
    ID_PATTERN,
    Annotation,
    Edge,
    NodeInstance,
    Workflow,
    WorkflowInfo,
)

FORMAT_NAME = "axon-studio-workflow"
#: 2: relative paths start at the workflow file's folder (1: at the working directory).
SCHEMA_VERSION = 2
SUFFIX = ".axon.json"
#: The largest workflow file read (a typed-in table or a script is far smaller).
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Deepest JSON nesting accepted; no workflow needs more than a dozen levels.
MAX_DEPTH = 64
#: A temporary file of a save that is older than this is a leftover of a killed
#: save (a live save renames its file within milliseconds).
STALE_TEMP_SECONDS = 60.0

def _relative_paths_keep_their_meaning(document: dict[str, Any]) -> dict[str, Any]:
    """1 -> 2: relative paths used to start at the working directory. A document
    that has any keeps that meaning (a setting); one that has none starts at its
    own folder like every new document."""
    def relative(value: Any) -> bool:
        return (isinstance(value, str) and value.strip() != "" and "://" not in value
                and not Path(value).expanduser().is_absolute())

    nodes = document.get("nodes")
    uses = isinstance(nodes, list) and any(
        isinstance(n, dict) and isinstance(n.get("params"), dict)
        and any(relative(v) for k, v in n["params"].items() if k in ("path", "url"))
        for n in nodes)
    if uses:
        settings = document.get("settings")
        if isinstance(settings, dict):
            settings.setdefault("relative_paths", "working_directory")
    return document


#: MIGRATIONS[n] upgrades a document of schema n to schema n + 1.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    1: _relative_paths_keep_their_meaning,
}


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
    remove_stale_temporaries(path)
    workflow.path = path.resolve()
    return path


def remove_stale_temporaries(path: Path, older_than: float = STALE_TEMP_SECONDS) -> list[Path]:
    """Delete temporary files that killed saves of ``path`` left beside it."""
    removed = []
    try:
        candidates = list(path.resolve().parent.glob(f".{path.name}.*.tmp"))
    except OSError:
        return removed
    now = time.time()
    for candidate in candidates:
        with contextlib.suppress(OSError):
            if now - candidate.stat().st_mtime > older_than:
                candidate.unlink()
                removed.append(candidate)
    return removed


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
    fsync_folder(folder)


def fsync_folder(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable (where the platform can)."""
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
        if path.stat().st_size > MAX_FILE_BYTES:
            raise WorkflowFileError(str(path), [Problem(
                f"the file is larger than {MAX_FILE_BYTES // 2**20} MiB; it is not a workflow "
                "file", fix="Check the path.")])
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WorkflowFileError(str(path), [Problem("the file does not exist",
                                                    fix="Check the path.")]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise WorkflowFileError(str(path), [Problem(f"the file cannot be read: {error}")]) from None
    remove_stale_temporaries(path)
    workflow = loads(text, registry, source=str(path))
    workflow.path = path.resolve()
    return workflow


def loads(text: str, registry: NodeRegistry | None = None, *, source: str = "<text>") -> Workflow:
    """Parse a workflow document from text (see load_workflow)."""
    try:
        document = json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as error:
        raise WorkflowFileError(source, [Problem(
            f"invalid JSON: {error.msg}", where=f"line {error.lineno}, column {error.colno}",
            fix="Correct the JSON syntax at that position (a missing comma or quote is common).",
        )]) from None
    except _NumberTooLong as error:
        raise WorkflowFileError(source, [Problem(
            f"a number has {error.digits:,} digits; no workflow value needs more than "
            f"{_MAX_DIGITS}", fix="Correct the number.")]) from None
    except RecursionError:
        raise WorkflowFileError(source, [Problem(
            "the JSON is nested too deeply to be a workflow",
            fix=f"A workflow file nests at most {MAX_DEPTH} levels.")]) from None
    depth = _depth(document)
    if depth > MAX_DEPTH:
        raise WorkflowFileError(source, [Problem(
            f"the JSON is nested {depth} levels deep; a workflow file nests at most "
            f"{MAX_DEPTH}", fix="Check that this is a workflow file.")])
    return workflow_from_dict(document, registry, source=source)


_MAX_DIGITS = 40


class _NumberTooLong(ValueError):
    def __init__(self, digits: int) -> None:
        self.digits = digits
        super().__init__(digits)


def _parse_int(text: str) -> int:
    # Python refuses to convert integers of over 4,300 digits at all, and
    # huge ones are never meaningful here: say so instead of crashing later.
    if len(text.lstrip("-")) > _MAX_DIGITS:
        raise _NumberTooLong(len(text.lstrip("-")))
    return int(text)


def _depth(value: Any, limit: int = MAX_DEPTH + 1) -> int:
    """Nesting depth of parsed JSON, counted without recursion (stops past limit)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


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
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        problems.append(Problem(f"'seed' must be a whole number from 0 to 4294967295, not "
                                f"{short_repr(seed)}", where="settings.seed"))
        seed = 0
    allowed = settings.get("allowed_paths", [])
    if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
        problems.append(Problem("'allowed_paths' must be a list of folder names",
                                where="settings.allowed_paths",
                                fix="List folders, relative to the workflow's folder."))
    workflow.info = WorkflowInfo(
        name=str(document.get("name", "")), description=str(document.get("description", "")),
        seed=seed, extra={k: v for k, v in settings.items() if k != "seed"})

    for index, entry in enumerate(_list(document, "nodes", problems)):
        node = _read_node(entry, index, registry, workflow, problems)
        if node is not None:
            workflow.nodes[node.id] = node

    merged: list[tuple[Edge, int]] = []
    for index, entry in enumerate(_list(document, "edges", problems)):
        edge = _read_edge(entry, index, problems)
        if edge is None:
            continue
        if edge.target in workflow.nodes:
            edge, rank = _merged_edge(edge, workflow.node_type(edge.target))
            if rank is not None:
                merged.append((edge, rank))
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
    _order_merged(workflow, merged)

    for index, entry in enumerate(_list(document, "annotations", problems)):
        note = _read_annotation(entry, index, problems)
        if note is not None:
            workflow.annotations[note.id] = note

    if problems:
        raise WorkflowFileError(source, problems)
    return workflow


def _merged_edge(edge: Edge, node_type: Any) -> tuple[Edge, int | None]:
    """A wire saved into an old port that the node type merged into a multiple input
    (``Node.merged_inputs``), rewired into it, with its old port's rank."""
    for port, old_ports in node_type.merged_inputs.items():
        if edge.target_port in old_ports:
            return (Edge(edge.source, edge.source_port, edge.target, port),
                    old_ports.index(edge.target_port))
    return edge, None


def _order_merged(workflow: Workflow, merged: list[tuple[Edge, int]]) -> None:
    """Wires merged into one input keep the order of the old ports they came from."""
    rank = dict(merged)
    groups: dict[tuple[str, str], list[int]] = {}
    for position, edge in enumerate(workflow.edges):
        if edge in rank:
            groups.setdefault((edge.target, edge.target_port), []).append(position)
    for positions in groups.values():
        ordered = sorted((workflow.edges[p] for p in positions), key=rank.__getitem__)
        for position, edge in zip(positions, ordered, strict=True):
            workflow.edges[position] = edge


def _migrate(document: dict[str, Any], source: str) -> dict[str, Any]:
    version = document.get("schema_version")
    if document.get("format", FORMAT_NAME) != FORMAT_NAME:
        raise WorkflowFileError(source, [Problem(
            "this is not an Axon Studio workflow (format "
            f"{short_repr(document.get('format'))})")])
    if isinstance(version, bool) or not isinstance(version, int):
        raise WorkflowFileError(source, [Problem(
            f"'schema_version' must be a whole number, found {short_repr(version)}",
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
        problems.append(Problem("the node has no 'id' (text)", where=where))
        return None
    if not ID_PATTERN.match(node_id):
        problems.append(Problem(f"the id {short_repr(node_id)} is not valid", where=where,
                                fix="Use letters, digits, '_' and '-', not starting with a "
                                    "digit."))
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
        problems.append(Problem(f"'version' must be a whole number >= 1, found "
                                f"{short_repr(version)}", node=node_id, where=where))
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
        except (StudioError, KeyError, TypeError, ValueError) as error:
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
    if isinstance(comment, str) and len(comment) > MAX_TEXT:
        problems.append(Problem(f"'comment' is longer than {MAX_TEXT:,} characters",
                                node=node_id, where=where))
        return None
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
    if not isinstance(entry.get("text", ""), str) or len(entry.get("text", "")) > MAX_TEXT:
        problems.append(Problem(f"an annotation's 'text' must be text of at most {MAX_TEXT:,} "
                                "characters", where=where))
        return None
    rect = entry.get("rect", [0, 0, 200, 80])
    if (not isinstance(rect, list) or len(rect) != 4
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in rect)):
        problems.append(Problem("'rect' must be [x, y, width, height]", where=where))
        return None
    if not all(math.isfinite(v) for v in rect):
        problems.append(Problem("'rect' must hold finite numbers", where=where))
        return None
    return Annotation(entry["id"], entry.get("text", ""),
                      tuple(float(v) for v in rect))  # type: ignore[arg-type]


def _node_was_bad(edge: Edge, document: dict[str, Any]) -> bool:
    nodes = document.get("nodes", [])
    listed = {n.get("id") for n in nodes if isinstance(n, dict) and isinstance(n.get("id"), str)
              } if isinstance(nodes, list) else set()
    return edge.source in listed and edge.target in listed


def _pair(value: Any) -> tuple[float, float] | None:
    if (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            and all(math.isfinite(v) for v in value)):
        return float(value[0]), float(value[1])
    return None


def _number(value: float) -> float | int:
    """Whole floats as ints, so hand-written files round-trip byte for byte."""
    return int(value) if float(value).is_integer() else value
