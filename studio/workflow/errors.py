"""Errors of the workflow document: refused edits and files that do not load."""

from __future__ import annotations

from dataclasses import dataclass

from nodes.errors import StudioError


class WorkflowEditError(StudioError):
    """An edit the model refuses; one subclass per kind of refusal.

    ``reason`` is the refusal in a few words, for a status bar or a tooltip
    at the port; ``node`` and ``port`` locate it (the node id and port name
    most concerned, when there is one). The GUI and the CLI read these
    fields; they never parse the message.
    """

    def __init__(self, reason: str, *, node: str | None = None, port: str | None = None,
                 fix: str | None = None, message: str | None = None) -> None:
        self.reason = reason
        self.node = node
        self.port = port
        super().__init__(message or reason, fix=fix)


class UnknownNodeError(WorkflowEditError):
    """An id (or title) that names no node of the workflow."""


class NodeIdError(WorkflowEditError):
    """A node id that is malformed or already taken."""


class AmbiguousTitleError(WorkflowEditError):
    """A title that several nodes share, used where one node was meant."""


class UnknownPortError(WorkflowEditError):
    """A port name the node type does not have."""


class PortTypeError(WorkflowEditError):
    """An output whose type the input does not take."""

    def __init__(self, reason: str, *, source_type: str, target_type: str,
                 **kwargs: object) -> None:
        self.source_type = source_type
        self.target_type = target_type
        super().__init__(reason, **kwargs)  # type: ignore[arg-type]


class InputTakenError(WorkflowEditError):
    """A second wire into an input that takes one; ``existing`` is the wire there."""

    def __init__(self, reason: str, *, existing: object, **kwargs: object) -> None:
        self.existing = existing
        super().__init__(reason, **kwargs)  # type: ignore[arg-type]


class DuplicateWireError(WorkflowEditError):
    """A wire that is already there."""


class CycleError(WorkflowEditError):
    """A wire that would make the workflow feed itself."""


class UnknownWireError(WorkflowEditError):
    """A wire to remove that does not exist."""


class UnknownAnnotationError(WorkflowEditError):
    """A note id that names no note."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a workflow, located as precisely as we can."""

    message: str
    node: str | None = None
    where: str | None = None  # "line 3, column 5", "nodes[2].params", "edge n1.data -> n2.x"
    fix: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.where:
            parts.append(f"{self.where}: ")
        parts.append(self.message)
        if self.fix:
            parts.append(f" Fix: {self.fix}")
        return "".join(parts)


class WorkflowFileError(StudioError):
    """A workflow file that cannot be loaded; lists every problem found."""

    def __init__(self, path: str, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"Cannot load workflow '{path}' ({len(problems)} problem"
                         f"{'s' if len(problems) != 1 else ''}):\n{lines}")


class WorkflowInvalidError(StudioError):
    """A workflow that loads but cannot run as it is (reported before running)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"The workflow cannot run ({len(problems)} problem"
                         f"{'s' if len(problems) != 1 else ''}):\n{lines}")
