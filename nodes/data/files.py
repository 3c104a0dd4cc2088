"""Paths given as node parameters: resolved the same way by every file node."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nodes.context import RunContext
from nodes.digest import file_digest
from nodes.errors import NodeInputError


def resolve_path(path: str) -> Path:
    """A parameter path as an absolute path; relative ones start at the working directory."""
    return (Path.cwd() / Path(path).expanduser()).resolve()


def existing_file(node: str, path: str) -> Path:
    """The resolved file, or a NodeInputError naming it and saying what is wrong."""
    resolved = resolve_path(path)
    if not resolved.is_file():
        state = "is a folder, not a file" if resolved.is_dir() else "does not exist"
        raise NodeInputError(
            node, f"the file '{path}' ({resolved}) {state}.",
            fix=f"Correct the 'path' parameter; relative paths start at {Path.cwd()}.")
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
