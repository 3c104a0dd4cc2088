"""`studio keys`: the keys that sign service bundles, and API keys.

    studio keys new [NAME]               NAME (private, mode 600) and NAME.pub (public);
                                         no NAME: your own key, the one the app's Publish uses
    studio keys show [NAME]              a key's files, id and public key (no NAME: your own)
    studio keys sign BUNDLE --sign-key NAME   sign an exported bundle (digests checked first)
    studio keys verify BUNDLE --trust-key NAME.pub   check a bundle's signature and files
    studio keys api-key                  print a new random API key (for --api-key-file)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nodes.errors import StudioError
from studio.cli.main import EXIT_INVALID, EXIT_OK


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The `keys` command (registered with the serve commands)."""
    keys = sub.add_parser("keys", help="make signing keys, sign and verify bundles",
                          description="Ed25519 keys that sign service bundles: 'studio "
                                      "export --sign-key' signs, 'studio serve --trust-key' "
                                      "checks. Your own key (made by 'studio keys new' with "
                                      "no name, or by the app's first Publish) lives in "
                                      "your config folder, or in AXON_STUDIO_KEYS_DIR.")
    actions = keys.add_subparsers(dest="keys_action", metavar="ACTION", required=True)
    new = actions.add_parser("new", help="make a key pair: NAME (private) and NAME.pub")
    new.add_argument("name", nargs="?",
                     help="file of the private key; the public key goes to NAME.pub "
                          "(default: your own key, the one the app's Publish signs with)")
    show = actions.add_parser("show", help="print a key's files, id and public key")
    show.add_argument("name", nargs="?",
                      help="a private or public key file (default: your own key)")
    sign = actions.add_parser("sign", help="sign an exported bundle")
    sign.add_argument("bundle", help="the bundle folder")
    sign.add_argument("--sign-key", required=True, metavar="KEY", help="the private key")
    verify = actions.add_parser("verify", help="check a bundle's signature and every file")
    verify.add_argument("bundle", help="the bundle folder")
    verify.add_argument("--trust-key", dest="trust_keys", action="append", required=True,
                        metavar="PUB", help="a public key to accept (repeatable)")
    actions.add_parser("api-key", help="print a new random API key")


def keys_command(args: argparse.Namespace) -> int:
    from studio.serve import sign_bundle
    from studio.serve.auth import new_api_key

    try:
        if args.keys_action == "new":
            _new(args.name)
        elif args.keys_action == "show":
            _show(args.name)
        elif args.keys_action == "sign":
            key_id = sign_bundle(args.bundle, args.sign_key)
            print(f"Signed {args.bundle} with key {key_id}.")
        elif args.keys_action == "verify":
            return _verify(Path(args.bundle), args.trust_keys)
        else:
            print(new_api_key())
    except StudioError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK


def _new(name: str | None) -> None:
    from studio.serve.signing import KeyFileError, new_key_pair, user_key_path

    if name is None:
        own = user_key_path()
        if own.exists():
            raise KeyFileError(own, "already exists: you have a key of your own.",
                               fix="'studio keys show' prints it; give 'studio keys new' a "
                                   "NAME for another key.")
        own.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    private, public, key_id = new_key_pair(name or user_key_path())
    print(f"Private key: {private} (mode 600; keep it off servers)")
    print(f"Public key:  {public} (give it to servers: studio serve --trust-key "
          f"{public})")
    print(f"Key id: {key_id}")


def _show(name: str | None) -> None:
    from studio.serve.signing import (
        KeyFileError,
        TrustedKey,
        load_signing_key,
        load_trusted_keys,
        public_key_path,
        user_key_pair,
    )

    if name is None:
        own = user_key_pair(create=False)
        print(f"Your own key (the app's Publish signs with it): {own.private_path}")
        public, trusted = own.public_path, own.trusted
    elif name.endswith(".pub"):
        public = Path(name)
        trusted = load_trusted_keys([public])[0]
    else:
        public = public_key_path(name)
        trusted = TrustedKey(load_signing_key(name).public_key(), name)
        if public.exists() and load_trusted_keys([public])[0].key_id != trusted.key_id:
            raise KeyFileError(public, f"is not the public half of '{name}' (key "
                                       f"{trusted.key_id}).",
                               fix=f"Write it again: 'studio keys show {name}' prints the "
                                   "right one; copy it into that file.")
        print(f"Private key: {name}")
    if public.exists():
        print(f"Public key:  {public} (servers: studio serve --trust-key {public})")
    else:
        print(f"Public key:  {public} is missing; it is the PEM below (save it there)")
    print(f"Key id: {trusted.key_id}")
    print(trusted.pem().rstrip())


def _verify(folder: Path, trust_keys: list[str]) -> int:
    from studio.serve.bundle import check_signature_and_files
    from studio.serve.signing import load_trusted_keys

    verification = check_signature_and_files(folder, load_trusted_keys(trust_keys))
    print(f"{folder}: {verification.note}; every file matches its digest.")
    return EXIT_OK
