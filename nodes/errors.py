"""Errors a user can cause, one type per kind of mistake.

Each carries the node, port, parameter or column it concerns and a fix, so
the CLI and the GUI can say exactly what is wrong without a traceback.
"""

from __future__ import annotations


class StudioError(Exception):
    """Base of every error that is the user's to fix (not a bug of ours)."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if self.fix:
            return f"{self.message} Fix: {self.fix}"
        return self.message


class ParameterError(StudioError):
    """A parameter value that the node does not accept."""

    def __init__(
        self,
        node: str,
        parameter: str,
        value: object,
        allowed: str,
        *,
        fix: str | None = None,
    ) -> None:
        self.node = node
        self.parameter = parameter
        self.value = value
        self.allowed = allowed
        super().__init__(
            f"Node '{node}': parameter '{parameter}' has value {value!r}, but {allowed}.",
            fix=fix,
        )


class PortError(StudioError):
    """A port that does not exist or cannot take the connection asked for."""

    def __init__(self, message: str, *, node: str | None = None, port: str | None = None,
                 fix: str | None = None) -> None:
        self.node = node
        self.port = port
        super().__init__(message, fix=fix)


class NodeInputError(StudioError):
    """The data reaching a node cannot be used by it (missing column, NaNs...)."""

    def __init__(self, node: str, message: str, *, port: str | None = None,
                 columns: list[str] | None = None, fix: str | None = None) -> None:
        self.node = node
        self.port = port
        self.columns = list(columns or [])
        where = f"Node '{node}'" + (f", input '{port}'" if port else "")
        super().__init__(f"{where}: {message}", fix=fix)


class UnknownNodeTypeError(StudioError):
    """A type id that no installed node type has."""

    def __init__(self, type_id: str, suggestions: list[str]) -> None:
        self.type_id = type_id
        self.suggestions = suggestions
        hint = (
            "Did you mean " + ", ".join(repr(s) for s in suggestions) + "?"
            if suggestions
            else "Run 'studio nodes' to list the installed node types."
        )
        super().__init__(f"Unknown node type '{type_id}'.", fix=hint)


class RunCancelled(Exception):
    """Raised inside a node when the user cancelled the run (not an error)."""
