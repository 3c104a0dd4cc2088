"""Where a running node may read and write files.

A run has a few folders it may write to: the workflow file's folder (or
the working directory for a workflow that has no file yet), the run's
``--out`` folder, and folders the user allowed (the workflow setting
``allowed_paths``, ``studio run --allow-path``). Nodes that write (Export
Data) ask :meth:`FileAccess.check_write` first, which also refuses, in any
folder, what would let a file run code later: Python's own folders
(site-packages, where a ``.pth`` file runs at every start), Axon Studio's
own packages, executables, and names that do not end with the format's
suffix. Nodes that read may read anywhere the user can, but a read outside
those folders (and the shipped sample data) is reported: the node warns and
the run record's lineage marks it (:meth:`FileAccess.outside`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import site
import stat
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nodes.errors import NodeInputError

#: The workflow setting that says where relative paths start: absent (the
#: workflow file's folder) or "working_directory" (files saved before schema 2).
RELATIVE_PATHS = "relative_paths"


@dataclass(frozen=True)
class FileAccess:
    """The folders of one run. ``base`` is where relative paths start (None:
    the working directory); ``write_roots`` the folders nodes may write under
    (empty: ``base``); ``read_roots`` extra folders reads are expected from."""

    base: Path | None = None
    write_roots: tuple[Path, ...] = ()
    read_roots: tuple[Path, ...] = ()

    @classmethod
    def for_run(cls, workflow_path: str | os.PathLike[str] | None = None, *,
                allowed: Iterable[str | os.PathLike[str]] = (),
                out_dir: str | os.PathLike[str] | None = None,
                relative_to_workflow: bool = True) -> FileAccess:
        """The folders of a run of the workflow saved at ``workflow_path``.

        Relative parameter paths start at the workflow's folder (the working
        directory for a workflow with no file, or with ``relative_to_workflow``
        off: files saved before schema 2). ``allowed`` folders are relative to
        the workflow's folder (or the working directory); ``out_dir`` is the
        run's output folder.
        """
        folder = (Path(workflow_path).resolve().parent if workflow_path
                  else Path.cwd().resolve())
        roots = [folder]
        roots += [(folder / Path(p).expanduser()).resolve() for p in allowed]
        if out_dir is not None:
            roots.append(Path(out_dir).expanduser().resolve())
        base = folder if workflow_path and relative_to_workflow else None
        return cls(base=base, write_roots=tuple(dict.fromkeys(roots)))

    @classmethod
    def for_workflow(cls, workflow: Any, *, allowed: Iterable[str | os.PathLike[str]] = (),
                     out_dir: str | os.PathLike[str] | None = None,
                     workflow_path: str | os.PathLike[str] | None = None) -> FileAccess:
        """``for_run`` for a Workflow: its file (``workflow.path``), its setting
        ``allowed_paths`` and whether its relative paths start at its folder."""
        extra = workflow.info.extra
        return cls.for_run(workflow_path or workflow.path,
                           allowed=[*extra.get("allowed_paths", []), *allowed], out_dir=out_dir,
                           relative_to_workflow=extra.get(RELATIVE_PATHS) != "working_directory")

    # -- paths --------------------------------------------------------------
    def resolve(self, path: str) -> Path:
        """A parameter path as an absolute path (symlinks resolved)."""
        base = self.base if self.base is not None else Path.cwd()
        return (base / Path(path).expanduser()).resolve()

    def writable_roots(self) -> tuple[Path, ...]:
        if self.write_roots:
            return self.write_roots
        return ((self.base or Path.cwd()).resolve(),)

    def outside(self, path: Path) -> bool:
        """True when a file read at ``path`` lies outside this run's folders."""
        roots = (*self.writable_roots(), *self.read_roots, *_shipped_data())
        return not any(_within(path, root) for root in roots)

    def check_write(self, node: str, parameter: str, path: str,
                    suffixes: tuple[str, ...]) -> Path:
        """The resolved file ``path`` that ``node`` may write, or a NodeInputError
        naming the parameter, why not, and the fix."""
        target = self.resolve(path)
        if target.suffix.lower() not in suffixes:
            raise NodeInputError(
                node, f"parameter '{parameter}' is {path!r}, which does not end with "
                f"{' or '.join(suffixes)}.",
                fix=f"Name the file with the format's suffix, e.g. data{suffixes[0]}.")
        reason = protected_reason(target)
        if reason:
            raise NodeInputError(
                node, f"'{path}' ({target}) is {reason}; no node writes there.",
                fix="Write the file into the workflow's folder, or another folder of yours.")
        if target.is_symlink() or (target.exists() and not target.is_file()):
            raise NodeInputError(node, f"'{target}' exists and is not a plain file.",
                                 fix="Choose another file name.")
        roots = self.writable_roots()
        if not any(_within(target, root) for root in roots):
            listed = ", ".join(str(r) for r in roots)
            raise NodeInputError(
                node, f"'{path}' ({target}) is outside the folders this run may write to "
                f"({listed}).",
                fix="Write under one of them, or allow the folder: the workflow setting "
                    "'allowed_paths', or studio run --allow-path DIR.")
        return target


def protected_reason(path: Path) -> str | None:
    """Why nothing may be written at ``path`` (None: it is an ordinary place)."""
    for folder, what in _protected_folders():
        if _within(path, folder):
            return f"inside {what} ({folder})"
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) and mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH):
        return "an executable file"
    return None


@functools.cache
def _protected_folders() -> tuple[tuple[Path, str], ...]:
    folders: list[tuple[Path, str]] = []
    python = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    for key in ("purelib", "platlib", "stdlib", "scripts"):
        path = sysconfig.get_paths().get(key)
        if path:
            python.add(path)
    with contextlib.suppress(AttributeError):  # some virtualenv builds lack it
        python.update(site.getsitepackages())
    user_site = site.getusersitepackages()
    if isinstance(user_site, str):
        python.add(user_site)
    for path in sorted(python):
        folders.append((Path(path).resolve(), "Python's own folders"))
    import nodes

    project = Path(nodes.__file__).resolve().parent.parent
    for package in ("studio", "nodes", "sample_datasets"):
        folders.append((project / package, "Axon Studio's own files"))
    return tuple(folders)


@functools.cache
def _shipped_data() -> tuple[Path, ...]:
    from sample_datasets import DATA_DIR

    return (Path(DATA_DIR).resolve(),)


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents
