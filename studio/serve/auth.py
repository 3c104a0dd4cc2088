"""API keys: generated at export, stored only as SHA-256 digests, compared in constant time,
reloaded from ``--api-key-file`` on SIGHUP without a restart."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Iterable
from pathlib import Path

from studio.serve.errors import BundleError

log = logging.getLogger("axon.serve")


def new_api_key() -> str:
    """A fresh random key (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


def key_digest(key: str) -> str:
    # A plain SHA-256 suffices: keys are 256-bit random, not guessable passwords.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class KeyRing:
    """The keys a service accepts: those of a key file (reloadable) or of the bundle,
    plus any given for this session (``start_server(api_key=...)``)."""

    def __init__(self, digests: Iterable[str], *, key_file: Path | None = None,
                 session: Iterable[str] = ()) -> None:
        self.key_file = Path(key_file) if key_file else None
        self._session = tuple(d.lower() for d in session)
        self._digests = tuple(d.lower() for d in digests) + self._session
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        return len(self._digests)

    def accepts(self, authorization: str | None) -> bool:
        """True for ``Authorization: Bearer <key>`` with one of the keys."""
        if not authorization:
            return False
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return False
        return self.accepts_key(key.strip())

    def accepts_basic(self, authorization: str | None) -> bool:
        """True for ``Authorization: Basic`` whose password is one of the keys (a browser
        opening /docs answers the Basic challenge; the user name is ignored)."""
        if not authorization:
            return False
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return self.accepts_key(decoded.partition(":")[2])

    def accepts_key(self, key: str) -> bool:
        if not key:
            return False
        presented = key_digest(key)
        matched = False
        for digest in self._digests:  # no early exit: the time does not tell which one
            matched |= hmac.compare_digest(presented, digest)
        return matched

    def reload(self) -> tuple[bool, str]:
        """Read the key file again (SIGHUP). On any problem the keys stay as they were.

        Returns (reloaded, what happened). Requests being answered keep going:
        the new set replaces the old one in a single assignment.
        """
        if self.key_file is None:
            return False, "no --api-key-file: the bundle's keys stay"
        try:
            digests = read_key_file(self.key_file)
        except BundleError as error:
            return False, f"keys unchanged: {error.problems[0]}"
        with self._lock:
            self._digests = tuple(digests) + self._session
        return True, f"{len(digests)} key(s) from {self.key_file}"


def read_key_file(path: str | Path) -> list[str]:
    """The keys in a file, one per line ('#' starts a comment); their digests."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise BundleError(str(path), [f"cannot read the API key file: {error}"]) from None
    keys = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    if not keys:
        raise BundleError(str(path), ["the API key file holds no key"],
                          fix="Write one key per line.")
    return [key_digest(k) for k in keys]
