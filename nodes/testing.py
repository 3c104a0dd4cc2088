"""A harness to test a node with no canvas and no executor.

    outputs = run_node(SplitData, {"fraction": 0.8}, data=table)
    train = outputs["train"]

Parameters are validated exactly as in a workflow; progress reports are
collected on the returned harness when you need them (``NodeHarness``). The
harness trusts code-running nodes (a test is code its author wrote) and lets
nodes write where ``files`` allows (default: the working directory).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nodes.context import RunContext, derive_seed
from nodes.file_access import FileAccess
from nodes.node import Node


class NodeHarness:
    """Build a node, feed it inputs, read its outputs and what it reported."""

    def __init__(self, node_type: type[Node], params: Mapping[str, Any] | None = None, *,
                 node_id: str = "node", run_seed: int = 0,
                 files: FileAccess | None = None, trusted: bool = True) -> None:
        self.node = node_type(params or {}, label=node_type.title)
        self.progress: list[tuple[float, str]] = []
        self.context = RunContext(node_id=node_id, node_title=node_type.title,
                                  seed=derive_seed(run_seed, node_id),
                                  on_progress=lambda f, m: self.progress.append((f, m)),
                                  trusted=trusted, files=files or FileAccess())

    def run(self, **inputs: Any) -> dict[str, Any]:
        return self.node.execute(self.context, inputs)


def run_node(node_type: type[Node], params: Mapping[str, Any] | None = None,
             **inputs: Any) -> dict[str, Any]:
    """Run one node on ``inputs`` and return its outputs by port name."""
    return NodeHarness(node_type, params).run(**inputs)
