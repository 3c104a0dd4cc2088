"""Errors of the workflow document: refused edits and files that do not load."""

from __future__ import annotations

from dataclasses import dataclass

from nodes.errors import StudioError


class WorkflowEditError(StudioError):
    """An edit the model refuses (cycle, incompatible ports, unknown port...)."""


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
