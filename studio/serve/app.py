"""The FastAPI application of a service bundle: composition of the routers and the layers.

    app = create_app(bundle, keys=KeyRing(...), settings=ServiceSettings(...))

Routers (``studio.serve.api``): the modern API (/v1/...), the classic one
(/workspaces/{workspace}/services/{service_id}/...), operations (/health,
/ready, /metrics) and docs (/openapi.json, /docs). The API key is a
FastAPI security dependency of the routers that need it.

Every answer other than 2xx is ``{"error": {"code", "message", "fix",
"request_id", "details": [{"column", "row", ...}]}}`` — also 404, 405,
query-parameter errors and 500 — and no stack trace ever leaves the server
(a fault of ours is logged with its traceback under the request id).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from nodes.errors import NodeInputError, StudioError
from studio.serve.api import classic, docs, modern, operations
from studio.serve.api.common import data_error_details, error_response
from studio.serve.auth import KeyRing
from studio.serve.errors import RequestDataError, ServiceError
from studio.serve.middleware import Operations
from studio.serve.service import DEFAULT_MAX_BODY_BYTES, Service, ServiceSettings

__all__ = ["DEFAULT_MAX_BODY_BYTES", "ServiceSettings", "build_openapi", "create_app"]

_HTTP_CODES = {404: "NotFound", 405: "MethodNotAllowed", 406: "NotAcceptable",
               415: "UnsupportedMediaType"}


def create_app(bundle: Any, *, keys: KeyRing | None,
               settings: ServiceSettings | None = None) -> FastAPI:
    """The app serving ``bundle`` (a loaded ``Bundle``). ``keys`` None means no
    authentication (the caller makes sure the server listens on loopback only)."""
    service = Service(bundle, settings or ServiceSettings(), keys)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        service.started()
        yield
        service.stopped()

    app = _app(bundle.manifest, lifespan)
    app.state.service = service
    app.add_middleware(Operations, service=service)
    return app


def build_openapi(manifest: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document of a bundle with this manifest (written at export)."""
    return _app(manifest, None).openapi()


def _app(manifest: dict[str, Any], lifespan: Any) -> FastAPI:
    app = FastAPI(title=f"{manifest['name']} (Axon Studio service)",
                  version=str(manifest.get("version", "1")),
                  description="Scoring service exported by Axon Studio. Send "
                              "'Authorization: Bearer <API key>' with every request but "
                              "/health and /ready. Paths are also answered with a trailing "
                              "slash. Every error has the ErrorDocument shape.",
                  openapi_url=None, docs_url=None, redoc_url=None, redirect_slashes=False,
                  lifespan=lifespan)
    # Scoring first: routes are matched in order, twice per request (FastAPI's included
    # routers), and the paths of the routers do not overlap.
    app.include_router(modern.router(manifest))
    app.include_router(classic.router(manifest))
    app.include_router(operations.router())
    app.include_router(docs.router(str(manifest["name"])))
    _handlers(app)
    return app


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, error: ServiceError) -> Response:
        return error_response(request, error.status, error.code, str(error),
                              details=error.details, fix=error.fix, headers=error.headers)

    @app.exception_handler(RequestDataError)
    async def _data_error(request: Request, error: RequestDataError) -> Response:
        return error_response(request, 422, "BadArgument", str(error),
                              details=data_error_details(error), fix=error.fix)

    @app.exception_handler(StudioError)
    async def _studio_error(request: Request, error: StudioError) -> Response:
        # A node refused the rows (as it would in the app): the client's to fix.
        columns = error.columns if isinstance(error, NodeInputError) else []
        detail = {"code": "ScoringError", "target": "input1", "message": str(error),
                  "column": columns[0] if columns else None, "row": None}
        return error_response(request, 422, "BadArgument", str(error), details=[detail],
                              fix=error.fix)

    @app.exception_handler(RequestValidationError)
    async def _parameter_error(request: Request, error: RequestValidationError) -> Response:
        details = []
        for problem in error.errors():
            where = [str(part) for part in problem.get("loc", ())]
            field = where[-1] if where else "request"
            details.append({"code": "BadParameter", "target": field,
                            "message": f"{'.'.join(where)}: {problem.get('msg', 'invalid')}",
                            "column": None, "row": None})
        message = "; ".join(d["message"] for d in details) or "invalid parameters"
        return error_response(request, 422, "BadArgument", message[:1000], details=details,
                              fix="See /openapi.json for the parameters each path takes.")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(error.status_code, "BadRequest")
        if error.status_code == 404:
            message = (f"there is nothing at {request.url.path[:200]}; see /openapi.json "
                       "for the paths this service answers")
        elif error.status_code == 405:
            allowed = (error.headers or {}).get("Allow", "")
            message = f"{request.method} is not answered at this path (it takes {allowed})"
        else:
            message = str(error.detail)
        return error_response(request, error.status_code, code, message,
                              headers=error.headers)
