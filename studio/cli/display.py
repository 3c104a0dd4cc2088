"""Progress displays for `studio run`: live on a terminal, one line per event elsewhere."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, TextIO

from studio.engine.states import NodeState
from studio.events import Event

if TYPE_CHECKING:
    from studio.workflow import Workflow

_SYMBOLS = {
    NodeState.NOT_RUN: " ", NodeState.QUEUED: ".", NodeState.RUNNING: ">",
    NodeState.DONE: "+", NodeState.CACHED: "=", NodeState.FAILED: "x",
    NodeState.SKIPPED: "-", NodeState.CANCELLED: "!", NodeState.OUTDATED: "~",
}


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.2f} s"
    return f"{seconds / 60:.1f} min"


def print_table(header: list[str], rows: list[list[str]], out: TextIO, indent: str = "") -> None:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(indent + line.rstrip(), file=out)
    print(indent + "  ".join("-" * w for w in widths), file=out)
    for row in rows:
        cells = "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True))
        print(indent + cells.rstrip(), file=out)


class LineDisplay:
    """One line per state change: for logs, pipes and CI."""

    def __init__(self, workflow: Workflow, out: TextIO) -> None:
        self.workflow = workflow
        self.out = out
        self.start = time.perf_counter()
        self._lock = threading.Lock()

    def on_event(self, event: Event) -> None:
        if event.kind != "node_state":
            return
        state: NodeState = event["state"]
        if state == NodeState.QUEUED:
            return
        elapsed = time.perf_counter() - self.start
        title = self.workflow.label(event["node_id"])
        text = f"[{elapsed:7.2f}s] {title} ({event['node_id']}): {state.value}"
        if state == NodeState.DONE and event["duration_s"] is not None:
            text += f" in {format_duration(event['duration_s'])}"
        if event["error"] and state == NodeState.FAILED:
            text += f"\n    {event['error']}"
        with self._lock:
            print(text, file=self.out, flush=True)

    def finish(self) -> None:
        pass


class LiveDisplay:
    """A block of one line per node, redrawn in place, with progress bars."""

    def __init__(self, workflow: Workflow, out: TextIO) -> None:
        self.workflow = workflow
        self.out = out
        self.order: list[str] = []
        self.states: dict[str, NodeState] = {}
        self.progress: dict[str, tuple[float, str]] = {}
        self.drawn = 0
        self.last_draw = 0.0
        self._lock = threading.Lock()

    def on_event(self, event: Event) -> None:
        with self._lock:
            if event.kind == "run_started":
                self.order = list(event["nodes"])
            elif event.kind == "node_state":
                self.states[event["node_id"]] = event["state"]
            elif event.kind == "node_progress":
                self.progress[event["node_id"]] = (event["fraction"], event["message"])
                if time.perf_counter() - self.last_draw < 0.1:
                    return  # progress can be frequent; state changes always redraw
            else:
                return
            self._draw()

    def _draw(self) -> None:
        width = max((len(self.workflow.label(n)) for n in self.order), default=10)
        lines = []
        for node_id in self.order:
            state = self.states.get(node_id, NodeState.QUEUED)
            text = f" {_SYMBOLS[state]} {self.workflow.label(node_id).ljust(width)}  {state.value}"
            if state == NodeState.RUNNING and node_id in self.progress:
                fraction, message = self.progress[node_id]
                filled = int(fraction * 20)
                text += f"  [{'#' * filled}{' ' * (20 - filled)}] {fraction:4.0%} {message}"
            lines.append(text)
        if self.drawn:
            self.out.write(f"\x1b[{self.drawn}F")
        for line in lines:
            self.out.write("\x1b[2K" + line + "\n")
        self.out.flush()
        self.drawn = len(lines)
        self.last_draw = time.perf_counter()

    def finish(self) -> None:
        with self._lock:
            if self.order:
                self._draw()
