"""`studio run`: run a workflow headless, show progress, write outputs and the record.

What is written: the run record, every metrics output and every trained
model or fitted transform (in safe formats); tables only where asked
(``--save NODE.PORT``, ``--save-all``), as Parquet unless ``--format csv``.
Only what is written is brought into this process (a Dask run leaves the
rest on its workers, a disk cache on disk).

Ctrl-C once asks the run to stop: nodes stop at their next check, or are
interrupted inside their computation; the record says "cancelled" and the
exit code is 130. A second Ctrl-C stops at once: the record is written as
it is and the process exits.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from nodes.errors import StudioError
from nodes.file_access import FileAccess
from nodes.values import Metrics, Table, json_safe, save_value
from studio.cli.display import LineDisplay, LiveDisplay, format_duration, print_table
from studio.cli.main import EXIT_CANCELLED, EXIT_FAILED, EXIT_INVALID, EXIT_OK
from studio.engine import DiskCache, Engine, Executor, MemoryCache, RunRecord
from studio.engine.executor import fetch_outputs
from studio.engine.states import NodeState
from studio.workflow import Workflow, WorkflowInvalidError, load_workflow
from studio.workflow.fileformat import atomic_write_text, fsync_folder


def run_command(args: argparse.Namespace) -> int:
    from studio.runs import RunStore, record_run, workflow_from_run

    # TensorFlow's start-up messages would cut through the display: errors only.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    out, err = sys.stdout, sys.stderr
    repeated = None
    try:
        RunStore(args.runs_dir)  # a bad --runs-dir is refused before anything runs
        if args.from_run:
            repeated = workflow_from_run(args.from_run, runs_dir=args.runs_dir)
            workflow = repeated.workflow
        else:
            workflow = load_workflow(args.file)
        workflow_file = (repeated.workflow_path if repeated else Path(args.file))
        if args.trust:
            workflow.trust()  # the file's code as it is now; --set cannot change code
        apply_overrides(workflow, args.overrides)
        # The data's terms against --purpose/--region, before anything runs (a refusal
        # is kept in the run store and named: dataset, owner, term, fix).
        from studio.ownership.terms import enforce_run_terms

        enforce_run_terms(workflow, args)
        saved = saved_ports(workflow, args.save)
        out_dir = Path(args.out) if args.out else None
        check_folder("--out", out_dir)
        cache_dir = Path(args.cache_dir) if args.cache_dir else None
        check_folder("--cache-dir", cache_dir)
    except StudioError as error:
        print(f"error: {error}", file=err)
        return EXIT_INVALID
    if args.seed is not None:
        workflow.info.seed = args.seed

    # Nothing stays in memory after a run that ends with the process: the disk
    # cache keeps results between runs, and the outputs to write are kept apart.
    cache = (DiskCache(cache_dir, memory_bytes=args.cache_memory)
             if cache_dir or args.disk_cache else MemoryCache(max_bytes=args.cache_memory))
    try:
        executor = make_executor(args)
    except StudioError as error:
        print(f"error: {error}", file=err)
        return EXIT_INVALID
    workflow_path = workflow_file.resolve() if workflow_file else None
    stem_file = workflow_file or Path(f"{repeated.run.workflow_name or 'run'}.axon.json")
    workflow.path = workflow_path
    files = FileAccess.for_workflow(workflow, out_dir=out_dir,
                                    allowed=[str(Path(p).resolve()) for p in args.allow_paths])
    engine = Engine(cache=cache, executor=executor, jobs=args.jobs)
    cancel = threading.Event()
    display = None
    if not args.json:
        # Progress is not a result: it goes to stderr, so stdout can be piped.
        display = (LiveDisplay(workflow, err) if err.isatty() else LineDisplay(workflow, err))
        engine.events.subscribe(display.on_event)

    def wanted(node_id: str, port: str, info: dict[str, Any]) -> bool:
        return (args.save_all or (node_id, port) in saved
                or info.get("kind") in _ALWAYS_WRITTEN)

    interrupts = Interrupts(engine, cancel, err, lambda record: out_dir or default_out_dir(
        stem_file, record))
    previous_handler = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, interrupts.handle)
    ran = False
    try:
        record = engine.run(workflow, use_cache=not args.no_cache, cancel_event=cancel,
                            workflow_path=workflow_path, files=files, keep=wanted)
        # Before closing the engine: a Dask executor leaves outputs on its workers.
        outputs = fetch_kept(engine, record)
        ran = True
    except WorkflowInvalidError as error:
        print(f"error: {error}", file=err)
        return EXIT_INVALID
    finally:
        # The run is over: a Ctrl-C now stops the writing of its outputs.
        signal.signal(signal.SIGINT, signal.default_int_handler if ran else previous_handler)
        engine.close()
    try:
        if display is not None:
            display.finish()
        if args.seed is not None:
            note_unused_seed(workflow, record, err)

        out_dir = out_dir or default_out_dir(stem_file, record)
        written = write_outputs(workflow, record, outputs, out_dir, args.format)
        try:
            record.write(out_dir / "run_record.json")
        except OSError as error:
            print(f"error: the run record could not be written to {out_dir}: {error}", file=err)
            return EXIT_FAILED
        try:
            record_run(record, workflow, overrides=args.overrides, workflow_path=workflow_path,
                       outputs=outputs, engine=engine, runs_dir=args.runs_dir,
                       mlflow_uri=args.mlflow, source="cli",
                       from_run=repeated.run.run_id if repeated else None)
        except StudioError as error:  # the run store or MLflow: the outputs are written
            print(f"error: {error}", file=err)
        if record.not_written:
            for entry in record.not_written:
                print(f"error: {entry['file']} was not written: {entry['error']}", file=err)

        if args.json:
            document = record.to_dict()
            document["metrics"] = collect_metrics(workflow, record, outputs)
            document["output_dir"] = str(out_dir)
            json.dump(document, out, indent=2)
            out.write("\n")
        else:
            print_summary(workflow, record, outputs, out)
            print(f"\nOutputs ({written} files) and the run record are in {out_dir}", file=out)

        if record.status == "cancelled":
            return EXIT_CANCELLED
        return EXIT_OK if record.status == "succeeded" and not record.not_written else EXIT_FAILED
    except KeyboardInterrupt:
        print("\nstopped while writing the outputs: the files written so far are kept, "
              "the run record may be missing", file=err)
        return EXIT_CANCELLED
    finally:
        signal.signal(signal.SIGINT, previous_handler)


#: Output kinds always written: small, and what a run is for.
_ALWAYS_WRITTEN = {"metrics", "model", "transform", "HardwareReport"}


class Interrupts:
    """Ctrl-C: the first asks the run to stop (and says so), the second stops at
    once, writing the record as it stands."""

    def __init__(self, engine: Engine, cancel: threading.Event, err: TextIO,
                 out_dir: Any) -> None:
        self.engine = engine
        self.cancel = cancel
        self.err = err
        self.out_dir = out_dir
        self.count = 0

    def handle(self, *_: Any) -> None:
        self.count += 1
        if self.count == 1:
            self.cancel.set()
            self.err.write("\ncancelling: the running nodes stop at their next step "
                           "(Ctrl-C again to stop at once)\n")
            self.err.flush()
            return
        record = self.engine.current_record
        if record is not None:
            record.status = "cancelled"
            record.error = "stopped at once by a second Ctrl-C"
            for node in record.nodes.values():
                if node.state in (NodeState.RUNNING.value, NodeState.QUEUED.value):
                    node.state = NodeState.CANCELLED.value
            try:
                folder = self.out_dir(record)
                record.write(folder / "run_record.json")
                self.err.write(f"stopped; the run record is in {folder}\n")
            except OSError as error:
                self.err.write(f"stopped; the run record could not be written: {error}\n")
        self.err.flush()
        os._exit(EXIT_CANCELLED)  # threads inside a long computation cannot be joined


def saved_ports(workflow: Workflow, requested: list[str]) -> set[tuple[str, str]]:
    """``--save NODE.PORT`` as (node id, output port); names are checked now."""
    ports = set()
    for text in requested:
        node_name, dot, port = text.rpartition(".")
        if not dot or not node_name or not port:
            raise StudioError(f"--save {text!r} is not of the form NODE.PORT.",
                              fix="For example: --save score.scored")
        node = workflow.find_node(node_name)
        outputs = workflow.node_type(node.id).outputs
        if port not in outputs:
            raise StudioError(f"--save {text!r}: '{workflow.label(node.id)}' has no output "
                              f"{port!r}.", fix="Its outputs: " + ", ".join(outputs))
        ports.add((node.id, port))
    return ports


def check_folder(option: str, folder: Path | None) -> None:
    """Refuse an output or cache folder that cannot be one, before anything runs."""
    if folder is None:
        return
    if folder.exists() and not folder.is_dir():
        raise StudioError(f"{option} {folder} is a file, not a folder.",
                          fix=f"Give {option} a folder (it is created when missing).")
    parent = next((p for p in [folder, *folder.parents] if p.exists()), None)
    if parent is None or not os.access(parent, os.W_OK):
        raise StudioError(f"{option} {folder} cannot be created or written to.",
                          fix=f"Give {option} a folder you can write to.")


def fetch_kept(engine: Engine, record: RunRecord) -> dict[str, dict[str, Any]]:
    """The outputs the run kept to be written, by node and port, brought into this
    process; an output that is lost (a Dask worker gone) is recorded as not written."""
    outputs: dict[str, dict[str, Any]] = {}
    for (node_id, port), value in engine.kept.items():
        try:
            outputs.setdefault(node_id, {})[port] = fetch_outputs({port: value})[port]
        except StudioError as error:
            record.not_written.append({"file": f"{node_id}.{port}", "error": str(error)})
    return {n: outputs[n] for n in record.nodes if n in outputs}


def note_unused_seed(workflow: Workflow, record: RunRecord, err: TextIO) -> None:
    """Say so when --seed reaches no node: each random node sets its own seed."""
    own = [n for n in record.nodes.values() if n.seed is not None
           and workflow.nodes[n.node_id].params.get(
               workflow.node_type(n.node_id).randomness.seed_param or "") is not None]
    inherit = [n for n in record.nodes.values() if n.seed is not None and n not in own]
    if own and not inherit:
        names = ", ".join(f"'{n.title}'" for n in own)
        print(f"note: --seed changed nothing: every node that draws random numbers sets its "
              f"own seed ({names}). Clear their seed parameters to let them follow it.",
              file=err)


def make_executor(args: argparse.Namespace) -> Executor | None:
    """The executor asked for (None: the engine's default in-process one).

    Dask is imported only when chosen."""
    dask_options = [f for f, v in (("--scheduler", args.scheduler),
                                   ("--local-workers", args.local_workers),
                                   ("--partition-size", getattr(args, "partition_size", None)),
                                   ("--gather-limit", getattr(args, "gather_limit", None)))
                    if v is not None]
    if args.executor == "local" and dask_options:
        raise StudioError(f"{' and '.join(dask_options)} only apply to --executor dask.",
                          fix="Drop them, or use --executor dask.")
    if args.executor != "dask" and not dask_options:
        return None
    if args.scheduler is not None and args.local_workers is not None:
        raise StudioError("--scheduler and --local-workers exclude each other.",
                          fix="Give --scheduler to use a running cluster, or --local-workers "
                              "to start one on this machine.")
    from studio.engine.dask_executor import DaskExecutor

    return DaskExecutor(args.scheduler, local_workers=args.local_workers,
                        connect_timeout=args.connect_timeout,
                        partition_bytes=getattr(args, "partition_size", None) or None,
                        gather_limit=getattr(args, "gather_limit", None))


_OVERRIDE = re.compile(r"^(?P<node>.+)\.(?P<param>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>.*)$", re.S)


def apply_overrides(workflow: Workflow, overrides: list[str]) -> None:
    """Apply --set NODE.PARAM=VALUE (VALUE is JSON if it parses, else text)."""
    for text in overrides:
        match = _OVERRIDE.match(text)
        if not match:
            raise StudioError(f"--set {text!r} is not of the form NODE.PARAM=VALUE.",
                              fix="For example: --set split.fraction=0.8")
        node = workflow.find_node(match["node"])
        param = workflow.node_type(node.id).parameters.get(match["param"])
        if param is not None and getattr(param, "code", False):
            raise StudioError(f"--set {match['node']}.{match['param']}: '{match['param']}' is "
                              "code the node runs; code can never be set from the command "
                              "line.", fix="Edit the workflow file, read it, and run it with "
                                           "--trust.")
        raw = match["value"]
        try:
            value: Any = json.loads(raw)
        except (ValueError, RecursionError):
            value = raw
        workflow.set_param(node.id, match["param"], value)


def default_out_dir(workflow_file: Path, record: RunRecord) -> Path:
    stem = workflow_file.name.removesuffix(".json").removesuffix(".axon")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{stem}-{stamp}-{record.run_id[:6]}"


def write_outputs(workflow: Workflow, record: RunRecord, entries: dict[str, dict[str, Any]],
                  out_dir: Path, table_format: str) -> int:
    """Tables as Parquet/CSV, metrics as JSON, models in their safe formats."""
    folder = out_dir / "outputs"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        record.not_written.append({"file": str(folder), "error": str(error)})
        return 0
    count = 0
    for node_id, values in entries.items():
        for port, value in values.items():
            stem = f"{node_id}.{port}"
            try:
                if _write_output(value, folder, stem, table_format):
                    count += 1
            except OSError as error:  # a full disk, say: keep going, say what is missing
                record.not_written.append({"file": str(folder / stem), "error": str(error)})
    fsync_folder(folder)
    return count


def _write_output(value: Any, folder: Path, stem: str, table_format: str) -> bool:
    """Write one output (atomically, fsynced); False for values with no safe format."""
    if isinstance(value, Table):
        suffix = ".parquet" if table_format == "parquet" else ".csv"
        target = folder / f"{stem}{suffix}"
        partial = target.with_name(f".{target.name}.partial")
        try:
            with open(partial, "wb") as stream:
                if table_format == "parquet":
                    value.frame.to_parquet(stream, index=False)
                else:
                    value.frame.to_csv(stream, index=False)
                stream.flush()
                os.fsync(stream.fileno())
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        return True
    if isinstance(value, Metrics):
        atomic_write_text(folder / f"{stem}.json",
                          json.dumps(value.to_dict(), indent=2, allow_nan=False) + "\n")
        return True
    try:
        save_value(value, folder / stem)
    except TypeError:
        return False
    return True


def collect_metrics(workflow: Workflow, record: RunRecord, entries: dict[str, Any]
                    ) -> dict[str, dict[str, Any]]:
    metrics = {}
    for node_id, values in entries.items():
        for port, value in values.items():
            if isinstance(value, Metrics):
                metrics[f"{node_id}.{port}"] = json_safe(value.scalars)
    return metrics


def print_summary(workflow: Workflow, record: RunRecord, entries: dict[str, Any],
                  out: TextIO) -> None:
    rows = []
    foreign = 0
    for node_id, node in record.nodes.items():
        cached = "yes" if node.cache_hit else ""
        if node.origin and not node.origin.get("same_environment", True):
            cached = f"yes, computed on {node.origin['host']} (another environment)"
            foreign += 1
        rows.append([node_id, node.title, node.state, format_duration(node.duration_s), cached])
    print(file=out)
    print_table(["node", "title", "state", "time", "cached"], rows, out)
    counts = ", ".join(f"{n} {s}" for s, n in record.counts().items())
    print(f"\nRun {record.run_id} {record.status} in {format_duration(record.duration_s)} "
          f"({counts})", file=out)
    if foreign:
        print(f"Note: {foreign} result(s) came from the cache but were computed in another "
              "environment (see 'origin' in the run record); --no-cache recomputes them here.",
              file=out)
    for node_id, node in record.nodes.items():
        if node.state == NodeState.FAILED.value:
            print(f"\nerror in '{node.title}' ({node_id}): {node.error}", file=out)
    for name, scalars in collect_metrics(workflow, record, entries).items():
        node_id = name.split(".")[0]
        print(f"\nMetrics of '{record.nodes[node_id].title}' ({name}):", file=out)
        print_table(["metric", "value"],
                    [[k, _format_number(v)] for k, v in scalars.items()], out)
        metrics = entries[node_id][name.split(".", 1)[1]]
        for matrix_name, matrix in metrics.matrices.items():
            print(f"\n  {matrix_name.replace('_', ' ')} "
                  f"(rows: {matrix.row_title.lower()}, columns: {matrix.column_title.lower()})",
                  file=out)
            header = [""] + [str(c) for c in matrix.column_labels]
            body = [[str(r)] + [_format_number(v) for v in row]
                    for r, row in zip(matrix.row_labels, matrix.values, strict=True)]
            print_table(header, body, out, indent="  ")


def _format_number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "n/a" if value is None else str(value)
