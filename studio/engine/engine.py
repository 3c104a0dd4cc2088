"""The engine: checks a workflow, decides what must run, runs it, records it.

    engine = Engine(jobs=2)
    record = engine.run(workflow)            # everything
    record = engine.run(workflow, targets=["evaluate"])   # a node and what it needs
    engine.outputs(workflow, "evaluate")     # {"metrics": Metrics(...)}

What runs is decided by cache keys (see ``cache.py``): a node whose key is
in the cache is not run again, unless it declares side effects (it writes
files): a cached result never stands in for those. A cache entry that fails
its digest check is dropped and the node runs again; the record says so.
Independent branches run in parallel on the executor. A failing node does
not stop independent branches; the nodes downstream of it are skipped.
Failed nodes write nothing to the cache. Every state change and progress
report is published on ``engine.events``:

- ``run_started`` (run_id, nodes): nodes in the order they may run
- ``node_state`` (run_id, node_id, state, error, duration_s, warnings)
- ``node_progress`` (run_id, node_id, fraction, message)
- ``run_finished`` (run_id, record)
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import networkx as nx

from nodes.context import derive_seed
from nodes.contract import SideEffect, params_in_use, seed_in_use
from nodes.errors import RunCancelled, StudioError
from nodes.file_access import FileAccess
from nodes.values import Model, Transform, json_safe
from studio.engine.cache import (
    Cache,
    CacheEntry,
    MemoryCache,
    Origin,
    compute_keys,
    memory_budget,
)
from studio.engine.executor import (
    Executor,
    InProcessExecutor,
    NodeTask,
    RemoteValue,
    TaskOutcome,
    fetch_outputs,
)
from studio.engine.graph import build_graph, check_workflow, with_ancestors
from studio.engine.record import NodeRecord, RunRecord, environment, utc_now
from studio.engine.states import NodeState
from studio.events import EventBus
from studio.workflow.errors import WorkflowInvalidError
from studio.workflow.fileformat import dumps
from studio.workflow.model import Workflow

log = logging.getLogger(__name__)

#: Seconds a cancelled run waits for running nodes to stop at their own
#: cancellation checks before the executor interrupts them.
INTERRUPT_GRACE_S = 0.3

#: Output kinds whose digest goes into the lineage as "models produced".
_ARTIFACT_KINDS = (Model.kind, Transform.kind)


@dataclass
class LastResult:
    """What the engine last knew about a node: for 'outdated' and viewers."""

    key: str
    state: NodeState
    error: str | None = None
    origin: Origin | None = None


class Engine:
    """Runs workflows with a cache and an executor, and remembers the results."""

    def __init__(self, *, cache: Cache | None = None, executor: Executor | None = None,
                 jobs: int | None = None) -> None:
        # A quarter of the machine's memory for results kept between runs.
        self.cache = cache if cache is not None else MemoryCache(max_bytes=memory_budget())
        self._executor = executor
        self._jobs = jobs
        self.events = EventBus()
        self.last: dict[str, LastResult] = {}
        #: The record of the run in progress (or the last run): what a caller that
        #: must stop at once (a second Ctrl-C) writes.
        self.current_record: RunRecord | None = None
        #: The outputs the last run was asked to keep (``keep``), by (node, port).
        self.kept: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._run_lock = threading.Lock()

    @property
    def executor(self) -> Executor:
        if self._executor is None:
            self._executor = InProcessExecutor(self._jobs)
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.close()
            self._drop_remote_outputs()

    def _drop_remote_outputs(self) -> None:
        """Forget cached results left on a closed executor's workers: they cannot be
        fetched any more, and holding them would keep them in a shared cluster's
        memory (Dask would even compute them again if a worker died)."""
        for key in self.cache.memory_keys():
            entry = self.cache.get(key)
            if entry is not None and any(isinstance(v, RemoteValue)
                                         for v in entry.outputs.values()):
                self.cache.discard(key)

    def use_executor(self, executor: Executor | None) -> None:
        """Run on ``executor`` from now on (None: the default in-process one).

        Waits for a run in progress to end. Results already cached stay valid:
        cache keys do not depend on where a node ran. Outputs left on the old
        executor's workers are fetched first, so closing it loses nothing.
        """
        with self._run_lock:
            old, self._executor = self._executor, executor
            if old is not None and old is not executor:
                self._pull_remote_outputs()
                old.close()

    def _pull_remote_outputs(self) -> None:
        for key in self.cache.memory_keys():
            entry = self.cache.get(key)
            if entry is not None and any(isinstance(v, RemoteValue)
                                         for v in entry.outputs.values()):
                try:
                    self.cache.put(key, replace(entry, outputs=fetch_outputs(entry.outputs)))
                except Exception:  # a lost worker: the node simply runs again later
                    log.warning("dropping a result that could not be fetched: %s", key[:12])
                    self.cache.discard(key)

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- queries --------------------------------------------------------
    def keys(self, workflow: Workflow, nodes: Iterable[str] | None = None) -> dict[str, str]:
        graph = build_graph(workflow)
        selected = None if nodes is None else with_ancestors(graph, nodes)
        layout = self._executor.data_layout() if self._executor is not None else None
        return compute_keys(workflow, graph, selected, layout=layout)

    def states(self, workflow: Workflow) -> dict[str, NodeState]:
        """Each node's state for the workflow as it is now (outdated if it changed)."""
        try:
            keys = self.keys(workflow)
        except (nx.NetworkXUnfeasible, StudioError):
            keys = {}
        with self._lock:
            last_results = dict(self.last)
        states = {}
        for node_id in workflow.nodes:
            last = last_results.get(node_id)
            key = keys.get(node_id)
            if last is not None and key == last.key:
                states[node_id] = last.state
            elif key is not None and key in self.cache:
                # A result for the node as it is now (say, after undoing a change
                # that failed): it is there, whatever the last run did.
                states[node_id] = NodeState.CACHED
            elif last is None:
                states[node_id] = NodeState.NOT_RUN
            else:
                states[node_id] = NodeState.OUTDATED
        return states

    def outputs(self, workflow: Workflow, node_id: str) -> dict[str, Any] | None:
        """The current outputs of a node, or None if it has no up-to-date result."""
        entry = self.fetch(self.keys(workflow, [node_id])[node_id])
        return entry.outputs if entry is not None else None

    def fetch(self, key: str, ports: Iterable[str] | None = None) -> CacheEntry | None:
        """The cache entry of ``key`` with its outputs (or only ``ports``) brought
        into this process (an executor may have left them where they were computed)."""
        entry = self.cache.get(key)
        if entry is None:
            return None
        wanted = entry.outputs if ports is None else {
            p: entry.outputs[p] for p in ports if p in entry.outputs}
        if ports is None and not any(isinstance(v, RemoteValue) for v in wanted.values()):
            return entry
        return replace(entry, outputs=fetch_outputs(wanted))

    # -- running --------------------------------------------------------
    def run(self, workflow: Workflow, *, targets: Iterable[str] | None = None,
            use_cache: bool = True, cancel_event: threading.Event | None = None,
            trusted: bool = False, workflow_path: str | Path | None = None,
            files: FileAccess | None = None,
            keep: KeepOutput | None = None) -> RunRecord:
        """Run the workflow (or ``targets`` and their ancestors); return the record.

        ``trusted=True`` is the user's explicit trust step for every node that
        runs code stored in the workflow (else only nodes whose code was
        trusted with ``Workflow.trust`` run). ``files`` says where nodes may
        write (default: the workflow file's folder, or the working directory,
        plus the workflow setting ``allowed_paths``). ``keep(node_id, port, info)``
        chooses outputs to hold in ``engine.kept`` after the run, whether the cache
        keeps them or not (``studio run`` keeps what it writes); outputs no node
        still needs are released as the run goes, so the run holds only what its
        remaining nodes need.

        Raises WorkflowInvalidError, listing every problem, before running
        anything when the workflow cannot run as it is.
        """
        if files is None:
            files = FileAccess.for_workflow(workflow, workflow_path=workflow_path)
        with self._run_lock:
            self.kept = {}
            return _Run(self, workflow.copy(), targets, use_cache,
                        cancel_event or threading.Event(), trusted, workflow_path,
                        files, keep).execute()


KeepOutput = Callable[[str, str, dict[str, Any]], bool]


class _Run:
    """One run's bookkeeping; lives only for the duration of ``Engine.run``."""

    def __init__(self, engine: Engine, workflow: Workflow, targets: Iterable[str] | None,
                 use_cache: bool, cancel_event: threading.Event, trusted: bool,
                 workflow_path: str | Path | None, files: FileAccess,
                 keep: KeepOutput | None) -> None:
        self.engine = engine
        self.workflow = workflow
        self.files = files
        self.keep = keep
        if trusted:
            workflow.trust()  # the snapshot only: the caller's workflow is unchanged
        self.use_cache = use_cache
        self.cancel_event = cancel_event
        self.run_id = uuid.uuid4().hex[:12]
        self.started_clock = time.perf_counter()

        target_list = list(targets) if targets is not None else None
        for target in target_list or []:
            workflow.node(target)  # unknown ids are an error now, not a silent no-op
        problems = check_workflow(workflow, target_list)
        if problems:
            raise WorkflowInvalidError(problems)
        self.graph = build_graph(workflow)
        self.selected = (set(workflow.nodes) if target_list is None
                         else with_ancestors(self.graph, target_list))
        self.order = [n for n in nx.topological_sort(self.graph) if n in self.selected]
        self.keys = compute_keys(workflow, self.graph, self.selected, files,
                                 layout=engine.executor.data_layout())
        self.entries: dict[str, CacheEntry] = {}
        #: Per node, the selected nodes that still need its outputs.
        self.waiting: dict[str, set[str]] = {
            n: set(self.graph.successors(n)) & self.selected for n in self.order}
        self.states: dict[str, NodeState] = {}
        to_run = [n for n in self.order if not (use_cache and self.keys[n] in engine.cache)]
        problems = engine.executor.check_tasks([self._task(n) for n in to_run])
        if problems:  # e.g. a node type the Dask workers cannot load: say so before running
            raise WorkflowInvalidError(problems)

        document = dumps(workflow)
        self.record = RunRecord(
            run_id=self.run_id,
            workflow={"name": workflow.info.name, "path": str(workflow_path or ""),
                      "sha256": hashlib.sha256(document.encode()).hexdigest(),
                      "targets": target_list},
            executor=engine.executor.describe(), seed=workflow.info.seed, started=utc_now(),
            nodes={n: self._node_record(n) for n in self.order},
            files={"write_roots": [str(r) for r in files.writable_roots()]})
        engine.current_record = self.record

    def _node_record(self, node_id: str) -> NodeRecord:
        node = self.workflow.nodes[node_id]
        node_type = self.workflow.registry.get(node.type_id)
        return NodeRecord(node_id, self.workflow.label(node_id), node.type_id, node.version,
                          cache_key=self.keys[node_id],
                          params=json_safe(self._params(node_id)),
                          seed=seed_in_use(node_type, node.params, self.workflow.info.seed,
                                           node_id),
                          side_effects=(None if node_type.side_effects is SideEffect.NONE
                                        else node_type.side_effects.value))

    def _params(self, node_id: str) -> dict[str, Any]:
        node = self.workflow.nodes[node_id]
        return params_in_use(self.workflow.registry.get(node.type_id), node.params,
                             self.workflow.info.seed, node_id)

    # -- state changes --------------------------------------------------
    def _set_state(self, node_id: str, state: NodeState, error: str | None = None) -> None:
        self.states[node_id] = state
        node_record = self.record.nodes[node_id]
        node_record.state = state.value
        if error is not None:
            node_record.error = error
        self.engine.events.publish("node_state", run_id=self.run_id, node_id=node_id,
                                   state=state, error=error,
                                   duration_s=node_record.duration_s,
                                   warnings=list(node_record.warnings))

    def _progress(self, node_id: str, fraction: float, message: str) -> None:
        self.engine.events.publish("node_progress", run_id=self.run_id, node_id=node_id,
                                   fraction=fraction, message=message)

    # -- the run ----------------------------------------------------------
    def execute(self) -> RunRecord:
        events = self.engine.events
        events.publish("run_started", run_id=self.run_id, nodes=list(self.order))
        for node_id in self.order:
            self._set_state(node_id, NodeState.QUEUED)
        if self.use_cache:
            self._use_cache()
        self.engine.executor.prepare([self._task(n) for n in self.order
                                      if self.states[n] == NodeState.QUEUED])

        running: dict[Future[TaskOutcome], str] = {}
        started: dict[str, float] = {}
        try:
            self._loop(running, started)
        except Exception as error:  # a bug of ours or a lost executor: still a record
            log.error("the run stopped:\n%s", traceback.format_exc())
            self.record.error = f"{type(error).__name__}: {error}"
            for node_id in list(running.values()):
                self._fail(node_id, f"the run stopped: {self.record.error}",
                           type(error).__name__)
            running.clear()
        return self._close()

    def _loop(self, running: dict[Future[TaskOutcome], str], started: dict[str, float]) -> None:
        cancelled_at: float | None = None
        try:
            while True:
                if self.cancel_event.is_set() and running:
                    # Nodes that check for cancellation stop at once; the others are
                    # stopped inside their computation after a short grace.
                    cancelled_at = cancelled_at or time.monotonic()
                    if time.monotonic() - cancelled_at > INTERRUPT_GRACE_S:
                        self.engine.executor.interrupt(list(running))
                if not self.cancel_event.is_set():
                    free = self.engine.executor.jobs - len(running)
                    for node_id in self._ready(running.values())[:max(free, 0)]:
                        started[node_id] = time.perf_counter()
                        self.record.nodes[node_id].started = utc_now()
                        self._set_state(node_id, NodeState.RUNNING)
                        running[self._submit(node_id)] = node_id
                if not running:
                    break
                done, _ = wait(running, timeout=0.05, return_when=FIRST_COMPLETED)
                for future in done:
                    node_id = running.pop(future)
                    self._finish(node_id, future, time.perf_counter() - started[node_id])
        finally:
            for future in running:  # only on an unexpected error here
                future.cancel()

    def _use_cache(self) -> None:
        """Accept cache hits, loading only the outputs a node that runs needs (or
        that ``keep`` asks for): the others are described, not read."""
        hits: dict[str, CacheEntry] = {}
        for node_id in self.order:
            node_record = self.record.nodes[node_id]
            if node_record.side_effects:
                node_record.messages.append(
                    "ran although its result is cached: it has side effects "
                    f"({node_record.side_effects}), which a cached result would not perform")
                continue
            entry, problem = self.engine.cache.describe(self.keys[node_id])
            if entry is not None:
                hits[node_id] = entry
            elif problem is not None:
                self._note_damage(node_id, problem)
        loaded: dict[str, CacheEntry] = {}
        while True:
            running = [n for n in self.order if n not in hits]
            needed = {p: None for n in running for p in self.graph.predecessors(n) if p in hits}
            for node_id, entry in hits.items():
                kept = self._kept_ports(node_id, entry)
                if kept:
                    needed.setdefault(node_id, None)
            damaged = False
            for node_id in needed:
                if node_id in loaded:
                    continue
                feeds_a_run = any(p not in hits for p in self.graph.successors(node_id)
                                  if p in self.selected)
                # Kept only to be written: fitted objects are copied, never deserialised.
                entry, problem = self.engine.cache.get_checked(
                    self.keys[node_id], None if feeds_a_run else self._kept_ports(
                        node_id, hits[node_id]), stored=not feeds_a_run)
                if entry is None:
                    del hits[node_id]
                    self._note_damage(node_id, problem or "it vanished from the cache")
                    damaged = True
                else:
                    loaded[node_id] = entry
            if not damaged:
                break
        for node_id in self.order:
            if node_id in hits:
                self._accept_cached(node_id, loaded.get(node_id, hits[node_id]))

    def _note_damage(self, node_id: str, problem: str) -> None:
        node_record = self.record.nodes[node_id]
        node_record.cache_problem = problem
        node_record.messages.append(f"its cached result was dropped and computed again: "
                                    f"{problem}")

    def _kept_ports(self, node_id: str, entry: CacheEntry) -> list[str]:
        if self.keep is None:
            return []
        return [p for p, info in entry.output_info.items() if self.keep(node_id, p, info)]

    def _release(self, node_id: str) -> None:
        """Drop outputs of ``node_id`` that no remaining node needs (the cache keeps
        what its budget allows); ``keep`` ports go to ``engine.kept``."""
        entry = self.entries.get(node_id)
        if entry is None or self.waiting[node_id]:
            return
        for port in self._kept_ports(node_id, entry):
            if port in entry.outputs:
                self.engine.kept[(node_id, port)] = entry.outputs[port]
        if entry.outputs:
            self.entries[node_id] = replace(entry, outputs={})

    def _settled(self, node_id: str) -> None:
        """``node_id`` has its result: its inputs may no longer be needed."""
        for source in self.graph.predecessors(node_id):
            if source in self.waiting:
                self.waiting[source].discard(node_id)
                self._release(source)
        self._release(node_id)

    def _ready(self, in_flight: Iterable[str]) -> list[str]:
        busy = set(in_flight)
        ready = []
        for node_id in self.order:
            if self.states[node_id] != NodeState.QUEUED or node_id in busy:
                continue
            if all(self.states.get(p) in (NodeState.DONE, NodeState.CACHED)
                   for p in self.graph.predecessors(node_id)):
                ready.append(node_id)
        return ready

    def _task(self, node_id: str) -> NodeTask:
        node = self.workflow.nodes[node_id]
        node_type = self.workflow.registry.get(node.type_id)
        seed = seed_in_use(node_type, node.params, self.workflow.info.seed, node_id)
        return NodeTask(node_id, self.workflow.label(node_id), node_type, self._params(node_id),
                        derive_seed(self.workflow.info.seed, node_id) if seed is None else seed,
                        trusted=node_type.needs_trust and self.workflow.is_trusted(node_id),
                        files=self.files)

    def _submit(self, node_id: str) -> Future[TaskOutcome]:
        node_type = self.workflow.node_type(node_id)
        inputs: dict[str, Any] = {name: [] for name, port in node_type.inputs.items()
                                  if port.multiple}
        for edge in self.workflow.incoming(node_id):
            value = self.entries[edge.source].outputs[edge.source_port]
            if node_type.inputs[edge.target_port].multiple:
                inputs[edge.target_port].append(value)
            else:
                inputs[edge.target_port] = value
        return self.engine.executor.submit(self._task(node_id), inputs, self.cancel_event,
                                           self._progress)

    def _accept_cached(self, node_id: str, entry: CacheEntry) -> None:
        self.entries[node_id] = entry
        node_record = self.record.nodes[node_id]
        node_record.cache_hit = True
        node_record.duration_s = 0.0
        node_record.outputs = _describe_outputs(entry)
        node_record.warnings = list(entry.warnings)
        if entry.origin is not None:
            node_record.origin = {**asdict(entry.origin), "same_environment":
                                  entry.origin.environment == environment()["fingerprint"]}
        self._remember(node_id, NodeState.CACHED, origin=entry.origin)
        self._set_state(node_id, NodeState.CACHED)
        self._settled(node_id)

    def _finish(self, node_id: str, future: Future[TaskOutcome], elapsed: float) -> None:
        node_record = self.record.nodes[node_id]
        node_record.finished = utc_now()
        node_record.duration_s = round(elapsed, 6)
        try:
            outcome = future.result()
        except RunCancelled:
            self._remember(node_id, NodeState.CANCELLED)
            self._set_state(node_id, NodeState.CANCELLED)
            return
        except StudioError as error:
            self._fail(node_id, str(error), type(error).__name__)
            return
        except Exception as error:  # a bug in a node: keep the traceback for the log
            log.error("node %s failed:\n%s", node_id, traceback.format_exc())
            self._fail(node_id, f"{type(error).__name__}: {error}", type(error).__name__)
            return
        node_record.messages.extend(outcome.messages)
        node_record.warnings = list(outcome.warnings)
        origin = Origin(self.run_id, environment()["fingerprint"], environment()["host"],
                        node_record.finished)
        entry = CacheEntry(outputs=outcome.outputs, output_digests=outcome.output_digests,
                           datasets=outcome.datasets, origin=origin,
                           output_info=outcome.output_info, warnings=list(outcome.warnings))
        self.entries[node_id] = entry
        node_record.outputs = _describe_outputs(entry)
        if not isinstance(self.engine.cache, MemoryCache):  # a cache that stores values
            entry = replace(entry, outputs=fetch_outputs(entry.outputs))
        self.engine.cache.put(self.keys[node_id], entry)
        self._remember(node_id, NodeState.DONE, origin=origin)
        self._set_state(node_id, NodeState.DONE)
        self._settled(node_id)

    def _fail(self, node_id: str, message: str, error_type: str) -> None:
        self.record.nodes[node_id].error_type = error_type
        self._remember(node_id, NodeState.FAILED, error=message)
        self._set_state(node_id, NodeState.FAILED, error=message)
        label = self.workflow.label(node_id)
        for downstream in nx.descendants(self.graph, node_id) & self.selected:
            if self.states[downstream] == NodeState.QUEUED:
                self._set_state(downstream, NodeState.SKIPPED,
                                error=f"not run because '{label}' failed")

    def _remember(self, node_id: str, state: NodeState, *, error: str | None = None,
                  origin: Origin | None = None) -> None:
        with self.engine._lock:
            self.engine.last[node_id] = LastResult(self.keys[node_id], state, error, origin)

    def _close(self) -> RunRecord:
        for node_id in self.order:  # nodes whose consumers failed still hand over theirs
            self.waiting[node_id].clear()
            self._release(node_id)
        cancelled = self.cancel_event.is_set()
        for node_id in self.order:
            if self.states[node_id] == NodeState.QUEUED:
                self._set_state(node_id, NodeState.NOT_RUN if cancelled else NodeState.SKIPPED)
        record = self.record
        record.finished = utc_now()
        record.duration_s = round(time.perf_counter() - self.started_clock, 6)
        if cancelled:
            record.status = "cancelled"
        elif record.error or any(s == NodeState.FAILED for s in self.states.values()):
            record.status = "failed"
        else:
            record.status = "succeeded"
        record.lineage = self._lineage()
        from studio.ownership.record import attach_ownership  # data-ownership digests

        attach_ownership(record, self.workflow, self.engine.kept)
        self.engine.events.publish("run_finished", run_id=self.run_id, record=record)
        return record

    def _lineage(self) -> dict[str, Any]:
        datasets, models = [], []
        dataset_digests: dict[str, list[str]] = {}
        for node_id in self.order:
            entry = self.entries.get(node_id)
            if entry is None:
                continue
            used_by = sorted(nx.descendants(self.graph, node_id) & self.selected)
            for dataset in entry.datasets:
                datasets.append({"node": node_id, **asdict(dataset), "used_by": used_by})
                dataset_digests.setdefault(node_id, []).append(dataset.sha256)
        for node_id in self.order:
            entry = self.entries.get(node_id)
            if entry is None:
                continue
            upstream = nx.ancestors(self.graph, node_id)
            sources = sorted({d for n in upstream for d in dataset_digests.get(n, [])})
            for port, info in entry.output_info.items():
                if info["kind"] in _ARTIFACT_KINDS:
                    models.append({
                        "node": node_id, "port": port, "kind": info["kind"],
                        "name": info.get("name"), "sha256": entry.output_digests.get(port),
                        "trained_on": sources,
                        "used_by": sorted(nx.descendants(self.graph, node_id) & self.selected)})
        return {"datasets": datasets, "models": models}



def _describe_outputs(entry: CacheEntry) -> dict[str, dict[str, Any]]:
    described = {}
    for port, info in entry.output_info.items():
        described[port] = dict(info)
        digest = entry.output_digests.get(port)
        if digest:
            described[port]["sha256"] = digest
    return described
