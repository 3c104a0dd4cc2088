"""Tables partitioned across the Dask workers (the node side: nodes/partitions.py).

On the Dask executor, Import CSV / Parquet read a local file in blocks, one
task per block, and the blocks stay on the workers that read them as the
partitions of a ``PartitionedValue`` (one future per partition, held by the
client). Each node's declared ``partitioning`` says what happens next:

- ROWS: one task per partition, where the partition is; the outputs are
  partitioned alike.
- STREAM: ``partition_summary`` where each partition is (small answers),
  then one task runs ``run_partitions`` on the summaries; its table outputs
  (``PerPartition``) are made per partition, where each partition is.
- WHOLE_TABLE: the partitions are gathered into one table on one worker,
  if they fit within ``gather_limit`` (half of the smallest worker's memory
  limit by default); otherwise the node is refused before anything moves,
  with the sizes and the fix.

Nothing is gathered on the client unless asked for (``fetch``). Results of a
node on partitions go into the run record as they would in-process: rows
and columns of each table (the number of partitions too), the node's
messages once each.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import distributed

from nodes.context import DatasetRead, RunContext
from nodes.contract import Partitioning
from nodes.data.blocks import common_types, quoted_boundary
from nodes.errors import RunCancelled, StudioError
from nodes.partitions import Partitions, PerPartition, concat_tables
from nodes.values import Table
from studio.engine.executor import NodeTask, ProgressSink, RemoteValue, TaskOutcome

if TYPE_CHECKING:
    from studio.engine.dask_executor import DaskExecutor

#: Seconds between two looks at the run's cancel flag while partitions run.
POLL_S = 0.1


class PartitionedValue(RemoteValue):
    """A table whose partitions stay on the Dask workers: one future each, in row
    order, with what the client knows of them (rows, bytes, schema)."""

    kind = "table"

    def __init__(self, client: distributed.Client, futures: list[distributed.Future],
                 facts: list[dict[str, Any]], node: str) -> None:
        self.client = client
        self.futures = futures
        self.rows = sum(f["rows"] for f in facts)
        self.nbytes = sum(f["bytes"] for f in facts)
        self.columns: list[str] = list(facts[0]["dtypes"]) if facts else []
        self.roles: dict[str, str] = dict(facts[0]["roles"]) if facts else {}
        self.dtypes: dict[str, str] = dict(facts[0]["dtypes"]) if facts else {}
        self.node = node
        self._value: Table | None = None
        self._lock = threading.Lock()

    @property
    def partitions(self) -> int:
        return len(self.futures)

    def futures_here(self, client: distributed.Client) -> list[distributed.Future]:
        if client is not self.client:
            raise StudioError(f"the partitions of the output of '{self.node}' are on another "
                              "Dask cluster.", fix="Run the workflow again.")
        return self.futures

    def fetch(self) -> Table:
        """The whole table, gathered here (for a viewer, a saved output, the cache)."""
        with self._lock:
            if self._value is None:
                self._value = concat_tables(self.client.gather(self.futures))
            return self._value

    def describe(self) -> dict[str, Any]:
        return {"kind": "table", "rows": self.rows, "columns": len(self.columns),
                "partitions": self.partitions}

    def __repr__(self) -> str:
        return (f"PartitionedValue({self.rows} rows x {len(self.columns)} columns in "
                f"{self.partitions} partitions)")


def format_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} TB"


# -- what runs where ------------------------------------------------------------
def partitioned_port(task: NodeTask, inputs: Mapping[str, Any]) -> list[str]:
    """The input ports that hold a partitioned table."""
    ports = []
    for port, value in inputs.items():
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, PartitionedValue) for v in values):
            ports.append(port)
    return ports


def submit_partitioned(executor: DaskExecutor, task: NodeTask, inputs: Mapping[str, Any],
                       cancel_event: threading.Event, on_progress: ProgressSink | None,
                       cancel_name: str) -> concurrent.futures.Future[TaskOutcome] | None:
    """Run ``task`` the partitioned way when its declaration and its inputs call
    for it; None when it runs as one ordinary task (the executor's own path).
    Raises StudioError when it needs a table gathered that is too big."""
    kind = task.node_type.partitioning_for(task.params)
    ports = partitioned_port(task, inputs)
    if kind is Partitioning.SOURCE and not inputs and executor.partition_tables:
        run = _Source(executor, task, inputs, cancel_event, on_progress, cancel_name)
    elif (ports and kind in (Partitioning.ROWS, Partitioning.STREAM)
          and ports == [task.node_type.partition_input]):
        run = (_Rows if kind is Partitioning.ROWS else _Stream)(
            executor, task, inputs, cancel_event, on_progress, cancel_name)
    else:
        for port in ports:  # the node needs these whole: will they fit in one worker?
            values = inputs[port] if isinstance(inputs[port], list) else [inputs[port]]
            for value in values:
                if isinstance(value, PartitionedValue):
                    check_gather(executor, task, port, value)
        return None
    return run.start()


def check_gather(executor: DaskExecutor, task: NodeTask, port: str,
                 value: PartitionedValue) -> None:
    limit = executor.gather_limit_bytes()
    if limit is None or value.nbytes <= limit:
        return
    raise StudioError(
        f"Node '{task.label}': its input '{port}' is {format_bytes(value.nbytes)} "
        f"({value.rows:,} rows in {value.partitions} partitions on the Dask workers), and this "
        f"node needs every row at once, in one worker: more than the "
        f"{format_bytes(limit)} one worker may gather.",
        fix="Give the workers more memory ('dask worker --memory-limit', or fewer workers "
            "with more memory each), keep fewer rows or columns upstream (Partition and "
            "Sample, Select Columns), or raise the limit with --gather-limit.")


class _Partitioned:
    """One node run the partitioned way, followed from a thread of the executor."""

    def __init__(self, executor: DaskExecutor, task: NodeTask, inputs: Mapping[str, Any],
                 cancel_event: threading.Event, on_progress: ProgressSink | None,
                 cancel_name: str) -> None:
        from studio.engine.dask_executor import _WorkerSettings

        self.executor = executor
        self.client = executor.client
        self.task = task
        self.inputs = inputs
        self.cancel_event = cancel_event
        self.on_progress = on_progress
        self.token = uuid.uuid4().hex[:12]
        self.settings = _WorkerSettings(executor._topic, self.token, cancel_name,
                                        executor.joblib_on_cluster)
        self.result: concurrent.futures.Future[TaskOutcome] = concurrent.futures.Future()
        self.started = time.perf_counter()
        self.futures: list[distributed.Future] = []

    def start(self) -> concurrent.futures.Future[TaskOutcome]:
        thread = threading.Thread(target=self._follow, name=f"axon-partitions-{self.token}",
                                  daemon=True)
        thread.start()
        return self.result

    def _follow(self) -> None:
        try:
            outcome = self.run()
        except BaseException as error:
            self._cancel_all()
            if not self.result.done():
                self.result.set_exception(error)
            return
        if not self.result.done():
            self.result.set_result(outcome)

    def run(self) -> TaskOutcome:
        raise NotImplementedError

    # -- helpers --------------------------------------------------------
    def submit(self, function: Any, *args: Any, **kwargs: Any) -> distributed.Future:
        future = self.client.submit(function, *args, pure=False,
                                    key=f"axon-{self.task.node_id}-{function.__name__.strip('_')}"
                                        f"-{uuid.uuid4().hex[:12]}",
                                    retries=self.executor.retries, **kwargs)
        self.futures.append(future)
        return future

    def wait(self, futures: list[distributed.Future], what: str) -> list[Any]:
        """The futures' values, watching the run's cancel flag."""
        from studio.engine.dask_executor import ClusterError

        total = len(futures)
        finished = threading.Semaphore(0)
        for future in futures:
            future.add_done_callback(lambda _: finished.release())
        done = 0
        while done < total:
            if self.cancel_event.is_set():
                raise RunCancelled(self.task.node_id)
            if not finished.acquire(timeout=POLL_S):
                continue
            done += 1
            if self.on_progress is not None and what:
                self.on_progress(self.task.node_id, done / total,
                                 f"{what}: {done} of {total} partitions")
        try:
            return self.client.gather(futures)
        except distributed.KilledWorker as error:
            raise ClusterError(
                self.task.label, f"every Dask worker that ran one of its partitions died "
                f"(the last on {error.last_worker.address}). Workers usually die of running "
                "out of memory.", fix="Give the workers more memory ('dask worker "
                "--memory-limit') or use smaller partitions (--partition-size).") from None
        except (StudioError, RunCancelled):
            raise
        except Exception as error:
            raise ClusterError(self.task.label, f"the Dask cluster could not run it "
                               f"({type(error).__name__}: {error}).",
                               fix="Look at the scheduler and worker logs.") from None

    def raise_first_error(self, answers: list[dict[str, Any]]) -> None:
        for answer in answers:
            if answer.get("error") is not None:
                raise answer["error"].rebuild(answer["worker"])

    def tables(self, sources: list[distributed.Future], what: str, *, empties: bool = False
               ) -> tuple[list[distributed.Future], list[dict[str, Any]]]:
        facts = self.wait([self.submit(_facts, f, empties) for f in sources], what)
        self.raise_first_error(facts)
        return sources, facts

    def shipped(self, value: Any) -> Any:
        if isinstance(value, list):
            return {"many": [self.executor._shippable_input(v) for v in value]}
        return self.executor._shippable_input(value)

    def _cancel_all(self) -> None:
        with contextlib.suppress(Exception):  # a closed client: nothing left to cancel
            self.client.cancel(self.futures)

    def outcome(self, outputs: dict[str, Any], *, datasets: list[DatasetRead] | None = None,
                messages: list[str] | None = None, warnings: list[str] | None = None,
                info: dict[str, dict[str, Any]] | None = None,
                digests: dict[str, str | None] | None = None) -> TaskOutcome:
        output_info = dict(info or {})
        output_digests = dict(digests or {})
        for port, value in outputs.items():
            if isinstance(value, PartitionedValue):
                output_info[port] = value.describe()
                output_digests[port] = None
        return TaskOutcome(outputs, datasets or [], list(dict.fromkeys(messages or [])),
                           list(dict.fromkeys(warnings or [])),
                           time.perf_counter() - self.started, output_info, output_digests)


class _Rows(_Partitioned):
    """A ROWS node: its run, once per partition, where the partition is."""

    def run(self) -> TaskOutcome:
        port = self.task.node_type.partition_input
        value: PartitionedValue = self.inputs[port]
        others = {p: self.shipped(v) for p, v in self.inputs.items() if p != port}
        count = value.partitions
        results = [self.submit(_run_partition, self.task, {**others, port: part},
                               self.settings, (index, count))
                   for index, part in enumerate(value.futures_here(self.client))]
        answers = self.wait([self.submit(_answer, r) for r in results], "running")
        self.raise_first_error(answers)
        outputs: dict[str, Any] = {}
        for name in self.task.node_type.outputs:
            parts = [self.submit(_pick, r, name) for r in results]
            outputs[name] = PartitionedValue(self.client, parts,
                                             [a["facts"][name] for a in answers],
                                             self.task.label)
        return self.outcome(outputs, messages=[m for a in answers for m in a["messages"]],
                            warnings=[w for a in answers for w in a["warnings"]])


class _Stream(_Partitioned):
    """A STREAM node: summaries where the partitions are, then run_partitions."""

    def run(self) -> TaskOutcome:
        from studio.engine.dask_executor import DaskValue, _RemoteResult, _summarize

        port = self.task.node_type.partition_input
        value: PartitionedValue = self.inputs[port]
        others = {p: self.shipped(v) for p, v in self.inputs.items() if p != port}
        parts = value.futures_here(self.client)
        answers = self.wait([self.submit(_summary_of, self.task, {**others, port: part},
                                         self.settings, (index, len(parts)))
                             for index, part in enumerate(parts)], "summarising")
        self.raise_first_error(answers)
        summaries = Partitions([a["summary"] for a in answers], value.rows, value.columns,
                               value.roles, value.dtypes, refs=[f.key for f in parts],
                               nbytes=value.nbytes,
                               gather_limit=self.executor.gather_limit_bytes(),
                               node=self.task.label)
        combined = self.submit(_combine, self.task, {**others, port: summaries},
                               self.settings)
        summary = self.wait([self.submit(_summarize, combined)], "")[0]
        if not summary["ok"]:
            error = self.wait([self.submit(_error_of, combined)], "")[0]
            raise error["error"].rebuild(error["worker"])
        self.executor.ran_on[self.task.node_id] = summary["worker"]
        remote = _RemoteResult(combined, self.task.label, self.executor.fetch_timeout)
        outputs: dict[str, Any] = {}
        for name in self.task.node_type.outputs:
            if summary["output_info"][name]["kind"] == "PerPartition":
                made, facts = self.tables([self.submit(_apply, combined, name, part)
                                           for part in parts], "applying")
                outputs[name] = PartitionedValue(self.client, made, facts, self.task.label)
            else:
                outputs[name] = DaskValue(remote, name)
        info = {p: i for p, i in summary["output_info"].items()
                if not isinstance(outputs[p], PartitionedValue)}
        return self.outcome(outputs, messages=summary["messages"],
                            warnings=summary.get("warnings", []), info=info,
                            digests=summary["output_digests"],
                            datasets=[DatasetRead(**d) for d in summary["datasets"]])


class _Source(_Partitioned):
    """A SOURCE node: its plan on a worker, then one task per block."""

    def run(self) -> TaskOutcome:
        plan = self.wait([self.submit(_plan_source, self.task, self.settings,
                                      self.executor.partition_bytes)], "")[0]
        self.raise_first_error([plan])
        if plan["reads"] is None:  # read whole, as on any other executor
            return self._whole()
        reads = [self.submit(_read_block, read) for read in plan["reads"]]
        parts, facts = self.tables(reads, "reading", empties=True)
        infos = [f.get("read_info") or {} for f in facts]
        if all("quotes" in i for i in infos):
            if quoted_boundary([i["quotes"] for i in infos]) is not None:
                self.client.cancel(parts)  # a cut fell inside a quoted field
                outcome = self._whole()
                outcome.messages = ["read whole on one worker: a quoted field holds a line "
                                    "end where the file would be cut", *outcome.messages]
                return outcome
            for read, info in zip(plan["reads"], infos, strict=True):
                if info["error"] is not None:
                    raise read.unreadable(info["error"])
        casts = common_types(self.task.label, [f["kinds"] for f in facts],
                             fixed=plan["fixed_types"])
        if casts:
            parts, facts = self.tables([self.submit(_cast, part, casts) for part in parts], "")
        value = PartitionedValue(self.client, parts, facts, self.task.label)
        datasets = [replace(DatasetRead(**d), rows=value.rows) for d in plan["datasets"]]
        messages = [*plan["messages"],
                    f"read in {value.partitions} partitions on the Dask workers"]
        return self.outcome({"data": value}, datasets=datasets, messages=messages,
                            warnings=plan["warnings"])

    def _whole(self) -> TaskOutcome:
        future = self.executor._submit_task(self.task, self.inputs, self.cancel_event,
                                            self.on_progress)
        while True:
            try:
                return future.result(timeout=POLL_S)
            except concurrent.futures.TimeoutError:
                if self.cancel_event.is_set():
                    future.cancel()
                    raise RunCancelled(self.task.node_id) from None


# -- tasks on the workers -----------------------------------------------------------
def _shipped_error(error: BaseException) -> dict[str, Any]:
    from studio.engine.dask_executor import _ShippedError

    return {"error": _ShippedError.capture(error), "worker": distributed.get_worker().address}


def _run_partition(task: NodeTask, inputs: dict[str, Any], settings: Any,
                   partition: tuple[int, int]) -> Any:
    from studio.engine.dask_executor import _run_node

    return _run_node(task, inputs, settings, partition=partition)


def _answer(result: Any) -> dict[str, Any]:
    """Messages and output facts of a partition's run, or its error."""
    if result.outcome is None:
        return {"error": result.error, "worker": result.worker}
    return {"error": None, "messages": result.outcome.messages,
            "warnings": result.outcome.warnings,
            "facts": {port: _facts(table, False)
                      for port, table in result.outcome.outputs.items()}}


def _error_of(result: Any) -> dict[str, Any]:
    return {"error": result.error, "worker": result.worker}


def _pick(result: Any, port: str) -> Table:
    return result.outcome.outputs[port]


def _facts(table: Table, empties: bool) -> dict[str, Any]:
    """What the client keeps of a partition: its size and schema."""
    try:
        frame = table.frame
        facts: dict[str, Any] = {
            "error": None, "rows": len(frame),
            "bytes": int(frame.memory_usage(index=True, deep=False).sum()),
            "dtypes": {c: str(t) for c, t in frame.dtypes.items()}, "roles": dict(table.roles),
            "read_info": getattr(table, "read_info", None)}
        if empties:
            missing = frame.isna().all() if len(frame) else {c: True for c in frame.columns}
            facts["kinds"] = {c: (str(t), bool(missing[c])) for c, t in frame.dtypes.items()}
        return facts
    except Exception as error:
        return _shipped_error(error)


def _summary_of(task: NodeTask, inputs: dict[str, Any], settings: Any,
                partition: tuple[int, int]) -> dict[str, Any]:
    """A STREAM node's partition_summary of one partition (on its worker)."""
    from studio.engine.dask_executor import _run_node

    result = _run_node(task, inputs, settings, method="partition_summary",
                       partition=partition)
    if result.outcome is None:
        return {"error": result.error, "worker": result.worker}
    return {"error": None, "summary": result.outcome.outputs["summary"]}


class _WorkerBackend:
    """Runs a STREAM node's functions where its partitions are, from the worker
    that runs the node (seceding from its thread while it waits)."""

    def __init__(self) -> None:
        self.held: list[distributed.Future] = []

    def _submit(self, client: distributed.Client, refs: list[str], function: Any,
                args: tuple[Any, ...]) -> list[distributed.Future]:
        return [client.submit(_call, function, distributed.Future(key, client), *args,
                              pure=False, key=f"axon-part-{function.__name__}-"
                                              f"{uuid.uuid4().hex[:12]}")
                for key in refs]

    def map(self, refs: list[str], function: Any, args: tuple[Any, ...]) -> list[Any]:
        with distributed.worker_client() as client:
            return client.gather(self._submit(client, refs, function, args))

    def derive(self, refs: list[str], function: Any, args: tuple[Any, ...]) -> list[str]:
        with distributed.worker_client() as client:
            futures = self._submit(client, refs, function, args)
            self.held.extend(futures)
            for future in futures:  # wait, leaving each result where it was made
                error = future.exception()
                if error is not None:
                    raise error
            return [f.key for f in futures]

    def derive_per_worker(self, refs: list[str], function: Any,
                          args: tuple[Any, ...]) -> list[str]:
        with distributed.worker_client() as client:
            futures = [distributed.Future(key, client) for key in refs]
            holders = client.who_has(futures)
            groups: dict[str, list[distributed.Future]] = {}
            for future in futures:  # in row order within each worker's group
                worker = min(holders.get(future.key) or ("",))
                groups.setdefault(worker, []).append(future)
            made = [client.submit(_call_group, function, group, *args, pure=False,
                                  workers=[worker] if worker else None,
                                  key=f"axon-part-{function.__name__}-{uuid.uuid4().hex[:12]}")
                    for worker, group in groups.items()]
            self.held.extend(made)
            for future in made:
                error = future.exception()
                if error is not None:
                    raise error
            return [f.key for f in made]

    def gather(self, refs: list[str]) -> list[Table]:
        with distributed.worker_client() as client:
            return client.gather([distributed.Future(key, client) for key in refs])

    def release(self) -> None:
        for future in self.held:
            future.release()
        self.held.clear()


def _call(function: Any, part: Any, *args: Any) -> Any:
    return function(part, *args)


def _call_group(function: Any, parts: list[Any], *args: Any) -> Any:
    return function(parts, *args)


def _combine(task: NodeTask, inputs: dict[str, Any], settings: Any) -> Any:
    """A STREAM node's run_partitions, on a worker, able to reach its partitions."""
    from studio.engine.dask_executor import _run_node

    backend = _WorkerBackend()
    port = task.node_type.partition_input
    inputs = {**inputs, port: replace(inputs[port], backend=backend)}
    try:
        return _run_node(task, inputs, settings, method="run_partitions")
    finally:
        backend.release()


def _apply(combined: Any, port: str, part: Table) -> Table:
    function: PerPartition = combined.outcome.outputs[port]
    return function(part)


def _read_block(read: Any) -> Table:
    return read.read()


def _cast(table: Table, casts: dict[str, str]) -> Table:
    frame = table.frame
    wanted = {c: t for c, t in casts.items() if str(frame[c].dtype) != t}
    if not wanted:
        return table
    return table.with_frame(frame.astype(wanted))


def _plan_source(task: NodeTask, settings: Any, partition_bytes: int | None) -> dict[str, Any]:
    """A SOURCE node's plan (on a worker, where the file is read)."""
    from nodes.data.files import paths_relative_to
    from nodes.imports import importing_for

    context = RunContext(node_id=task.node_id, node_title=task.label, seed=task.seed,
                         trusted=task.trusted, files=task.files,
                         partition_bytes=partition_bytes)
    try:
        node = task.node_type(task.params, label=task.label)
        with importing_for(task.node_type), context.capturing_warnings(), \
                paths_relative_to(task.files.base):
            reads = node.plan_partitions(context)
        fixed = list(getattr(reads[0], "types", {}) or {}) if reads else []
        return {"error": None, "reads": reads, "fixed_types": fixed,
                "datasets": [vars(d) for d in context.datasets],
                "messages": context.messages, "warnings": context.warnings}
    except Exception as error:
        return _shipped_error(error)
