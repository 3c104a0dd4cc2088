"""What `studio` prints: tables (results, on stdout) and the progress of a run
(on stderr: live on a terminal, one line per event elsewhere), through rich.

A table fits the terminal it is printed on (cells too wide are cut with an
ellipsis); written to a pipe or a file it keeps every character. The live
display never grows past the terminal: with more nodes than rows it shows
the counts per state, the running nodes and the latest ones to finish.
"""

from __future__ import annotations

import shutil
import threading
import time
from typing import TYPE_CHECKING, Any, TextIO

from studio.engine.states import NodeState
from studio.events import Event

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from studio.workflow import Workflow

_STYLES = {
    NodeState.NOT_RUN: "dim", NodeState.QUEUED: "dim", NodeState.RUNNING: "bold cyan",
    NodeState.DONE: "green", NodeState.CACHED: "green", NodeState.FAILED: "bold red",
    NodeState.SKIPPED: "yellow", NodeState.CANCELLED: "yellow", NodeState.OUTDATED: "yellow",
}
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


def console(out: TextIO, *, width: int | None = None) -> Console:
    """A rich console writing to ``out``: the terminal's width on a terminal,
    ``width`` (or no limit that would cut a line) elsewhere."""
    from rich.console import Console

    terminal = out.isatty()
    return Console(file=out, width=None if terminal else (width or 10_000),
                   force_terminal=terminal, soft_wrap=not terminal, highlight=False,
                   emoji=False)


def print_table(header: list[str], rows: list[list[Any]], out: TextIO, indent: str = "") -> None:
    """A table of plain text cells (results: it goes where ``out`` is, stdout). On a
    terminal too narrow for it, the widest columns are cut with an ellipsis."""
    from rich import box
    from rich.padding import Padding
    from rich.table import Table

    widths = [max([len(str(h)), *(len(str(r[i])) for r in rows)]) for i, h in enumerate(header)]
    target = console(out, width=sum(widths) + 3 * len(widths) + len(indent))
    room = target.width - len(indent) - 3 * (len(widths) - 1)
    while sum(widths) > room and max(widths) > 8:  # narrow the widest column, one step at a time
        widest = widths.index(max(widths))
        widths[widest] -= max(1, (sum(widths) - room) // 4)
        widths[widest] = max(widths[widest], 8)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for name, width in zip(header, widths, strict=True):
        table.add_column(str(name), overflow="ellipsis", no_wrap=True, width=width)
    for row in rows:
        table.add_row(*(str(c) for c in row))
    target.print(Padding(table, (0, 0, 0, len(indent))) if indent else table)


class LineDisplay:
    """One line per state change: for logs, pipes and CI (on stderr)."""

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
        if event.data.get("warnings") and state in (NodeState.DONE, NodeState.CACHED):
            text += f", with {len(event['warnings'])} warning(s): {event['warnings'][0]}"
        if event["error"] and state == NodeState.FAILED:
            text += f"\n    {event['error']}"
        with self._lock:
            print(text, file=self.out, flush=True)

    def finish(self) -> None:
        pass


class LiveDisplay:
    """The run's nodes, redrawn in place on a terminal (rich.live), never taller
    than the terminal and never wider: long titles and messages are cut."""

    def __init__(self, workflow: Workflow, out: TextIO) -> None:
        from rich.live import Live

        self.workflow = workflow
        self.order: list[str] = []
        self.states: dict[str, NodeState] = {}
        self.progress: dict[str, tuple[float, str]] = {}
        self.finished: list[str] = []
        self.started = time.perf_counter()
        self._lock = threading.Lock()
        self.console = console(out)
        self.live = Live(self._render(), console=self.console, refresh_per_second=8,
                         transient=False, redirect_stdout=False, redirect_stderr=False,
                         get_renderable=self._render)
        self.live.start()

    def on_event(self, event: Event) -> None:
        with self._lock:
            if event.kind == "run_started":
                self.order = list(event["nodes"])
            elif event.kind == "node_state":
                node_id, state = event["node_id"], event["state"]
                self.states[node_id] = state
                if state in (NodeState.DONE, NodeState.CACHED, NodeState.FAILED,
                             NodeState.SKIPPED, NodeState.CANCELLED):
                    self.finished.append(node_id)
            elif event.kind == "node_progress":
                self.progress[event["node_id"]] = (event["fraction"], event["message"])

    def _render(self) -> RenderableType:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        with self._lock:
            order, states = list(self.order), dict(self.states)
            progress, finished = dict(self.progress), list(self.finished)
        height = max(shutil.get_terminal_size((80, 24)).lines - 3, 4)
        grid = Table.grid(padding=(0, 1), expand=False)
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True, overflow="ellipsis", max_width=40)
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True, overflow="ellipsis")
        if len(order) + 1 <= height:
            shown = order
        else:  # more nodes than rows: the running ones, then the latest to finish
            running = [n for n in order if states.get(n) == NodeState.RUNNING]
            shown = (running + [n for n in reversed(finished) if n not in running])[:height - 1]
            shown = [n for n in order if n in set(shown)]
        for node_id in shown:
            state = states.get(node_id, NodeState.QUEUED)
            detail = ""
            if state == NodeState.RUNNING and node_id in progress:
                fraction, message = progress[node_id]
                filled = int(fraction * 10)
                detail = f"[{'#' * filled}{'.' * (10 - filled)}] {fraction:4.0%} {message}"
            grid.add_row(Text(_SYMBOLS[state], style=_STYLES[state]),
                         self.workflow.label(node_id), Text(state.value, style=_STYLES[state]),
                         detail)
        counts: dict[str, int] = {}
        for node_id in order:
            value = states.get(node_id, NodeState.QUEUED).value
            counts[value] = counts.get(value, 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in counts.items())
        hidden = len(order) - len(shown)
        footer = f"{format_duration(time.perf_counter() - self.started)}: {summary}"
        if hidden:
            footer += f" ({hidden} nodes not shown)"
        return Group(grid, Text(footer, style="dim", no_wrap=True, overflow="ellipsis"))

    def finish(self) -> None:
        self.live.update(self._render(), refresh=True)
        self.live.stop()
