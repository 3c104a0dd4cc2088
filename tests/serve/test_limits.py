"""Issue 15, findings 3 and 4: slow, idle and too many clients, and memory per body.

Timeouts are short here (1 s) and every wait has a generous deadline, so a loaded
machine makes these tests slower, never wrong: a timer cannot fire early, and the
deadlines are many times the timeouts.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
from serve_helpers import ServeProcess, auth, records

from studio.serve import load_bundle, start_server
from studio.serve.connections import ConnectionLimits
from studio.serve.service import ServiceSettings

DEADLINE = 20.0


@pytest.fixture(scope="module")
def strict_server(breast_cancer, signer):
    """A server with 1 s timeouts and room for 12 connections."""
    bundle = load_bundle(breast_cancer.bundle_dir, trust_keys=signer.trusted)
    handle = start_server(bundle, settings=ServiceSettings(read_timeout=1.0,
                                                           max_body_bytes=64 * 1024),
                          limits=ConnectionLimits(max_connections=12, head_timeout=1.0,
                                                  keep_alive=1.0))
    yield handle
    handle.stop()


def _connect(handle) -> socket.socket:
    host, port = handle.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=DEADLINE)
    return sock


def _read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (DEADLINE at most)."""
    data = b""
    sock.settimeout(DEADLINE)
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def _read_answer(sock: socket.socket) -> tuple[bytes, bytes]:
    """One answer's head and body (by its Content-Length)."""
    data = b""
    sock.settimeout(DEADLINE)
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += sock.recv(65536)
    return head, body


def _head(handle, path: str, length: int | None = None, extra: str = "") -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: test", f"Authorization: Bearer {handle.api_key}",
             "Content-Type: application/json"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + extra + "\r\n\r\n").encode()


def test_a_connection_that_sends_nothing_is_closed(strict_server):
    sock = _connect(strict_server)
    started = time.monotonic()
    with sock:
        assert _read_until_closed(sock) == b""
    assert 0.9 <= time.monotonic() - started < DEADLINE


def test_a_head_sent_a_byte_at_a_time_is_cut_off_with_408(strict_server):
    sock = _connect(strict_server)
    head = _head(strict_server, "/v1/score", 2)
    started = time.monotonic()
    with sock:
        try:
            for byte in head[:-4]:  # never the blank line that ends the head
                sock.sendall(bytes([byte]))
                time.sleep(0.05)
                if time.monotonic() - started > DEADLINE:
                    break
        except OSError:
            pass  # closed under us: what we expect
        answer = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "RequestTimeout"
    assert time.monotonic() - started < DEADLINE


def test_a_body_that_stops_arriving_gets_408_and_the_connection_closes(strict_server):
    sock = _connect(strict_server)
    with sock:
        sock.sendall(_head(strict_server, "/v1/score", 1000) + b'{"records": [')
        answer = _read_until_closed(sock)
    head, body = answer.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 408") and b"connection: close" in head.lower()
    assert json.loads(body)["error"]["code"] == "RequestTimeout"


def test_an_idle_keep_alive_connection_is_closed_after_the_answer(breast_cancer, strict_server):
    body = json.dumps({"records": records(breast_cancer, "diagnosis", 1)}).encode()
    sock = _connect(strict_server)
    with sock:
        sock.sendall(_head(strict_server, "/v1/score", len(body)) + body)
        answer = _read_until_closed(sock)  # the answer, then the close at keep-alive
    assert answer.startswith(b"HTTP/1.1 200")


def test_a_declared_length_over_the_limit_is_413_before_the_body(strict_server):
    sock = _connect(strict_server)
    with sock:
        sock.sendall(_head(strict_server, "/v1/score", 10**9))
        head, body = _read_answer(sock)
    assert head.startswith(b"HTTP/1.1 413")
    assert json.loads(body)["error"]["code"] == "PayloadTooLarge"


def test_a_chunked_body_is_counted_while_it_streams(strict_server):
    """No Content-Length: the body is counted as it arrives and refused past the limit
    (64 KiB here), in the error shape."""
    def chunks():
        yield b'{"records": ['
        for _ in range(200):
            yield b'{"mean radius": 1.0},' * 50
    answer = httpx.post(strict_server.url + "/v1/score", content=chunks(),
                        headers=auth(strict_server), timeout=DEADLINE)
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "PayloadTooLarge"


def test_malformed_http_gets_400_in_the_error_shape(strict_server):
    sock = _connect(strict_server)
    with sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        answer = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 400")
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "BadRequest"


def test_idle_connections_never_lock_out_a_real_request(breast_cancer, strict_server, caplog):
    """Three times the cap of idle connections, and a real client still gets its answer
    (the longest-idle ones are closed to make room) — and the log says so in a line,
    not a line per connection."""
    idle = []
    with caplog.at_level(logging.WARNING, logger="axon.serve.connections"):
        try:
            for _ in range(36):
                idle.append(_connect(strict_server))
            started = time.monotonic()
            answer = httpx.post(strict_server.url + "/v1/score", headers=auth(strict_server),
                                json={"records": records(breast_cancer, "diagnosis", 1)},
                                timeout=DEADLINE)
            assert answer.status_code == 200
            assert time.monotonic() - started < DEADLINE
        finally:
            for sock in idle:
                sock.close()
    # The log gets a summary every few seconds, not a line per connection...
    assert len([r for r in caplog.records if r.name == "axon.serve.connections"]) <= 3
    # ...and /metrics the count.
    metrics = strict_server.service.metrics.render().decode()
    closed = next(line for line in metrics.splitlines() if line.startswith(
        'axon_connections_closed_by_server_total{reason="closed idle to make room"}'))
    assert float(closed.split()[-1]) >= 36 - 12


def test_when_every_connection_is_busy_a_new_one_gets_503(breast_cancer, signer):
    bundle = load_bundle(breast_cancer.bundle_dir, trust_keys=signer.trusted)
    handle = start_server(bundle, settings=ServiceSettings(read_timeout=30.0),
                          limits=ConnectionLimits(max_connections=4, head_timeout=30.0))
    busy = []
    try:
        for _ in range(4):  # each in the middle of sending a body
            sock = _connect(handle)
            sock.sendall(_head(handle, "/v1/score", 100) + b'{"rec')
            busy.append(sock)
        time.sleep(0.2)  # let the server see them
        extra = _connect(handle)
        with extra:
            answer = _read_until_closed(extra)
        head, body = answer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 503") and b"retry-after: 1" in head.lower()
        assert json.loads(body)["error"]["code"] == "ServiceUnavailable"
    finally:
        for sock in busy:
            sock.close()
        handle.stop()
    metrics = handle.service.metrics.render().decode()
    assert 'reason="refused over the connection cap"' in metrics


# -- memory per request ----------------------------------------------------------------

def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_memory_per_request_stays_within_three_times_the_body(breast_cancer, signer, tmp_path):
    """The issue's case: 16 MiB of empty records once took 563 MB (35x), four at once
    2.38 GB. Measured as the server process's peak resident memory, which timing cannot
    change: one such body, then four at once, and a valid 16 MiB batch."""
    server = ServeProcess(breast_cancer.bundle_dir, "--trust-key", signer.public,
                          "--max-body-mb", "20", "--no-access-log", cwd=tmp_path)
    key = {"Authorization": f"Bearer {breast_cancer.api_key}"}
    try:
        server.wait_ready()
        warm = {"records": records(breast_cancer, "diagnosis")}
        for _ in range(20):
            assert httpx.post(server.url + "/v1/score", json=warm, headers=key).status_code == 200
        size = 16 * 1024 * 1024
        empty = b'{"records": [' + b",".join([b"{}"] * (size // 3)) + b"]}"
        row = json.dumps(breast_cancer.manifest["example"]["request"]).encode()
        valid = b'{"records": [' + b",".join([row] * (size // (len(row) + 1))) + b"]}"
        before = _peak_rss(server.process.pid)
        answer = httpx.post(server.url + "/v1/score", content=valid, headers=key, timeout=300)
        assert answer.status_code == 200 and len(answer.json()["results"]) > 10_000
        batch = _peak_rss(server.process.pid) - before
        answer = httpx.post(server.url + "/v1/score", content=empty, headers=key, timeout=120)
        assert answer.status_code == 422
        one = _peak_rss(server.process.pid) - before
        results = []
        threads = [threading.Thread(target=lambda: results.append(httpx.post(
            server.url + "/v1/score", content=empty, headers=key, timeout=300).status_code))
            for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        four = _peak_rss(server.process.pid) - before
    finally:
        server.stop()
    # The peak only grows: each figure bounds every request measured before it.
    assert batch <= 3 * len(valid), batch / len(valid)
    assert one <= 3 * len(empty), one / len(empty)
    assert results == [422] * 4
    assert four <= 4 * 3 * len(empty), four / len(empty)
