"""Issue 15, finding 6: the OpenAPI document is a valid contract — it passes
openapi-spec-validator, declares the bearer scheme and every status each operation
answers (checked against what the server actually sent), shows only synthetic
examples, and is served only with the key unless --public-docs."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from openapi_spec_validator import validate
from prometheus_client.parser import text_string_to_metric_families
from serve_helpers import CLASSIC, auth, records

from studio.serve import load_bundle, start_server
from studio.serve.app import build_openapi
from studio.serve.service import ServiceSettings


@pytest.fixture(scope="module")
def document(breast_cancer_server) -> dict:
    answer = httpx.get(breast_cancer_server.url + "/openapi.json",
                       headers=auth(breast_cancer_server))
    assert answer.status_code == 200
    return answer.json()


def test_the_document_passes_the_validator(document, breast_cancer):
    validate(document)  # raises on any of the 10 errors the issue found, or others
    exported = json.loads((breast_cancer.bundle_dir / "openapi.json").read_text())
    validate(exported)
    assert exported == build_openapi(breast_cancer.manifest) == document


def test_every_keyed_operation_declares_the_bearer_scheme(document):
    scheme = document["components"]["securitySchemes"]["ApiKey"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    public = {("get", "/health"), ("head", "/health"), ("get", "/ready"), ("head", "/ready")}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if (method, path) in public:
                assert "security" not in operation, path
            else:
                assert operation["security"] == [{"ApiKey": []}], (method, path)
                assert "401" in operation["responses"]


def test_classic_paths_declare_their_parameters(document):
    operation = document["paths"]["/workspaces/{workspace}/services/{service_id}/execute"]["post"]
    declared = {(p["in"], p["name"]) for p in operation["parameters"]}
    assert {("path", "workspace"), ("path", "service_id"), ("query", "api-version"),
            ("query", "details"), ("query", "format")} <= declared
    content = operation["requestBody"]["content"]["application/json"]
    assert content["schema"]["properties"]["Inputs"]["required"] == ["input1"]


def test_examples_are_the_synthetic_example_never_a_training_row(document, breast_cancer):
    example = breast_cancer.manifest["example"]["request"]
    score = document["paths"]["/v1/score"]["post"]["requestBody"]["content"][
        "application/json"]["example"]
    assert score == {"records": [example]}
    classic = document["paths"]["/workspaces/{workspace}/services/{service_id}/execute"][
        "post"]["requestBody"]["content"]["application/json"]["example"]
    assert classic["Inputs"]["input1"]["Values"] == [[str(v) for v in example.values()]]
    text = json.dumps(document)
    for row in records(breast_cancer, "diagnosis")[:20]:  # real patients
        assert json.dumps(row)[1:-1] not in text
        assert f"{row['mean radius']!r}, " not in text


def test_every_status_the_server_sends_is_declared(document, breast_cancer, breast_cancer_server):
    """Drive each operation into each of its answers, then compare what /metrics counted
    (route template, method, status) with the document."""
    url, headers = breast_cancer_server.url, auth(breast_cancer_server)
    one = records(breast_cancer, "diagnosis", rows=1)
    bad = [{**one[0], "mean radius": "large"}]
    job = "0123456789abcdef0123456789abcdef"
    with httpx.Client(base_url=url, timeout=30) as client:
        for path, body in [("/v1/score", {"records": one}), ("/v1/jobs", {"records": one}),
                           (CLASSIC + "/execute", {"Inputs": {"input1": one}}),
                           (CLASSIC + "/jobs", {"Inputs": {"input1": one}})]:
            client.post(path, json=body, headers=headers)
            client.post(path, json=body)
            client.post(path, content=b"{", headers=headers)
            client.post(path, json={"records": bad, "Inputs": {"input1": bad}},
                        headers=headers)
            client.post(path, content=b"x" * (300 * 1024), headers=headers)
        client.post(CLASSIC + "/execute?details=perhaps", json={}, headers=headers)
        for path in (f"/v1/jobs/{job}", f"/v1/jobs/{job}/result", f"/v1/jobs/{'z' * 40}",
                     f"{CLASSIC}/jobs/{job}", "/v1/schema", "/metrics"):
            client.get(path, headers=headers)
            client.get(path)
        client.delete(f"/v1/jobs/{job}", headers=headers)
        client.delete(f"{CLASSIC}/jobs/{job}", headers=headers)
        client.post(f"{CLASSIC}/jobs/{job}/start", headers=headers)
        client.head("/health")
        client.get("/ready")
        metrics = client.get("/metrics", headers=headers).text
    sent = {(sample.labels["route"], sample.labels["method"].lower(), sample.labels["status"])
            for family in text_string_to_metric_families(metrics)
            if family.name == "axon_http_requests" for sample in family.samples
            if sample.name == "axon_http_requests_total"}
    assert len(sent) > 30
    for route, method, status in sorted(sent):
        if route == "unmatched" or route in ("/openapi.json", "/docs") or status == "499":
            continue
        declared = document["paths"][route][method]["responses"]
        assert status in declared, (method, route, status, sorted(declared))


def test_docs_and_the_document_need_the_key_unless_public(breast_cancer, breast_cancer_server,
                                                          signer):
    url = breast_cancer_server.url
    for path in ("/openapi.json", "/docs"):
        refused = httpx.get(url + path)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "Unauthorized"
        # A browser is asked for the key as a Basic password (it cannot send a bearer).
        assert refused.headers["www-authenticate"].startswith("Basic realm=")
        basic = base64.b64encode(f"me:{breast_cancer_server.api_key}".encode()).decode()
        assert httpx.get(url + path, headers={"Authorization": f"Basic {basic}"}
                         ).status_code == 200
        wrong = base64.b64encode(b"me:wrong").decode()
        assert httpx.get(url + path, headers={"Authorization": f"Basic {wrong}"}
                         ).status_code == 401
    # Basic is for the docs only: the API takes bearer keys.
    assert httpx.post(url + "/v1/score", json={"records": []}, headers={
        "Authorization": f"Basic {basic}"}).status_code == 401
    bundle = load_bundle(breast_cancer.bundle_dir, trust_keys=signer.trusted)
    with start_server(bundle, settings=ServiceSettings(public_docs=True)) as public:
        assert httpx.get(public.url + "/openapi.json").status_code == 200
        assert httpx.get(public.url + "/docs").status_code == 200
        assert httpx.get(public.url + "/metrics").status_code == 401  # its own flag
        assert httpx.get(public.url + "/v1/schema").status_code == 401
