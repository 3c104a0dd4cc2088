"""The ``studio`` command.

    studio [FILE]              open the desktop app (headless run without a display)
    studio gui [FILE]          the same
    studio run FILE ...        run a workflow headless
    studio validate FILE       check a workflow without running it
    studio nodes               list the node catalog
    studio doctor              what is installed and usable, with fixes
    studio prepare|export|serve  publish a trained workflow as a web service
    studio runs list|show|compare  the run history
    studio export-script FILE  the workflow as a plain Python script (or --notebook)
    studio export-model FILE   a trained model as one scikit-learn Pipeline (skops)
    studio audit prove|verify|statement  data-ownership proofs and owners' statements
    studio data describe|show  owners and terms of a data file (its sidecar)

Exit codes: 0 success, 1 a node failed (or the environment has a problem,
for doctor), 2 invalid file or arguments, 130 cancelled with Ctrl-C.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_CANCELLED = 0, 1, 2, 130

COMMANDS = ("gui", "run", "validate", "nodes", "doctor", "prepare", "export", "serve", "runs",
            "export-script", "export-model", "keys", "audit", "data")


class _Parser(argparse.ArgumentParser):
    """argparse, saying which option was meant when one is mistyped."""

    def error(self, message: str) -> NoReturn:
        if "unrecognized arguments:" in message:
            parsers = [self]
            for action in self._actions:  # the subcommands' options too
                if isinstance(action, argparse._SubParsersAction):
                    parsers += list(action.choices.values())
            known = sorted({o for p in parsers for o in p._option_string_actions
                            if o.startswith("--")})
            hints = []
            for word in message.split("unrecognized arguments:", 1)[1].split():
                close = difflib.get_close_matches(word.split("=")[0], known, n=1, cutoff=0.6)
                if word.startswith("-") and close:
                    hints.append(f"'{word}': did you mean '{close[0]}'?")
            if hints:
                message += " (" + "; ".join(hints) + ")"
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="studio", description="Axon Studio: visual machine-learning workflows.",
        epilog="With no command, or a workflow file, opens the desktop app.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    gui = sub.add_parser("gui", help="open the desktop app")
    gui.add_argument("file", nargs="?", help="a workflow file (*.axon.json) to open")

    run = sub.add_parser("run", help="run a workflow headless",
                         description="Run a workflow file without the GUI.")
    run.add_argument("file", nargs="?",
                     help="the workflow file (*.axon.json); not with --from-run")
    run.add_argument("--set", dest="overrides", action="append", default=[],
                     metavar="NODE.PARAM=VALUE",
                     help="override a parameter for this run (NODE is an id or a title); "
                          "VALUE is JSON when it parses as JSON, else text; repeatable")
    run.add_argument("--jobs", type=_positive_int, default=None, metavar="N",
                     help="run up to N nodes at once (default: the number of cores)")
    run.add_argument("--executor", choices=("local", "dask"), default=None,
                     help="where nodes run: 'local' threads in this process (default), or "
                          "'dask' (a cluster: --scheduler, or a local one: --local-workers)")
    run.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                     help="the Dask scheduler to run on (implies --executor dask)")
    run.add_argument("--local-workers", type=_positive_int, default=None, metavar="N",
                     help="start a Dask cluster of N worker processes on this machine "
                          "(implies --executor dask; default with --executor dask: one per core)")
    run.add_argument("--partition-size", type=_megabytes, default=None, metavar="MB",
                     help="Dask: read CSV and Parquet files in partitions of about MB "
                          "(default 64), which stay on the workers")
    run.add_argument("--gather-limit", type=_megabytes, default=None, metavar="MB",
                     help="Dask: the most of a partitioned table one node that needs every row "
                          "may gather into one worker (default: half a worker's memory limit)")
    run.add_argument("--no-cache", action="store_true",
                     help="recompute every node, ignoring cached results")
    run.add_argument("--disk-cache", action="store_true",
                     help="keep results on disk in your cache folder, across runs")
    run.add_argument("--cache-memory", type=_megabytes, default=0, metavar="MB",
                     help="results to keep in memory beside the disk cache, in MB "
                          "(default 0: a run keeps only what its remaining nodes need)")
    run.add_argument("--cache-dir", metavar="DIR",
                     help="use DIR as the on-disk cache (implies --disk-cache)")
    run.add_argument("--out", metavar="DIR",
                     help="where to write outputs and the run record "
                          "(default: runs/<workflow>-<time> in the current folder)")
    run.add_argument("--save", dest="save", action="append", default=[],
                     metavar="NODE.PORT", help="also write this output table (NODE is an id "
                                               "or a title); repeatable")
    run.add_argument("--save-all", action="store_true",
                     help="write every output table (by default only metrics, models and "
                          "the run record are written)")
    run.add_argument("--format", choices=("parquet", "csv"), default="parquet",
                     help="file format for the tables written (default: parquet)")
    run.add_argument("--json", action="store_true",
                     help="print the run record as JSON on stdout instead of the live display")
    run.add_argument("--trust", action="store_true",
                     help="allow nodes that run code stored in the workflow file")
    run.add_argument("--seed", type=_seed, default=None,
                     help="the workflow's random seed for this run: every node whose own "
                          "seed is left to inherit follows it")
    run.add_argument("--allow-path", dest="allow_paths", action="append", default=[],
                     metavar="DIR", help="let nodes write files under DIR too (besides the "
                                         "workflow's folder and --out); repeatable")
    run.add_argument("--connect-timeout", type=float, default=20.0, metavar="S",
                     help="seconds to wait for a Dask scheduler to answer (default: 20)")

    from studio.cli.runs import add_parsers as add_runs_parsers
    from studio.cli.runs import add_runs_dir_option

    add_runs_dir_option(run)
    run.add_argument("--from-run", metavar="RUN",
                     help="repeat a stored run: its workflow exactly as it ran (parameters, "
                          "overrides, seed); RUN is a run id, its start, or 'latest'")
    run.add_argument("--mlflow", metavar="URI",
                     help="also log the run to MLflow (a folder or file:///path for a local "
                          "file store, or http://host:port); needs axon-studio[mlflow]")
    # Data ownership (docs/data-ownership.md): the use the run declares, checked
    # against every dataset's terms before anything runs.
    run.add_argument("--purpose", help="what the run uses the data for (e.g. research); "
                                       "checked against the datasets' terms")
    run.add_argument("--region", help="where the run happens (e.g. DE, EU); checked against "
                                      "the datasets' terms")
    run.add_argument("--override-terms", metavar="REASON",
                     help="run although the datasets' terms refuse this use; the reason and "
                          "the terms overridden go into the run record and every artifact")

    validate = sub.add_parser("validate", help="check a workflow without running it")
    validate.add_argument("file")

    nodes = sub.add_parser("nodes", help="list the node catalog")
    nodes.add_argument("--category", help="only this category")
    nodes.add_argument("--json", action="store_true", help="machine-readable output")

    doctor = sub.add_parser("doctor", help="check what is installed and usable")
    doctor.add_argument("--import-tensorflow", action="store_true",
                        help="also import TensorFlow to prove it works (takes ~10 s)")
    from studio.cli.serve import add_parsers  # argparse only: FastAPI loads when serving

    add_parsers(sub)
    add_runs_parsers(sub)
    from studio.cli.export_script import add_parsers as add_export_parsers

    add_export_parsers(sub)
    from studio.cli.audit import add_parsers as add_audit_parsers
    from studio.cli.data import add_parsers as add_data_parsers

    add_audit_parsers(sub)
    add_data_parsers(sub)
    return parser


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("axon-studio")
    except metadata.PackageNotFoundError:  # run from a source tree without installing
        return "unknown (not installed)"


def _megabytes(text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a number of MB") from None
    if not 0 <= value <= 10**7:
        raise argparse.ArgumentTypeError("must be from 0 to 10000000 (MB)")
    return int(value * 2**20)


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError("must be from 0 to 4294967295")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number") from None
    if not 1 <= value <= 1024:
        raise argparse.ArgumentTypeError("must be from 1 to 1024")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """The command; a closed output pipe (``studio nodes --json | head``) ends it
    quietly, as other command-line tools do."""
    try:
        code = _main(argv)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # Python would report the unflushed output at exit: point stdout at nothing.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a closed pipe


def _unknown_command(word: str) -> str | None:
    """The message for ``studio WORD`` when WORD is neither a command nor a file."""
    if word in COMMANDS or word.startswith("-") or Path(word).exists() or word.endswith(
            (".json", ".axon")):
        return None
    close = difflib.get_close_matches(word, COMMANDS, n=1, cutoff=0.6)
    hint = f" Did you mean 'studio {close[0]}'?" if close else ""
    return (f"studio: '{word}' is not a command, and there is no workflow file of that name."
            f"{hint} Commands: {', '.join(COMMANDS)}.")


def _main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and (problem := _unknown_command(argv[0])):
        print(problem, file=sys.stderr)
        return EXIT_INVALID
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        argv = ["gui", *argv]  # `studio FILE` opens the file in the app
    if not argv:
        argv = ["gui"]
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "run" and (args.file is None) == (args.from_run is None):
        parser.error("studio run needs a workflow FILE or --from-run RUN (one of them)")
    if args.command == "runs":
        from studio.cli.runs import runs_command

        return runs_command(args)
    if args.command in ("export-script", "export-model"):
        from studio.cli import export_script

        return export_script.COMMANDS[args.command](args)
    if args.command == "run":
        from studio.cli.run import run_command

        return run_command(args)
    if args.command == "validate":
        from studio.cli.info import validate_command

        return validate_command(args)
    if args.command == "nodes":
        from studio.cli.info import nodes_command

        return nodes_command(args)
    if args.command in ("prepare", "export", "serve"):
        from studio.cli import serve

        return getattr(serve, f"{args.command}_command")(args)
    if args.command == "keys":
        from studio.cli.keys import keys_command

        return keys_command(args)
    if args.command == "audit":
        from studio.cli.audit import audit_command

        return audit_command(args)
    if args.command == "data":
        from studio.cli.data import data_command

        return data_command(args)
    if args.command == "doctor":
        from studio.cli.info import doctor_command

        return doctor_command(args)
    from studio.cli.gui import gui_command

    return gui_command(args)


if __name__ == "__main__":
    raise SystemExit(main())
