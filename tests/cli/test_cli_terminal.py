"""The command line as a user's terminal shows it: a real pseudo-terminal of 80x24.

Results go to stdout and progress to stderr; a closed pipe ends a command
quietly; mistyped commands and options get a suggestion; no line is wider
than the terminal, and the live display of a 40-node workflow (longer than
the terminal is tall, with titles wider than it) stays inside it.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from studio.workflow import Workflow, save_workflow

REPO = Path(__file__).resolve().parents[2]
HOUSING = REPO / "examples" / "housing_regression.axon.json"
STUDIO = [sys.executable, "-m", "studio.cli.main"]
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[()][0-9A-Za-z]")


def _in_terminal(args: list[str], *, rows: int = 24, columns: int = 80,
                 timeout: float = 240) -> tuple[int, str]:
    """Run ``studio ARGS`` with stdin, stdout and stderr on a pty of that size."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    env = {**os.environ, "COLUMNS": str(columns), "LINES": str(rows), "TERM": "xterm-256color"}
    process = subprocess.Popen([*STUDIO, *args], stdin=slave, stdout=slave, stderr=slave,
                               env=env, cwd=REPO, close_fds=True)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    code = process.wait(timeout=30)
    os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


def _visible_lines(text: str) -> list[str]:
    plain = _ANSI.sub("", text)
    return [part for line in plain.split("\n") for part in line.split("\r")]


def _wide_workflow(folder: Path, count: int = 40) -> Path:
    workflow = Workflow()
    workflow.add_node("sample_dataset", {"dataset": "iris"}, node_id="data")
    previous = "data"
    for index in range(count - 1):
        node_id = f"keep_{index}"
        workflow.add_node("select_columns", {"select_by": "roles", "roles": ["feature", "label"]},
                          node_id=node_id, title=f"Keep the feature and label columns, step "
                                                 f"{index} of a very long chain of steps")
        workflow.connect(previous, "data", node_id, "data")
        previous = node_id
    return save_workflow(workflow, folder / "forty.axon.json")


def test_a_forty_node_run_stays_inside_an_80_by_24_terminal(tmp_path):
    path = _wide_workflow(tmp_path)
    code, output = _in_terminal(["run", str(path), "--out", str(tmp_path / "out")])
    assert code == 0, output[-2000:]
    # A path longer than the terminal may wrap (the terminal does that); nothing else may.
    lines = [line for line in _visible_lines(output) if str(tmp_path) not in line]
    too_wide = [line for line in lines if len(line.rstrip()) > 80]
    assert not too_wide, f"{len(too_wide)} lines wider than 80 columns: {too_wide[:2]}"
    assert "40 done" in _ANSI.sub("", output)
    # Each redraw of the live display moves the cursor up at most the terminal's height.
    moves = [int(n) for n in re.findall(r"\x1b\[(\d+)A", output)]
    assert moves and max(moves) < 24


def test_results_go_to_stdout_and_progress_to_stderr(tmp_path):
    process = subprocess.run([*STUDIO, "run", str(HOUSING), "--out", str(tmp_path / "o")],
                             capture_output=True, text=True, timeout=240, cwd=REPO)
    assert process.returncode == 0, process.stderr
    assert "Metrics of 'Evaluate Model'" in process.stdout and "running" not in process.stdout
    assert "Split Data (split): running" in process.stderr
    as_json = subprocess.run([*STUDIO, "run", str(HOUSING), "--json", "--out",
                              str(tmp_path / "j")], capture_output=True, text=True,
                             timeout=240, cwd=REPO)
    assert json.loads(as_json.stdout)["status"] == "succeeded"


def test_a_closed_pipe_ends_quietly():
    shell = f"{' '.join(STUDIO)} nodes --json | head -c 40 >/dev/null; echo ${{PIPESTATUS[0]}}"
    process = subprocess.run(["bash", "-c", shell], capture_output=True, text=True,
                             timeout=120, cwd=REPO)
    assert "Traceback" not in process.stderr and "BrokenPipe" not in process.stderr
    assert process.stdout.strip() in ("0", "141")


def test_mistyped_commands_and_options_get_a_suggestion():
    command = subprocess.run([*STUDIO, "rn", str(HOUSING)], capture_output=True, text=True,
                             timeout=60)
    assert command.returncode == 2 and "did you mean 'studio run'" in command.stderr.lower()
    option = subprocess.run([*STUDIO, "run", str(HOUSING), "--jsn"], capture_output=True,
                            text=True, timeout=60)
    assert option.returncode == 2 and "did you mean '--json'" in option.stderr


def test_version_and_help_answer():
    version = subprocess.run([*STUDIO, "--version"], capture_output=True, text=True,
                             timeout=60)
    assert version.returncode == 0 and re.match(r"studio \d+\.\d+", version.stdout)
    code, output = _in_terminal(["--help"])
    assert code == 0 and "run a workflow headless" in output
    assert all(len(line.rstrip()) <= 80 for line in _visible_lines(output))
