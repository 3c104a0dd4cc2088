"""A workflow as a plain pandas + scikit-learn script (or notebook).

    script = build_script(workflow, workflow_path=path)   # an ExportedScript
    script.text()                                          # the .py file
    script.blocks                                          # one Block per node, in run order

The script imports no Axon Studio module: each node becomes a commented
block, named after its title, of the pandas and scikit-learn calls the node
makes, in the order the engine runs them (a topological order of the
workflow, document order among independent nodes). Parameters are written
as the run uses them (an inherited seed resolved to the number the node
runs with, so the script draws the same random numbers). Helper functions
that several nodes share (Score Model's columns, Evaluate Model's metrics)
are written once at the top, and only when used. At the end the script
prints the metrics of every Evaluate node as JSON, keyed like ``studio run
--json``'s ``metrics``, so the two can be compared number for number.

A node with no plain equivalent (hardware simulation, the recommender,
Keras networks, a node type with no exporter) is refused with the reason,
every such node at once (:class:`ExportRefusedError`).
"""

from __future__ import annotations

import keyword
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from nodes.contract import params_in_use
from nodes.errors import StudioError
from studio.engine.graph import build_graph
from studio.export.helpers import DEPENDS, HELPERS
from studio.workflow import Workflow

#: Names used by the script's own header; node variables never take them.
_RESERVED = {"pd", "np", "json", "math", "re", "hashlib", "joblib", "skm", "stats", "Path",
             "clone", "metrics", "SAMPLE_DATA", "URL", "PUNCTUATION", "NUMBER", "SPACES",
             "normalize"}


class ExportRefusedError(StudioError):
    """Some nodes have no plain equivalent: ``refusals`` lists (node id, title, reason)
    for each of them; ``downstream`` the nodes left out only because they need one."""

    def __init__(self, refusals: list[tuple[str, str, str]],
                 downstream: list[str] | None = None) -> None:
        self.refusals = refusals
        self.downstream = list(downstream or [])
        lines = "; ".join(f"'{title}' ({node_id}): {reason}"
                          for node_id, title, reason in refusals)
        after = (f" (and {len(self.downstream)} node(s) that need their outputs: "
                 f"{', '.join(self.downstream)})" if self.downstream else "")
        super().__init__(f"{len(refusals)} node(s) cannot be written as plain pandas and "
                         f"scikit-learn code: {lines}{after}.",
                         fix="Export a workflow without them, or run it with 'studio run' "
                             "(or the Python API, docs/python-api.md).")


class NotPlainError(Exception):
    """Raised by an emitter: this node, with these parameters, has no plain equivalent."""


# -- what flows between blocks (known when the script is written) ------------------

@dataclass
class TableInfo:
    """A table variable: the columns known not to be features, by role."""

    roles: dict[str, str] = field(default_factory=dict)
    #: What the scores in it are: classification, regression or clustering (None: none).
    task: str | None = None

    @property
    def label(self) -> str | None:
        return next((c for c, r in self.roles.items() if r == "label"), None)

    def with_roles(self, extra: dict[str, str]) -> TableInfo:
        return TableInfo({**self.roles, **extra}, self.task)

    def not_features(self) -> str:
        """The Python literal of the non-feature columns (a set)."""
        return "{" + ", ".join(repr(c) for c in self.roles) + "}" if self.roles else "set()"


@dataclass
class LearnerInfo:
    value: Any  # the Learner the node built at export time
    task: str
    estimator: Any  # its unfitted scikit-learn estimator


@dataclass
class ModelInfo:
    task: str
    features: str  # the variable holding the feature column list
    label: str | None


@dataclass
class TransformInfo:
    """How to apply a fitted transform to a table variable: ``apply(var) -> expr``."""

    apply: Callable[[str], str]
    after: Callable[[TableInfo], TableInfo] = lambda info: info


@dataclass
class MetricsInfo:
    pass


@dataclass
class Block:
    """One node's code: its heading (the title), comment, and lines."""

    node_id: str
    title: str
    type_title: str
    comment: str
    lines: list[str]

    def heading(self) -> str:
        same = self.title == self.type_title
        return f"{self.title} ({self.node_id})" if same else \
            f"{self.title} ({self.type_title}, {self.node_id})"


@dataclass
class ExportedScript:
    """The script's parts: header (imports, constants, helpers), blocks, footer."""

    name: str
    description: str
    imports: list[str]
    constants: list[str]
    helpers: list[str]
    blocks: list[Block]
    footer: list[str]
    source: str

    def preamble(self) -> str:
        """Imports, constants and helper functions (the notebook's first code cell)."""
        parts = ["\n".join(self.imports)]
        if self.constants:
            parts.append("\n".join(self.constants))
        parts += self.helpers
        return "\n\n\n".join(p.rstrip("\n") for p in parts if p) + "\n"

    def text(self) -> str:
        """The whole .py file."""
        out = ['"""' + _docstring(self.name, self.description, self.source) + '"""', "",
               self.preamble().rstrip("\n"), "", "", "metrics = {}"]
        for block in self.blocks:
            out += ["", f"# {'-' * 76}", f"# {block.heading()}"]
            out += [f"# {line}" if line else "#" for line in _wrap(block.comment)]
            out += block.lines
        out += ["", f"# {'-' * 76}", *self.footer]
        return "\n".join(out).rstrip("\n") + "\n"


def _docstring(name: str, description: str, source: str) -> str:
    lines = [f"{name or 'Workflow'}: written by 'studio export-script' from {source}.", ""]
    lines += _wrap(description) + ([""] if description else [])
    lines += ["A plain pandas + scikit-learn script: it imports nothing from Axon Studio.",
              "Each block below is one node of the workflow, in the order the workflow runs",
              "them. It prints the metrics of every Evaluate node as JSON, as",
              "'studio run --json' does."]
    return "\n".join(lines) + "\n"


def _wrap(text: str, width: int = 76) -> list[str]:
    import textwrap

    lines: list[str] = []
    for paragraph in (text or "").strip().splitlines():
        lines += textwrap.wrap(paragraph, width) or [""]
    return lines


# -- the builder -----------------------------------------------------------------

Emitter = Callable[["ScriptBuilder", str, dict[str, Any]], list[str]]

#: type id -> emitter. studio.export.emitters fills it; plugins may add theirs.
EMITTERS: dict[str, Emitter] = {}


def emitter(*type_ids: str) -> Callable[[Emitter], Emitter]:
    def register(function: Emitter) -> Emitter:
        for type_id in type_ids:
            EMITTERS[type_id] = function
        return function
    return register


class ScriptBuilder:
    """Walks the workflow in run order and asks each node's emitter for its code."""

    def __init__(self, workflow: Workflow, workflow_path: str | os.PathLike[str] | None) -> None:
        self.workflow = workflow
        self.workflow_path = Path(workflow_path) if workflow_path else None
        self.imports: dict[str, None] = {}
        self.helpers: dict[str, None] = {}
        self.constants: dict[str, None] = {}
        self.values: dict[tuple[str, str], Any] = {}
        self.variables: dict[tuple[str, str], str] = {}
        self.metrics: list[tuple[str, str]] = []
        self._taken: set[str] = set(_RESERVED)

    # -- for emitters ---------------------------------------------------------
    def need(self, *imports: str) -> None:
        for line in imports:
            self.imports[line] = None

    def use(self, name: str) -> str:
        """Write helper ``name`` (and what it needs) into the script; returns its name."""
        for dependency in DEPENDS.get(name, ()):
            self.use(dependency)
        imports, _ = HELPERS[name]
        self.need(*imports)
        self.helpers[name] = None
        return name

    def constant(self, line: str) -> None:
        self.constants[line] = None

    def input(self, node_id: str, port: str) -> tuple[str, Any] | None:
        """The variable and info wired into ``port`` (None when it is not wired)."""
        edge = self.workflow.input_edge(node_id, port)
        if edge is None:
            return None
        key = (edge.source, edge.source_port)
        if key not in self.variables:
            raise NotPlainError(f"its input '{port}' comes from output '{edge.source_port}' "
                                f"of '{self.workflow.label(edge.source)}', which the script "
                                "does not compute")
        return self.variables[key], self.values[key]

    def output(self, node_id: str, port: str, info: Any) -> str:
        """Name the variable of an output and remember what it holds."""
        base = _identifier(node_id)
        name = base if port in ("learner", base) else f"{base}_{_identifier(port)}"
        while name in self._taken:
            name += "_"
        self._taken.add(name)
        self.variables[(node_id, port)] = name
        self.values[(node_id, port)] = info
        return name

    def output_as(self, node_id: str, port: str, name: str, info: Any) -> str:
        """Remember that variable ``name`` (from :meth:`local`) holds an output."""
        self.variables[(node_id, port)] = name
        self.values[(node_id, port)] = info
        return name

    def local(self, node_id: str, what: str) -> str:
        """A variable of a node's own (e.g. 'train_features')."""
        name = f"{_identifier(node_id)}_{what}"
        while name in self._taken:
            name += "_"
        self._taken.add(name)
        return name

    def sample_data_folder(self) -> str:
        from sample_datasets import DATA_DIR

        self.need("from pathlib import Path")
        self.constant("# The sample datasets shipped with Axon Studio; to run this script "
                      "elsewhere, copy them\n# and change this line.\n"
                      f"SAMPLE_DATA = Path({str(Path(DATA_DIR).resolve())!r})")
        return "SAMPLE_DATA"

    # -- the walk ---------------------------------------------------------------
    def build(self) -> ExportedScript:
        import studio.export.emitters  # noqa: F401  (fills EMITTERS)

        workflow = self.workflow
        graph = build_graph(workflow)
        order = list(nx.lexicographical_topological_sort(
            graph, key=list(workflow.nodes).index))
        self.need("import json")
        blocks, refusals, downstream = [], [], []
        refused: set[str] = set()
        for node_id in order:
            node = workflow.nodes[node_id]
            node_type = workflow.node_type(node_id)
            params = params_in_use(node_type, node.params, workflow.info.seed, node_id)
            function = EMITTERS.get(node.type_id)
            if any(e.source in refused for e in workflow.incoming(node_id)):
                refused.add(node_id)  # a consequence, not a cause: named apart
                downstream.append(workflow.label(node_id))
                continue
            try:
                if function is None:
                    raise NotPlainError(_no_emitter_reason(node_type))
                lines = function(self, node_id, params)
            except NotPlainError as error:
                refusals.append((node_id, workflow.label(node_id), str(error)))
                refused.add(node_id)
                continue
            blocks.append(Block(node_id, workflow.label(node_id), node_type.title,
                                node.comment, lines))
        if refusals:
            raise ExportRefusedError(refusals, downstream)
        footer = ["print(json.dumps(metrics, indent=2))"]
        helpers = [HELPERS[name][1] for name in HELPERS if name in self.helpers]
        return ExportedScript(workflow.info.name, workflow.info.description,
                              _sorted_imports(self.imports), list(self.constants), helpers,
                              blocks, footer, str(self.workflow_path or "an unsaved workflow"))


def build_script(workflow: Workflow, *, workflow_path: str | os.PathLike[str] | None = None
                 ) -> ExportedScript:
    """The workflow as a plain script; raises ExportRefusedError listing every node
    that has no plain equivalent."""
    return ScriptBuilder(workflow, workflow_path).build()


def _no_emitter_reason(node_type: Any) -> str:
    if node_type.category == "Hardware":
        return ("it simulates neuromorphic or analog hardware in Axon Studio's own code; "
                "there is no plain pandas or scikit-learn equivalent")
    if "recommend" in node_type.type_id:
        return ("it uses Axon Studio's own matrix-factorisation recommender; there is no "
                "scikit-learn equivalent")
    if node_type.needs_trust:
        return "it runs code stored in the workflow, which the exporter does not copy out"
    return f"the exporter has no plain equivalent for '{node_type.title}' yet"


def _identifier(text: str) -> str:
    name = re.sub(r"\W", "_", text)
    if not name or name[0].isdigit() or keyword.iskeyword(name):
        name = f"node_{name}"
    return name


def _sorted_imports(imports: dict[str, None]) -> list[str]:
    """Standard library first, then the rest, each as isort orders them."""
    import sys

    def top(line: str) -> str:
        return line.split()[1].split(".")[0]

    standard = [line for line in imports if top(line) in sys.stdlib_module_names]
    third = [line for line in imports if line not in standard]

    def ordered(lines: list[str]) -> list[str]:
        return (sorted(line for line in lines if line.startswith("import "))
                + sorted(line for line in lines if line.startswith("from ")))

    return ordered(standard) + ([""] if standard and third else []) + ordered(third)
