"""The modern REST API: ``/v1/score``, ``/v1/schema`` and batch jobs under ``/v1/jobs``."""

from __future__ import annotations

import io
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from studio.serve.api import contract
from studio.serve.api.common import (
    REQUEST_ERRORS,
    api_key,
    error_responses,
    json_answer,
    json_rows,
    read_body,
    service_of,
)
from studio.serve.errors import RequestDataError, ServiceError
from studio.serve.schema import frame_to_records
from studio.serve.service import Answers, Service
from studio.serve.wire import Request as ParsedRequest
from studio.serve.wire import Rows, parse_modern

#: A job id in a path: checked before anything looks for it (422 otherwise).
JobId = Annotated[str, Path(pattern="^[0-9a-f]{32}$", max_length=32,
                            description="The job's id (32 hexadecimal digits)")]


def router(manifest: dict[str, Any]) -> APIRouter:
    """The modern API of a bundle with this manifest."""
    api = APIRouter(dependencies=[Depends(api_key)], tags=["modern API"])
    example = contract.example_request(manifest)
    records_body = contract.body(contract.modern_request(manifest), {"records": [example]})

    @api.post("/v1/score", summary="Score records", response_model=None,
              openapi_extra=records_body, responses={
                  200: contract.answer(contract.modern_answer(manifest),
                                       {"results": [contract.example_response(manifest)]},
                                       "One answer record per request record, in order"),
                  **error_responses(*REQUEST_ERRORS)})
    async def score(request: Request) -> Response:
        service = service_of(request)
        body = await read_body(request)

        def work() -> Response:
            answers = service.answer(parse_modern(body, service.pipeline.schema))
            return Response(render_records(answers, b'{"results":[', b"]}"),
                            media_type="application/json")

        return await service.run(work, len(body))

    @api.get("/v1/schema", summary="Input and output columns, global parameters",
             responses=error_responses(401, 500))
    async def schema() -> dict[str, Any]:
        return {"inputs": manifest["input_schema"], "outputs": manifest["output_schema"],
                "unknown_columns": manifest["unknown_columns"],
                "global_parameters": manifest["global_parameters"],
                "example": manifest.get("example")}

    job_body = contract.body(contract.modern_request(manifest), {"records": [example]},
                             csv=True)

    @api.post("/v1/jobs", status_code=202, response_model=None, openapi_extra=job_body,
              summary="Submit a batch job (JSON records, or a CSV body with Content-Type "
                      "text/csv)",
              responses={202: {"description": "The job, queued",
                               "content": {"application/json": {"schema": contract.JOB}}},
                         **error_responses(*REQUEST_ERRORS)})
    async def submit_job(request: Request) -> Response:
        service = service_of(request)
        body = await read_body(request)
        csv = request.headers.get("content-type", "").startswith("text/csv")

        def work() -> dict[str, Any]:
            parsed = (ParsedRequest(csv_rows(body)) if csv
                      else parse_modern(body, service.pipeline.schema))
            return service.jobs.create(service.job_frame(parsed), api="modern", start=True,
                                       global_parameters=parsed.global_parameters)

        job = await service.run(work, len(body))
        return json_answer(_modern_job(job), status=202)

    @api.get("/v1/jobs/{job_id}", summary="Status of a batch job", response_model=None,
             responses={200: {"description": "The job",
                              "content": {"application/json": {"schema": contract.JOB}}},
                        **error_responses(401, 404, 422, 500)})
    async def job_status(request: Request, job_id: JobId) -> Response:
        return json_answer(_modern_job(job_of(service_of(request), job_id)))

    @api.get("/v1/jobs/{job_id}/result", summary="Answer rows of a finished batch job",
             response_model=None,
             responses={200: {"description": "The answer rows",
                              "content": {"application/json": {
                                  "schema": contract.modern_answer(manifest)},
                                  "text/csv": {"schema": {"type": "string"}}}},
                        **error_responses(401, 404, 409, 422, 500)})
    async def job_result(request: Request, job_id: JobId,
                         format: Literal["json", "csv"] = Query(
                             "json", description="json (default) or csv")) -> Response:
        service = service_of(request)
        job = job_of(service, job_id)
        if job["status"] != "succeeded":
            raise ServiceError(409, "JobNotFinished", f"the job is {job['status']}"
                               + (f": {job['error']}" if job["error"] else ""))
        frame = service.jobs.result(job_id)
        if format == "csv":
            return Response(frame.to_csv(index=False), media_type="text/csv")
        return json_answer({"results": frame_to_records(frame)})

    @api.delete("/v1/jobs/{job_id}", status_code=204, summary="Cancel and delete a batch job",
                response_model=None,
                responses={204: {"description": "Deleted"},
                           **error_responses(401, 404, 422, 500)})
    async def delete_job(request: Request, job_id: JobId) -> Response:
        service = service_of(request)
        job_of(service, job_id)
        service.jobs.delete(job_id)
        return Response(status_code=204)

    return api


def render_records(answers: Answers, prefix: bytes, suffix: bytes, *,
                   as_text: bool = False) -> bytes:
    """``prefix`` + the answer records, comma separated + ``suffix`` (``as_text``: values
    as strings, as the classic services answered)."""
    pieces = [json_rows(part, answers.columns, as_text=as_text) for part in answers.parts
              if part]
    return prefix + b",".join(pieces) + suffix


def csv_rows(body: bytes | bytearray) -> Rows:
    """The rows of a CSV body, read in slices of rows (as a classic table: every value
    text, an empty field a missing value)."""
    try:
        reader = pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False,
                             chunksize=4096)
        first = next(reader, None)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise RequestDataError(f"the CSV body cannot be read: {str(error)[:300]}") from None
    if first is None or not len(first.columns):
        raise RequestDataError("the CSV body has no header row.")
    names = [str(c) for c in first.columns]

    def parts() -> Any:
        row = 0
        chunk = first
        while chunk is not None:
            values = [[v if v != "" else None for v in line]
                      for line in chunk.itertuples(index=False, name=None)]
            yield row, values
            row += len(values)
            try:
                chunk = next(reader, None)
            except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as error:
                raise RequestDataError(f"the CSV body cannot be read after row {row}: "
                                       f"{str(error)[:300]}") from None

    return Rows(parts, names)


def job_of(service: Service, job_id: str) -> dict[str, Any]:
    try:
        return service.jobs.get(job_id)
    except KeyError:
        raise ServiceError(404, "JobNotFound", f"there is no job '{job_id[:64]}' (it may "
                           "have expired)") from None


def _modern_job(job: dict[str, Any]) -> dict[str, Any]:
    return {key: job.get(key) for key in ("id", "status", "rows", "created", "started",
                                          "finished", "expires", "error")}

