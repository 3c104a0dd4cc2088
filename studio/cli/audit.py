"""`studio audit prove|verify|statement`: data-ownership proofs and owners' statements.

Exit codes: 0 done (a proof verified), 1 a proof that does not verify, 2 bad
arguments or files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from studio.cli.main import EXIT_FAILED, EXIT_INVALID, EXIT_OK


def add_parsers(sub: argparse._SubParsersAction) -> None:
    from studio.cli.runs import add_runs_dir_option

    audit = sub.add_parser("audit", help="data-ownership proofs and owners' statements",
                           description="Prove which owners' rows a model, a run or a service "
                                       "used, check such proofs without the data, and print "
                                       "the owners' statement.")
    commands = audit.add_subparsers(dest="audit_command", metavar="COMMAND", required=True)
    prove = commands.add_parser(
        "prove", help="write a proof that an owner's rows, or a row, were (not) used",
        description="ARTIFACT: a model folder written by studio run (models/NODE.PORT), a "
                    "run_record.json (or its folder), or a service bundle.")
    prove.add_argument("artifact")
    what = prove.add_mutually_exclusive_group(required=True)
    what.add_argument("--owner", help="prove this owner's rows (counted) are in it")
    what.add_argument("--row", metavar="FILE",
                      help="prove each record of FILE (CSV with a header, JSON object or list "
                           "of objects, Parquet) was, or was not, among its rows")
    prove.add_argument("--only-owner", metavar="ID",
                       help="with --row: look among this owner's rows only")
    prove.add_argument("--target", metavar="NAME",
                       help="which digest, when the artifact has several (a node id or name)")
    prove.add_argument("--out", metavar="PROOF", help="write the proof here (default: stdout)")
    verify = commands.add_parser("verify", help="check a proof against an artifact, "
                                                "without the data")
    verify.add_argument("proof")
    verify.add_argument("artifact")
    verify.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    statement = commands.add_parser(
        "statement", help="per owner: deposits, withdrawals, models, services, refused uses",
        description="Read the run store (or a folder of run records) and list, per owner, "
                    "the datasets holding their rows and their terms, the runs that used "
                    "them, the models and services made from them, and the uses refused.")
    statement.add_argument("--period", metavar="YYYY-MM",
                           help="only runs started in this year, month or day")
    statement.add_argument("--owner", help="only this owner")
    statement.add_argument("--records", metavar="DIR",
                           help="read the run_record.json files under DIR instead of the store")
    statement.add_argument("--bundle", dest="bundles", action="append", default=[],
                           metavar="DIR", help="a service bundle to include (repeatable)")
    statement.add_argument("--json", action="store_true", help="machine-readable output")
    add_runs_dir_option(statement)


def audit_command(args: argparse.Namespace) -> int:
    try:
        return {"prove": _prove, "verify": _verify, "statement": _statement}[
            args.audit_command](args)
    except _Refused as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID


class _Refused(Exception):
    """Bad arguments or files: the message and the fix, printed, exit 2."""


def _refused(error: Exception) -> _Refused:
    fix = getattr(error, "fix", None)
    return _Refused(f"{error}" + (f". Fix: {fix}" if fix else ""))


def _prove(args: argparse.Namespace) -> int:
    from studio.ownership.artifacts import ArtifactError, open_artifact
    from studio.ownership.proofs import ProofError, dumps, owner_proof, row_proofs

    try:
        artifact = open_artifact(args.artifact)
        target = artifact.target(args.target)
        where = {**target.describe(), "artifact": artifact.kind}
        if args.owner:
            proof: dict[str, Any] = owner_proof(target.summary, args.owner, where)
        else:
            rows = _read_rows(Path(args.row))
            if target.trees is None:
                raise ProofError(f"{artifact.path} keeps no row hashes for '{target.name}'",
                                 fix="Prove rows from the model folder studio run wrote, or "
                                     "prove an owner (--owner).")
            digest = target.trees()
            if digest.root.hex() != target.root:
                raise ProofError(f"the rows of '{target.name}' no longer give the root the "
                                 "artifact records (the data changed since)",
                                 fix="Prove from the data as it was, or prove an owner.")
            proofs = row_proofs(digest.owners, target.summary, rows, where, args.only_owner)
            proof = proofs[0] if len(proofs) == 1 else {
                "format": proofs[0]["format"], "kind": "set", "proofs": proofs}
    except (ArtifactError, ProofError, OSError, ValueError) as error:
        raise _refused(error) from None
    text = dumps(proof)
    if args.out:
        from studio.workflow.fileformat import atomic_write_text

        atomic_write_text(Path(args.out), text)
        print(_said(proof), file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _said(proof: dict[str, Any]) -> str:
    proofs = proof.get("proofs", [proof])
    kinds = {"owner": "owner's rows included", "row": "row included",
             "row-absent": "row not included"}
    counts: dict[str, int] = {}
    for item in proofs:
        counts[kinds[item["kind"]]] = counts.get(kinds[item["kind"]], 0) + 1
    return "wrote " + ", ".join(f"{n} proof{'s' if n > 1 else ''}: {k}"
                                for k, n in counts.items())


def _verify(args: argparse.Namespace) -> int:
    from studio.ownership.artifacts import ArtifactError, open_artifact
    from studio.ownership.proofs import verify

    try:
        proof = json.loads(Path(args.proof).read_text(encoding="utf-8"))
        artifact = open_artifact(args.artifact)
    except (ArtifactError, OSError, ValueError) as error:
        raise _refused(error) from None
    if not isinstance(proof, dict):
        raise _Refused(f"{args.proof} is not a proof. Fix: give a file studio audit prove "
                       "wrote.")
    verdicts = []
    for item in proof.get("proofs", [proof]):
        claimed = (item.get("target") or {}) if isinstance(item, dict) else {}
        candidates = [t for t in artifact.targets
                      if claimed.get("node") in (None, t.node) or claimed.get("name") == t.name]
        candidates = candidates or artifact.targets
        if not candidates:
            verdicts.append((False, f"{artifact.path} carries no data-ownership digest"))
            continue
        best = None
        for target in candidates:
            verdict = verify(item, target.root)
            best = verdict if best is None or verdict.ok else best
            if verdict.ok:
                break
        assert best is not None
        verdicts.append((best.ok, best.message))
    ok = all(v for v, _ in verdicts)
    if args.json:
        json.dump({"verified": ok, "verdicts": [{"ok": v, "message": m} for v, m in verdicts]},
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for good, message in verdicts:
            print(f"{'verified' if good else 'NOT VERIFIED'}: {message}")
    return EXIT_OK if ok else EXIT_FAILED


def _statement(args: argparse.Namespace) -> int:
    from studio.ownership.statement import (
        StatementError,
        check_period,
        format_statement,
        make_statement,
        records_from_folder,
        records_from_store,
    )

    try:
        check_period(args.period)
        records = (records_from_folder(args.records) if args.records
                   else records_from_store(args.runs_dir))
        statement = make_statement(records, period=args.period, owner=args.owner,
                                   bundles=args.bundles)
    except StatementError as error:
        raise _refused(error) from None
    except Exception as error:  # the run store's own errors carry their fix
        from nodes.errors import StudioError

        if isinstance(error, StudioError):
            raise _Refused(str(error)) from None
        raise
    if args.json:
        json.dump(statement.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_statement(statement))
    return EXIT_OK


def _read_rows(path: Path) -> Any:
    import pandas as pd

    if not path.is_file():
        raise ValueError(f"{path} is not a file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            records = data if isinstance(data, list) else [data]
            if not records or not all(isinstance(r, dict) for r in records):
                raise ValueError(f"{path} must hold a JSON object or a list of objects")
            return pd.DataFrame(records)
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError,
            pd.errors.EmptyDataError) as error:
        raise ValueError(f"{path} cannot be read: {error}") from None
    if frame.empty:
        raise ValueError(f"{path} holds no row")
    return frame
