"""Signed bundles: Ed25519 signatures over the manifest, which pins every file's digest.

    studio keys new alice          # alice (private, mode 600) and alice.pub
    studio export W --out B --sign-key alice
    studio serve B --trust-key alice.pub

The signature covers the exact bytes of ``manifest.json``; the manifest
holds the SHA-256 of every other file of the bundle, so one signature
pins them all. It is stored beside the manifest in ``manifest.sig``
(JSON: the algorithm, the signer's key id and the signature). Per-file
digests alone catch accidents; anyone who can edit a file can also
rewrite its digest, but not sign the new manifest without the private key.

Keys are PEM files (PKCS#8 private keys, SubjectPublicKeyInfo public
keys) as ``cryptography`` writes them; OpenSSH Ed25519 keys
(``ssh-ed25519 AAAA...``) are read too. A key's id is the first 16 hex
digits of the SHA-256 of its 32 raw public bytes.

Each user has one key pair of their own, ``user_key_pair()``: the app's
Publish signs with it (making it at the first publish) and trusts its public
half for the local service it starts; ``studio keys new`` with no name makes
it and ``studio keys show`` prints it. It lives in ``keys/`` of the user's
config folder (platformdirs, so ``XDG_CONFIG_HOME`` moves it), or in
``AXON_STUDIO_KEYS_DIR``.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import os
import stat
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from nodes.errors import StudioError

SIGNATURE_FILE = "manifest.sig"
SIGNATURE_FORMAT = "axon-studio-manifest-signature"
ALGORITHM = "Ed25519"
#: Signed together with the manifest, so a signature made for anything else
#: with the same key can never pass for a bundle's.
_DOMAIN = b"axon-studio service bundle manifest, version 1\n"
_MAX_KEY_FILE = 64 * 1024
#: Moves the user's own key pair (tests set it; so may someone with a roaming home).
ENV_KEYS_DIR = "AXON_STUDIO_KEYS_DIR"
USER_KEY_NAME = "signing-key"


class KeyFileError(StudioError):
    """A signing or trusted key file that cannot be used (missing, malformed, exposed)."""

    def __init__(self, path: str | Path, problem: str, *, fix: str | None = None) -> None:
        self.path = str(path)
        super().__init__(f"The key file '{path}' {problem}", fix=fix)


@dataclass(frozen=True)
class TrustedKey:
    """A public key whose signatures ``studio serve`` accepts, and where it came from."""

    key: Ed25519PublicKey
    source: str

    @property
    def key_id(self) -> str:
        return key_id(self.key)

    def pem(self) -> str:
        return public_pem(self.key)


@dataclass(frozen=True)
class Verification:
    """How a bundle's manifest was found trustworthy (or that it was not checked)."""

    signed_by: str | None  # the signer's key id, when a signature was verified
    note: str  # one line for the log: who signed, or why it was allowed unsigned


def key_id(public_key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of the SHA-256 of the key's raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()


# -- key files ------------------------------------------------------------------

def new_key_pair(private_path: str | Path) -> tuple[Path, Path, str]:
    """Write a new Ed25519 key pair: ``private_path`` (mode 600) and ``private_path.pub``.

    Refuses to overwrite either file. Returns both paths and the key id. The
    private key appears whole or not at all (written aside, then linked into
    place), so a process that finds the file can always read it.
    """
    private_path = Path(private_path)
    public_path = public_key_path(private_path)
    for path in (private_path, public_path):
        if path.exists():
            raise _already_exists(path)
    private_key = Ed25519PrivateKey.generate()
    private_bytes = private_key.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption())
    try:
        descriptor, staged = tempfile.mkstemp(prefix=f".{private_path.name}.",
                                              dir=private_path.parent)  # mode 600
    except OSError as error:
        raise KeyFileError(private_path, f"cannot be written: {error.strerror}.") from None
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(private_bytes)
            stream.flush()
            os.fsync(stream.fileno())
        _link_new(staged, private_path, private_bytes)
    finally:
        os.unlink(staged)
    _write_public(public_path, private_key)
    return private_path, public_path, key_id(private_key.public_key())


def _already_exists(path: Path) -> KeyFileError:
    return KeyFileError(path, "already exists.",
                        fix="Choose another name; an existing key is never replaced.")


def _link_new(staged: str, path: Path, data: bytes) -> None:
    """Give ``staged`` the name ``path``, never replacing a file of that name."""
    try:
        os.link(staged, path)  # fails if the name was taken meanwhile
        return
    except FileExistsError:
        raise _already_exists(path) from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise KeyFileError(path, f"cannot be written: {error.strerror}.") from None
    # No hard links on this file system (FAT, say): create the name exclusively instead.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise _already_exists(path) from None
    except OSError as error:
        raise KeyFileError(path, f"cannot be written: {error.strerror}.") from None
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(data)


def public_key_path(private_path: str | Path) -> Path:
    """Where the public half of the key in ``private_path`` is kept: NAME.pub beside it."""
    private_path = Path(private_path)
    return private_path.with_name(private_path.name + ".pub")


def _write_public(public_path: Path, private_key: Ed25519PrivateKey) -> None:
    """Write (or write again) the public half; readers see the old file or the new one."""
    staged = public_path.with_name(
        f".{public_path.name}.{os.getpid()}.{threading.get_ident()}")
    try:
        staged.write_text(public_pem(private_key.public_key()), encoding="ascii")
        os.replace(staged, public_path)
    except OSError as error:
        staged.unlink(missing_ok=True)
        raise KeyFileError(public_path, f"cannot be written: {error.strerror}.") from None


# -- the user's own key pair ----------------------------------------------------

@dataclass(frozen=True)
class UserKeyPair:
    """The user's own signing key (the app's Publish signs with it) and its public half."""

    private_path: Path
    public_path: Path
    private_key: Ed25519PrivateKey = field(repr=False)
    trusted: TrustedKey  # the public half, as read back from ``public_path``
    created: bool  # made by this call

    @property
    def key_id(self) -> str:
        return self.trusted.key_id


def user_keys_dir() -> Path:
    """``AXON_STUDIO_KEYS_DIR``, else ``keys`` in the user's config folder."""
    override = os.environ.get(ENV_KEYS_DIR)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir("axon-studio")) / "keys"


def user_key_path() -> Path:
    """The file of the user's own private key (its public half is beside it, ``.pub``)."""
    return user_keys_dir() / USER_KEY_NAME


def user_key_pair(*, create: bool = True) -> UserKeyPair:
    """The user's own key pair, made first (``create``) when there is none yet.

    The public file is checked to be the private key's own half, since a
    server that trusts it would otherwise refuse every bundle signed here;
    a missing public file (an interrupted first run) is written again.
    """
    private_path = user_key_path()
    public_path = public_key_path(private_path)
    created = False
    if not private_path.exists():
        if not create:
            raise KeyFileError(private_path, "does not exist: you have no signing key yet.",
                               fix="Make it with 'studio keys new' (no name), or publish "
                                   "once from the app, which makes it.")
        if public_path.exists():
            raise KeyFileError(public_path, f"is there without its private key "
                                            f"'{private_path}'.",
                               fix=f"Put the private key back, or move '{public_path}' "
                                   "away (servers that trust it must then be given the "
                                   "new public key).")
        try:
            private_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as error:
            raise KeyFileError(private_path, f"cannot be written: {error.strerror}.") from None
        try:
            new_key_pair(private_path)
            created = True
        except KeyFileError:
            if not private_path.exists():
                raise
            # Another process (a second window publishing) made it first: use that one.
    private_key = load_signing_key(private_path)
    if not public_path.exists():
        _write_public(public_path, private_key)
    trusted = load_trusted_keys([public_path])[0]
    expected = key_id(private_key.public_key())
    if trusted.key_id != expected:
        raise KeyFileError(public_path, f"holds key {trusted.key_id}, not the public half of "
                                        f"'{private_path}' (key {expected}).",
                           fix=f"Delete '{public_path}': it is written again from the "
                               "private key.")
    return UserKeyPair(private_path, public_path, private_key, trusted, created)


def load_signing_key(path: str | Path) -> Ed25519PrivateKey:
    """The private key in ``path``; refused when other users may read it."""
    path = Path(path)
    data = _read_key_file(path)
    mode = path.stat().st_mode
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(path, f"can be read by other users (mode {stat.S_IMODE(mode):o}).",
                           fix=f"Run 'chmod 600 {path}'.")
    key = None
    try:
        if data.lstrip().startswith(b"-----BEGIN OPENSSH PRIVATE KEY"):
            key = serialization.load_ssh_private_key(data, password=None)
        else:
            key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise KeyFileError(path, "is protected by a passphrase.",
                           fix="Use a key made by 'studio keys new' (mode 600, no "
                               "passphrase).") from None
    except (ValueError, UnsupportedAlgorithm):
        pass
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(path, "does not hold an Ed25519 private key.",
                           fix="Make one with 'studio keys new NAME'.")
    return key


def load_trusted_keys(paths: Iterable[str | Path]) -> list[TrustedKey]:
    """The public keys in ``paths`` (PEM or OpenSSH ``ssh-ed25519`` lines)."""
    return [TrustedKey(_public_key(Path(path)), str(path)) for path in paths]


def trusted_key_from_pem(pem: str, source: str) -> TrustedKey:
    """A trusted key given as PEM text (how worker processes receive them)."""
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(source, "does not hold an Ed25519 public key.")
    return TrustedKey(key, source)


def _public_key(path: Path) -> Ed25519PublicKey:
    data = _read_key_file(path)
    if b"PRIVATE KEY" in data:
        raise KeyFileError(path, "is a private key; a server needs only the public one.",
                           fix=f"Give '{path}.pub' (written beside it by 'studio keys new'), "
                               "and keep the private key off the server.")
    key = None
    try:
        if data.lstrip().startswith(b"ssh-"):
            key = serialization.load_ssh_public_key(data.strip())
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        pass
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(path, "does not hold an Ed25519 public key.",
                           fix="Give the '.pub' file written by 'studio keys new'.")
    return key


def _read_key_file(path: Path) -> bytes:
    try:
        if path.stat().st_size > _MAX_KEY_FILE:
            raise KeyFileError(path, "is far larger than a key.")
        return path.read_bytes()
    except FileNotFoundError:
        raise KeyFileError(path, "does not exist.",
                           fix="Make a key pair with 'studio keys new NAME'.") from None
    except OSError as error:
        raise KeyFileError(path, f"cannot be read: {error.strerror}.") from None


# -- signatures -----------------------------------------------------------------

def signature_document(manifest_bytes: bytes, private_key: Ed25519PrivateKey) -> bytes:
    """The ``manifest.sig`` file for these manifest bytes."""
    signature = private_key.sign(_DOMAIN + manifest_bytes)
    document = {"format": SIGNATURE_FORMAT, "algorithm": ALGORITHM,
                "key_id": key_id(private_key.public_key()),
                "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
                "signature": base64.b64encode(signature).decode("ascii")}
    return (json.dumps(document, indent=2) + "\n").encode("ascii")


def verify(manifest_bytes: bytes, signature_bytes: bytes | None,
           trusted: Sequence[TrustedKey]) -> tuple[str | None, str | None]:
    """(signer key id, None) when a trusted key signed these exact manifest bytes,
    else (None, the reason in one sentence)."""
    if signature_bytes is None:
        return None, "it is not signed (no manifest.sig)"
    try:
        document = json.loads(signature_bytes)
        if not isinstance(document, dict) or document.get("format") != SIGNATURE_FORMAT:
            raise ValueError
        algorithm, claimed = document.get("algorithm"), str(document.get("key_id"))
        signature = base64.b64decode(document["signature"], validate=True)
    except (ValueError, KeyError, TypeError):
        return None, "its manifest.sig is not a signature file this program wrote"
    if algorithm != ALGORITHM:
        return None, f"it is signed with {algorithm!r}, not {ALGORITHM}"
    if not trusted:
        return None, f"it is signed by key {claimed[:16]}, but no key is trusted"
    for candidate in trusted:
        try:
            candidate.key.verify(signature, _DOMAIN + manifest_bytes)
        except InvalidSignature:
            continue
        return candidate.key_id, None
    ids = ", ".join(k.key_id for k in trusted)
    if claimed in {k.key_id for k in trusted}:
        return None, (f"its signature by key {claimed} does not match the manifest: the "
                      "manifest was changed after it was signed")
    return None, f"it is signed by key {claimed[:16]}, which is not a trusted key ({ids})"
