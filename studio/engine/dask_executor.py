"""Run node tasks on a Dask distributed cluster.

    executor = DaskExecutor("tcp://scheduler:8786")    # a running cluster
    executor = DaskExecutor(local_workers=2)            # a LocalCluster on this machine
    with Engine(executor=executor) as engine:
        record = engine.run(workflow)
        metrics = engine.outputs(workflow, "evaluate")  # fetched from the workers here

Each node is one Dask task whose dependencies are the tasks of its upstream
nodes. Outputs stay on the workers: the runner receives ``DaskValue``
handles plus the outputs' descriptions and digests, computed on the worker,
so the run record is the one an in-process run writes. Handles go back to
Dask as inputs of the next nodes, so tables move from worker to worker,
never through the client; a value comes to the client only when asked for.

What else crosses the network, besides the tasks themselves (node type by
reference, parameters, seed): a small summary of each finished node and its
progress reports (Dask structured events on a topic of this executor),
cancellation (a ``distributed.Event`` per run that the node's context
polls, plus cancelling the futures), and a node's own errors (returned as
data, so they read exactly as in-process and Dask never retries them).

Placement: Dask runs a task where its inputs are, which would put the
branches that follow one node on one worker. The executor therefore names
the worker with the fewest of its node tasks in flight (preferring one that
holds the inputs); Dask may still run it elsewhere if that worker goes.

Inside a node, joblib runs on the cluster (joblib's Dask backend): a
scikit-learn search or cross-validation asked for n_jobs=-1 (Tune Model
Hyperparameters and Cross-Validate Model with 'parallel_jobs' 0) or k > 1
fans its fits out over the workers instead of one machine's cores; n_jobs=1
or None stays in the node's thread, as it would in-process.

Failures of the cluster are reported with the node named (``ClusterError``):
a node whose workers all died (Dask re-runs a task whose worker died, up to
``distributed.scheduler.allowed-failures`` times), a lost connection to the
scheduler, or no worker at all for ``no_worker_timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import os
import queue
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import dask.sizeof
import distributed
import joblib
from distributed.protocol import pickle as dask_pickle
from joblib._dask import DaskDistributedBackend  # joblib's "dask" backend, to refine
from joblib._parallel_backends import FallbackToBackend, SequentialBackend

from nodes.context import DatasetRead
from nodes.errors import RunCancelled, StudioError
from nodes.partitions import concat_tables
from nodes.values import Table
from studio.engine.executor import (
    Executor,
    NodeTask,
    ProgressSink,
    RemoteValue,
    TaskOutcome,
    execute_task,
)
from studio.workflow.errors import Problem

log = logging.getLogger(__name__)

#: Seconds between two progress reports of one node sent by a worker.
PROGRESS_INTERVAL_S = 0.1
#: Seconds between two looks of a running node at its run's cancel event.
CANCEL_POLL_S = 0.2
#: Seconds to wait for a finished node's summary event before asking for it.
SUMMARY_GRACE_S = 2.0
#: Share of the smallest worker's memory limit one node may gather by default.
GATHER_SHARE = 0.5
#: For how long after a worker leaves the cluster the executor looks for tasks
#: stranded in 'no-worker' (see ``_place_stranded``).
STRANDED_WATCH_S = 120.0


class ClusterError(StudioError):
    """The Dask cluster could not run a node or return its output (not a node bug)."""

    def __init__(self, node: str, message: str, *, fix: str | None = None) -> None:
        self.node = node
        super().__init__(f"Node '{node}': {message}", fix=fix)


_SCHEMES = ("tcp", "tls")


def check_scheduler_address(address: str) -> None:
    """Refuse an address that is not SCHEME://HOST:PORT before connecting to it."""
    scheme, separator, rest = address.partition("://")
    host, colon, port = rest.rpartition(":")
    if (not separator or scheme not in _SCHEMES or not colon or not host
            or not port.isdigit() or not 0 < int(port) < 65536):
        raise StudioError(f"'{address}' is not a Dask scheduler address.",
                          fix="Give it as tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786 (the "
                              "address 'dask scheduler' prints).")


def probe_scheduler(address: str, timeout: float) -> None:
    """Connect to ``address`` and ask for its identity, all within ``timeout``
    seconds; raises OSError or TimeoutError when no scheduler answers."""
    async def ask() -> None:
        from distributed.comm import connect

        comm = await connect(address, timeout=timeout)
        try:
            await comm.write({"op": "identity", "reply": True})
            answer = await comm.read()
        finally:
            comm.abort()
        if not isinstance(answer, dict) or answer.get("type") != "Scheduler":
            raise OSError(f"{address} answers, but it is not a Dask scheduler")

    async def within_deadline() -> None:
        await asyncio.wait_for(ask(), timeout)

    # A private event loop on a private thread: the caller may run one already.
    errors: list[BaseException] = []
    thread = threading.Thread(target=lambda: _capture(errors, asyncio.run, within_deadline()),
                              name="axon-dask-probe", daemon=True)
    thread.start()
    thread.join(timeout + 5)
    if thread.is_alive():
        raise TimeoutError(f"no answer within {timeout:g} s")
    if errors:
        raise errors[0]


def _capture(errors: list[BaseException], function: Any, *args: Any) -> None:
    try:
        function(*args)
    except BaseException as error:  # handed to the caller's thread
        errors.append(error)


class _RemoteResult:
    """A node's result on the cluster, fetched at most once for all its ports."""

    def __init__(self, future: distributed.Future, node: str, timeout_s: float | None) -> None:
        self.future = future
        self.node = node
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._outputs: dict[str, Any] | None = None

    def outputs(self) -> dict[str, Any]:
        with self._lock:
            if self._outputs is None:
                try:
                    result: _NodeResult = self.future.result(timeout=self._timeout_s)
                except Exception as error:
                    raise ClusterError(
                        self.node, f"its outputs could not be fetched from the Dask cluster "
                        f"({type(error).__name__}: {error}).",
                        fix="Run the workflow again while the cluster is up.") from error
                assert result.outcome is not None
                self._outputs = result.outcome.outputs
            return self._outputs


class DaskValue(RemoteValue):
    """One output of a node, kept on the Dask worker that computed it."""

    def __init__(self, result: _RemoteResult, port: str) -> None:
        self.result = result
        self.port = port

    @property
    def future(self) -> distributed.Future:
        return self.result.future

    def fetch(self) -> Any:
        return self.result.outputs()[self.port]

    def __repr__(self) -> str:
        return f"DaskValue({self.result.node!r}.{self.port}, key={self.future.key!r})"


class DaskExecutor(Executor):
    """Node tasks on a Dask cluster: a scheduler's address, or a LocalCluster it starts.

    ``retries``: how often Dask re-runs a task that failed outside the node
    (say, an input that could not be fetched); a node's own errors are never
    retried. ``joblib_on_cluster``: run joblib inside nodes on the cluster.
    ``no_worker_timeout``: seconds without any worker before waiting nodes
    fail. ``client``: an existing ``distributed.Client`` (left open by close).
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, *, local_workers: int | None = None,
                 threads_per_worker: int = 1, client: distributed.Client | None = None,
                 retries: int = 1, joblib_on_cluster: bool = True,
                 no_worker_timeout: float = 60.0, connect_timeout: float = 20.0,
                 fetch_timeout: float | None = 600.0, partition_tables: bool = True,
                 partition_bytes: int | None = None, gather_limit: int | None = None) -> None:
        if sum(x is not None for x in (scheduler, local_workers, client)) > 1:
            raise ValueError("give at most one of scheduler, local_workers and client")
        self.retries = retries
        self.joblib_on_cluster = joblib_on_cluster
        self.no_worker_timeout = no_worker_timeout
        self.fetch_timeout = fetch_timeout
        #: Read local CSV / Parquet files in partitions that stay on the workers.
        self.partition_tables = partition_tables
        #: About how many bytes of file per partition (None: nodes.data.blocks' default).
        self.partition_bytes = partition_bytes
        #: The most bytes of a partitioned table a node may gather (None: a share
        #: of the smallest worker's memory limit).
        self.gather_limit = gather_limit
        self._cluster: distributed.LocalCluster | None = None
        self._owns_client = client is None
        if client is not None:
            self.client = client
        elif scheduler is not None:
            check_scheduler_address(scheduler)
            try:
                # A peer that accepts the connection and never answers would hold
                # Client() for minutes: make sure a scheduler answers first.
                probe_scheduler(scheduler, connect_timeout)
                self.client = distributed.Client(scheduler, timeout=connect_timeout,
                                                 set_as_default=False)
            except (OSError, TimeoutError, ValueError) as error:
                reason = str(error) or f"no answer within {connect_timeout:g} s"
                raise StudioError(
                    f"Cannot reach the Dask scheduler at {scheduler} ({reason}).",
                    fix="Start one with 'dask scheduler' (and workers with 'dask worker "
                        f"{scheduler}'), or check the address and port; "
                        "--connect-timeout sets how long to wait.") from None
        else:
            workers = local_workers or os.cpu_count() or 1
            self._cluster = distributed.LocalCluster(
                n_workers=workers, threads_per_worker=threads_per_worker, processes=True,
                dashboard_address=None)
            self.client = distributed.Client(self._cluster, set_as_default=False)
            self.client.wait_for_workers(workers, timeout=60)
        super().__init__(max(1, sum(self.client.nthreads().values())))

        #: node id -> address of the worker that computed its last outcome.
        self.ran_on: dict[str, str] = {}
        self._topic = f"axon-{uuid.uuid4().hex[:12]}"
        self._lock = threading.Lock()
        self._submissions: dict[str, _Submission] = {}
        self._runs: dict[int, _RunState] = {}
        self._placed: Counter[str] = Counter()  # worker -> our node tasks in flight there
        self._inbox: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._closing = threading.Event()
        self.client.subscribe_topic(self._topic, self._on_cluster_event)
        self._watcher = threading.Thread(target=self._watch, name="axon-dask-watch",
                                         daemon=True)
        self._watcher.start()

    # -- the Executor interface -------------------------------------------
    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "jobs": self.jobs, "scheduler": self.client.scheduler.address,
                "workers": len(self.client.nthreads()), "local_cluster": self._cluster is not None}

    def check_tasks(self, tasks: Sequence[NodeTask]) -> list[Problem]:
        """Each task must pickle here and unpickle on a worker; name the node that does not."""
        problems, blobs = [], {}
        for task in tasks:
            try:
                blobs[task.node_id] = dask_pickle.dumps(task)
            except Exception as error:
                problems.append(Problem(
                    f"'{task.label}' cannot be sent to the Dask workers: its node type or "
                    f"parameters do not pickle ({type(error).__name__}: {error})",
                    node=task.node_id, where=f"node '{task.node_id}'",
                    fix="Define the node type at the top level of an importable module, "
                        "or run with --executor local."))
        if not blobs:
            return problems
        labels = {task.node_id: task.label for task in tasks}
        probe = None
        try:
            probe = self.client.submit(_unpicklable_on_worker, blobs, pure=False)
            failures = probe.result(timeout=self.no_worker_timeout)
        except TimeoutError:
            probe.cancel()
            return [*problems, Problem(
                f"no Dask worker answered within {self.no_worker_timeout:g} s",
                fix=f"Start workers with 'dask worker {self.client.scheduler.address}'.")]
        except Exception as error:
            return [*problems, Problem(
                f"the Dask cluster did not answer ({type(error).__name__}: {error})",
                fix="Check that the scheduler and its workers are running.")]
        for node_id, (worker, error) in failures.items():
            problems.append(Problem(
                f"'{labels[node_id]}' cannot be loaded on the Dask worker {worker}: {error}",
                node=node_id, where=f"node '{node_id}'",
                fix="Install the same Axon Studio and node packages on every worker as here "
                    "(the same Python environment), or run with --executor local."))
        return problems

    def submit(self, task: NodeTask, inputs: Mapping[str, Any], cancel_event: threading.Event,
               on_progress: ProgressSink | None = None) -> concurrent.futures.Future[TaskOutcome]:
        from studio.engine.dask_partitions import submit_partitioned

        try:
            partitioned = submit_partitioned(self, task, inputs, cancel_event, on_progress,
                                             self._run_of(cancel_event).cancel_name)
        except StudioError as error:
            result: concurrent.futures.Future[TaskOutcome] = concurrent.futures.Future()
            result.set_exception(error)
            return result
        if partitioned is not None:
            return partitioned
        return self._submit_task(task, inputs, cancel_event, on_progress)

    def data_layout(self) -> dict[str, Any] | None:
        if not self.partition_tables:
            return None
        from nodes.data.blocks import block_bytes

        return {"partitions": block_bytes(self.partition_bytes)}

    def gather_limit_bytes(self) -> int | None:
        """The most bytes of a partitioned table one node may gather into one worker."""
        if self.gather_limit is not None:
            return self.gather_limit
        try:
            limits = [w.get("memory_limit") or 0
                      for w in self.client.scheduler_info()["workers"].values()]
        except Exception:
            return None
        limits = [limit for limit in limits if limit]
        return int(min(limits) * GATHER_SHARE) if limits else None

    def _run_of(self, cancel_event: threading.Event) -> _RunState:
        with self._lock:
            run = self._runs.get(id(cancel_event))
            if run is None:
                run = self._runs[id(cancel_event)] = _RunState(
                    cancel_event, f"axon-cancel-{uuid.uuid4().hex[:12]}")
            return run

    def _submit_task(self, task: NodeTask, inputs: Mapping[str, Any],
                     cancel_event: threading.Event, on_progress: ProgressSink | None = None
                     ) -> concurrent.futures.Future[TaskOutcome]:
        result: concurrent.futures.Future[TaskOutcome] = concurrent.futures.Future()
        token = uuid.uuid4().hex[:12]
        run = self._run_of(cancel_event)
        try:
            ports = task.node_type.inputs
            arguments = {port: ({"many": [self._shippable_input(v) for v in value]}
                                if ports[port].multiple else self._shippable_input(value))
                         for port, value in inputs.items()}
            upstream = [a for v in arguments.values()
                        for a in (v.get("many", v.get("partitions", []))
                                  if isinstance(v, dict) else [v])]
            worker = self._place([a[0] if isinstance(a, list) else a for a in upstream
                                  if isinstance(a, list | distributed.Future)])
            settings = _WorkerSettings(self._topic, token, run.cancel_name,
                                       self.joblib_on_cluster)
            future = self.client.submit(
                _run_node, task, arguments, settings, key=f"axon-{task.node_id}-{token}",
                retries=self.retries, workers=[worker] if worker else None,
                allow_other_workers=True)
        except StudioError as error:
            result.set_exception(error)
            return result
        except Exception as error:  # a closed client, a lost scheduler
            result.set_exception(ClusterError(
                task.label, f"could not be sent to the Dask cluster ({type(error).__name__}: "
                f"{error}).", fix="Check that the scheduler is running."))
            return result
        submission = _Submission(task, token, run, future, result, on_progress, worker)
        with self._lock:
            self._submissions[token] = submission
            run.pending[token] = submission
            if worker:
                self._placed[worker] += 1
        result.add_done_callback(lambda f: self._abandon(submission) if f.cancelled() else None)
        future.add_done_callback(lambda _: self._inbox.put(("done", token)))
        return result

    def close(self) -> None:
        if self._closing.is_set():
            return
        self._closing.set()
        self._watcher.join(timeout=5)
        with contextlib.suppress(Exception):
            self.client.unsubscribe_topic(self._topic)
        with self._lock:
            pending = list(self._submissions.values())
        for submission in pending:
            self._abandon(submission)
        if self._owns_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()

    # -- submitting ---------------------------------------------------------
    def _shippable_input(self, value: Any) -> Any:
        from studio.engine.dask_partitions import PartitionedValue

        if isinstance(value, PartitionedValue):  # a node that needs the whole table
            return {"partitions": value.futures_here(self.client)}
        if isinstance(value, DaskValue):
            if value.future.client is self.client:
                return [value.future, value.port]  # Dask resolves the future on the worker
            value = value.fetch()  # computed on another cluster (an old executor)
        if isinstance(value, Table):  # from the cache: send it once, not inside the task
            return self.client.scatter(value, hash=False)
        return value

    def _place(self, upstream: list[distributed.Future]) -> str | None:
        """The worker with the most free threads for our tasks, preferring the holders
        of the inputs; None when the cluster has no worker (Dask will wait for one)."""
        try:
            threads = self.client.nthreads()
            holders = Counter(w for f in self.client.who_has(upstream).values() for w in f)
        except Exception:
            return None
        if not threads:
            return None
        with self._lock:
            return max(threads, key=lambda w: ((threads[w] - self._placed[w]) / threads[w],
                                               holders[w]))

    # -- outcomes -----------------------------------------------------------
    def _settle(self, submission: _Submission) -> None:
        """The node's task ended and its summary arrived (or never will): resolve the
        runner's future (watcher thread)."""
        self._forget(submission)
        if submission.result.done():
            return
        task, future = submission.task, submission.future
        if future.status == "finished" and submission.summary is None:
            with contextlib.suppress(Exception):  # the event did not come: ask for it
                submission.summary = self.client.submit(
                    _summarize, future, key=f"axon-summary-{submission.token}").result(
                    timeout=self.fetch_timeout)
        if future.status == "finished" and submission.summary is not None:
            summary = submission.summary
            self.ran_on[task.node_id] = summary["worker"]
            if summary["ok"]:
                remote = _RemoteResult(future, task.label, self.fetch_timeout)
                outcome = TaskOutcome(
                    outputs={port: DaskValue(remote, port) for port in task.node_type.outputs},
                    datasets=[DatasetRead(**d) for d in summary["datasets"]],
                    messages=summary["messages"], warnings=summary.get("warnings", []),
                    duration_s=summary["duration_s"],
                    output_info=summary["output_info"],
                    output_digests=summary["output_digests"])
                with contextlib.suppress(concurrent.futures.InvalidStateError):
                    submission.result.set_result(outcome)
                return
            # An error: the node's result holds only the error, small enough to fetch.
        _set_exception(submission.result, self._error_of(submission))

    def _error_of(self, submission: _Submission) -> BaseException:
        task = submission.task
        try:
            result: _NodeResult = submission.future.result(timeout=self.fetch_timeout)
        except concurrent.futures.CancelledError:
            if submission.run.cancel_event.is_set():
                return RunCancelled(task.node_id)
            return ClusterError(
                task.label, "the Dask cluster dropped it before it finished (the client "
                "lost its connection to the scheduler, or the scheduler restarted).",
                fix="Check that the scheduler is running, then run the workflow again.")
        except distributed.KilledWorker as error:
            return ClusterError(
                task.label, f"every Dask worker that ran it died ({error.allowed_failures + 1} "
                f"attempts; the last on {error.last_worker.address}). Workers usually die of "
                "running out of memory.",
                fix="Give the workers more memory ('dask worker --memory-limit'), use fewer "
                    "threads per worker, or look at the worker logs.")
        except Exception as error:
            return ClusterError(
                task.label, f"the Dask cluster could not run it ({type(error).__name__}: "
                f"{error}).", fix="Look at the scheduler and worker logs.")
        self.ran_on[task.node_id] = result.worker
        if result.error is None:
            return ClusterError(task.label, "its summary did not arrive from the Dask worker.",
                                fix="Run the workflow again.")
        return result.error.rebuild(result.worker)

    def _abandon(self, submission: _Submission) -> None:
        """Stop a task nobody waits for any more (the run was cancelled or closed)."""
        self._forget(submission)
        with contextlib.suppress(Exception):
            self.client.cancel([submission.future])
        _set_exception(submission.result, RunCancelled(submission.task.node_id))

    def _forget(self, submission: _Submission) -> None:
        with self._lock:
            if self._submissions.pop(submission.token, None) is not None and submission.worker:
                self._placed[submission.worker] -= 1
            run = submission.run
            run.pending.pop(submission.token, None)
            if not run.pending and self._runs.get(id(run.cancel_event)) is run:
                del self._runs[id(run.cancel_event)]

    # -- what the cluster tells us ----------------------------------------
    def _on_cluster_event(self, event: tuple[float, dict[str, Any]]) -> None:
        """A progress report or a node summary (on the client's event loop: hand it on)."""
        self._inbox.put(("event", event[1]))

    def _watch(self) -> None:
        """Deliver progress and outcomes, propagate cancellation, fail what cannot run."""
        finished: dict[str, float] = {}  # token -> when its task ended, waiting for a summary
        no_workers_since: float | None = None
        last_worker_check = 0.0
        workers_seen: frozenset[str] = frozenset()
        worker_left = -STRANDED_WATCH_S  # when a worker was last found gone
        while not self._closing.is_set():
            try:
                kind, item = self._inbox.get(timeout=0.05)
            except queue.Empty:
                kind, item = "", None
            with self._lock:
                submission = self._submissions.get(item if kind == "done" else
                                                   (item or {}).get("token", ""))
            if kind == "done" and submission is not None:
                finished[submission.token] = time.monotonic()
            elif kind == "event" and submission is not None:
                if "summary" in item:
                    submission.summary = item["summary"]
                else:
                    self._deliver_progress(submission, item)
            now = time.monotonic()
            for token, ended in list(finished.items()):
                with self._lock:
                    waiting = self._submissions.get(token)
                if waiting is None:
                    del finished[token]
                elif (waiting.summary is not None or waiting.future.status != "finished"
                      or now - ended > SUMMARY_GRACE_S):
                    del finished[token]
                    self._settle(waiting)
            with self._lock:
                runs = list(self._runs.values())
            for run in runs:
                if run.cancel_event.is_set() and not run.cancel_sent:
                    run.cancel_sent = True
                    self._cancel_run(run)
            if runs and now - last_worker_check >= 1.0:
                last_worker_check = now
                workers = self._current_workers()
                if workers is not None:
                    if workers_seen - workers:
                        worker_left = now
                    workers_seen = workers
                if workers is not None and not workers:
                    no_workers_since = no_workers_since or now
                    if now - no_workers_since >= self.no_worker_timeout:
                        self._fail_pending_for_lack_of_workers()
                        no_workers_since = None
                else:
                    no_workers_since = None
                    if workers and now - worker_left <= STRANDED_WATCH_S:
                        self._schedule_stranded()

    def _deliver_progress(self, submission: _Submission, message: dict[str, Any]) -> None:
        if submission.on_progress is None or submission.result.done():
            return  # late news of a node that already finished
        try:
            submission.on_progress(message["node_id"], message["fraction"], message["message"])
        except Exception:
            log.exception("progress listener failed")

    def _cancel_run(self, run: _RunState) -> None:
        with contextlib.suppress(Exception):  # a run that is cancelled need not be told twice
            distributed.Event(run.cancel_name, client=self.client).set()
        with self._lock:
            pending = list(run.pending.values())
        for submission in pending:
            self._abandon(submission)

    def _current_workers(self) -> frozenset[str] | None:
        if self.client.status != "running":
            return None  # reconnecting: Dask cancels the futures itself if it gives up
        try:
            return frozenset(self.client.nthreads())
        except Exception:
            return None

    def _schedule_stranded(self) -> None:
        """Ask the scheduler to place our tasks that wait for a worker although
        workers are running (see ``_place_stranded``)."""
        try:
            placed = self.client.run_on_scheduler(_place_stranded, prefix="axon-")
        except Exception:  # an older or busy scheduler: the no-worker check still holds
            log.debug("could not ask the scheduler about stranded tasks", exc_info=True)
            return
        if placed:
            log.info("placed %d task(s) whose worker had gone: %s", len(placed), placed)

    def _fail_pending_for_lack_of_workers(self) -> None:
        with self._lock:
            pending = list(self._submissions.values())
        for submission in pending:
            self._forget(submission)
            with contextlib.suppress(Exception):
                self.client.cancel([submission.future])
            _set_exception(submission.result, ClusterError(
                submission.task.label, f"no Dask worker has been connected to the scheduler "
                f"for {self.no_worker_timeout:g} s, so it could not run.",
                fix=f"Start workers with 'dask worker {self.client.scheduler.address}'."))


def _place_stranded(prefix: str, dask_scheduler: Any = None) -> list[str]:
    """Runs on the scheduler: place tasks (keys starting with ``prefix``) that sit in
    'no-worker' with a loose worker restriction while workers are running.

    Nodes are submitted with a preferred worker that others may replace
    (``allow_other_workers``). If every worker dies at once, such tasks go to
    'no-worker'; when workers come back, Dask checks those tasks only against
    their preferred workers, which are gone, and leaves them waiting forever.
    Asking for the 'processing' transition again lets Dask choose, as the
    loose restriction allows.
    """
    scheduler = dask_scheduler
    if scheduler is None or not scheduler.running:
        return []
    stranded = [ts.key for ts in list(scheduler.unrunnable)
                if str(ts.key).startswith(prefix) and ts.loose_restrictions]
    if stranded:
        scheduler.transitions({key: "processing" for key in stranded},
                              stimulus_id=f"axon-place-stranded-{time.time()}")
    return [str(key) for key in stranded]


def _set_exception(future: concurrent.futures.Future[Any], error: BaseException) -> None:
    with contextlib.suppress(concurrent.futures.InvalidStateError):
        if not future.done():
            future.set_exception(error)


@dataclass
class _RunState:
    """The tasks of one run (one cancel event) that have not finished yet."""

    cancel_event: threading.Event
    cancel_name: str
    pending: dict[str, _Submission] = field(default_factory=dict)
    cancel_sent: bool = False


@dataclass
class _Submission:
    """One node task in flight: its Dask future and the runner's future."""

    task: NodeTask
    token: str
    run: _RunState
    future: distributed.Future
    result: concurrent.futures.Future[TaskOutcome]
    on_progress: ProgressSink | None
    worker: str | None
    summary: dict[str, Any] | None = None


# -- what runs on the workers ---------------------------------------------

@dataclass(frozen=True)
class _WorkerSettings:
    topic: str
    token: str
    cancel_name: str
    joblib_on_cluster: bool


@dataclass
class _ShippedError:
    """A node's exception as data: it reaches the client even when it does not
    pickle (exceptions with keyword-only constructor arguments do not)."""

    error_type: type[BaseException] | None
    type_name: str
    args: tuple[Any, ...]
    state: dict[str, Any]
    worker_traceback: str

    @classmethod
    def capture(cls, error: BaseException) -> _ShippedError:
        state = {}
        for name, value in vars(error).items():
            try:
                dask_pickle.dumps(value)
            except Exception:
                continue
            state[name] = value
        error_type: type[BaseException] | None = type(error)
        try:
            dask_pickle.loads(dask_pickle.dumps((error_type, error.args)))
            args = error.args
        except Exception:
            error_type, args = None, (str(error),)
        return cls(error_type, f"{type(error).__module__}.{type(error).__qualname__}", args,
                   state, traceback.format_exc())

    def rebuild(self, worker: str) -> BaseException:
        """The same exception type and message as in-process, with the worker's traceback."""
        if self.error_type is None:
            error: BaseException = RuntimeError(f"{self.type_name}: {self.args[0]}")
        else:
            error = self.error_type.__new__(self.error_type)
            error.args = self.args
            error.__dict__.update(self.state)
        error.add_note(f"raised on the Dask worker {worker}:\n{self.worker_traceback}")
        return error


@dataclass
class _NodeResult:
    """What a node task leaves on its worker: the outcome, or the error."""

    worker: str
    outcome: TaskOutcome | None = None
    error: _ShippedError | None = None


@dask.sizeof.sizeof.register(Table)
def _sizeof_table(table: Table) -> int:
    return dask.sizeof.sizeof(table.frame)


@dask.sizeof.sizeof.register(_NodeResult)
def _sizeof_node_result(result: _NodeResult) -> int:
    """So that Dask knows what moving a node's result costs (memory, stealing)."""
    if result.outcome is None:
        return 1024
    return sum(dask.sizeof.sizeof(v) for v in result.outcome.outputs.values())


class _ClusterCancelEvent(threading.Event):
    """A run's cancel flag as seen from a worker: a ``distributed.Event`` polled
    at most every CANCEL_POLL_S seconds (nodes call ``is_set`` in tight loops)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self._name = name
        self._next_poll = 0.0

    def is_set(self) -> bool:
        if super().is_set():
            return True
        now = time.monotonic()
        if now >= self._next_poll:
            self._next_poll = now + CANCEL_POLL_S
            try:
                remote = distributed.Event(self._name).is_set()
            except Exception:  # no scheduler to ask: keep running, Dask stops us if it must
                remote = False
            if remote:
                self.set()
                return True
        return False


class _ClusterJoblibBackend(DaskDistributedBackend):
    """joblib's Dask backend, minding n_jobs as in-process joblib does.

    The stock backend sends every call to the whole cluster, whatever n_jobs
    says; here n_jobs=1 (and None, the default) stays one job in the node's
    own thread, and work nested inside a fanned-out job runs sequentially.
    """

    def configure(self, n_jobs: int = 1, parallel: Any = None, **backend_args: Any) -> int:
        if n_jobs == 1:
            raise FallbackToBackend(SequentialBackend(nesting_level=self.nesting_level))
        return super().configure(n_jobs, parallel, **backend_args)

    def effective_n_jobs(self, n_jobs: int) -> int:
        return 1 if n_jobs == 1 else super().effective_n_jobs(n_jobs)

    def get_nested_backend(self) -> tuple[Any, int | None]:
        return SequentialBackend(nesting_level=(self.nesting_level or 0) + 1), None

    async def _to_func_args(self, func: Any) -> tuple[Any, Any]:
        # joblib's batch runs its calls under the stock Dask backend, which would
        # send a forest's trees inside each fit to the cluster again, one task per
        # tree; ours runs work nested in a fit in sequence, on that worker.
        batch, tasks = await super()._to_func_args(func)
        return _NestedSequentialBatch(batch), tasks


class _NestedSequentialBatch:
    """A batch of joblib calls on a worker, with joblib work nested in them run
    one call after the other."""

    def __init__(self, batch: Any) -> None:
        self._batch = batch

    def __call__(self, tasks: list[tuple[Any, list[Any], dict[str, Any]]]) -> list[Any]:
        with joblib.parallel_config(backend="sequential"):
            return [func(*args, **kwargs) for func, args, kwargs in tasks]

    def __repr__(self) -> str:
        return repr(self._batch)  # joblib names the Dask task after it


class _BroadcastingClient:
    """The worker's client, except that data joblib scatters goes to every worker.

    Dask runs a task where its inputs are: with the data on one worker, every
    fit of a sweep would queue there. Each worker needs the data to fit anyway.
    """

    def __init__(self, client: distributed.Client) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def scatter(self, data: Any, **kwargs: Any) -> Any:
        return self._client.scatter(data, **{**kwargs, "broadcast": True})


@contextlib.contextmanager
def _joblib_on_cluster(enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    backend = _ClusterJoblibBackend(client=_BroadcastingClient(distributed.get_client()))
    with joblib.parallel_config(backend=backend, n_jobs=1):
        yield


def _run_node(task: NodeTask, inputs: dict[str, Any], settings: _WorkerSettings, *,
              method: str = "run", partition: tuple[int, int] | None = None) -> _NodeResult:
    """The Dask task of one node (runs on a worker). Inputs from upstream nodes
    arrive as ``[their _NodeResult, port]``, a partitioned table to gather as
    ``{"partitions": [its partitions]}`` (studio/engine/dask_partitions.py)."""
    worker = distributed.get_worker()
    last_sent = [0.0]

    def progress(node_id: str, fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - last_sent[0] >= PROGRESS_INTERVAL_S or fraction >= 1.0:
            last_sent[0] = now
            worker.log_event(settings.topic, {"token": settings.token, "node_id": node_id,
                                              "fraction": float(fraction),
                                              "message": str(message)})

    def resolve(value: Any) -> Any:
        if isinstance(value, dict) and "partitions" in value:
            return concat_tables(value["partitions"])
        return value[0].outcome.outputs[value[1]] if _is_upstream(value) else value

    ports = task.node_type.inputs
    values = {port: [resolve(v) for v in value["many"]] if ports[port].multiple
              else resolve(value) for port, value in inputs.items()}
    try:
        with _joblib_on_cluster(settings.joblib_on_cluster):
            outcome = execute_task(task, values, _ClusterCancelEvent(settings.cancel_name),
                                   progress, method=method, partition=partition)
        _check_outputs_ship(task, outcome.outputs)
        result = _NodeResult(worker.address, outcome=outcome)
    except Exception as error:  # the node's answer, not a cluster failure: never retried
        result = _NodeResult(worker.address, error=_ShippedError.capture(error))
    _send_summary(worker, settings, result)
    return result


def _is_upstream(value: Any) -> bool:
    return (isinstance(value, list) and len(value) == 2 and isinstance(value[0], _NodeResult)
            and isinstance(value[1], str))


def _summarize(result: _NodeResult) -> dict[str, Any]:
    """What the client needs of a node's result: everything but the outputs."""
    outcome = result.outcome
    summary: dict[str, Any] = {"worker": result.worker, "ok": outcome is not None}
    if outcome is not None:
        summary.update(output_info=outcome.output_info, output_digests=outcome.output_digests,
                       datasets=[asdict(d) for d in outcome.datasets],
                       messages=outcome.messages, warnings=outcome.warnings,
                       duration_s=outcome.duration_s)
    return summary


def _send_summary(worker: distributed.Worker, settings: _WorkerSettings,
                  result: _NodeResult) -> None:
    """Send the summary as an event: a task of its own would wait for a free
    thread on this worker, behind whatever node runs next."""
    summary = _summarize(result)
    try:  # events travel as msgpack: plain JSON types only, else the client asks
        if json.loads(json.dumps(summary)) == summary:
            worker.log_event(settings.topic, {"token": settings.token, "summary": summary})
    except (TypeError, ValueError):
        pass


def _check_outputs_ship(task: NodeTask, outputs: Mapping[str, Any]) -> None:
    """Models and other small outputs must pickle to reach other workers or the client.
    (Tables always do; pickling them here would copy them for nothing.)"""
    for port, value in outputs.items():
        if isinstance(value, Table):
            continue
        try:
            dask_pickle.dumps(value)
        except Exception as error:
            raise ClusterError(
                task.label, f"its output '{port}' ({type(value).__name__}) cannot be sent from "
                f"the Dask worker to other workers or the client ({type(error).__name__}: "
                f"{error}).", fix="Run this workflow with --executor local.") from None


def _unpicklable_on_worker(blobs: dict[str, bytes]) -> dict[str, tuple[str, str]]:
    """Node ids whose task does not unpickle on this worker, with the error."""
    address = distributed.get_worker().address
    failures = {}
    for node_id, blob in blobs.items():
        try:
            dask_pickle.loads(blob)
        except Exception as error:
            failures[node_id] = (address, f"{type(error).__name__}: {error}")
    return failures
