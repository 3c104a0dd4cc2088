"""The Azure ML Studio (classic) wire format: request/response (RRS) and batch (BES).

    POST   /workspaces/{ws}/services/{svc}/execute?api-version=2.0[&details=true][&format=swagger]
    POST   /workspaces/{ws}/services/{svc}/jobs?api-version=2.0
    POST   /workspaces/{ws}/services/{svc}/jobs/{id}/start?api-version=2.0
    GET    /workspaces/{ws}/services/{svc}/jobs/{id}?api-version=2.0
    DELETE /workspaces/{ws}/services/{svc}/jobs/{id}?api-version=2.0

Any workspace and service id are accepted (a client only changes its base
URL). The input is ``input1`` and the output ``output1``, the names a
classic service's Web Service Input and Output modules had by default; a
request naming another input is refused, naming it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from studio.serve.api import contract
from studio.serve.api.common import (
    REQUEST_ERRORS,
    api_key,
    dumps,
    error_responses,
    json_answer,
    json_rows,
    read_body,
    service_of,
)
from studio.serve.api.modern import JobId, job_of, render_records
from studio.serve.scoring import Answer, text_rows
from studio.serve.service import Answers
from studio.serve.wire import CLASSIC_OUTPUT, parse_classic

BASE = "/workspaces/{workspace}/services/{service_id}"
_STATUS = {"not_started": "NotStarted", "queued": "NotStarted", "running": "Running",
           "succeeded": "Finished", "failed": "Failed", "cancelled": "Cancelled"}

ApiVersion = Annotated[str, Query(alias="api-version", description="The classic API "
                                  "version; 2.0 is what the classic services answered")]


def router(manifest: dict[str, Any]) -> APIRouter:
    """The classic API of a bundle with this manifest."""
    api = APIRouter(dependencies=[Depends(api_key)], tags=["Azure ML Studio (classic) API"])
    execute_body = contract.body(contract.classic_request(manifest),
                                 contract.classic_example(manifest))

    @api.post(BASE + "/execute", response_model=None, openapi_extra=execute_body,
              summary="Request/response scoring in the classic format (table or records)",
              responses={200: contract.answer(contract.classic_answer(manifest),
                                              contract.classic_answer_example(manifest),
                                              "The answer rows, values as text"),
                         **error_responses(*REQUEST_ERRORS)})
    async def execute(request: Request, workspace: str, service_id: str,
                      api_version: ApiVersion = "2.0",
                      details: Annotated[bool, Query(description="also answer ColumnTypes")]
                      = False,
                      format: Annotated[Literal["swagger"] | None, Query(
                          description="swagger: answer records instead of a table")] = None
                      ) -> Response:
        service = service_of(request)
        body = await read_body(request)

        def work() -> Response:
            parsed = parse_classic(body, service.pipeline.schema)
            answers = service.answer(parsed)
            if format == "swagger" or parsed.records_form:
                content = render_strings_as_records(answers)
            else:
                content = render_table(answers, details)
            return Response(content, media_type="application/json")

        return await service.run(work, len(body))

    batch_body = contract.body(contract.classic_request(manifest, batch=True),
                               contract.classic_example(manifest))

    @api.post(BASE + "/jobs", response_model=None, openapi_extra=batch_body,
              summary="Classic batch job: submit (it starts with .../start)",
              responses={200: {"description": "The job id", "content": {
                  "application/json": {"schema": {"type": "string"}}}},
                  **error_responses(*REQUEST_ERRORS)})
    async def submit(request: Request, workspace: str, service_id: str,
                     api_version: ApiVersion = "2.0") -> Response:
        service = service_of(request)
        body = await read_body(request)

        def work() -> dict[str, Any]:
            parsed = parse_classic(body, service.pipeline.schema, batch=True)
            if parsed.location is not None:
                from studio.serve.api.modern import csv_rows

                path = service.local_file(parsed.location, must_exist=True)
                parsed.rows = csv_rows(path.read_bytes())
            output_file = (service.local_file(parsed.output_location, must_exist=False)
                           if parsed.output_location else None)
            return service.jobs.create(service.job_frame(parsed), api="classic", start=False,
                                       global_parameters=parsed.global_parameters,
                                       output_file=output_file)

        job = await service.run(work, len(body))
        return json_answer(job["id"])

    @api.post(BASE + "/jobs/{job_id}/start", response_model=None,
              summary="Classic batch job: start",
              responses={200: {"description": "Started"},
                         **error_responses(401, 404, 422, 500)})
    async def start(request: Request, workspace: str, service_id: str, job_id: JobId,
                    api_version: ApiVersion = "2.0") -> Response:
        service = service_of(request)
        job_of(service, job_id)
        service.jobs.start(job_id)
        return Response(status_code=200)

    @api.get(BASE + "/jobs/{job_id}", response_model=None,
             summary="Classic batch job: status and results",
             responses={200: {"description": "The job", "content": {
                 "application/json": {"schema": contract.CLASSIC_JOB}}},
                 **error_responses(401, 404, 422, 500)})
    async def status(request: Request, workspace: str, service_id: str, job_id: JobId,
                     api_version: ApiVersion = "2.0",
                     details: Annotated[bool, Query(description="also answer ColumnTypes")]
                     = False) -> Response:
        service = service_of(request)
        job = job_of(service, job_id)
        results = None
        if job["status"] == "succeeded":
            if job["output_file"]:
                relative = Path(job["output_file"]).relative_to(service.data_dir).as_posix()
                results = {CLASSIC_OUTPUT: {"BaseLocation": str(service.data_dir),
                                            "RelativeLocation": relative, "type": "LocalFile"}}
            else:
                answer = Answer.from_frame(service.jobs.result(job_id))
                table = Answers(answer.columns, answer.types, [answer.rows])
                results = {CLASSIC_OUTPUT: {"type": "DataTable",
                                            "value": table_value(table, details)}}
        return json_answer({"StatusCode": _STATUS[job["status"]], "Results": results,
                            "Details": job["error"], "CreatedAt": job["created"],
                            "StartTime": job["started"], "EndTime": job["finished"]})

    @api.delete(BASE + "/jobs/{job_id}", response_model=None,
                summary="Classic batch job: cancel",
                responses={200: {"description": "Cancelled"},
                           **error_responses(401, 404, 422, 500)})
    async def cancel(request: Request, workspace: str, service_id: str, job_id: JobId,
                     api_version: ApiVersion = "2.0") -> Response:
        service = service_of(request)
        job_of(service, job_id)
        service.jobs.cancel(job_id)
        return Response(status_code=200)

    return api


def render_table(answers: Answers, details: bool) -> bytes:
    head: dict[str, Any] = {"ColumnNames": answers.columns}
    if details:
        head["ColumnTypes"] = answers.types
    prefix = (b'{"Results":{"' + CLASSIC_OUTPUT.encode() + b'":{"type":"DataTable","value":'
              + dumps(head)[:-1] + b',"Values":[')
    pieces = [json_rows(part, as_text=True) for part in answers.parts if part]
    return prefix + b",".join(pieces) + b"]}}}}"


def render_strings_as_records(answers: Answers) -> bytes:
    return render_records(answers, b'{"Results":{"' + CLASSIC_OUTPUT.encode() + b'":[',
                          b"]}}", as_text=True)


def table_value(answers: Answers, details: bool) -> dict[str, Any]:
    value: dict[str, Any] = {"ColumnNames": answers.columns}
    if details:
        value["ColumnTypes"] = answers.types
    value["Values"] = [row for part in answers.parts for row in text_rows(part)]
    return value
