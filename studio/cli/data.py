"""`studio data describe|show`: the owners and terms of a CSV or Parquet file."""

from __future__ import annotations

import argparse
import json
import sys

from studio.cli.main import EXIT_INVALID, EXIT_OK


def add_parsers(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="owners and terms of data files (sidecars)",
                          description="Attach owners and terms of use to a CSV or Parquet "
                                      "file (a sidecar FILE.axon-data.json beside it).")
    commands = data.add_subparsers(dest="data_command", metavar="COMMAND", required=True)
    describe = commands.add_parser(
        "describe", help="write the sidecar of a CSV or Parquet file",
        description="Write FILE.axon-data.json: the owners of the file's rows (all of them, "
                    "or per row through an owner column), the terms of every use, the file's "
                    "SHA-256 and the rows' data-ownership digest (the deposit).")
    describe.add_argument("file")
    describe.add_argument("--owner", action="append", default=[], metavar="ID[=NAME]",
                          help="an owner of every row (repeat for joint owners)")
    describe.add_argument("--owner-column", metavar="COLUMN",
                          help="the column naming each row's owner")
    describe.add_argument("--purpose", dest="purposes", action="append", default=[],
                          metavar="PURPOSE", help="an allowed purpose (repeatable; default: any)")
    describe.add_argument("--region", dest="regions", action="append", default=[],
                          metavar="REGION", help="an allowed region, e.g. EU or DE (repeatable; "
                                                 "default: any)")
    describe.add_argument("--expires", metavar="YYYY-MM-DD",
                          help="the last day the rows may be used (UTC)")
    describe.add_argument("--exclusive-to", metavar="LICENSEE",
                          help="only runs for this licensee may use the rows")
    describe.add_argument("--attribution", metavar="TEXT", help="the credit every use owes")
    describe.add_argument("--license", metavar="ID", help="the license, e.g. CC-BY-4.0")
    describe.add_argument("--source", metavar="TEXT", help="where the data comes from")
    describe.add_argument("--description", metavar="TEXT", help="what the data is")
    describe.add_argument("--refresh", action="store_true",
                          help="keep the owners and terms already there (a new version of "
                               "the file)")
    describe.add_argument("--force", action="store_true", help="replace an existing sidecar")
    describe.add_argument("--json", action="store_true", help="print the sidecar as JSON")
    show = commands.add_parser("show", help="print a file's owners, terms and deposit")
    show.add_argument("file")
    show.add_argument("--json", action="store_true", help="print the sidecar as JSON")


def data_command(args: argparse.Namespace) -> int:
    from nodes.ownership.sidecar import SidecarError, read_sidecar_file, sidecar_path
    from studio.ownership.describe import DescribeError, Description, describe_file

    out, err = sys.stdout, sys.stderr
    try:
        if args.data_command == "describe":
            terms = {"purposes": args.purposes or None, "regions": args.regions or None,
                     "expires": args.expires, "exclusive_to": args.exclusive_to,
                     "attribution": args.attribution, "license": args.license}
            sidecar = describe_file(args.file, Description(
                owners=args.owner, owner_column=args.owner_column, terms=terms,
                source=args.source, description=args.description),
                refresh=args.refresh, force=args.force)
            path = sidecar_path(args.file)
        else:
            path = sidecar_path(args.file)
            if not path.is_file():
                print(f"error: {args.file} has no sidecar ({path}). Fix: describe it with "
                      f"'studio data describe {args.file} --owner ID'.", file=err)
                return EXIT_INVALID
            sidecar = read_sidecar_file(path)
    except DescribeError as error:
        print(f"error: {error}. Fix: {error.fix}", file=err)
        return EXIT_INVALID
    except SidecarError as error:
        print(f"error: {error}. Fix: {error.fix}", file=err)
        return EXIT_INVALID
    if args.json:
        json.dump(sidecar, out, indent=2, ensure_ascii=False)
        out.write("\n")
        return EXIT_OK
    print(format_sidecar(sidecar, str(path)), file=out)
    return EXIT_OK


def format_sidecar(sidecar: dict, path: str) -> str:
    ownership = sidecar.get("ownership") or {}
    terms = ownership.get("terms") or {}
    deposit = sidecar.get("deposit") or {}
    lines = [f"{path}", f"  file {sidecar.get('file')}: {sidecar.get('rows')} rows, "
                        f"sha256 {str(sidecar.get('sha256'))[:16]}…"]
    if ownership.get("owner_column"):
        lines.append(f"  owners: per row, column '{ownership['owner_column']}'")
    for owner in ownership.get("owners", []):
        lines.append(f"  owner {owner['id']}" + (f" ({owner['name']})"
                                                 if owner.get("name") not in (None, owner["id"])
                                                 else ""))
    lines.append("  terms: purposes " + ", ".join(terms.get("purposes") or ["any"])
                 + "; regions " + ", ".join(terms.get("regions") or ["any"])
                 + f"; expires {terms.get('expires') or 'never'}"
                 + (f"; exclusive to {terms['exclusive_to']}" if terms.get("exclusive_to")
                    else "")
                 + f"; license {terms.get('license') or 'not given'}")
    if terms.get("attribution"):
        lines.append(f"  attribution: {terms['attribution']}")
    if deposit:
        lines.append(f"  deposit digest {deposit.get('root')} ({deposit.get('rows')} rows)")
        for owner, info in sorted((deposit.get("owners") or {}).items()):
            lines.append(f"    {owner}: {info['rows']} rows, subtree root {info['root'][:16]}…")
    return "\n".join(lines)
