"""The service's HTTP API, one router per concern.

    operations   GET/HEAD /health, /ready; GET /metrics
    docs         GET /openapi.json, /docs
    modern       /v1/score, /v1/schema, /v1/jobs...
    classic      /workspaces/{workspace}/services/{service_id}/execute, .../jobs...

``common`` holds what they share: the API key check (a FastAPI security
dependency, so the OpenAPI document declares the bearer scheme), reading a
body with its limits, the one error shape and the answers' JSON.
"""
