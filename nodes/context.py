"""What a running node may use: progress, cancellation, a seeded RNG, a logger.

The executor builds one ``RunContext`` per node run. Nodes never see the
engine, the GUI or other nodes; everything they report goes through here.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nodes.errors import RunCancelled
from nodes.file_access import FileAccess

ProgressCallback = Callable[[float, str], None]


@dataclass
class DatasetRead:
    """A dataset a node read, for the run's lineage."""

    name: str
    sha256: str
    source: str
    rows: int | None = None
    columns: int | None = None
    #: True when the file lay outside the run's folders (see FileAccess.outside).
    outside_allowed_folders: bool = False
    #: The data-ownership digest of the rows (``OwnershipDigest.summary()``) when
    #: their source has a sidecar naming owners; None otherwise.
    ownership: dict[str, Any] | None = None
    #: "read" for a source; "training" for the rows a model was trained on
    #: (recorded by Train Model; the run record files these under the model).
    usage: str = "read"


@dataclass
class RunContext:
    """Services offered to ``Node.run``.

    ``seed`` is the seed the node runs with (its own seed parameter, or one
    derived from the run seed and the node id, so two nodes never share a
    random stream and a re-run draws the same numbers). ``rng`` is seeded
    with it; only nodes that declare ``randomness`` may use it.

    ``trusted`` is set by the user's explicit trust step; a node that runs
    code stored in a file refuses to run without it. ``files`` says where
    relative paths start and where the node may write.
    """

    node_id: str = "node"
    node_title: str = "node"
    seed: int = 0
    on_progress: ProgressCallback | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("axon.node"))
    datasets: list[DatasetRead] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    trusted: bool = False
    files: FileAccess = field(default_factory=FileAccess)
    #: Set by Node.execute from the node type's ``randomness`` declaration.
    random_allowed: bool = True
    #: (index, count) when ``run`` sees one partition of its table (a ROWS node
    #: on the Dask executor, nodes/partitions.py); None when it sees the table.
    partition: tuple[int, int] | None = None
    #: SOURCE nodes: about how many bytes of file per partition (None: the default).
    partition_bytes: int | None = None

    def __post_init__(self) -> None:
        self._rng: np.random.Generator | None = None

    @property
    def rng(self) -> np.random.Generator:
        """A random generator seeded with ``seed`` (nodes that declare randomness only)."""
        if not self.random_allowed:
            raise RuntimeError(
                f"node '{self.node_title}' draws random numbers but its type does not declare "
                "randomness; add `randomness = Randomness(...)` to the node class so the "
                "workflow seed and the cache key account for it")
        if self._rng is None:
            self._rng = np.random.default_rng(self.seed)
        return self._rng

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress in [0, 1]; also a cancellation point."""
        self.check_cancelled()
        if self.on_progress is not None:
            self.on_progress(min(max(float(fraction), 0.0), 1.0), message)

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def check_cancelled(self) -> None:
        """Raise RunCancelled if the user asked to stop; call it in long loops."""
        if self.cancel_event.is_set():
            raise RunCancelled(self.node_id)

    def log(self, message: str, *args: Any) -> None:
        """A message for the run log (also kept in the run record)."""
        text = message % args if args else message
        self.messages.append(text)
        self.logger.info("[%s] %s", self.node_title, text)

    def warn(self, message: str) -> None:
        """A warning for the run log, the run record and the node's badge."""
        if message not in self.warnings:
            self.warnings.append(message)
            self.logger.warning("[%s] %s", self.node_title, message)

    def record_dataset(self, dataset: DatasetRead) -> None:
        """Declare a dataset this node read, for the lineage in the run record."""
        self.datasets.append(dataset)

    @contextlib.contextmanager
    def capturing_warnings(self) -> Iterator[None]:
        """Route Python warnings raised in this thread (scikit-learn's
        ConvergenceWarning, say) to ``warn`` while the node runs."""
        _install_warning_router()
        previous = getattr(_current, "context", None)
        _current.context = self
        try:
            yield
        finally:
            _current.context = previous


def derive_seed(run_seed: int, node_id: str) -> int:
    """A 32-bit seed unique to (run seed, node id), stable across processes."""
    data = f"{run_seed}:{node_id}".encode()
    return int.from_bytes(hashlib.sha256(data).digest()[:4], "little")


_current = threading.local()
_router_lock = threading.Lock()
_router_installed = False


def _install_warning_router() -> None:
    """Once per process: warnings raised inside a node go to its context.

    ``warnings.catch_warnings`` is not thread-safe (it swaps process-wide
    state), and nodes run on several threads at once, so a process-wide
    hook looks up the running node by thread instead. The "always" filter
    makes a repeated warning reach every run, not only the first one; the
    hook keeps warnings from outside nodes as Python shows them.
    """
    global _router_installed
    with _router_lock:
        # catch_warnings() (pytest wraps every test in one) puts the previous hook
        # back on exit: install again whenever ours is not the one in place.
        if _router_installed and getattr(warnings.showwarning, "_axon_router", False):
            return
        original = warnings.showwarning

        def route(message: Any, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
            context = getattr(_current, "context", None)
            if context is None:
                original(message, category, filename, lineno, file, line)
            else:
                context.warn(f"{category.__name__}: {message}")

        route._axon_router = True  # type: ignore[attr-defined]
        warnings.showwarning = route
        warnings.filterwarnings("always", module=r"sklearn\..*")
        warnings.filterwarnings("always", category=UserWarning, module=r"nodes\..*")
        _router_installed = True
