"""What a running node may use: progress, cancellation, a seeded RNG, a logger.

The executor builds one ``RunContext`` per node run. Nodes never see the
engine, the GUI or other nodes; everything they report goes through here.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nodes.errors import RunCancelled

ProgressCallback = Callable[[float, str], None]


@dataclass
class DatasetRead:
    """A dataset a node read, for the run's lineage."""

    name: str
    sha256: str
    source: str
    rows: int | None = None
    columns: int | None = None


@dataclass
class RunContext:
    """Services offered to ``Node.run``.

    ``seed`` is derived from the run seed and the node id, so two nodes never
    share a random stream and a re-run draws the same numbers.
    """

    node_id: str = "node"
    node_title: str = "node"
    seed: int = 0
    on_progress: ProgressCallback | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("axon.node"))
    datasets: list[DatasetRead] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

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

    def record_dataset(self, dataset: DatasetRead) -> None:
        """Declare a dataset this node read, for the lineage in the run record."""
        self.datasets.append(dataset)


def derive_seed(run_seed: int, node_id: str) -> int:
    """A 32-bit seed unique to (run seed, node id), stable across processes."""
    data = f"{run_seed}:{node_id}".encode()
    return int.from_bytes(hashlib.sha256(data).digest()[:4], "little")
