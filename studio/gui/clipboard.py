"""Copy and paste of nodes with their internal wires, as workflow JSON.

The clipboard holds an ordinary workflow document, so pasting checks it
exactly as opening a file does (nothing executes, every value is validated)
and it works between two windows or two running apps.
"""

from __future__ import annotations

import json

from studio.workflow import Edge, NodeInstance, Workflow, workflow_from_dict, workflow_to_dict

MIME_TYPE = "application/x-axon-studio-workflow"


def selection_to_text(workflow: Workflow, node_ids: list[str]) -> str:
    """The selected nodes and the wires between them, as a workflow document."""
    part = Workflow(workflow.registry)
    chosen = set(node_ids)
    for node_id in node_ids:
        part.nodes[node_id] = workflow.node(node_id)
    part.edges = [e for e in workflow.edges if e.source in chosen and e.target in chosen]
    return json.dumps(workflow_to_dict(part))


def nodes_from_text(workflow: Workflow, text: str, offset: tuple[float, float] = (40, 40)
                    ) -> tuple[list[NodeInstance], list[Edge]]:
    """Nodes and wires to paste into ``workflow``: fresh ids, shifted positions.

    Raises WorkflowFileError (with every problem) for text that is not a
    valid workflow document, and ValueError for text that is not JSON.
    """
    document = json.loads(text)
    part = workflow_from_dict(document, workflow.registry, source="clipboard")
    taken = set(workflow.nodes)
    renamed: dict[str, str] = {}
    nodes = []
    for node in part.nodes.values():
        base = node.id.rsplit("_", 1)[0] if node.id.rsplit("_", 1)[-1].isdigit() else node.id
        new_id, index = base, 2
        while new_id in taken:
            new_id = f"{base}_{index}"
            index += 1
        taken.add(new_id)
        renamed[node.id] = new_id
        nodes.append(NodeInstance(new_id, node.type_id, node.version, dict(node.params),
                                  (node.position[0] + offset[0], node.position[1] + offset[1]),
                                  node.title, node.comment))
    edges = [Edge(renamed[e.source], e.source_port, renamed[e.target], e.target_port)
             for e in part.edges]
    return nodes, edges
