"""Helpers of the web-service tests (imported as ``serve_helpers``; pytest puts this
folder on the path)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
CLASSIC = "/workspaces/ws1/services/svc1"


def auth(handle: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {handle.api_key}"}


def records(trained: Any, label: str, rows: int | None = None) -> list[dict]:
    frame = trained.test_rows().frame.drop(columns=[label])
    if rows is not None:
        frame = frame.head(rows)
    return frame.to_dict(orient="records")


def studio(*args: object, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "studio.cli.main", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          check=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServeProcess:
    """``studio serve ...`` in a fresh interpreter, its output collected in a file."""

    def __init__(self, *args: object, cwd: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = cwd / f"serve-{self.port}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 -- closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "studio.cli.main", "serve", *map(str, args),
             "--port", str(self.port)], cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT,
            text=True)

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(self.url + "/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert self.process.poll() is None, self.log()
            assert time.monotonic() < deadline, self.log()
            time.sleep(0.1)

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text()

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()
        return self.log_path.read_text()
