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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nodes.context import RunContext
from nodes.data.remote import fetched, is_remote, remote_version
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


@dataclass(frozen=True)
class SourceFile:
    """The file a node reads: ``local`` is where to read it (a temporary copy for a
    URL), ``source`` what the lineage names (the absolute path, or the URL)."""

    local: Path
    name: str
    source: str
    sha256: str
    remote: bool
    outside_allowed_folders: bool


@contextlib.contextmanager
def source_file(ctx: RunContext, node: str, path: str) -> Iterator[SourceFile]:
    """The file named by a 'path' parameter, local or remote (https://, s3://, gs://;
    see nodes.data.remote), ready to read within the block; errors name the node."""
    if is_remote(path):
        with fetched(node, path) as copy:
            name = path.rstrip("/").rpartition("/")[2] or path
            yield SourceFile(copy.local, name, path, copy.sha256, True, False)
        return
    resolved = existing_file(node, path)
    yield SourceFile(resolved, resolved.name, str(resolved), file_digest(resolved), False,
                     note_outside_read(ctx, resolved))


def local_path(params: Mapping[str, Any]) -> Path | None:
    """The resolved local file of a 'path' parameter; None when it is empty or a URL."""
    path = str(params.get("path", ""))
    if not path or is_remote(path):
        return None
    return resolve_path(path)


class ReadsFile:
    """Mixin of nodes that read the file named by their 'path' parameter: the
    file's content digest (a remote file's version tag) joins their cache key, so
    an edited file re-runs them."""

    @classmethod
    def source_digest(cls, params: Mapping[str, Any]) -> str | None:
        path = str(params.get("path", ""))
        if is_remote(path):
            return remote_version(getattr(cls, "title", "file node"), path)
        resolved = resolve_path(path)
        return file_digest(resolved) if resolved.is_file() else None
