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
            f"Node '{node}': parameter '{parameter}' has value {short_repr(value)}, but "
            f"{allowed}.", fix=fix)


class MissingDependencyError(StudioError):
    """An optional package a node needs is not installed (the fix names the extra)."""


class UntrustedCodeError(StudioError):
    """A node would run code stored in a file that the user has not trusted."""

    def __init__(self, node: str) -> None:
        self.node = node
        super().__init__(f"Node '{node}' runs code stored in the workflow file, and that code "
                         "has not been trusted.",
                         fix="Read the code; if you trust it, allow it explicitly (studio run "
                             "--trust, the app's prompt, or Workflow.trust()).")


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


def short_repr(value: object, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters, for messages about bad input
    (a 5,000-digit number or a megabyte of text must not become the message)."""
    try:
        text = repr(value)
    except ValueError:  # an integer with more digits than Python prints
        return f"<a whole number of about {int(value.bit_length() * 0.30103)} digits>" \
            if isinstance(value, int) else f"<a {type(value).__name__}>"
    except RecursionError:
        return f"<a deeply nested {type(value).__name__}>"
    if len(text) > limit:
        return f"{text[:limit - 20]}... ({len(text):,} characters)"
    return text
