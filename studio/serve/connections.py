"""Limits on connections, below the app: slow clients, idle clients, too many clients.

uvicorn times out a keep-alive connection that stays silent after an
answer, and nothing else: a connection that never sends a request, or
sends its head a byte at a time, is kept forever, and with the file
descriptors used up a real request waits behind hundreds of them. This
HTTP protocol (uvicorn's h11 one, extended) adds:

- a **head timeout**: a request's head (request line and headers) must be
  complete within ``head_timeout`` seconds of the connection opening or of
  the previous answer; otherwise the connection is closed (with a 408
  answer when part of a head had arrived);
- a **cap on connections**: beyond ``max_connections`` the longest-idle
  connection that is not in the middle of a request is closed to make room
  (so idle connections can never lock real clients out); only when every
  connection is busy with a request is the new one answered 503 and closed;
- answers in the service's error shape for malformed HTTP (400) and the
  refusals above, and log lines at most once per ``_LOG_EVERY`` seconds
  however many connections misbehave (a flood of slow clients once grew
  the log by 19 MB in 12 s).

Reading the body has its own timeout, in the app (``api.common.read_body``).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("axon.serve.connections")
_LOG_EVERY = 10.0


@dataclass
class ConnectionLimits:
    """Where the server draws the line (``studio serve`` options of the same names)."""

    max_connections: int = 1000
    head_timeout: float = 10.0
    keep_alive: float = 5.0


@dataclass
class ConnectionGuard:
    """The limits of one server and what they did (for /metrics and the log)."""

    limits: ConnectionLimits
    count: Any = None  # (reason) -> None; counts a closed or refused connection
    _pending: dict[str, int] = field(default_factory=dict)
    _logged: float = 0.0

    def note(self, reason: str) -> None:
        if self.count is not None:
            self.count(reason)
        self._pending[reason] = self._pending.get(reason, 0) + 1
        now = time.monotonic()
        if now - self._logged >= _LOG_EVERY:
            summary = ", ".join(f"{n} {r}" for r, n in sorted(self._pending.items()))
            log.warning("connections closed by the server since the last note: %s "
                        "(limits: %d connections, %g s for a request head)", summary,
                        self.limits.max_connections, self.limits.head_timeout)
            self._pending.clear()
            self._logged = now


def guarded_protocol(guard: ConnectionGuard) -> type[H11Protocol]:
    """An HTTP protocol class for uvicorn (``Config(http=...)``) that enforces ``guard``."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"guard": guard})


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a head timeout and a connection cap (module docstring)."""

    guard: ConnectionGuard

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # uvicorn warns once per malformed request: the guard counts them instead.
        self.logger = _quiet
        self._head_timer: Any = None
        self._cycle_seen: Any = None
        self.idle_since = 0.0

    # -- connections ------------------------------------------------------------
    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.idle_since = self.loop.time()
        if len(self.connections) > self.guard.limits.max_connections and not self._evict():
            self.guard.note("refused over the connection cap")
            self._answer_raw(503, "ServiceUnavailable", "the server has as many connections "
                             "as it takes, all of them busy; try again shortly",
                             retry_after=True)
            return
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def _evict(self) -> bool:
        """Close the longest-idle other connection; False when none is idle."""
        idle = [c for c in self.connections
                if c is not self and isinstance(c, GuardedH11Protocol) and c.waiting()]
        if not idle:
            return False
        oldest = min(idle, key=lambda c: c.idle_since)
        self.guard.note("closed idle to make room")
        oldest.close_idle()
        return True

    def waiting(self) -> bool:
        """Between requests (or before the first): no request is being answered."""
        return ((self.cycle is None or self.cycle.response_complete)
                and self.conn.their_state in (h11.IDLE, h11.DONE)
                and not self.transport.is_closing())

    def close_idle(self) -> None:
        if self.conn.trailing_data[0]:
            self._answer_raw(408, "RequestTimeout", "the request head did not arrive in "
                             "time; the connection is closed")
        else:
            self.transport.close()

    # -- the head timeout ---------------------------------------------------------
    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self._cycle_seen = self.cycle
        self._head_timer = self.loop.call_later(self.guard.limits.head_timeout,
                                                self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.cycle is self._cycle_seen and self.waiting():
            self.guard.note("timed out waiting for a request head")
            self.close_idle()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._head_timer is not None and self.cycle is not self._cycle_seen:
            self._disarm_head_timer()  # a request's head arrived

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self.idle_since = self.loop.time()
        if not self.transport.is_closing() and (self.cycle is None
                                                or self.cycle.response_complete):
            self._arm_head_timer()

    # -- answers in the service's shape ------------------------------------------
    def send_400_response(self, msg: str) -> None:
        self.guard.note("malformed HTTP")
        body = _error_body("BadRequest", "the request is not valid HTTP/1.1; the "
                                         "connection is closed")
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        try:
            output = self.conn.send(h11.Response(status_code=400, headers=headers,
                                                 reason=b"Bad Request"))
            output += self.conn.send(h11.Data(data=body))
            output += self.conn.send(h11.EndOfMessage())
            self.transport.write(output)
        except h11.LocalProtocolError:
            pass  # a response had begun: closing is all that is left
        self.transport.close()

    def _answer_raw(self, status: int, code: str, message: str, *,
                    retry_after: bool = False) -> None:
        """An answer written straight to the socket (no request to answer yet), then close."""
        body = _error_body(code, message)
        reason = {408: b"Request Timeout", 503: b"Service Unavailable"}[status]
        head = [b"HTTP/1.1 %d %s" % (status, reason), b"content-type: application/json",
                b"content-length: %d" % len(body), b"connection: close"]
        if retry_after:
            head.append(b"retry-after: 1")
        self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        self.transport.close()


class ServerProtocol(GuardedH11Protocol):
    """The protocol of ``studio serve`` processes, named by import path (worker processes
    import it); ``server.app_from_environment`` gives it the process's guard."""

    guard = ConnectionGuard(ConnectionLimits())


def _error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "details": []}}).encode()


class _QuietLogger:
    """Stands in for uvicorn's logger on these connections: warnings about clients are
    counted by the guard; errors (bugs) still reach the log."""

    def __init__(self) -> None:
        self._logger = logging.getLogger("uvicorn.error")
        self.level = self._logger.level

    def warning(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log(self, *args: Any, **kwargs: Any) -> None:
        pass

    def error(self, *args: Any, **kwargs: Any) -> None:
        self._logger.error(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._logger, name)


_quiet = _QuietLogger()
