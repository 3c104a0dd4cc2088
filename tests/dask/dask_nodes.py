"""Node types for the Dask executor tests.

They live in a module of their own (not in a test module or conftest) so
that the Dask worker processes can import them: pytest puts this folder on
``sys.path`` and spawned workers inherit it.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import joblib
import pandas as pd

from nodes import (
    METRICS,
    TABLE,
    FloatParam,
    Input,
    IntParam,
    Metrics,
    Node,
    NodeInputError,
    Output,
    StringParam,
    Table,
)


def _append(path: str, text: str) -> None:
    if path:
        with open(path, "a") as file:
            file.write(text + "\n")


class Pause(Node):
    """Wait ``seconds`` in small steps, reporting progress, then add ``amount`` to every
    number. Writes 'cancelled' to ``marker`` when it stops for a cancelled run."""

    type_id = "test_pause"

    class Inputs:
        data = Input(TABLE, help="any table of numbers")

    class Outputs:
        data = Output(TABLE, help="the table plus 'amount'")

    seconds = FloatParam(0.5, minimum=0.0, help="how long to wait")
    amount = FloatParam(1.0, help="added to every number")
    marker = StringParam("", help="a file to append 'cancelled' to")

    def run(self, ctx, data):
        deadline = time.perf_counter() + self.seconds
        try:
            while time.perf_counter() < deadline:
                left = deadline - time.perf_counter()
                ctx.progress(1 - left / max(self.seconds, 1e-9), f"{left:.1f} s left")
                time.sleep(0.02)
        except BaseException:
            _append(self.marker, "cancelled")
            raise
        ctx.progress(1.0, "done")
        return {"data": data.with_frame(data.frame + self.amount)}


class RejectColumn(Node):
    """Refuse the table: the column named ``column`` is said to be missing."""

    type_id = "test_reject_column"

    class Inputs:
        data = Input(TABLE, help="any table")

    class Outputs:
        data = Output(TABLE, help="never produced")

    column = StringParam("price", help="the column reported missing")

    def run(self, ctx, data):
        raise NodeInputError(self.label, f"column '{self.column}' is missing", port="data",
                             columns=[self.column], fix="Add the column.")


class KillWorker(Node):
    """Kill the process it runs in after ``seconds`` (as an out-of-memory kill would),
    on the first ``kills`` attempts; later attempts pass the table through.

    Each attempt appends its process id to the file ``attempts``."""

    type_id = "test_kill_worker"

    class Inputs:
        data = Input(TABLE, help="any table")

    class Outputs:
        data = Output(TABLE, help="the same table")

    attempts = StringParam("", help="file counting the attempts (one line each)")
    kills = IntParam(1, minimum=0, help="how many attempts die")
    seconds = FloatParam(0.3, minimum=0.0, help="how long an attempt runs before dying")

    def run(self, ctx, data):
        done = Path(self.attempts).read_text().count("\n") if Path(self.attempts).exists() else 0
        _append(self.attempts, str(os.getpid()))
        if done < self.kills:
            time.sleep(self.seconds)
            os.kill(os.getpid(), signal.SIGKILL)
        return {"data": data}


class LockedMetrics(Node):
    """Output metrics holding a lock in 'info' (a value that cannot be pickled)."""

    type_id = "test_locked_metrics"

    class Inputs:
        data = Input(TABLE, help="any table")

    class Outputs:
        metrics = Output(METRICS, help="metrics with a lock inside")

    def run(self, ctx, data):
        return {"metrics": Metrics("regression", {"rows": float(len(data.frame))},
                                   info={"lock": threading.Lock()})}


def _where() -> tuple[int, str]:
    time.sleep(0.1)
    return os.getpid(), threading.current_thread().name


class JoblibFanOut(Node):
    """Run ``tasks`` joblib tasks with n_jobs=``jobs`` and output where each ran:
    process id and thread name."""

    type_id = "test_joblib_fan_out"

    class Inputs:
        data = Input(TABLE, help="any table (only orders the node)")

    class Outputs:
        data = Output(TABLE, help="'pid' and 'thread' of each joblib task")

    tasks = IntParam(16, minimum=1, help="number of joblib tasks")
    jobs = IntParam(-1, minimum=-1, help="joblib n_jobs; 0 leaves it at None")

    def run(self, ctx, data):
        parallel = joblib.Parallel(n_jobs=self.jobs or None, batch_size=1)
        places = parallel(joblib.delayed(_where)() for _ in range(self.tasks))
        return {"data": Table(pd.DataFrame(places, columns=["pid", "thread"]))}


DASK_TEST_TYPES = (Pause, RejectColumn, KillWorker, LockedMetrics, JoblibFanOut)
