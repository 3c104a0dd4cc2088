"""Errors of publishing and serving, each the user's to fix."""

from __future__ import annotations

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
            where.append(f"column '{column}'")
        prefix = (", ".join(where) + ": ") if where else ""
        super().__init__(prefix + message, fix=fix)
