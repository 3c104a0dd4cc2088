"""`studio keys`: the keys that sign service bundles, and API keys.

    studio keys new NAME                 NAME (private, mode 600) and NAME.pub (public)
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
                                      "checks.")
    actions = keys.add_subparsers(dest="keys_action", metavar="ACTION", required=True)
    new = actions.add_parser("new", help="make a key pair: NAME (private) and NAME.pub")
    new.add_argument("name", help="file of the private key; the public key goes to NAME.pub")
    sign = actions.add_parser("sign", help="sign an exported bundle")
    sign.add_argument("bundle", help="the bundle folder")
    sign.add_argument("--sign-key", required=True, metavar="KEY", help="the private key")
    verify = actions.add_parser("verify", help="check a bundle's signature and every file")
    verify.add_argument("bundle", help="the bundle folder")
    verify.add_argument("--trust-key", dest="trust_keys", action="append", required=True,
                        metavar="PUB", help="a public key to accept (repeatable)")
    actions.add_parser("api-key", help="print a new random API key")


def keys_command(args: argparse.Namespace) -> int:
    from studio.serve import new_key_pair, sign_bundle
    from studio.serve.auth import new_api_key

    try:
        if args.keys_action == "new":
            private, public, key_id = new_key_pair(args.name)
            print(f"Private key: {private} (mode 600; keep it off servers)")
            print(f"Public key:  {public} (give it to servers: studio serve --trust-key "
                  f"{public})")
            print(f"Key id: {key_id}")
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


def _verify(folder: Path, trust_keys: list[str]) -> int:
    from studio.serve.bundle import check_signature_and_files
    from studio.serve.signing import load_trusted_keys

    verification = check_signature_and_files(folder, load_trusted_keys(trust_keys))
    print(f"{folder}: {verification.note}; every file matches its digest.")
    return EXIT_OK
