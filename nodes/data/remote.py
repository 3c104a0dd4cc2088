"""Remote files for the file nodes: ``https://``, ``s3://``, ``gs://`` paths through fsspec.

A remote path is fetched once per run into a temporary local file while its
SHA-256 is taken from the bytes as they arrive; the node then reads that
copy like any local file, and the run's lineage records the URL and the
content's digest. The cache key asks the store for the object's version tag
where it gives one (an HTTP ``ETag``, S3's ``ETag``, GCS's generation or
MD5), so a re-run with an unchanged remote file reads nothing; a store that
gives none is fetched to hash its content.

Only whole-object stores are accepted: chained URLs (``simplecache::...``,
``zip://...::...``) and the local-file protocols would read local files
round the run's file rules, so they are refused with the fix named.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nodes.digest import stable_digest
from nodes.errors import NodeInputError

#: Protocols a 'path' parameter may name, and the extra that brings each one's package.
PROTOCOLS = {"http": "http", "https": "http", "s3": "s3", "s3a": "s3", "gs": "gcs",
             "gcs": "gcs", "memory": None}
_PACKAGES = {"http": "aiohttp", "s3": "s3fs", "gcs": "gcsfs"}
#: Fields of an object's info that change whenever its content does, by store.
_VERSION_FIELDS = ("ETag", "etag", "generation", "md5Hash", "VersionId", "Content-MD5")
_CHUNK = 1 << 20
#: A URL's scheme, chained ones included ("simplecache::https"), which are then refused.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*(::[A-Za-z][A-Za-z0-9+.\-]*)*")


def is_remote(path: str) -> bool:
    """True when ``path`` names a URL rather than a local file ("C:\\..." is local)."""
    scheme, sep, _ = path.partition("://")
    return bool(sep) and len(scheme) > 1 and _SCHEME.fullmatch(scheme) is not None


@dataclass(frozen=True)
class Fetched:
    """A remote file copied to ``local`` (removed when the block ends)."""

    url: str
    local: Path
    sha256: str
    size: int


def _filesystem(node: str, url: str) -> Any:
    scheme = url.partition("://")[0].lower()
    if "::" in url or scheme not in PROTOCOLS:
        known = ", ".join(f"{p}://" for p in PROTOCOLS)
        raise NodeInputError(
            node, f"the path '{url}' uses {scheme}://, which Axon Studio does not read.",
            fix=f"Give a local path or a URL starting with one of {known} "
                "(chained URLs with '::' are not accepted).")
    import fsspec

    try:
        return fsspec.filesystem(scheme)
    except ImportError:
        extra = PROTOCOLS[scheme]
        package = _PACKAGES.get(extra or "", "the package")
        raise NodeInputError(
            node, f"reading {scheme}:// paths needs {package}, which is not installed.",
            fix=f"Install it with: pip install 'axon-studio[{extra}]'") from None


def _missing(node: str, url: str, error: BaseException) -> NodeInputError:
    return NodeInputError(
        node, f"cannot read '{url}': {type(error).__name__}: {error}",
        fix="Check the URL, that the file exists there and that this machine can reach it "
            "(credentials for s3:// and gs:// come from the usual environment variables "
            "or configuration files of those stores).")


def remote_version(node: str, url: str) -> str | None:
    """A digest that changes whenever the remote file does, for the cache key: the
    store's version tag, or (a store that gives none) the content's SHA-256.
    None when the file cannot be reached now (the run will say why)."""
    try:
        info = _filesystem(node, url).info(url)
    except Exception:  # noqa: BLE001 -- refused, missing package or store error: the run says
        return None
    for field in _VERSION_FIELDS:
        if info.get(field):
            return stable_digest(["remote", url, field, str(info[field]), info.get("size")])
    try:
        with fetched(node, url) as copy:
            return copy.sha256
    except NodeInputError:
        return None


@contextlib.contextmanager
def fetched(node: str, url: str) -> Iterator[Fetched]:
    """Copy ``url`` to a temporary file, hashing it on the way; the copy is removed
    when the block ends. Errors name the node, the URL and the fix."""
    filesystem = _filesystem(node, url)
    digest = hashlib.sha256()
    size = 0
    suffix = Path(url.rpartition("/")[2]).suffix[:16]
    handle, name = tempfile.mkstemp(prefix="axon-remote-", suffix=suffix)
    local = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            try:
                with filesystem.open(url, "rb") as source:
                    while chunk := source.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
            except Exception as error:  # noqa: BLE001 -- OSError and the stores' own errors
                raise _missing(node, url, error) from None
        yield Fetched(url, local, digest.hexdigest(), size)
    finally:
        local.unlink(missing_ok=True)
