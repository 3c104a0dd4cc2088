"""`studio prepare`, `studio export` and `studio serve`: publishing a trained workflow.

    studio prepare FILE --out SCORING.axon.json   the scoring pipeline, as a workflow file
    studio export FILE --out DIR                  train (cache hits if unchanged), prepare,
                                                  write the bundle, print the API key once
    studio serve DIR_OR_WORKFLOW [--host H] [--port P] [--workers N] [--api-key-file F]
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
                       help="accept the keys in F (one per line) instead of the bundle's")
    serve.add_argument("--no-auth", action="store_true",
                       help="no API keys (only allowed on a loopback --host)")
    serve.add_argument("--max-body-mb", type=float, default=16.0,
                       help="largest request body in MiB (default: 16); larger gets 413")
    serve.add_argument("--data-dir", metavar="DIR",
                       help="folder where classic batch jobs may read input files and write "
                            "output files (RelativeLocation); default: none")
    _trust_option(serve)


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
    from studio.serve import export_bundle

    try:
        with tempfile.TemporaryDirectory(prefix="axon-export-") as staging:
            scoring = _scoring_workflow(Path(args.file), Path(staging), args.trust)
            result = export_bundle(scoring, args.out, name=args.name, version=args.version,
                                   overwrite=args.overwrite, trusted=args.trust)
    except StudioError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    if args.api_key_file:
        _write_key(Path(args.api_key_file), result.api_key)
    print(f"Bundle written to {result.folder} ({len(result.manifest['files'])} files).")
    print(f"API key (shown once; only its digest is stored): {result.api_key}")
    print(f"Serve it with: studio serve {result.folder}")
    return EXIT_OK


def serve_command(args: argparse.Namespace) -> int:
    from studio.serve import export_bundle, load_bundle
    from studio.serve.auth import read_key_file
    from studio.serve.server import check_host, serve_forever

    target = Path(args.target)
    try:
        check_host(args.host, args.no_auth)
        if target.is_dir():
            folder = target
            # Refuse a bad bundle before binding the port.
            bundle = load_bundle(folder, trusted=args.trust)
            key = None
        else:
            staging = Path(tempfile.mkdtemp(prefix="axon-serve-"))
            scoring = _scoring_workflow(target, staging / "models", args.trust)
            result = export_bundle(scoring, staging / "bundle", trusted=args.trust)
            folder, key = result.folder, result.api_key
            bundle = load_bundle(folder, trusted=args.trust)
        if args.no_auth:
            digests = None
        elif args.api_key_file:
            digests = read_key_file(args.api_key_file)
        else:
            digests = bundle.api_key_digests
    except StudioError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    if key:
        print(f"API key for this session: {key}")
    print(f"Serving {folder} on http://{args.host}:{args.port} "
          f"(docs: /docs, OpenAPI: /openapi.json; Ctrl-C stops)")
    print(f"Records are scored by {bundle.pipeline.scoring_note}.")
    try:
        serve_forever(folder, host=args.host, port=args.port, workers=args.workers,
                      key_digests=digests, max_body_bytes=int(args.max_body_mb * 1024 * 1024),
                      data_dir=Path(args.data_dir) if args.data_dir else None,
                      trusted=args.trust)
    except StudioError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    except OSError as error:
        print(f"error: cannot serve: {error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


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
