"""Paths given as node parameters: resolved the same way by every file node.

A relative path starts at the workflow file's folder (or, for a workflow
with no file yet, and for files saved before schema 2 that said so, at the
working directory). The engine says which folder while it computes cache
keys and runs nodes (``paths_relative_to``), so a node's ``run``,
``source_digest`` and ``known_output_columns`` all resolve alike.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from nodes.context import RunContext
from nodes.digest import file_digest
from nodes.errors import NodeInputError

_base: ContextVar[Path | None] = ContextVar("axon_path_base", default=None)


@contextlib.contextmanager
def paths_relative_to(folder: Path | None) -> Iterator[None]:
    """Within this block, relative parameter paths start at ``folder`` (None: the
    working directory)."""
    token = _base.set(folder)
    try:
        yield
    finally:
        _base.reset(token)


def base_folder() -> Path:
    """Where relative parameter paths start now."""
    return _base.get() or Path.cwd()


def resolve_path(path: str) -> Path:
    """A parameter path as an absolute path (relative ones start at ``base_folder``)."""
    return (base_folder() / Path(path).expanduser()).resolve()


def existing_file(node: str, path: str) -> Path:
    """The resolved file, or a NodeInputError naming it and saying what is wrong."""
    resolved = resolve_path(path)
    if not resolved.is_file():
        state = "is a folder, not a file" if resolved.is_dir() else "does not exist"
        raise NodeInputError(
            node, f"the file '{path}' ({resolved}) {state}.",
            fix=f"Correct the 'path' parameter; relative paths start at {base_folder()} "
                "(the workflow file's folder).")
    return resolved


def note_outside_read(ctx: RunContext, path: Path) -> bool:
    """Warn (and return True) when ``path`` lies outside the run's folders, so the
    run record and the node's badge say that the workflow read from there."""
    if not ctx.files.outside(path):
        return False
    ctx.warn(f"read {path}, which is outside the workflow's folder and the folders this "
             "run allows")
    return True


class ReadsFile:
    """Mixin of nodes that read the file named by their 'path' parameter: the
    file's content digest joins their cache key, so an edited file re-runs them."""

    @classmethod
    def source_digest(cls, params: Mapping[str, Any]) -> str | None:
        path = resolve_path(str(params.get("path", "")))
        return file_digest(path) if path.is_file() else None
