"""`studio runs`: the run history kept by every run.

    studio runs list [--workflow FILE] [--limit N] [--json]
    studio runs show RUN [--json]
    studio runs compare RUN RUN [--json]

RUN is a run id, a unique start of one (4 characters or more), ``latest``
or ``latest~N`` (N runs before the latest). ``--runs-dir DIR`` reads
another store (default: the user data folder, or ``AXON_STUDIO_RUNS_DIR``).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from nodes.errors import StudioError
from studio.cli.display import format_duration, print_table
from studio.cli.main import EXIT_INVALID, EXIT_OK


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The ``runs`` command and its three subcommands (called by studio.cli.main)."""
    runs = sub.add_parser("runs", help="list, show and compare stored runs",
                          description="The run history: every run of 'studio run', the app "
                                      "and the Python API is kept in a local run store.")
    actions = runs.add_subparsers(dest="runs_action", metavar="ACTION")
    listing = actions.add_parser("list", help="the stored runs, newest first")
    listing.add_argument("--workflow", metavar="FILE",
                         help="only the runs of this workflow file")
    listing.add_argument("--limit", type=_count, default=20, metavar="N",
                         help="show at most N runs (default: 20; 0: all)")
    show = actions.add_parser("show", help="one run: parameters, overrides, metrics, lineage")
    show.add_argument("run", metavar="RUN", help="a run id (or its start), or 'latest'")
    compare = actions.add_parser("compare", help="parameter changes and metric deltas of two "
                                                 "runs")
    compare.add_argument("before", metavar="RUN", help="the first run (e.g. latest~1)")
    compare.add_argument("after", metavar="RUN", help="the second run (e.g. latest)")
    for parser in (listing, show, compare):
        add_runs_dir_option(parser)
        parser.add_argument("--json", action="store_true", help="machine-readable output")


def add_runs_dir_option(parser: argparse.ArgumentParser) -> None:
    """``--runs-dir DIR``, shared with ``studio run``."""
    parser.add_argument("--runs-dir", metavar="DIR",
                        help="the run store's folder (default: your user data folder, or "
                             "AXON_STUDIO_RUNS_DIR)")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def runs_command(args: argparse.Namespace) -> int:
    from studio.runs import RunStore, compare_runs

    out, err = sys.stdout, sys.stderr
    if args.runs_action is None:
        print("error: say what to do: studio runs list | show RUN | compare RUN RUN",
              file=err)
        return EXIT_INVALID
    try:
        store = RunStore(args.runs_dir)
        if args.runs_action == "list":
            from pathlib import Path

            if args.workflow and not Path(args.workflow).is_file():
                raise StudioError(f"--workflow {args.workflow} is not a file.",
                                  fix="Give the workflow file whose runs to list.")
            runs = store.list(workflow_path=args.workflow, limit=args.limit or None)
            if args.json:
                _dump([run.summary() for run in runs], out)
            else:
                print_runs(runs, out, store)
        elif args.runs_action == "show":
            run = store.resolve(args.run)
            if args.json:
                _dump(run.to_dict(), out)
            else:
                print_run(run, out)
        else:
            comparison = compare_runs(store.resolve(args.before), store.resolve(args.after))
            if args.json:
                _dump(comparison.to_dict(), out)
            else:
                print_comparison(comparison, out)
    except StudioError as error:
        print(f"error: {error}", file=err)
        return EXIT_INVALID
    return EXIT_OK


def _dump(document: Any, out: TextIO) -> None:
    json.dump(document, out, indent=2)
    out.write("\n")


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value if len(value) <= 60 else value[:57] + "..."
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _key_metric(run: Any) -> str:
    """The first metric of the first Evaluate output, for the listing."""
    for output, scalars in run.metrics.items():
        for name, value in scalars.items():
            return f"{output.split('.')[0]}.{name}={_value(value)}"
    return ""


def print_runs(runs: list[Any], out: TextIO, store: Any) -> None:
    if not runs:
        print(f"No stored runs in {store.path}.", file=out)
        return
    rows = [[run.run_id, run.started[:19].replace("T", " "), run.status,
             format_duration(run.duration_s), run.workflow_name[:40], str(run.seed),
             " ".join(run.overrides)[:40], _key_metric(run)] for run in runs]
    print_table(["run", "started (UTC)", "status", "time", "workflow", "seed", "overrides",
                 "metric"], rows, out)


def print_run(run: Any, out: TextIO) -> None:
    record = run.record
    print(f"Run {run.run_id}: {run.status}, {format_duration(run.duration_s)}, started "
          f"{run.started} ({run.source})", file=out)
    print(f"Workflow: {run.workflow_name} ({run.workflow_path or 'no file'})", file=out)
    print(f"Seed: {run.seed}", file=out)
    print(f"Overrides: {' '.join(run.overrides) or 'none'}", file=out)
    if run.from_run:
        print(f"Repeats run: {run.from_run}", file=out)
    if run.mlflow:
        print(f"MLflow: run {run.mlflow.get('run_id')} at {run.mlflow.get('uri')}", file=out)
    print("\nNodes:", file=out)
    rows = []
    for node_id, node in record.get("nodes", {}).items():
        params = ", ".join(f"{k}={_value(v)}" for k, v in node.get("params", {}).items())
        rows.append([node_id, node.get("title", ""), node.get("state", ""),
                     format_duration(node.get("duration_s")),
                     "" if node.get("seed") is None else str(node["seed"]), params[:80]])
    print_table(["node", "title", "state", "time", "seed", "parameters"], rows, out)
    for output, scalars in run.metrics.items():
        print(f"\nMetrics of {output}:", file=out)
        print_table(["metric", "value"], [[k, _value(v)] for k, v in scalars.items()], out)
    datasets = record.get("lineage", {}).get("datasets", [])
    models = record.get("lineage", {}).get("models", [])
    if datasets or models:
        print("\nLineage:", file=out)
        for dataset in datasets:
            print(f"  dataset {dataset.get('name')} ({dataset.get('node')}): sha256 "
                  f"{dataset.get('sha256')}", file=out)
        for model in models:
            print(f"  {model.get('kind')} {model.get('node')}.{model.get('port')}: sha256 "
                  f"{model.get('sha256')}", file=out)
    environment = record.get("environment", {})
    print(f"\nEnvironment: Python {environment.get('python')} on {environment.get('platform')}"
          f", host {environment.get('host')} (fingerprint "
          f"{str(environment.get('fingerprint'))[:12]})", file=out)


def print_comparison(comparison: Any, out: TextIO) -> None:
    before, after = comparison.before, comparison.after
    print(f"Comparing run {before.run_id} (before) with run {after.run_id} (after)", file=out)
    if not comparison.same_workflow_file:
        print(f"Note: different workflow files ({before.workflow_path or 'none'} and "
              f"{after.workflow_path or 'none'})", file=out)
    if comparison.seed[0] != comparison.seed[1]:
        print(f"Seed: {comparison.seed[0]} -> {comparison.seed[1]}", file=out)
    if comparison.overrides[0] != comparison.overrides[1]:
        print(f"Overrides: {' '.join(comparison.overrides[0]) or 'none'} -> "
              f"{' '.join(comparison.overrides[1]) or 'none'}", file=out)
    print("\nParameter changes:", file=out)
    if comparison.parameter_changes:
        print_table(["node", "parameter", "before", "after"],
                    [[f"{c.node_id} ({c.title})", c.name, _value(c.before), _value(c.after)]
                     for c in comparison.parameter_changes], out, indent="  ")
    else:
        print("  none", file=out)
    for node_id, side in comparison.nodes_only_in.items():
        print(f"  node {node_id} is only in the {side} run", file=out)
    print("\nMetrics:", file=out)
    if comparison.metric_deltas:
        rows = []
        for metric in comparison.metric_deltas:
            delta = metric.delta
            rows.append([f"{metric.output.split('.')[0]}.{metric.name}", _value(metric.before),
                         _value(metric.after),
                         "" if delta is None else f"{delta:+.6g}",
                         "" if metric.relative is None else f"{metric.relative:+.2%}"])
        print_table(["metric", "before", "after", "delta", "relative"], rows, out,
                    indent="  ")
    else:
        print("  none", file=out)
    for name, (old, new) in comparison.dataset_changes.items():
        print(f"\nData changed: {name}: {str(old)[:12]} -> {str(new)[:12]}", file=out)
    if not comparison.same_environment:
        changed = ", ".join(f"{k} {v[0]} -> {v[1]}"
                            for k, v in comparison.package_changes.items())
        print(f"\nEnvironment differs{': ' + changed if changed else ' (host or platform)'}",
              file=out)
