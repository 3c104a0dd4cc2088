"""What the routers share: the key check, reading a body, the error shape, JSON answers."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Sequence
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field
from starlette.requests import HTTPConnection

from studio.serve.errors import RequestDataError, ServiceError
from studio.serve.scoring import text_value

if TYPE_CHECKING:
    from studio.serve.service import Service

JSON = "application/json"


def service_of(request: HTTPConnection) -> Service:
    return request.app.state.service


# -- the one error shape ------------------------------------------------------------

class ErrorDetail(BaseModel):
    """Where a problem is: the column and row (0-based, in the order sent) when it has them."""

    code: str = Field(examples=["InputParseError"])
    target: str | None = Field(None, examples=["input1"])
    message: str
    column: str | None = Field(None, examples=["mean radius"])
    row: int | None = Field(None, examples=[0])


class ErrorBody(BaseModel):
    code: str = Field(description="What kind of problem (the classic services' codes: "
                                  "BadArgument, Unauthorized, NotFound, PayloadTooLarge...)",
                      examples=["BadArgument"])
    message: str = Field(description="What is wrong and how to fix it, for a person",
                         examples=["row 0, column 'mean radius': 'large' is not a number."])
    fix: str | None = Field(None, description="How to fix it, when there is a fix to give")
    request_id: str | None = Field(None, description="The X-Request-ID of the request: quote "
                                                     "it when asking about the error")
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorDocument(BaseModel):
    """Every answer other than 2xx has this shape (also 404, 405 and 500)."""

    error: ErrorBody


_STATUS_TEXT = {
    400: "The body is not valid JSON (or not HTTP), or names a file the server cannot use",
    401: "No API key, or a wrong one (send 'Authorization: Bearer <API key>')",
    404: "No such job (job ids are 32 hexadecimal digits), or no such path",
    405: "The path does not take this method",
    408: "The request's body did not arrive in time",
    409: "The job has not finished",
    413: "The body (or one row of it) is larger than the server takes",
    422: "A value, column, row or parameter the service cannot use; "
         "'details' names the column and the row",
    500: "A fault of the server (the message gives a reference to its log)",
    503: "The server is not ready, or has no connection to spare",
}


#: What any path may answer, whatever it is: a head that is not HTTP (400), a body
#: declared too large (413), a fault (500), no connection to spare (503).
ANY_PATH = (400, 413, 500, 503)
#: What any scoring or job route may answer besides its success.
REQUEST_ERRORS = (401, 408, 422)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` entries of these error statuses and of ANY_PATH (one
    shared schema)."""
    return {status: {"model": ErrorDocument, "description": _STATUS_TEXT[status]}
            for status in sorted({*statuses, *ANY_PATH})}


def error_document(code: str, message: str, *, details: list[dict[str, Any]] | None = None,
                   fix: str | None = None, request_id: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fix": fix, "request_id": request_id,
                      "details": details or []}}


def error_bytes(code: str, message: str, **fields: Any) -> bytes:
    # ensure_ascii: a lone surrogate from a client's column name stays encodable.
    return json.dumps(error_document(code, message, **fields), ensure_ascii=True).encode()


def error_response(request: HTTPConnection, status: int, code: str, message: str, *,
                   details: list[dict[str, Any]] | None = None, fix: str | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    request_id = request.scope.get("state", {}).get("request_id")
    service = getattr(request.app.state, "service", None)
    if service is not None:
        service.metrics.refusals.labels(code).inc()
    return Response(error_bytes(code, message, details=details, fix=fix,
                                request_id=request_id),
                    status_code=status, media_type=JSON, headers=headers)


def data_error_details(error: RequestDataError, target: str = "input1") -> list[dict[str, Any]]:
    return [{"code": "InputParseError", "target": target, "message": str(error),
             "column": error.column, "row": error.row}]


# -- answers ---------------------------------------------------------------------

def dumps(document: Any) -> bytes:
    """JSON bytes, ASCII only: any text a client sent (a lone surrogate...) stays encodable."""
    return _json_text(document).encode()


def _json_text(document: Any) -> str:
    return json.dumps(document, ensure_ascii=True, allow_nan=False, separators=(",", ":"))


def json_rows(rows: Sequence[Sequence[Any]], columns: Sequence[str] | None = None, *,
              as_text: bool = False) -> bytes:
    """Answer rows as the inside of a JSON array (no brackets): each row an array, or an
    object of ``columns`` when given; ``as_text``: every value but null as a string, as
    the classic services answered (``text_value``).

    The bytes of ``dumps`` of those rows (tests check it), made a column at a time: a
    column of finite floats or of strings is encoded by one C-level map (float repr,
    json's own string escaping), then every row by one %-template. Anything else is
    encoded value by value by ``dumps``, which also refuses what it refuses."""
    width = len(columns) if columns is not None else len(rows[0]) if rows else 0
    if not rows or not width or (columns is not None and len(set(columns)) < width):
        return dumps(_obvious_rows(rows, columns, as_text))[1:-1]
    formats: list[str] = []
    encoded: list[Any] = []
    for values in zip(*rows, strict=True):
        kinds = set(map(type, values))
        if kinds == _FLOATS and all(map(math.isfinite, values)):
            formats.append('"%s"' if as_text else "%s")
            encoded.append(map(float.__repr__, values))
        elif kinds == _INTEGERS:
            formats.append('"%s"' if as_text else "%s")
            encoded.append(map(int.__repr__, values))
        elif kinds == _STRINGS:
            formats.append("%s")
            encoded.append(map(encode_basestring_ascii, values))
        else:
            formats.append("%s")
            encoded.append([_json_text(text_value(v) if as_text else v) for v in values])
    if columns is None:
        template = "[" + ",".join(formats) + "]"
    else:  # names are escaped as JSON, then '%' as template text
        template = "{" + ",".join(_json_text(name).replace("%", "%%") + ":" + part
                                  for name, part in zip(columns, formats, strict=True)) + "}"
    return ",".join(map(template.__mod__, zip(*encoded, strict=True))).encode()


_FLOATS, _INTEGERS, _STRINGS = {float}, {int}, {str}


def _obvious_rows(rows: Sequence[Sequence[Any]], columns: Sequence[str] | None,
                  as_text: bool) -> list[Any]:
    """What ``json_rows`` encodes, as Python values (the slow, obvious way)."""
    if as_text:
        rows = [[text_value(v) for v in row] for row in rows]
    if columns is None:
        return [list(row) for row in rows]
    return [dict(zip(columns, row, strict=True)) for row in rows]


def json_answer(document: Any, status: int = 200) -> Response:
    return Response(dumps(document), status_code=status, media_type=JSON)


# -- the API key ----------------------------------------------------------------------

class ApiKey(HTTPBearer):
    """The service's API key, as ``Authorization: Bearer <key>`` (also what the OpenAPI
    document declares). Refuses with 401 in the service's error shape."""

    def __init__(self, *, basic_too: bool = False, public_when: str | None = None) -> None:
        super().__init__(bearerFormat="API key", scheme_name="ApiKey", auto_error=False,
                         description="The key printed by 'studio export' (or one of "
                                     "'studio serve --api-key-file'), sent as "
                                     "'Authorization: Bearer <key>'.")
        self.basic_too = basic_too  # the docs: a browser answers a Basic challenge
        self.public_when = public_when  # a ServiceSettings flag that opens the route

    async def __call__(self, request: HTTPConnection) -> None:  # type: ignore[override]
        service = service_of(request)
        keys = service.keys
        if keys is None or (self.public_when and getattr(service.settings, self.public_when)):
            return None
        authorization = request.headers.get("authorization")
        if keys.accepts(authorization) or (self.basic_too and keys.accepts_basic(authorization)):
            return None
        challenge = ('Basic realm="API docs: any user name, the API key as password", '
                     'charset="UTF-8", Bearer' if self.basic_too else "Bearer")
        raise ServiceError(401, "Unauthorized", "a valid API key is required: send "
                           "'Authorization: Bearer <API key>'",
                           headers={"WWW-Authenticate": challenge},
                           fix="Use the key 'studio export' printed, or one in the "
                               "server's --api-key-file.")


api_key = ApiKey()


# -- reading a body ---------------------------------------------------------------

async def read_body(request: Request) -> bytes | bytearray:
    """The body, counted while it arrives (413 past the limit) and waited for at most the
    read timeout between two parts of it (408, and the connection is closed).

    One buffer of the declared length is filled in place (growing a buffer copies it:
    twice the body for a moment); a body without a length is gathered and joined."""
    settings = service_of(request).settings
    limit, timeout = settings.max_body_bytes, settings.read_timeout
    declared = request.headers.get("content-length", "")
    size = int(declared) if declared.isdigit() and int(declared) <= limit else None
    buffer = bytearray(size) if size is not None else None
    pieces: list[bytes] = []
    filled = 0
    receive = request.receive
    while True:
        try:
            async with asyncio.timeout(timeout):
                message = await receive()
        except TimeoutError:
            raise ServiceError(408, "RequestTimeout", f"the body stopped arriving: nothing for "
                               f"{timeout:g} s", headers={"Connection": "close"},
                               fix="Send the whole body without pauses.") from None
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        if filled + len(chunk) > limit:
            raise too_large(limit)
        if buffer is not None and filled + len(chunk) <= size:
            buffer[filled:filled + len(chunk)] = chunk
        else:
            pieces.append(chunk)
        filled += len(chunk)
        if not message.get("more_body", False):
            break
    if buffer is None:
        return b"".join(pieces)
    if pieces or filled != size:  # not what was declared (h11 keeps that from happening)
        return bytes(buffer[:min(filled, size)]) + b"".join(pieces)
    return buffer


def too_large(limit: int) -> ServiceError:
    return ServiceError(413, "PayloadTooLarge", f"the request body is larger than {limit:,} "
                        "bytes", fix="Send fewer rows per request, or use a batch job; the "
                                     "operator sets the limit with --max-body-mb.")


class ClientGone(Exception):
    """The client closed the connection before its body arrived (nobody to answer)."""
