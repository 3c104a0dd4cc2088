"""Around every request (one pure ASGI layer, so it costs microseconds):

- an ``X-Request-ID``: the client's when it sent a usable one, else a new
  one; in the answer, in error documents and in the access log;
- the model's name, version and bundle digest in every answer's headers
  (``X-Model-Name``, ``X-Model-Version``, ``X-Bundle-SHA256``);
- a trailing slash dropped before routing (``/execute/`` is ``/execute``:
  a redirect would be lost on POST clients);
- a 413 before the body is read when its declared length is over the limit;
- metrics (requests by route template and status, latency, in flight);
- one access log line per request;
- a 500 in the service's error shape for a fault of ours, its traceback in
  the log under the request's id (user mistakes never get here: they are
  4xx answers from the handlers).
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import time
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from studio.serve.api.common import ClientGone, error_bytes, too_large

if TYPE_CHECKING:
    from studio.serve.service import Service

log = logging.getLogger("axon.serve")
access_log = logging.getLogger("axon.access")
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:@/+=-]{1,128}\Z")
# New ids: 20 random hex digits per process, then a counter (32 in all). Unique across
# workers and restarts without a system call per request (uuid4 reads os.urandom).
_ID_PREFIX = os.urandom(10).hex().encode()
_ID_COUNTER = itertools.count(1)


def new_request_id() -> bytes:
    return _ID_PREFIX + b"%012x" % next(_ID_COUNTER)


class Operations:
    """The ASGI layer described in the module docstring."""

    def __init__(self, app: ASGIApp, service: Service) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        service = self.service
        request_id = None
        declared = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value if _REQUEST_ID.match(value) else None
            elif name == b"content-length":
                declared = value
        request_id = request_id or new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id.decode()
        path = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            scope["path"] = path.rstrip("/") or "/"
            scope["raw_path"] = scope.get("raw_path", b"").rstrip(b"/") or b"/"
        extra = [*service.identity_headers, (b"x-request-id", request_id)]
        status = 0
        sent = 0

        async def answer(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), *extra]
            else:
                sent += len(message.get("body", b""))
            await send(message)

        metrics = service.metrics
        metrics.in_flight.inc()
        try:
            limit = service.settings.max_body_bytes
            if declared is not None and declared.isdigit() and int(declared) > limit:
                error = too_large(limit)
                metrics.refusals.labels(error.code).inc()
                await _answer_error(answer, 413, error.code, str(error), request_id)
            else:
                await self.app(scope, receive, answer)
        except ClientGone:
            status = status or 499  # the client left before its request was complete
        except Exception:
            if status:
                raise  # an answer had begun: uvicorn closes the connection
            reference = request_id.decode()
            log.exception("request %s %s failed (request id %s)", scope["method"],
                          scope["path"], reference)
            metrics.refusals.labels("InternalError").inc()
            await _answer_error(answer, 500, "InternalError", "the server failed to answer "
                                f"(reference {reference}); the details are in the server log",
                                request_id)
        finally:
            metrics.in_flight.dec()
            seconds = time.perf_counter() - started
            route = scope.get("route")
            metrics.observe(getattr(route, "path", "unmatched"), scope["method"], status,
                            seconds)
            if service.settings.access_log:
                _log_access(scope, status, sent, seconds, request_id)


async def _answer_error(answer: Any, status: int, code: str, message: str,
                        request_id: bytes) -> None:
    body = error_bytes(code, message, request_id=request_id.decode())
    await answer({"type": "http.response.start", "status": status,
                  "headers": [(b"content-type", b"application/json"),
                              (b"content-length", str(len(body)).encode())]})
    await answer({"type": "http.response.body", "body": body})


def _log_access(scope: Scope, status: int, sent: int, seconds: float,
                request_id: bytes) -> None:
    client = scope.get("client")
    where = f"{client[0]}:{client[1]}" if client else "-"
    query = scope.get("query_string", b"")
    target = scope.get("raw_path") or scope["path"].encode()
    if query:
        target += b"?" + query
    access_log.info('%s "%s %s HTTP/%s" %d %d %.1fms id=%s', where, scope["method"],
                    target.decode("latin-1")[:2000], scope.get("http_version", "1.1"), status,
                    sent, seconds * 1000, request_id.decode())
