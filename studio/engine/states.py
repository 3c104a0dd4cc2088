"""The states a node goes through, as the CLI and the GUI show them."""

from __future__ import annotations

from enum import StrEnum


class NodeState(StrEnum):
    """Where a node stands in the current workflow and run."""

    NOT_RUN = "not run"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    CACHED = "cached"  # done, with the result taken from the cache
    FAILED = "failed"
    SKIPPED = "skipped"  # an upstream node failed
    CANCELLED = "cancelled"  # the run was cancelled while this node ran or waited
    OUTDATED = "outdated"  # params or inputs changed since its result was computed

    @property
    def finished(self) -> bool:
        return self in (NodeState.DONE, NodeState.CACHED)
