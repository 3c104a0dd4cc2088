"""What an operator and a load balancer ask: liveness, readiness, metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from studio.serve.api.common import ApiKey, error_responses, json_answer, service_of
from studio.serve.metrics import CONTENT_TYPE

_HEALTH = {"type": "object", "properties": {
    "status": {"const": "ok"}, "name": {"type": "string"}, "version": {"type": "string"},
    "bundle_sha256": {"type": "string"},
    "scoring": {"enum": ["compiled", "nodes"],
                "description": "which path scores plain records: the compiled numpy plan "
                               "or the scoring workflow's nodes"}}}
_READY = {"type": "object", "properties": {
    "status": {"enum": ["ready"]}, "checks": {"type": "object",
                                              "additionalProperties": {"type": "string"}}}}


def router() -> APIRouter:
    api = APIRouter(tags=["operations"])

    def health_document(request: Request) -> dict[str, Any]:
        service = service_of(request)
        return {"status": "ok", **service.identity,
                "scoring": "compiled" if service.pipeline.compiled is not None else "nodes"}

    @api.get("/health", summary="Liveness: the process answers (no key needed)",
             response_model=None, responses={200: {"description": "Alive", "content": {
                 "application/json": {"schema": _HEALTH}}}, **error_responses(500)})
    async def health(request: Request) -> Response:
        return json_answer(health_document(request))

    @api.head("/health", summary="Liveness, without a body", response_model=None,
              responses={200: {"description": "Alive"}, **error_responses(500)})
    async def health_head(request: Request) -> Response:
        return json_answer(health_document(request))

    def ready_answer(request: Request) -> Response:
        service = service_of(request)
        problems = service.ready_problems()
        if problems:
            return json_answer({"error": {"code": "NotReady", "message": "; ".join(problems),
                                          "fix": None, "request_id": request.scope.get(
                                              "state", {}).get("request_id"),
                                          "details": []}}, status=503)
        verification = service.bundle.verification.note or "loaded"
        return json_answer({"status": "ready", "checks": {
            "bundle": verification, "example": service.example_check,
            "api_keys": ("none (no authentication, loopback only)" if service.keys is None
                         else f"{service.keys.count} accepted"),
            "batch_jobs": f"{service.jobs.root} is writable"}})

    ready_responses = {200: {"description": "Ready to score", "content": {
        "application/json": {"schema": _READY}}}, **error_responses(500, 503)}

    @api.get("/ready", summary="Readiness: the bundle is verified and answers its example, "
             "the job folder is writable (no key needed)", response_model=None,
             responses=ready_responses)
    async def ready(request: Request) -> Response:
        return ready_answer(request)

    @api.head("/ready", summary="Readiness, without a body", response_model=None,
              responses=ready_responses)
    async def ready_head(request: Request) -> Response:
        return ready_answer(request)

    @api.get("/metrics", summary="Prometheus metrics (the API key unless --public-metrics)",
             dependencies=[Depends(ApiKey(public_when="public_metrics"))], response_model=None,
             responses={200: {"description": "The text exposition format",
                              "content": {"text/plain": {"schema": {"type": "string"}}}},
                        **error_responses(401, 500)})
    async def metrics(request: Request) -> Response:
        return Response(service_of(request).metrics.render(), media_type=CONTENT_TYPE)

    return api
