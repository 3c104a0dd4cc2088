"""Shared fixtures: small, real node types for engine and workflow tests.

They compute on real pandas tables; they are small so that the tests can
check ordering, parallelism, caching and failure handling precisely.
"""

from __future__ import annotations

import os
import threading
import time

import pandas as pd
import pytest

from nodes import (
    LEARNER,
    TABLE,
    FloatParam,
    Input,
    IntParam,
    Node,
    NodeInputError,
    NodeRegistry,
    Output,
    StringParam,
    Table,
)

# Qt widgets under test render offscreen: CI and these machines have no screen.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _own_run_store(tmp_path_factory, monkeypatch):
    """Runs made by tests (studio run records every run) never reach the user's store,
    nor keys made by Publish the user's keys."""
    monkeypatch.setenv("AXON_STUDIO_RUNS_DIR", str(tmp_path_factory.getbasetemp() / "run-store"))
    monkeypatch.setenv("AXON_STUDIO_KEYS_DIR", str(tmp_path_factory.mktemp("keys")))
    monkeypatch.setenv("AXON_STUDIO_DIGEST_MEMO",
                       str(tmp_path_factory.getbasetemp() / "file-digests.json"))

#: node id -> number of times its run() was entered (reset per test).
RUN_COUNTS: dict[str, int] = {}
_COUNT_LOCK = threading.Lock()


def _count(label: str) -> None:
    with _COUNT_LOCK:
        RUN_COUNTS[label] = RUN_COUNTS.get(label, 0) + 1


class MakeTable(Node):
    """A table of ``rows`` rows: x = 0..rows-1 and y = x * scale."""

    type_id = "make_table"
    title = "Make Table"
    category = "Data"

    class Outputs:
        data = Output(TABLE)

    rows = IntParam(5, minimum=0, maximum=1_000_000)
    scale = FloatParam(1.0)

    def run(self, ctx, **inputs):
        _count(self.label)
        frame = pd.DataFrame({"x": range(self.rows)})
        frame["y"] = frame["x"] * self.scale
        return {"data": Table(frame, {"y": "label"})}


class AddConstant(Node):
    """Add ``amount`` to column y."""

    type_id = "add_constant"
    title = "Add Constant"
    category = "Transform"

    class Inputs:
        data = Input(TABLE)

    class Outputs:
        data = Output(TABLE)

    amount = FloatParam(1.0)

    def run(self, ctx, data):
        _count(self.label)
        frame = data.frame.copy()
        frame["y"] = frame["y"] + self.amount
        return {"data": data.with_frame(frame)}


class Combine(Node):
    """Stack two tables; the second input is optional."""

    type_id = "combine"
    title = "Combine"
    category = "Transform"

    class Inputs:
        first = Input(TABLE)
        second = Input(TABLE, optional=True)

    class Outputs:
        data = Output(TABLE)

    def run(self, ctx, first, second=None):
        _count(self.label)
        frames = [first.frame] + ([second.frame] if second is not None else [])
        return {"data": first.with_frame(pd.concat(frames, ignore_index=True))}


class Sleep(Node):
    """Wait ``seconds`` in small steps (checking for cancellation), pass data through."""

    type_id = "sleep"
    title = "Sleep"
    category = "Transform"

    class Inputs:
        data = Input(TABLE)

    class Outputs:
        data = Output(TABLE)

    seconds = FloatParam(0.2, minimum=0.0)

    def run(self, ctx, data):
        _count(self.label)
        deadline = time.perf_counter() + self.seconds
        while time.perf_counter() < deadline:
            ctx.progress(1 - (deadline - time.perf_counter()) / max(self.seconds, 1e-9), "sleeping")
            time.sleep(0.01)
        return {"data": data}


class Fail(Node):
    """Always fails with a user-facing error naming a column."""

    type_id = "fail"
    title = "Fail"
    category = "Transform"

    class Inputs:
        data = Input(TABLE)

    class Outputs:
        data = Output(TABLE)

    column = StringParam("price")

    def run(self, ctx, data):
        _count(self.label)
        raise NodeInputError(self.label, f"column '{self.column}' is missing", port="data",
                             columns=[self.column], fix="Add the column.")


class Crash(Node):
    """Fails with a programming error (not a user mistake)."""

    type_id = "crash"
    title = "Crash"
    category = "Transform"

    class Inputs:
        data = Input(TABLE)

    class Outputs:
        data = Output(TABLE)

    def run(self, ctx, data):
        return {"data": data.frame["no such column"]}


class NeedsLearner(Node):
    """Takes a Learner (to test port type checks)."""

    type_id = "needs_learner"
    title = "Needs Learner"
    category = "Train/Score"

    class Inputs:
        learner = Input(LEARNER)

    class Outputs:
        data = Output(TABLE)

    def run(self, ctx, learner):
        return {"data": Table(pd.DataFrame({"a": [1]}))}


TOY_TYPES = (MakeTable, AddConstant, Combine, Sleep, Fail, Crash, NeedsLearner)


@pytest.fixture
def toy_registry() -> NodeRegistry:
    return NodeRegistry(TOY_TYPES)


@pytest.fixture
def run_counts() -> dict[str, int]:
    RUN_COUNTS.clear()
    return RUN_COUNTS
