"""Errors of publishing and serving, each the user's to fix."""

from __future__ import annotations

from typing import Any

from nodes.errors import StudioError


class PrepareError(StudioError):
    """A training workflow that cannot be turned into a scoring pipeline."""


class BundleError(StudioError):
    """A service bundle that cannot be written or loaded (tampered, incomplete, foreign)."""

    def __init__(self, folder: str, problems: list[str], *, fix: str | None = None) -> None:
        self.folder = folder
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"The service bundle '{folder}' is refused ({len(problems)} problem"
                         f"{'s' if len(problems) != 1 else ''}):\n{lines}", fix=fix)


class RequestDataError(StudioError):
    """A request whose rows do not fit the service's input schema.

    ``column`` and ``row`` (0-based, in the order sent) locate the problem
    when it has a place.
    """

    def __init__(self, message: str, *, column: str | None = None, row: int | None = None,
                 fix: str | None = None) -> None:
        self.column = column
        self.row = row
        where = []
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {quoted(column)}")
        prefix = (", ".join(where) + ": ") if where else ""
        super().__init__(prefix + message, fix=fix)


class ServiceError(StudioError):
    """A request the service answers with an error status (400, 401, 404, 413...).

    ``code`` is the classic services' error code (``BadArgument``,
    ``Unauthorized``...); ``details`` locate the problem when it has a place.
    """

    def __init__(self, status: int, code: str, message: str, *,
                 details: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None, fix: str | None = None) -> None:
        self.status, self.code = status, code
        self.details = details or []
        self.headers = headers
        super().__init__(message, fix=fix)


def quoted(name: str) -> str:
    """A column name in a message: 'name', or its escaped form when it holds
    characters that cannot be shown (control characters, lone surrogates)."""
    if name.isprintable() and len(name) <= 200:
        return f"'{name}'"
    return ascii(name[:200]) + ("..." if len(name) > 200 else "")
