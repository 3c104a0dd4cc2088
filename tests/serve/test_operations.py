"""Issue 15, finding 7: what an operator needs — metrics, an access log with request ids,
the model in every answer's headers, readiness apart from liveness, keys reloaded on
SIGHUP without dropping a request, batch jobs that outlive a restart and expire."""

from __future__ import annotations

import json
import logging
import shutil
import signal
import threading
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from serve_helpers import CLASSIC, ServeProcess, auth, records

from studio.serve import load_bundle, start_server
from studio.serve.auth import new_api_key
from studio.serve.service import ServiceSettings

DEADLINE = 60.0


def _wait(condition, what: str, timeout: float = DEADLINE):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_every_answer_names_the_model_and_carries_a_request_id(breast_cancer,
                                                               breast_cancer_server):
    url, headers = breast_cancer_server.url, auth(breast_cancer_server)
    bundle = breast_cancer_server.bundle
    answers = [httpx.post(url + "/v1/score", headers=headers,
                          json={"records": records(breast_cancer, "diagnosis", 1)}),
               httpx.post(url + "/v1/score", headers=headers, json={"records": []}),
               httpx.get(url + "/no/such/path"), httpx.get(url + "/health"),
               httpx.post(url + "/v1/score", json={})]
    assert [a.status_code for a in answers] == [200, 422, 404, 200, 401]
    for answer in answers:
        assert answer.headers["x-model-name"] == bundle.name
        assert answer.headers["x-model-version"] == bundle.version
        assert answer.headers["x-bundle-sha256"] == bundle.digest
        assert len(answer.headers["x-request-id"]) == 32
    assert len({a.headers["x-request-id"] for a in answers}) == len(answers)
    mine = httpx.get(url + "/health", headers={"X-Request-ID": "trace-42.a"})
    assert mine.headers["x-request-id"] == "trace-42.a"
    unusable = httpx.get(url + "/health", headers={"X-Request-ID": "x" * 500})
    assert unusable.headers["x-request-id"] != "x" * 500
    refused = httpx.post(url + "/v1/score", headers={**headers, "X-Request-ID": "abc"},
                         json={"records": []})
    assert refused.json()["error"]["request_id"] == "abc"


def test_one_access_log_line_per_request(breast_cancer, breast_cancer_server, caplog):
    url, headers = breast_cancer_server.url, auth(breast_cancer_server)
    with caplog.at_level(logging.INFO, logger="axon.access"):
        httpx.post(url + CLASSIC + "/execute?api-version=2.0", headers={
            **headers, "X-Request-ID": "log-me"}, json={"Inputs": {
                "input1": records(breast_cancer, "diagnosis", 1)}})
        httpx.get(url + "/nothing-here", headers={"X-Request-ID": "log-me-too"})

        def lines():
            return [r.getMessage() for r in caplog.records if r.name == "axon.access"
                    and "log-me" in r.getMessage()]

        logged = _wait(lambda: len(lines()) == 2 and lines(), "two access log lines")
    assert f'"POST {CLASSIC}/execute?api-version=2.0 HTTP/1.1" 200' in logged[0]
    assert logged[0].endswith("id=log-me")
    assert '"GET /nothing-here HTTP/1.1" 404' in logged[1]
    assert "Traceback" not in caplog.text


def test_metrics_in_the_prometheus_format(breast_cancer, breast_cancer_server):
    url, headers = breast_cancer_server.url, auth(breast_cancer_server)
    rows = records(breast_cancer, "diagnosis", 7)
    as_text = [{k: str(v) for k, v in r.items()} for r in rows]

    def scored() -> float:
        text = httpx.get(url + "/metrics", headers=headers).text
        families = {f.name: f for f in text_string_to_metric_families(text)}
        return sum(s.value for s in families["axon_rows_scored"].samples
                   if s.labels.get("path") == "compiled" and s.name.endswith("_total"))

    before = scored()
    httpx.post(url + "/v1/score", headers=headers, json={"records": rows})
    httpx.post(url + CLASSIC + "/execute", headers=headers,
               json={"Inputs": {"input1": as_text}})  # numeric strings: compiled too
    assert scored() - before == 14
    answer = httpx.get(url + "/metrics", headers=headers)
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(answer.text)}
    info = families["axon_model_info"].samples[0].labels
    assert info["bundle_sha256"] == breast_cancer_server.bundle.digest
    latency = families["axon_http_request_duration_seconds"]
    assert any(s.labels.get("route") == "/v1/score" for s in latency.samples)
    assert httpx.get(url + "/metrics").status_code == 401  # the key, unless --public-metrics


def test_ready_is_not_health(breast_cancer, signer, tmp_path):
    """Liveness says the process answers; readiness that it can do its work. A server
    whose job folder is gone stays alive but is not ready, and says why."""
    jobs = tmp_path / "jobs"
    bundle = load_bundle(breast_cancer.bundle_dir, trust_keys=signer.trusted)
    with start_server(bundle, jobs_dir=jobs) as handle:
        ready = httpx.get(handle.url + "/ready")
        assert ready.status_code == 200
        checks = ready.json()["checks"]
        assert checks["bundle"].startswith(f"signed by key {signer.key_id}")
        assert checks["example"] == "the example is answered as at export"
        shutil.rmtree(jobs)
        jobs.write_text("a file where the folder was")
        not_ready = httpx.get(handle.url + "/ready")
        assert not_ready.status_code == 503
        assert "batch jobs cannot be kept" in not_ready.json()["error"]["message"]
        assert httpx.head(handle.url + "/ready").status_code == 503
        assert httpx.get(handle.url + "/health").status_code == 200


# -- keys reloaded on SIGHUP ------------------------------------------------------------

def _hammer(url: str, key: str, body: dict, stop: threading.Event, seen: list) -> None:
    """Score with ``key`` until told to stop; note every status (or transport error)."""
    with httpx.Client(timeout=30) as client:
        while not stop.is_set():
            try:
                seen.append(client.post(url + "/v1/score", json=body, headers={
                    "Authorization": f"Bearer {key}"}).status_code)
            except httpx.TransportError as error:
                seen.append(repr(error))


@pytest.mark.parametrize("workers", [1, 2])
def test_keys_are_reloaded_on_sighup_without_dropping_requests(breast_cancer, signer,
                                                               tmp_path, workers):
    old_key, new_key = new_api_key(), new_api_key()
    keys = tmp_path / "keys.txt"
    keys.write_text(f"# service keys\n{old_key}\n")
    server = ServeProcess(breast_cancer.bundle_dir, "--trust-key", signer.public,
                          "--api-key-file", keys, "--workers", workers, "--no-access-log",
                          cwd=tmp_path)
    body = {"records": records(breast_cancer, "diagnosis", 1)}

    def accepted(key: str) -> bool:
        # With several workers, any one may answer: ask often enough to meet them all.
        return all(httpx.post(server.url + "/v1/score", json=body, timeout=30, headers={
            "Authorization": f"Bearer {key}"}).status_code == 200 for _ in range(8))

    stop, seen = threading.Event(), []
    try:
        server.wait_ready()
        assert not accepted(new_key)
        hammer = threading.Thread(target=_hammer, args=(server.url, old_key, body, stop, seen))
        hammer.start()
        _wait(lambda: len(seen) > 20, "requests before the reload")
        keys.write_text(f"{old_key}\n{new_key}\n")
        server.process.send_signal(signal.SIGHUP)
        _wait(lambda: accepted(new_key), "the new key")
        _wait(lambda: server.log().count("API keys reloaded: 2 key(s)") >= workers,
              "every worker's reload")
        count = len(seen)
        _wait(lambda: len(seen) > count + 20, "requests after the reload")
        stop.set()
        hammer.join(DEADLINE)
        keys.write_text(f"{new_key}\n")  # withdraw the old key
        server.process.send_signal(signal.SIGHUP)
        _wait(lambda: not any(accepted(old_key) for _ in range(2)), "the old key refused")
        keys.write_text("")  # a mistake: no key at all; the server keeps the ones it has
        server.process.send_signal(signal.SIGHUP)
        _wait(lambda: "keys unchanged" in server.log(), "the refusal of an empty key file")
        assert accepted(new_key)
        assert server.process.poll() is None
    finally:
        stop.set()
        output = server.stop()
    assert set(seen) == {200}, sorted(set(map(str, seen)))
    assert "Traceback" not in output


# -- batch jobs across restarts ---------------------------------------------------------

def test_batch_jobs_outlive_a_restart(breast_cancer, signer, tmp_path):
    jobs = tmp_path / "jobs"
    bundle = load_bundle(breast_cancer.bundle_dir, trust_keys=signer.trusted)
    rows = records(breast_cancer, "diagnosis", 10)
    with start_server(bundle, jobs_dir=jobs) as first:
        headers = auth(first)
        done = httpx.post(first.url + "/v1/jobs", json={"records": rows}, headers=headers)
        job_id = done.json()["id"]
        _wait(lambda: httpx.get(f"{first.url}/v1/jobs/{job_id}", headers=headers
                                ).json()["status"] == "succeeded", "the job")
        expected = httpx.get(f"{first.url}/v1/jobs/{job_id}/result", headers=headers).json()
        waiting = httpx.post(first.url + CLASSIC + "/jobs", headers=headers,
                             json={"Inputs": {"input1": rows}}).json()
    # What a server killed in the middle of a job leaves behind: a job marked running.
    state = jobs / waiting / "job.json"
    crashed = {**json.loads(state.read_text()), "status": "running"}
    interrupted = jobs / "0123456789abcdef0123456789abcdef"
    shutil.copytree(jobs / waiting, interrupted)
    (interrupted / "job.json").write_text(json.dumps({**crashed, "id": interrupted.name}))
    with start_server(bundle, jobs_dir=jobs) as second:
        headers = auth(second)
        assert httpx.get(f"{second.url}/v1/jobs/{job_id}/result",
                         headers=headers).json() == expected
        status = httpx.get(f"{second.url}{CLASSIC}/jobs/{waiting}", headers=headers).json()
        assert status["StatusCode"] == "NotStarted"
        resumed = _wait(lambda: (lambda s: s["status"] == "succeeded" and s)(httpx.get(
            f"{second.url}/v1/jobs/{interrupted.name}", headers=headers).json()),
            "the interrupted job, resumed")
        assert resumed["rows"] == len(rows)
        assert "expires" in resumed


def test_finished_jobs_expire(breast_cancer, signer, tmp_path):
    jobs = tmp_path / "jobs"
    bundle = load_bundle(breast_cancer.bundle_dir, trust_keys=signer.trusted)
    settings = ServiceSettings(jobs_dir=jobs, job_ttl=1.0)
    with start_server(bundle, settings=settings) as handle:
        headers = auth(handle)
        job_id = httpx.post(handle.url + "/v1/jobs", headers=headers, json={
            "records": records(breast_cancer, "diagnosis", 2)}).json()["id"]
        _wait(lambda: httpx.get(f"{handle.url}/v1/jobs/{job_id}", headers=headers
                                ).status_code == 404, "the job to expire")
        gone = httpx.get(f"{handle.url}/v1/jobs/{job_id}/result", headers=headers)
        assert gone.status_code == 404 and "expired" in gone.json()["error"]["message"]
    with start_server(bundle, settings=ServiceSettings(jobs_dir=jobs, job_ttl=1.0)):
        pass  # a start sweeps what expired
    assert not (jobs / job_id).exists()
