"""API keys: generated at export, stored only as SHA-256 digests, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from pathlib import Path

from studio.serve.errors import BundleError


def new_api_key() -> str:
    """A fresh random key (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


def key_digest(key: str) -> str:
    # A plain SHA-256 suffices: keys are 256-bit random, not guessable passwords.
    return hashlib.sha256(key.encode()).hexdigest()


class KeyChecker:
    """Accepts a request whose ``Authorization: Bearer <key>`` matches one of the digests."""

    def __init__(self, digests: Iterable[str]) -> None:
        self.digests = [d.lower() for d in digests]

    def accepts(self, authorization: str | None) -> bool:
        if not authorization:
            return False
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return False
        presented = key_digest(key.strip())
        matched = False
        for digest in self.digests:  # no early exit: the time does not tell which one
            matched |= hmac.compare_digest(presented, digest)
        return matched


def read_key_file(path: str | Path) -> list[str]:
    """The keys in a file, one per line ('#' starts a comment); their digests."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise BundleError(str(path), [f"cannot read the API key file: {error}"]) from None
    keys = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    if not keys:
        raise BundleError(str(path), ["the API key file holds no key"],
                          fix="Write one key per line.")
    return [key_digest(k) for k in keys]
