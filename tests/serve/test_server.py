"""The real server on 127.0.0.1, called over HTTP: modern and classic APIs, jobs, errors."""

from __future__ import annotations

import http.client
import io
import json
import time
from urllib.parse import urlsplit

import httpx
import numpy as np
import pandas as pd
import pytest
from serve_helpers import CLASSIC
from serve_helpers import auth as _auth
from serve_helpers import records as _records

from nodes.models.train_score import SCORED_LABELS, SCORED_PROBABILITIES


def _wait(client: httpx.Client, url: str, headers, key: str, done: tuple[str, ...]) -> dict:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status = client.get(url, headers=headers).json()
        if status[key] in done:
            return status
        time.sleep(0.05)
    raise AssertionError(f"job did not finish: {status}")


def test_modern_scores_equal_score_model_in_the_app(breast_cancer, breast_cancer_server):
    records = _records(breast_cancer, "diagnosis")
    answer = httpx.post(breast_cancer_server.url + "/v1/score", json={"records": records},
                        headers=_auth(breast_cancer_server))
    assert answer.status_code == 200, answer.text
    results = pd.DataFrame(answer.json()["results"])
    scored = breast_cancer.output("score", "scored").frame
    assert list(results.columns) == [SCORED_LABELS, SCORED_PROBABILITIES]
    assert results[SCORED_LABELS].tolist() == scored[SCORED_LABELS].tolist()
    np.testing.assert_array_equal(results[SCORED_PROBABILITIES].to_numpy(),
                                  scored[SCORED_PROBABILITIES].to_numpy())


def test_regression_scores_equal_score_model_in_the_app(housing, housing_server):
    records = _records(housing, "MEDV")
    answer = httpx.post(housing_server.url + "/v1/score", json={"records": records},
                        headers=_auth(housing_server))
    assert answer.status_code == 200, answer.text
    predicted = [r[SCORED_LABELS] for r in answer.json()["results"]]
    expected = housing.output("score", "scored").frame[SCORED_LABELS].tolist()
    assert predicted == expected


def test_classic_table_form_with_string_values(breast_cancer, breast_cancer_server):
    records = _records(breast_cancer, "diagnosis")
    columns = list(records[0])
    body = {"Inputs": {"input1": {"ColumnNames": columns,
                                  "Values": [[repr(r[c]) for c in columns] for r in records]}},
            "GlobalParameters": {}}
    url = breast_cancer_server.url + CLASSIC + "/execute?api-version=2.0&details=true"
    answer = httpx.post(url, json=body, headers=_auth(breast_cancer_server))
    assert answer.status_code == 200, answer.text
    table = answer.json()["Results"]["output1"]
    assert table["type"] == "DataTable"
    value = table["value"]
    assert value["ColumnNames"] == [SCORED_LABELS, SCORED_PROBABILITIES]
    assert value["ColumnTypes"] == ["String", "Numeric"]
    scored = breast_cancer.output("score", "scored").frame
    assert [row[0] for row in value["Values"]] == scored[SCORED_LABELS].tolist()
    np.testing.assert_array_equal([float(row[1]) for row in value["Values"]],
                                  scored[SCORED_PROBABILITIES].to_numpy())
    plain = httpx.post(url.replace("&details=true", ""), json=body,
                       headers=_auth(breast_cancer_server)).json()
    assert "ColumnTypes" not in plain["Results"]["output1"]["value"]


def test_classic_swagger_record_form(breast_cancer, breast_cancer_server):
    records = _records(breast_cancer, "diagnosis", rows=3)
    as_text = [{k: str(v) for k, v in r.items()} for r in records]
    url = breast_cancer_server.url + CLASSIC + "/execute?api-version=2.0&format=swagger"
    answer = httpx.post(url, json={"Inputs": {"input1": as_text}, "GlobalParameters": {}},
                        headers=_auth(breast_cancer_server))
    assert answer.status_code == 200, answer.text
    rows = answer.json()["Results"]["output1"]
    modern = httpx.post(breast_cancer_server.url + "/v1/score", json={"records": records},
                        headers=_auth(breast_cancer_server)).json()["results"]
    assert [r[SCORED_LABELS] for r in rows] == [r[SCORED_LABELS] for r in modern]
    assert [float(r[SCORED_PROBABILITIES]) for r in rows] == [
        r[SCORED_PROBABILITIES] for r in modern]


def test_modern_batch_jobs_json_and_csv(breast_cancer, breast_cancer_server):
    records = _records(breast_cancer, "diagnosis")
    headers = _auth(breast_cancer_server)
    with httpx.Client(base_url=breast_cancer_server.url) as client:
        submitted = client.post("/v1/jobs", json={"records": records}, headers=headers)
        assert submitted.status_code == 202
        job_id = submitted.json()["id"]
        status = _wait(client, f"/v1/jobs/{job_id}", headers, "status", ("succeeded", "failed"))
        assert status["status"] == "succeeded" and status["rows"] == len(records)
        results = client.get(f"/v1/jobs/{job_id}/result", headers=headers).json()["results"]
        csv_body = pd.DataFrame(records).to_csv(index=False)
        submitted = client.post("/v1/jobs", content=csv_body, headers={
            **headers, "Content-Type": "text/csv"})
        job_id = submitted.json()["id"]
        _wait(client, f"/v1/jobs/{job_id}", headers, "status", ("succeeded", "failed"))
        as_csv = client.get(f"/v1/jobs/{job_id}/result?format=csv", headers=headers).text
    scored = breast_cancer.output("score", "scored").frame
    assert [r[SCORED_LABELS] for r in results] == scored[SCORED_LABELS].tolist()
    from_csv = pd.read_csv(io.StringIO(as_csv))
    assert from_csv[SCORED_LABELS].tolist() == scored[SCORED_LABELS].tolist()
    np.testing.assert_allclose(from_csv[SCORED_PROBABILITIES], scored[SCORED_PROBABILITIES],
                               rtol=1e-12)


def test_classic_batch_jobs_inline_and_local_files(breast_cancer, breast_cancer_server):
    records = _records(breast_cancer, "diagnosis", rows=20)
    columns = list(records[0])
    headers = _auth(breast_cancer_server)
    pd.DataFrame(records).to_csv(breast_cancer_server.data_dir / "in.csv", index=False)
    with httpx.Client(base_url=breast_cancer_server.url) as client:
        inline = {"Inputs": {"input1": {"ColumnNames": columns,
                                        "Values": [[str(r[c]) for c in columns]
                                                   for r in records]}},
                  "GlobalParameters": {}}
        job_id = client.post(CLASSIC + "/jobs?api-version=2.0", json=inline,
                             headers=headers).json()
        status = client.get(f"{CLASSIC}/jobs/{job_id}?api-version=2.0", headers=headers).json()
        assert status["StatusCode"] == "NotStarted"
        assert client.post(f"{CLASSIC}/jobs/{job_id}/start?api-version=2.0",
                           headers=headers).status_code == 200
        status = _wait(client, f"{CLASSIC}/jobs/{job_id}?api-version=2.0", headers,
                       "StatusCode", ("Finished", "Failed"))
        values = status["Results"]["output1"]["value"]["Values"]

        files = {"Inputs": {"input1": {"RelativeLocation": "in.csv"}},
                 "Outputs": {"output1": {"RelativeLocation": "out/scored.csv"}},
                 "GlobalParameters": {}}
        (breast_cancer_server.data_dir / "out").mkdir(exist_ok=True)
        file_job = client.post(CLASSIC + "/jobs?api-version=2.0", json=files,
                               headers=headers).json()
        client.post(f"{CLASSIC}/jobs/{file_job}/start?api-version=2.0", headers=headers)
        file_status = _wait(client, f"{CLASSIC}/jobs/{file_job}?api-version=2.0", headers,
                            "StatusCode", ("Finished", "Failed"))

        escape = {"Inputs": {"input1": {"RelativeLocation": "../../etc/passwd"}}}
        refused = client.post(CLASSIC + "/jobs?api-version=2.0", json=escape, headers=headers)

        cancel_id = client.post(CLASSIC + "/jobs?api-version=2.0", json=inline,
                                headers=headers).json()
        client.delete(f"{CLASSIC}/jobs/{cancel_id}?api-version=2.0", headers=headers)
        cancelled = client.get(f"{CLASSIC}/jobs/{cancel_id}?api-version=2.0",
                               headers=headers).json()
    modern = httpx.post(breast_cancer_server.url + "/v1/score", json={"records": records},
                        headers=headers).json()["results"]
    assert [row[0] for row in values] == [r[SCORED_LABELS] for r in modern]
    assert file_status["StatusCode"] == "Finished", file_status
    assert file_status["Results"]["output1"]["RelativeLocation"] == "out/scored.csv"
    written = pd.read_csv(breast_cancer_server.data_dir / "out" / "scored.csv")
    assert written[SCORED_LABELS].tolist() == [r[SCORED_LABELS] for r in modern]
    assert refused.status_code == 400 and "outside" in refused.json()["error"]["message"]
    assert cancelled["StatusCode"] == "Cancelled"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-key"},
                                     {"Authorization": "Basic abc"}])
def test_missing_or_wrong_key_is_401(breast_cancer, breast_cancer_server, headers):
    records = _records(breast_cancer, "diagnosis", rows=1)
    for path, body in [("/v1/score", {"records": records}),
                       (CLASSIC + "/execute?api-version=2.0",
                        {"Inputs": {"input1": records}})]:
        answer = httpx.post(breast_cancer_server.url + path, json=body, headers=headers)
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == "Bearer"
        assert answer.json()["error"]["code"] == "Unauthorized"


def test_a_classic_request_naming_another_input_is_refused_naming_it(breast_cancer,
                                                                    breast_cancer_server):
    """The service's input is input1: a request whose only input is input2 is not
    scored as if it were input1 (it was), nor is one that names both."""
    record = {k: str(v) for k, v in _records(breast_cancer, "diagnosis", rows=1)[0].items()}
    table = {"ColumnNames": list(record), "Values": [list(record.values())]}
    url = breast_cancer_server.url + CLASSIC + "/execute?api-version=2.0"
    for inputs in ({"input2": table}, {"input1": table, "input2": table}):
        answer = httpx.post(url, json={"Inputs": inputs, "GlobalParameters": {}},
                            headers=_auth(breast_cancer_server))
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert "'input2'" in error["message"] and "input1" in error["fix"]
    named = httpx.post(url, json={"Inputs": {"input1": table}},
                       headers=_auth(breast_cancer_server))
    assert named.status_code == 200


def test_trailing_slashes_are_answered_not_redirected(breast_cancer, breast_cancer_server):
    record = _records(breast_cancer, "diagnosis", rows=1)
    base = breast_cancer_server.url
    with httpx.Client(follow_redirects=False) as client:
        slash = client.post(base + CLASSIC + "/execute/?api-version=2.0",
                            json={"Inputs": {"input1": record}},
                            headers=_auth(breast_cancer_server))
        plain = client.post(base + CLASSIC + "/execute?api-version=2.0",
                            json={"Inputs": {"input1": record}},
                            headers=_auth(breast_cancer_server))
        health = client.get(base + "/health/")
    assert slash.status_code == 200 and slash.json() == plain.json()
    assert health.status_code == 200


def test_head_health_and_ready_answer_without_a_body(breast_cancer_server):
    for path in ("/health", "/ready"):
        head = httpx.head(breast_cancer_server.url + path)
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) > 0  # what GET would send


@pytest.mark.parametrize(("method", "path", "status", "code"), [
    ("GET", "/no/such/path", 404, "NotFound"),
    ("GET", "/v1/score", 405, "MethodNotAllowed"),
    ("DELETE", "/health", 405, "MethodNotAllowed"),
    ("POST", CLASSIC + "/execute?details=perhaps", 422, "BadArgument"),
    ("GET", "/v1/jobs/" + "f" * 300, 422, "BadArgument"),
    ("GET", "/v1/jobs/../../etc/passwd", 404, "NotFound"),
    ("GET", "/v1/jobs/0123456789abcdef0123456789abcdef/result?format=xml", 422,
     "BadArgument"),
])
def test_routing_and_parameter_errors_have_the_one_error_shape(breast_cancer_server, method,
                                                               path, status, code):
    answer = httpx.request(method, breast_cancer_server.url + path, json={},
                           headers=_auth(breast_cancer_server))
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert set(error) == {"code", "message", "fix", "request_id", "details"}
    assert error["code"] == code and error["request_id"] == answer.headers["x-request-id"]
    if status == 405:
        assert answer.headers["allow"]
    if status == 422:
        assert error["details"][0]["target"] in ("details", "job_id", "format")


def test_the_connection_is_kept_after_a_client_error(breast_cancer, breast_cancer_server):
    """A 4xx answer leaves the connection open: the next request on it is answered."""
    parts = urlsplit(breast_cancer_server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {**_auth(breast_cancer_server), "Content-Type": "application/json"}
    bad = [b'{"records": [{"mean radius": 1e308}]}', b'{"records": [',
           json.dumps({"records": [{"\ud800": 1}]}).encode(), b"[[[[[[[[[[[[[]]]]]]]]]]]]]",
           json.dumps({"records": [{k: 10**400 for k in
                                    _records(breast_cancer, "diagnosis", 1)[0]}]}).encode()]
    try:
        for body in bad:
            connection.request("POST", "/v1/score", body=body, headers=headers)
            answer = connection.getresponse()
            content = answer.read()
            assert 400 <= answer.status < 500, content
            assert answer.getheader("connection") != "close"
            assert json.loads(content)["error"]["message"]
        connection.request("POST", "/v1/score", headers=headers, body=json.dumps(
            {"records": _records(breast_cancer, "diagnosis", rows=1)}))
        assert connection.getresponse().status == 200
    finally:
        connection.close()


def test_the_bundle_key_from_export_is_accepted(breast_cancer, breast_cancer_server):
    records = _records(breast_cancer, "diagnosis", rows=1)
    answer = httpx.post(breast_cancer_server.url + "/v1/score", json={"records": records},
                        headers={"Authorization": f"Bearer {breast_cancer.api_key}"})
    assert answer.status_code == 200


def test_oversized_body_is_413(breast_cancer, breast_cancer_server):
    records = _records(breast_cancer, "diagnosis") * 20  # > 256 KiB limit of this server
    answer = httpx.post(breast_cancer_server.url + "/v1/score", json={"records": records},
                        headers=_auth(breast_cancer_server))
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "PayloadTooLarge"


def test_bad_value_is_422_naming_column_and_row(breast_cancer, breast_cancer_server):
    records = _records(breast_cancer, "diagnosis", rows=4)
    records[2]["mean area"] = "large"
    answer = httpx.post(breast_cancer_server.url + "/v1/score", json={"records": records},
                        headers=_auth(breast_cancer_server))
    assert answer.status_code == 422
    detail = answer.json()["error"]["details"][0]
    assert (detail["column"], detail["row"]) == ("mean area", 2)
    assert "row 2, column 'mean area'" in answer.json()["error"]["message"]
    assert "Traceback" not in answer.text


def test_missing_and_unknown_columns_are_422(breast_cancer, breast_cancer_server):
    records = _records(breast_cancer, "diagnosis", rows=2)
    del records[1]["worst radius"]
    missing = httpx.post(breast_cancer_server.url + "/v1/score", json={"records": records},
                         headers=_auth(breast_cancer_server)).json()["error"]["details"][0]
    assert (missing["column"], missing["row"]) == ("worst radius", 1)
    records = _records(breast_cancer, "diagnosis", rows=2)
    records[0]["colour"] = "red"
    unknown = httpx.post(breast_cancer_server.url + "/v1/score", json={"records": records},
                         headers=_auth(breast_cancer_server))
    assert unknown.status_code == 422
    assert unknown.json()["error"]["details"][0]["column"] == "colour"
    # The label column the training data had is known (optional), so classic clients
    # that send the whole training row are accepted.
    with_label = breast_cancer.test_rows().frame.head(2).to_dict(orient="records")
    assert httpx.post(breast_cancer_server.url + "/v1/score", json={"records": with_label},
                      headers=_auth(breast_cancer_server)).status_code == 200


def test_schema_health_openapi_and_local_docs(breast_cancer_server):
    url = breast_cancer_server.url
    schema = httpx.get(url + "/v1/schema", headers=_auth(breast_cancer_server)).json()
    assert [e["name"] for e in schema["outputs"]] == [SCORED_LABELS, SCORED_PROBABILITIES]
    health = httpx.get(url + "/health").json()
    assert health["status"] == "ok" and health["scoring"] == "compiled"
    openapi = httpx.get(url + "/openapi.json", headers=_auth(breast_cancer_server)).json()
    assert {"/v1/score", "/v1/jobs", CLASSIC.replace("ws1", "{workspace}").replace(
        "svc1", "{service_id}") + "/execute"} <= set(openapi["paths"])
    page = httpx.get(url + "/docs", headers=_auth(breast_cancer_server))
    assert page.status_code == 200 and "openapi.json" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing remote


def test_global_parameters_are_set_per_request(breast_cancer, tmp_path):
    """A parameter marked on Web Service Input can be set by a request, and only those."""
    from studio.serve import export_bundle, start_server

    scoring = breast_cancer.scoring.copy()
    scoring.set_param("web_service_input", "global_parameters",
                      ["web_service_output.columns"])
    result = export_bundle(scoring, tmp_path / "bundle")
    records = _records(breast_cancer, "diagnosis", rows=2)
    with start_server(result.folder) as handle:
        url, headers = handle.url, _auth(handle)
        chosen = httpx.post(url + "/v1/score", headers=headers, json={
            "records": records, "global_parameters": {"web_service_output.columns":
                                                      [SCORED_LABELS]}})
        default = httpx.post(url + "/v1/score", headers=headers, json={"records": records})
        classic = httpx.post(url + CLASSIC + "/execute?api-version=2.0", headers=headers, json={
            "Inputs": {"input1": records},
            "GlobalParameters": {"web_service_output.columns": [SCORED_PROBABILITIES]}})
        unknown = httpx.post(url + "/v1/score", headers=headers, json={
            "records": records, "global_parameters": {"score.append_scores_to_input": False}})
    assert list(chosen.json()["results"][0]) == [SCORED_LABELS]
    assert list(default.json()["results"][0]) == [SCORED_LABELS, SCORED_PROBABILITIES]
    assert list(classic.json()["Results"]["output1"][0]) == [SCORED_PROBABILITIES]
    assert unknown.status_code == 422 and "unknown global parameter" in unknown.text
