"""`studio prepare`, `studio export` and `studio serve`: publishing a trained workflow.

    studio prepare FILE --out SCORING.axon.json   the scoring pipeline, as a workflow file
    studio export FILE --out DIR [--sign-key KEY] train (cache hits if unchanged), prepare,
                                                  write the bundle, print the API key once
    studio serve DIR --trust-key PUB [--host H] [--port P] [--workers N] [--api-key-file F]

(`studio keys`, for the signing keys, is in studio.cli.keys.)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from nodes.errors import StudioError
from studio.cli.main import EXIT_FAILED, EXIT_INVALID, EXIT_OK


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The three subcommands (called by studio.cli.main)."""
    prepare = sub.add_parser("prepare", help="derive the scoring pipeline of a trained workflow",
                             description="Run the workflow (unchanged nodes are cache hits) and "
                                         "write its scoring pipeline as a workflow file.")
    prepare.add_argument("file", help="the training workflow (*.axon.json)")
    prepare.add_argument("--out", required=True, metavar="FILE",
                         help="the scoring workflow to write (*.axon.json); its models go "
                              "into FILE's folder, under <name>.models/")
    _trust_option(prepare)

    export = sub.add_parser("export", help="write a web-service bundle of a trained workflow")
    export.add_argument("file", help="a training workflow, or a scoring workflow written by "
                                     "'studio prepare'")
    export.add_argument("--out", required=True, metavar="DIR", help="the bundle folder to write")
    export.add_argument("--name", help="the service name (default: the workflow's name)")
    export.add_argument("--version", default="1", help="the service version (default: 1)")
    export.add_argument("--api-key-file", metavar="F",
                        help="also write the generated API key to F (mode 600)")
    export.add_argument("--overwrite", action="store_true",
                        help="replace an existing bundle in DIR")
    export.add_argument("--sign-key", metavar="KEY",
                        help="sign the bundle's manifest with this private key (made by "
                             "'studio keys new'); 'studio serve --trust-key KEY.pub' checks it")
    _trust_option(export)

    serve = sub.add_parser("serve", help="serve a bundle (or a trained workflow) over HTTP")
    serve.add_argument("target", metavar="DIR_OR_WORKFLOW",
                       help="a bundle folder, or a workflow file (exported to a temporary "
                            "bundle first)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on "
                                                           "(default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument("--workers", type=int, default=1, metavar="N",
                       help="worker processes (default: 1)")
    serve.add_argument("--api-key-file", metavar="F",
                       help="accept the keys in F (one per line) instead of the bundle's; "
                            "SIGHUP reads F again without a restart")
    serve.add_argument("--no-auth", action="store_true",
                       help="no API keys (only allowed on a loopback --host)")
    serve.add_argument("--trust-key", dest="trust_keys", action="append", default=[],
                       metavar="PUB", help="serve only a bundle signed by this public key "
                                           "(repeatable: any of them)")
    serve.add_argument("--allow-unsigned", action="store_true",
                       help="serve a bundle without a trusted signature (one you built "
                            "yourself; its per-file digests are still checked)")
    serve.add_argument("--public-docs", action="store_true",
                       help="serve /docs and /openapi.json without the API key")
    serve.add_argument("--public-metrics", action="store_true",
                       help="serve /metrics without the API key")
    serve.add_argument("--max-body-mb", type=float, default=16.0,
                       help="largest request body in MiB (default: 16); larger gets 413")
    serve.add_argument("--max-connections", type=_positive, default=None, metavar="N",
                       help="open connections at most (default: 1000, or fewer when the "
                            "open-file limit is lower); past it idle ones are closed first")
    serve.add_argument("--keep-alive", type=_seconds, default=5.0, metavar="S",
                       help="close a connection idle this long after an answer (default: 5)")
    serve.add_argument("--read-timeout", type=_seconds, default=10.0, metavar="S",
                       help="a request's head must arrive within S seconds, and its body "
                            "may pause at most S seconds (default: 10)")
    serve.add_argument("--data-dir", metavar="DIR",
                       help="folder where classic batch jobs may read input files and write "
                            "output files (RelativeLocation); default: none")
    serve.add_argument("--jobs-dir", metavar="DIR",
                       help="where batch jobs are kept, across restarts (default: a folder "
                            "per bundle in your user data folder)")
    serve.add_argument("--job-ttl-hours", type=_seconds, default=24.0, metavar="H",
                       help="delete batch jobs this long after they finished (default: 24)")
    serve.add_argument("--no-access-log", action="store_true",
                       help="no log line per request")
    _trust_option(serve)
    from studio.cli.keys import add_parsers as add_keys_parsers

    add_keys_parsers(sub)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a number") from None
    if not 0 < value < 10**6:
        raise argparse.ArgumentTypeError("must be above 0")
    return value


def _trust_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trust", action="store_true",
                        help="allow nodes that run code stored in the file (read it first)")


def prepare_command(args: argparse.Namespace) -> int:
    from studio.serve.prepare import stored_value_nodes
    from studio.workflow import save_workflow

    out = Path(args.out).resolve()
    models = out.parent / (out.name.removesuffix(".json").removesuffix(".axon") + ".models")
    try:
        scoring = _prepare(Path(args.file), models, args.trust)
        for node_id in stored_value_nodes(scoring):  # relative to the file: the pair can move
            node = scoring.nodes[node_id]
            relative = Path(node.params["path"]).relative_to(out.parent)
            node.params = {**node.params, "path": relative.as_posix()}
        save_workflow(scoring, out)
    except StudioError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    print(f"Scoring pipeline written to {args.out} ({len(scoring.nodes)} nodes).")
    return EXIT_OK


def export_command(args: argparse.Namespace) -> int:
    from studio.serve import export_bundle, load_signing_key

    try:
        signing_key = load_signing_key(args.sign_key) if args.sign_key else None  # first
        with tempfile.TemporaryDirectory(prefix="axon-export-") as staging:
            scoring = _scoring_workflow(Path(args.file), Path(staging), args.trust)
            result = export_bundle(scoring, args.out, name=args.name, version=args.version,
                                   overwrite=args.overwrite, trusted=args.trust,
                                   signing_key=signing_key)
    except StudioError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    if args.api_key_file:
        _write_key(Path(args.api_key_file), result.api_key)
    print(f"Bundle written to {result.folder} ({len(result.manifest['files'])} files).")
    if result.signed_by:
        print(f"Signed by key {result.signed_by}.")
    print(f"API key (shown once; only its digest is stored): {result.api_key}")
    if result.signed_by:
        print(f"Serve it with: studio serve {result.folder} --trust-key "
              f"{args.sign_key}.pub")
    else:
        print(f"Serve it with: studio serve {result.folder} --allow-unsigned (or sign it: "
              "studio keys sign)")
    return EXIT_OK


def serve_command(args: argparse.Namespace) -> int:
    from studio.serve import export_bundle, load_bundle, load_trusted_keys
    from studio.serve.auth import read_key_file
    from studio.serve.server import ServeConfig, check_host, serve_forever
    from studio.serve.signing import TrustedKey

    target = Path(args.target)
    try:
        check_host(args.host, args.no_auth)
        trust = load_trusted_keys(args.trust_keys)
        if target.is_dir():
            folder = target
            # Refuse a bad bundle before binding the port.
            bundle = load_bundle(folder, trusted=args.trust, trust_keys=trust,
                                 allow_unsigned=args.allow_unsigned)
            key = None
        else:
            # A bundle made here and now, signed by a key that lives only in this session.
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

            session_key = Ed25519PrivateKey.generate()
            trust = [*trust, TrustedKey(session_key.public_key(), "this session")]
            staging = Path(tempfile.mkdtemp(prefix="axon-serve-"))
            scoring = _scoring_workflow(target, staging / "models", args.trust)
            result = export_bundle(scoring, staging / "bundle", trusted=args.trust,
                                   signing_key=session_key)
            folder, key = result.folder, result.api_key
            bundle = load_bundle(folder, trusted=args.trust, trust_keys=trust)
        if args.no_auth:
            digests = None
        elif args.api_key_file:
            digests = read_key_file(args.api_key_file)
        else:
            digests = bundle.api_key_digests
        jobs_dir = Path(args.jobs_dir) if args.jobs_dir else _default_jobs_dir(bundle)
        jobs_dir.mkdir(parents=True, exist_ok=True)
        max_connections = args.max_connections or _default_max_connections()
    except StudioError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    except OSError as error:
        print(f"error: cannot use the batch job folder: {error}", file=sys.stderr)
        return EXIT_INVALID
    if key:
        print(f"API key for this session: {key}")
    print(f"Serving {folder} on http://{args.host}:{args.port} "
          f"(docs: /docs, OpenAPI: /openapi.json; Ctrl-C stops)")
    print(f"Bundle: {bundle.verification.note}.")
    print(f"Records are scored by {bundle.pipeline.scoring_note}.")
    print(f"Batch jobs are kept in {jobs_dir} for {args.job_ttl_hours:g} h after they end.")
    print(f"Limits: {max_connections} connections, {args.max_body_mb:g} MiB per body, "
          f"{args.read_timeout:g} s to send a request head or the next part of a body, "
          f"{args.keep_alive:g} s idle between requests.")
    config = ServeConfig(
        folder=str(folder), host=args.host, port=args.port, workers=args.workers,
        key_digests=digests, key_file=str(Path(args.api_key_file).resolve())
        if args.api_key_file else None,
        trust_keys=[(k.pem(), k.source) for k in trust], allow_unsigned=args.allow_unsigned,
        trusted=args.trust,
        settings={"max_body_bytes": int(args.max_body_mb * 1024 * 1024),
                  "read_timeout": args.read_timeout, "public_docs": args.public_docs,
                  "public_metrics": args.public_metrics,
                  "data_dir": str(Path(args.data_dir).resolve()) if args.data_dir else None,
                  "jobs_dir": str(jobs_dir), "job_ttl": args.job_ttl_hours * 3600,
                  "access_log": not args.no_access_log},
        limits={"max_connections": max_connections, "head_timeout": args.read_timeout,
                "keep_alive": args.keep_alive})
    try:
        serve_forever(config)
    except StudioError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    except OSError as error:
        print(f"error: cannot serve: {error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _default_jobs_dir(bundle) -> Path:  # noqa: ANN001 -- a Bundle
    """One folder per bundle (its manifest digest), so a restart finds its jobs again."""
    import platformdirs

    slug = "".join(c if c.isalnum() or c in "-_" else "-" for c in bundle.name)[:40]
    root = Path(platformdirs.user_data_dir("axon-studio")) / "service-jobs"
    return root / f"{slug or 'service'}-{bundle.digest[:12]}"


def _default_max_connections() -> int:
    """1000, or fewer so that connections never use up the open-file limit (a server out
    of file descriptors cannot even accept the connection that would be served)."""
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1000
    return max(8, min(1000, soft - 64))


def _scoring_workflow(path: Path, artifact_dir: Path, trusted: bool):  # noqa: ANN202
    """A scoring workflow: read as is when it has stored models, else prepared now."""
    from studio.serve.prepare import stored_value_nodes
    from studio.workflow import load_workflow

    workflow = load_workflow(path)
    stored = stored_value_nodes(workflow)
    if stored:
        base = path.resolve().parent
        for node_id in stored:
            node = workflow.nodes[node_id]
            node.params = {**node.params, "path": str((base / node.params["path"]).resolve())}
        if trusted:
            workflow.trust()
        return workflow
    return _prepare(path, artifact_dir, trusted)


def _prepare(path: Path, artifact_dir: Path, trusted: bool):  # noqa: ANN202 -- a Workflow
    from studio.engine import Engine
    from studio.serve import prepare_scoring_workflow
    from studio.workflow import load_workflow

    workflow = load_workflow(path)
    with Engine() as engine:
        return prepare_scoring_workflow(workflow, engine, artifact_dir=artifact_dir,
                                        trusted=trusted)


def _write_key(path: Path, key: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as stream:
        stream.write(key + "\n")
