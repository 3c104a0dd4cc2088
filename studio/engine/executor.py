"""Executors: where node tasks run. The runner decides what runs and when.

An executor takes a ``NodeTask`` plus its input values and returns a
``concurrent.futures.Future`` of a ``TaskOutcome``. The in-process executor
runs tasks on a thread pool (numpy, pandas and scikit-learn release the GIL
in their heavy loops, and nothing has to be copied between processes). A
distributed executor implements the same three methods.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from nodes.context import DatasetRead, RunContext
from nodes.data.files import paths_relative_to
from nodes.errors import RunCancelled
from nodes.file_access import FileAccess
from nodes.imports import declares_imports, importing_for, preload
from nodes.node import Node
from nodes.values import Table, value_digest
from studio.workflow.errors import Problem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NodeTask:
    """Everything needed to run one node, and nothing that cannot be shipped."""

    node_id: str
    label: str
    node_type: type[Node]
    #: The parameters the node runs with (an inherited seed resolved).
    params: dict[str, Any]
    seed: int
    #: Set only by the user's explicit trust step (see Workflow.trust).
    trusted: bool = False
    files: FileAccess = field(default_factory=FileAccess)


@dataclass
class TaskOutcome:
    """A node's outputs plus what it reported while running.

    ``output_info`` (kind, rows/columns) and ``output_digests`` are computed
    where the node ran, so a distributed executor can leave the outputs
    themselves on its workers and still give the same run record.
    """

    outputs: dict[str, Any]
    datasets: list[DatasetRead] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    output_info: dict[str, dict[str, Any]] = field(default_factory=dict)
    output_digests: dict[str, str | None] = field(default_factory=dict)


ProgressSink = Callable[[str, float, str], None]


class RemoteValue(ABC):
    """An output left where it was computed (say, on a Dask worker).

    An executor that keeps outputs remote puts these in ``TaskOutcome.outputs``;
    the engine hands them back to that executor as inputs of downstream nodes
    and brings the value into this process only when asked (``Engine.outputs``,
    ``Engine.fetch``), with ``fetch_outputs``.
    """

    @abstractmethod
    def fetch(self) -> Any:
        """The value itself, brought into this process (kept after the first call)."""


def fetch_outputs(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """``outputs`` with every ``RemoteValue`` replaced by its value."""
    return {port: value.fetch() if isinstance(value, RemoteValue) else value
            for port, value in outputs.items()}


def execute_task(task: NodeTask, inputs: Mapping[str, Any], cancel_event: threading.Event,
                 on_progress: ProgressSink | None = None, *, method: str = "run",
                 partition: tuple[int, int] | None = None) -> TaskOutcome:
    """Run one node: build it (validating parameters again), run, time it.

    ``method`` "run_partitions" runs a STREAM node on a TableStream, and
    ``partition`` tells a ROWS node's context which partition it sees
    (nodes/partitions.py)."""
    def progress(fraction: float, message: str) -> None:
        if on_progress is not None:
            on_progress(task.node_id, fraction, message)

    context = RunContext(node_id=task.node_id, node_title=task.label, seed=task.seed,
                         on_progress=progress, cancel_event=cancel_event,
                         trusted=task.trusted, files=task.files, partition=partition)
    node = task.node_type(task.params, label=task.label)
    context.check_cancelled()
    start = time.perf_counter()
    # First imports from parallel threads can collide (nodes/imports.py).
    with importing_for(task.node_type), context.capturing_warnings(), \
            paths_relative_to(task.files.base):
        outputs = node.execute(context, inputs, method=method)
    duration = time.perf_counter() - start
    return TaskOutcome(outputs, context.datasets, context.messages, context.warnings, duration,
                       {p: describe_value(v) for p, v in outputs.items()},
                       {p: artifact_digest(v) for p, v in outputs.items()})


def describe_value(value: Any) -> dict[str, Any]:
    """Kind and size of an output, for run records and viewers."""
    info: dict[str, Any] = {"kind": getattr(value, "kind", type(value).__name__)}
    if isinstance(getattr(value, "name", None), str):
        info["name"] = value.name
    if isinstance(value, Table):
        info["rows"], info["columns"] = value.shape
    return info


def artifact_digest(value: Any) -> str | None:
    """Digest models and other small outputs; tables are described, not hashed
    (hashing every intermediate table would cost more than some nodes do)."""
    if isinstance(value, Table):
        return None
    try:
        return value_digest(value)
    except (TypeError, ValueError):
        return None


class Executor(ABC):
    """Runs node tasks; ``jobs`` says how many may run at once."""

    name = "executor"

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = max(1, jobs or os.cpu_count() or 1)

    @abstractmethod
    def submit(self, task: NodeTask, inputs: Mapping[str, Any], cancel_event: threading.Event,
               on_progress: ProgressSink | None = None) -> Future[TaskOutcome]:
        """Start the task; the future holds its outcome or its exception."""

    def interrupt(self, futures: Sequence[Future[TaskOutcome]]) -> None:  # noqa: B027
        """Stop these running tasks now, inside whatever they compute (a run was
        cancelled and the nodes did not stop at their own checks). Optional."""

    def check_tasks(self, tasks: Sequence[NodeTask]) -> list[Problem]:
        """Problems that would stop these tasks from running here, found before the
        run starts (e.g. a node type another process cannot load). None by default."""
        return []

    def prepare(self, tasks: Sequence[NodeTask]) -> None:  # noqa: B027 -- optional hook
        """Called once a run knows which tasks it will execute, before the first
        starts (the in-process executor imports their declared modules here)."""

    def data_layout(self) -> dict[str, Any] | None:
        """How this executor cuts the tables data sources read into partitions
        (None: it keeps them whole). Part of those sources' cache keys."""
        return None

    def close(self) -> None:  # noqa: B027 -- optional hook, not every executor holds workers
        """Release workers (the executor is not used after this)."""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "jobs": self.jobs}

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class FitInterrupted(RunCancelled):
    """Raised inside a node's thread to stop a computation that does not check for
    cancellation itself (a long scikit-learn fit)."""

    def __init__(self, node_id: str = "") -> None:
        super().__init__(node_id)


class InProcessExecutor(Executor):
    """Tasks on a pool of ``jobs`` threads in this process.

    ``interrupt`` stops a running task inside its computation: it raises
    FitInterrupted in the task's thread at its next Python instruction
    (``PyThreadState_SetAsyncExc``). scikit-learn's fits return to Python
    between iterations, trees and folds, so a fit stops within one of those
    steps; a single long call into C finishes that call first.
    """

    name = "in-process"

    def __init__(self, jobs: int | None = None) -> None:
        super().__init__(jobs)
        self._pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="axon-node")
        self._lock = threading.Lock()
        self._threads: dict[Future[TaskOutcome], int] = {}

    def submit(self, task: NodeTask, inputs: Mapping[str, Any], cancel_event: threading.Event,
               on_progress: ProgressSink | None = None) -> Future[TaskOutcome]:
        holder: list[Future[TaskOutcome]] = []
        started = threading.Event()

        def run() -> TaskOutcome:
            started.wait()
            future = holder[0]
            with self._lock:
                self._threads[future] = threading.get_ident()
            try:
                return execute_task(task, inputs, cancel_event, on_progress)
            finally:
                with self._lock:
                    self._threads.pop(future, None)
                    _set_async_exception(threading.get_ident(), None)  # clear a late one

        future = self._pool.submit(run)
        holder.append(future)
        started.set()
        return future

    def prepare(self, tasks: Sequence[NodeTask]) -> None:
        """Import the modules the run's node types declare, here and one after the
        other, before any node starts. Imported on the nodes' threads instead, the
        first imports of scikit-learn ran beside the first node's work (a CSV read
        on every core) and cost about 0.6 s more CPU in a 1M-row run than the same
        imports alone, for no gain in wall time on two cores (bench_large.py)."""
        modules: dict[str, None] = {}
        for task in tasks:
            if declares_imports(task.node_type):
                modules.update(dict.fromkeys(task.node_type.imports))
        try:
            preload(modules)
        except Exception:  # a plugin module that fails on import: its node says so when it runs
            log.info("not preloaded before the run:\n%s", traceback.format_exc())

    def interrupt(self, futures: Sequence[Future[TaskOutcome]]) -> None:
        with self._lock:
            for future in futures:
                thread = self._threads.get(future)
                if thread is not None:
                    _set_async_exception(thread, FitInterrupted)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _set_async_exception(thread_id: int, exception: type[BaseException] | None) -> None:
    """Raise ``exception`` in thread ``thread_id`` at its next instruction (None
    clears one that is pending)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                               ctypes.py_object(exception) if exception
                                               else ctypes.c_void_p(0))
