"""The workflow as a networkx DAG, and the checks made before anything runs."""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from nodes.errors import UnknownNodeTypeError
from studio.workflow.errors import Problem
from studio.workflow.model import Workflow


def build_graph(workflow: Workflow) -> nx.DiGraph:
    """Nodes are node ids; each edge carries the list of (source_port, target_port)."""
    graph = nx.DiGraph()
    graph.add_nodes_from(workflow.nodes)
    for edge in workflow.edges:
        if graph.has_edge(edge.source, edge.target):
            graph.edges[edge.source, edge.target]["ports"].append(
                (edge.source_port, edge.target_port))
        else:
            graph.add_edge(edge.source, edge.target, ports=[(edge.source_port, edge.target_port)])
    return graph


def with_ancestors(graph: nx.DiGraph, targets: Iterable[str]) -> set[str]:
    """The targets plus every node they need."""
    needed: set[str] = set()
    for target in targets:
        needed.add(target)
        needed |= nx.ancestors(graph, target)
    return needed


def check_workflow(workflow: Workflow, nodes: Iterable[str] | None = None,
                   *, trusted: bool = False) -> list[Problem]:
    """Everything that stops the given nodes (default: all) from running, at once.

    A node that runs code stored in the file is refused unless the user
    trusted its code (``Workflow.trust``) or ``trusted`` grants it for the
    whole workflow (``studio run --trust``): the one trust gate of every
    command, the app and the Python API.
    """
    graph = build_graph(workflow)
    problems: list[Problem] = []
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        cycle = None
    if cycle:
        path = " -> ".join([workflow.label(a) for a, _ in cycle] + [workflow.label(cycle[0][0])])
        problems.append(Problem(f"the workflow has a cycle: {path}",
                                fix="Remove one of the wires in the cycle."))
        return problems
    selected = set(workflow.nodes) if nodes is None else with_ancestors(graph, nodes)
    for node_id in nx.topological_sort(graph):
        if node_id not in selected:
            continue
        node = workflow.nodes[node_id]
        try:
            node_type = workflow.registry.get(node.type_id)
        except UnknownNodeTypeError as error:
            problems.append(Problem(error.message, node=node_id, fix=error.fix))
            continue
        label = node.label(node_type)
        for name, port in node_type.inputs.items():
            if not port.optional and workflow.input_edge(node_id, name) is None:
                problems.append(Problem(
                    f"'{label}' needs its input '{port.label}' ({port.type.name}) connected",
                    node=node_id,
                    fix=f"Wire a {port.type.name} output into '{port.label}'."))
        _, param_problems = node_type.parameter_problems(node.params, label)
        for error in param_problems:
            problems.append(Problem(error.message, node=node_id, fix=error.fix))
        if node_type.needs_trust and not (trusted or workflow.is_trusted(node_id)):
            problems.append(Problem(
                f"'{label}' runs code stored in the workflow file, and the file is not trusted",
                node=node_id,
                fix="Read the code, then run with --trust if you trust the file."))
    # Owners' terms against the run's declared use (expiry, purpose, region, exclusivity).
    from studio.ownership.terms import terms_problems

    problems += terms_problems(workflow, [n for n in workflow.nodes if n in selected])
    return problems
