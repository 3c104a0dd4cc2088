"""The contract: ``/openapi.json`` and the interactive page ``/docs`` (the API key unless
``--public-docs``; a browser is asked for it as the password of a Basic challenge)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from studio.serve.api.common import ApiKey, json_answer
from studio.serve.docs_page import docs_html


def router(title: str) -> APIRouter:
    api = APIRouter(dependencies=[Depends(ApiKey(basic_too=True, public_when="public_docs"))],
                    include_in_schema=False)

    @api.get("/openapi.json")
    async def openapi(request: Request) -> Response:
        return json_answer(request.app.openapi())

    @api.get("/docs")
    async def docs() -> HTMLResponse:
        return HTMLResponse(docs_html(title))

    return api
