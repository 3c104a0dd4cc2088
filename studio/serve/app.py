"""The FastAPI application of a service bundle: modern and Azure ML Studio (classic) APIs.

Modern API
    POST /v1/score                 {"records": [{col: value}], "global_parameters": {}}
    POST /v1/jobs                  JSON records or a CSV body -> 202 {"id", "status"}
    GET  /v1/jobs/{id}             status
    GET  /v1/jobs/{id}/result      the answer rows (JSON, or CSV with ?format=csv)
    GET  /v1/schema                input/output schema, global parameters
    GET  /health, /openapi.json, /docs (local page, no CDN)

Classic API (the wire format of the retired Azure ML Studio (classic) services)
    POST /workspaces/{ws}/services/{svc}/execute?api-version=2.0[&details=true][&format=swagger]
    POST /workspaces/{ws}/services/{svc}/jobs?api-version=2.0
    POST /workspaces/{ws}/services/{svc}/jobs/{id}/start?api-version=2.0
    GET  /workspaces/{ws}/services/{svc}/jobs/{id}?api-version=2.0
    DELETE /workspaces/{ws}/services/{svc}/jobs/{id}?api-version=2.0

Every error answers ``{"error": {"code", "message", "details": [...]}}``
(the classic services' shape) with the column and row when there are ones;
no stack trace ever leaves the server (they are logged).
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nodes.errors import NodeInputError, StudioError
from studio.serve.auth import KeyChecker
from studio.serve.docs_page import docs_html
from studio.serve.errors import RequestDataError
from studio.serve.jobs import JobStore
from studio.serve.schema import frame_to_records, records_to_frame, table_to_records
from studio.serve.scoring import Answer

log = logging.getLogger("axon.serve")

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
#: Requests with more rows than this are scored off the event loop.
_INLINE_ROWS = 64
_CLASSIC_STATUS = {"not_started": "NotStarted", "queued": "NotStarted", "running": "Running",
                   "succeeded": "Finished", "failed": "Failed", "cancelled": "Cancelled"}


class ServiceError(Exception):
    """An answer other than 200, with the error document to send."""

    def __init__(self, status: int, code: str, message: str, *,
                 details: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or []
        self.headers = headers


def error_document(code: str, message: str, details: list[dict[str, Any]] | None = None
                   ) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


class BodyLimit:
    """ASGI middleware: refuse bodies larger than ``limit`` bytes with 413, unread."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(error_document(
            "PayloadTooLarge", f"the request body is larger than {self.limit} bytes; send "
            "fewer rows per request, or use a batch job")).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class Service:
    """What the routes need: the pipeline, keys, jobs, and where local files may live."""

    def __init__(self, bundle: Any, key_digests: list[str] | None, jobs_dir: Path,
                 data_dir: Path | None) -> None:
        self.bundle = bundle
        self.manifest = bundle.manifest
        self.pipeline = bundle.pipeline
        self.keys = KeyChecker(key_digests) if key_digests is not None else None
        self.jobs = JobStore(jobs_dir, self.pipeline)
        self.data_dir = data_dir.resolve() if data_dir else None

    def check_key(self, request: Request) -> None:
        if self.keys is not None and not self.keys.accepts(request.headers.get("authorization")):
            raise ServiceError(401, "Unauthorized", "a valid API key is required: send "
                               "'Authorization: Bearer <API key>'",
                               headers={"WWW-Authenticate": "Bearer"})

    async def answer(self, records: Any, global_parameters: Any) -> Answer:
        if global_parameters is not None and not isinstance(global_parameters, dict):
            raise RequestDataError("global parameters must be an object {name: value}.")
        if not isinstance(records, list) or len(records) <= _INLINE_ROWS:
            return self.pipeline.answer(records, global_parameters or None)
        return await run_in_threadpool(self.pipeline.answer, records, global_parameters or None)

    def frame(self, records: Any) -> pd.DataFrame:
        return records_to_frame(records, self.pipeline.schema, self.pipeline.unknown_columns)

    def local_file(self, relative: Any, *, must_exist: bool) -> Path:
        if self.data_dir is None:
            raise ServiceError(400, "BadArgument", "this server reads and writes no local "
                               "files; send the rows inline, or start it with --data-dir")
        if not isinstance(relative, str) or not relative:
            raise ServiceError(400, "BadArgument", "'RelativeLocation' must name a file")
        path = (self.data_dir / relative).resolve()
        if self.data_dir not in path.parents:
            raise ServiceError(400, "BadArgument",
                               f"'{relative}' is outside the server's data folder")
        if must_exist and not path.is_file():
            raise ServiceError(400, "BadArgument", f"'{relative}' does not exist in the "
                               "server's data folder")
        return path


def create_app(bundle: Any, *, key_digests: list[str] | None,
               max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, jobs_dir: Path | None = None,
               data_dir: Path | None = None) -> FastAPI:
    """The app serving ``bundle`` (a loaded ``Bundle``).

    ``key_digests`` None means no authentication (the caller makes sure
    the server then listens on loopback only).
    """
    import tempfile

    jobs_root = Path(jobs_dir) if jobs_dir else Path(tempfile.mkdtemp(prefix="axon-jobs-"))
    service = Service(bundle, key_digests, jobs_root, data_dir)
    app = _routes(bundle.manifest, service)
    app.add_middleware(BodyLimit, limit=max_body_bytes)
    app.state.service = service
    return app


def build_openapi(manifest: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document of a bundle with this manifest (written at export)."""
    return _routes(manifest, None).openapi()


def _routes(manifest: dict[str, Any], service: Service | None) -> FastAPI:
    app = FastAPI(title=f"{manifest['name']} (Axon Studio service)",
                  version=str(manifest.get("version", "1")),
                  description="Scoring service exported by Axon Studio. Send "
                              "'Authorization: Bearer <API key>' with every request.",
                  docs_url=None, redoc_url=None)
    example = manifest.get("example", {})
    records_body = _body_schema({"type": "object", "properties": {
        "records": {"type": "array", "items": _record_schema(manifest)},
        "global_parameters": {"type": "object"}}, "required": ["records"]},
        {"records": [example.get("request", {})]})

    def svc() -> Service:
        assert service is not None
        return service

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, error: ServiceError) -> JSONResponse:
        return JSONResponse(error_document(error.code, error.message, error.details),
                            status_code=error.status, headers=error.headers)

    @app.exception_handler(RequestDataError)
    async def _data_error(request: Request, error: RequestDataError) -> JSONResponse:
        detail = {"code": "InputParseError", "target": "input1", "message": str(error),
                  "column": error.column, "row": error.row}
        return JSONResponse(error_document("BadArgument", str(error), [detail]),
                            status_code=422)

    @app.exception_handler(StudioError)
    async def _studio_error(request: Request, error: StudioError) -> JSONResponse:
        columns = error.columns if isinstance(error, NodeInputError) else []
        detail = {"code": "ScoringError", "target": "input1", "message": str(error),
                  "column": columns[0] if columns else None, "columns": columns, "row": None}
        return JSONResponse(error_document("BadArgument", str(error), [detail]),
                            status_code=422)

    @app.exception_handler(Exception)
    async def _internal(request: Request, error: Exception) -> JSONResponse:
        reference = uuid.uuid4().hex[:12]
        log.error("request %s %s failed (reference %s)", request.method, request.url.path,
                  reference, exc_info=error)
        return JSONResponse(error_document(
            "InternalError", f"the server failed to answer (reference {reference}); the "
            "details are in the server log"), status_code=500)

    # -- public ------------------------------------------------------------------
    @app.get("/health", summary="Liveness and identity of the service")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "name": manifest["name"], "version": manifest.get("version"),
                "bundle_sha256": svc().bundle.digest if service else None,
                # Which scoring path answers plain records (docs/web-service.md).
                "scoring": ("compiled" if service and service.pipeline.compiled is not None
                            else "nodes")}

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(docs_html(manifest["name"]))

    # -- modern API ----------------------------------------------------------------
    @app.get("/v1/schema", summary="Input and output columns, global parameters")
    async def schema(request: Request) -> dict[str, Any]:
        svc().check_key(request)
        return {"inputs": manifest["input_schema"], "outputs": manifest["output_schema"],
                "unknown_columns": manifest["unknown_columns"],
                "global_parameters": manifest["global_parameters"],
                "example": manifest.get("example")}

    @app.post("/v1/score", summary="Score records", openapi_extra=records_body)
    async def score(request: Request) -> JSONResponse:
        service = svc()
        service.check_key(request)
        body = await _json(request)
        if not isinstance(body, dict) or "records" not in body:
            raise RequestDataError('the body must be {"records": [{column: value}, ...]}.')
        answer = await service.answer(body["records"], body.get("global_parameters"))
        return JSONResponse({"results": answer.records()})

    @app.post("/v1/jobs", status_code=202, summary="Submit a batch job (JSON records or CSV)",
              openapi_extra=records_body)
    async def submit_job(request: Request) -> JSONResponse:
        service = svc()
        service.check_key(request)
        content_type = request.headers.get("content-type", "")
        global_parameters = None
        if content_type.startswith("text/csv"):
            records = _csv_records(await request.body())
        else:
            body = await _json(request)
            if not isinstance(body, dict) or "records" not in body:
                raise RequestDataError('the body must be {"records": [...]} or a CSV file '
                                       "(Content-Type: text/csv).")
            records, global_parameters = body["records"], body.get("global_parameters")
        job = service.jobs.create(service.frame(records), api="modern", start=True,
                                  global_parameters=global_parameters)
        return JSONResponse(_modern_job(job), status_code=202)

    @app.get("/v1/jobs/{job_id}", summary="Status of a batch job")
    async def job_status(job_id: str, request: Request) -> dict[str, Any]:
        svc().check_key(request)
        return _modern_job(_job(svc(), job_id))

    @app.get("/v1/jobs/{job_id}/result", summary="Answer rows of a finished batch job")
    async def job_result(job_id: str, request: Request, format: str = "json") -> Response:
        service = svc()
        service.check_key(request)
        job = _job(service, job_id)
        if job["status"] != "succeeded":
            raise ServiceError(409, "JobNotFinished", f"the job is {job['status']}"
                               + (f": {job['error']}" if job["error"] else ""))
        frame = service.jobs.result(job_id)
        if format == "csv":
            return Response(frame.to_csv(index=False), media_type="text/csv")
        return JSONResponse({"results": frame_to_records(frame)})

    @app.delete("/v1/jobs/{job_id}", summary="Cancel and delete a batch job")
    async def delete_job(job_id: str, request: Request) -> Response:
        svc().check_key(request)
        _job(svc(), job_id)
        svc().jobs.delete(job_id)
        return Response(status_code=204)

    # -- classic API -----------------------------------------------------------------
    base = "/workspaces/{workspace}/services/{service_id}"

    @app.post(base + "/execute", summary="Classic request/response (Azure ML Studio format)",
              openapi_extra=_body_schema({"type": "object"}, _classic_example(manifest)))
    async def classic_execute(request: Request, details: bool = False,
                              format: str | None = None) -> JSONResponse:
        service = svc()
        service.check_key(request)
        body = await _json(request)
        inputs = _classic_inputs(body)
        records = _classic_records(inputs)
        answer = await service.answer(records, body.get("GlobalParameters"))
        if format == "swagger" or isinstance(inputs, list):
            output: Any = [dict(zip(answer.columns, row, strict=True))
                           for row in answer.string_rows()]
        else:
            output = {"type": "DataTable", "value": _data_table(answer, details)}
        return JSONResponse({"Results": {"output1": output}})

    @app.post(base + "/jobs", summary="Classic batch job: submit (starts with /start)")
    async def classic_submit(request: Request) -> JSONResponse:
        service = svc()
        service.check_key(request)
        body = await _json(request)
        source = _classic_inputs(body)
        if isinstance(source, dict) and "RelativeLocation" in source:
            path = service.local_file(source["RelativeLocation"], must_exist=True)
            records = _csv_records(path.read_bytes())
        else:
            records = _classic_records(source)
        outputs = body.get("Outputs") or {}
        target = outputs.get("output1") if isinstance(outputs, dict) else None
        output_file = (service.local_file(target.get("RelativeLocation"), must_exist=False)
                       if isinstance(target, dict) and target.get("RelativeLocation") else None)
        job = service.jobs.create(service.frame(records), api="classic", start=False,
                                  global_parameters=body.get("GlobalParameters") or None,
                                  output_file=output_file)
        return JSONResponse(job["id"])

    @app.post(base + "/jobs/{job_id}/start", summary="Classic batch job: start")
    async def classic_start(job_id: str, request: Request) -> Response:
        svc().check_key(request)
        _job(svc(), job_id)
        svc().jobs.start(job_id)
        return Response(status_code=200)

    @app.get(base + "/jobs/{job_id}", summary="Classic batch job: status and results")
    async def classic_status(job_id: str, request: Request, details: bool = False
                             ) -> dict[str, Any]:
        service = svc()
        service.check_key(request)
        job = _job(service, job_id)
        results = None
        if job["status"] == "succeeded":
            if job["output_file"]:
                relative = Path(job["output_file"]).relative_to(service.data_dir).as_posix()
                results = {"output1": {"BaseLocation": str(service.data_dir),
                                       "RelativeLocation": relative, "type": "LocalFile"}}
            else:
                results = {"output1": {"type": "DataTable", "value": _data_table(
                    Answer.from_frame(service.jobs.result(job_id)), details)}}
        return {"StatusCode": _CLASSIC_STATUS[job["status"]], "Results": results,
                "Details": job["error"], "CreatedAt": job["created"],
                "StartTime": job["started"], "EndTime": job["finished"]}

    @app.delete(base + "/jobs/{job_id}", summary="Classic batch job: cancel")
    async def classic_cancel(job_id: str, request: Request) -> Response:
        svc().check_key(request)
        _job(svc(), job_id)
        svc().jobs.cancel(job_id)
        return Response(status_code=200)

    return app


# -- helpers ----------------------------------------------------------------------

async def _json(request: Request) -> Any:
    body = await request.body()
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ServiceError(400, "BadArgument", f"the body is not valid JSON: {error}") from None


def _csv_records(data: bytes) -> list[dict[str, Any]]:
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise RequestDataError(f"the CSV body cannot be read: {error}") from None
    # Empty fields are missing values; everything else is read by the schema's types.
    return [{k: (v if v != "" else None) for k, v in row.items()}
            for row in frame.to_dict(orient="records")]


def _classic_inputs(body: Any) -> Any:
    if not isinstance(body, dict) or not isinstance(body.get("Inputs"), dict):
        raise RequestDataError('the body must be {"Inputs": {"input1": ...}, '
                               '"GlobalParameters": {}}.')
    inputs = body["Inputs"]
    if len(inputs) != 1:
        raise RequestDataError(f"the service has one input, 'input1'; the request names "
                               f"{sorted(inputs)}.")
    return next(iter(inputs.values()))


def _classic_records(source: Any) -> list[dict[str, Any]]:
    if isinstance(source, list):
        return source
    if isinstance(source, dict) and "ColumnNames" in source:
        return table_to_records(source["ColumnNames"], source.get("Values"))
    raise RequestDataError("input1 must be {\"ColumnNames\": [...], \"Values\": [[...]]} or a "
                           "list of {column: value} records.")


def _data_table(answer: Answer, details: bool) -> dict[str, Any]:
    table: dict[str, Any] = {"ColumnNames": answer.columns}
    if details:
        table["ColumnTypes"] = answer.types
    table["Values"] = answer.string_rows()
    return table


def _job(service: Service, job_id: str) -> dict[str, Any]:
    try:
        return service.jobs.get(job_id)
    except KeyError:
        raise ServiceError(404, "JobNotFound", f"there is no job '{job_id}'") from None


def _modern_job(job: dict[str, Any]) -> dict[str, Any]:
    return {key: job[key] for key in ("id", "status", "rows", "created", "started", "finished",
                                      "error")}


def _record_schema(manifest: dict[str, Any]) -> dict[str, Any]:
    kinds = {"float64": "number", "float32": "number", "int64": "integer", "int32": "integer",
             "bool": "boolean"}
    return {"type": "object",
            "properties": {e["name"]: {"type": kinds.get(e["dtype"], "string")}
                           for e in manifest.get("input_schema", [])},
            "required": [e["name"] for e in manifest.get("input_schema", []) if e["required"]]}


def _body_schema(schema: dict[str, Any], example: Any) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": schema, "example": example}}}}


def _classic_example(manifest: dict[str, Any]) -> dict[str, Any]:
    request = manifest.get("example", {}).get("request", {})
    return {"Inputs": {"input1": {"ColumnNames": list(request),
                                  "Values": [[str(v) for v in request.values()]]}},
            "GlobalParameters": {}}
