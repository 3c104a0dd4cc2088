"""Scoring latency and throughput: the Axon service against a minimal FastAPI + scikit-learn app.

    python bench/bench_service.py [--short] [--concurrency 8]

Trains the breast cancer example, exports its bundle (signed), then serves it
two ways at once, each in its own process on 127.0.0.1:

- ours: ``studio serve BUNDLE --trust-key PUB`` as deployed: API keys, the
  signature checked at start, request ids, metrics, one access log line per
  request (to a file), the connection guard, the request parser and the
  compiled scoring plan;
- baseline: a minimal FastAPI app (this file, ``--baseline-server``) that
  loads the same fitted scaler and model from the bundle and, for each
  form, reads the posted values with ``float`` and calls ``transform`` +
  ``predict`` + ``predict_proba``.

Three request forms, each with one record and with 100-record batches:
the classic table form (``ColumnNames`` + ``Values``, numbers in strings,
as the classic samples sent them), the classic swagger form (records of
strings) and the modern API (records of JSON numbers). A loopback client
keeps ``--concurrency`` requests in flight, to one server and then the
other, in alternating rounds (6, --short 3), so that a change in the
machine's load weighs on both alike. It reports p50 / p99 latency and
requests/s; the figure is ours / baseline at p50 (target <= 1.2).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLASSIC = "/workspaces/bench/services/breast-cancer"


def baseline_app(bundle: Path):  # noqa: ANN201 -- a FastAPI app
    """The hand-written comparison: the same fitted objects, nothing of ours per request."""
    import numpy as np
    from fastapi import FastAPI

    from nodes.values import Model, Transform

    scaler = Transform.load(bundle / "models" / "normalize_transform")
    model = Model.load(bundle / "models" / "train_model")
    features = model.feature_columns
    app = FastAPI()

    def predict(matrix: list[list[float]]) -> tuple[list[str], list[float]]:
        rows = scaler.transformer.transform(np.array(matrix))
        labels = model.estimator.predict(rows)
        probabilities = model.estimator.predict_proba(rows)[:, 1]
        return [str(v) for v in labels], probabilities.tolist()

    @app.post("/score")
    async def score(body: dict) -> dict:
        labels, probabilities = predict([[float(r[c]) for c in features]
                                         for r in body["records"]])
        return {"results": [{"Scored Labels": label, "Scored Probabilities": probability}
                            for label, probability in zip(labels, probabilities, strict=True)]}

    @app.post(CLASSIC + "/execute")
    async def execute(body: dict, format: str | None = None) -> dict:
        source = body["Inputs"]["input1"]
        if isinstance(source, list):
            matrix = [[float(r[c]) for c in features] for r in source]
        else:
            where = [source["ColumnNames"].index(c) for c in features]
            matrix = [[float(row[i]) for i in where] for row in source["Values"]]
        labels, probabilities = predict(matrix)
        values = [[label, repr(p)] for label, p in zip(labels, probabilities, strict=True)]
        if format == "swagger" or isinstance(source, list):
            return {"Results": {"output1": [{"Scored Labels": a, "Scored Probabilities": b}
                                            for a, b in values]}}
        return {"Results": {"output1": {"type": "DataTable", "value": {
            "ColumnNames": ["Scored Labels", "Scored Probabilities"], "Values": values}}}}

    return app


@dataclass
class Scenario:
    name: str
    ours_path: str
    baseline_path: str
    body: bytes


def scenarios(example: dict, rows: int) -> list[Scenario]:
    names = list(example)
    as_text = {k: repr(v) if isinstance(v, float) else str(v) for k, v in example.items()}
    table = {"Inputs": {"input1": {"ColumnNames": names,
                                   "Values": [[as_text[n] for n in names]] * rows}},
             "GlobalParameters": {}}
    swagger = {"Inputs": {"input1": [as_text] * rows}, "GlobalParameters": {}}
    modern = {"records": [example] * rows}
    size = "1 record" if rows == 1 else f"{rows} records"
    return [
        Scenario(f"classic table, {size}", CLASSIC + "/execute?api-version=2.0",
                 CLASSIC + "/execute", json.dumps(table).encode()),
        Scenario(f"classic swagger, {size}", CLASSIC + "/execute?api-version=2.0&format=swagger",
                 CLASSIC + "/execute?format=swagger", json.dumps(swagger).encode()),
        Scenario(f"modern API, {size}", "/v1/score", "/score", json.dumps(modern).encode()),
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"a server exited (code {process.returncode}); see its log")
        try:
            httpx.get(url + "/health", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"the server at {url} did not start")


async def _load(url: str, body: bytes, headers: dict, requests: int, concurrency: int
                ) -> tuple[list[float], float]:
    """``requests`` requests, ``concurrency`` in flight: latencies and elapsed seconds."""
    import httpx

    latencies: list[float] = []
    headers = {**headers, "Content-Type": "application/json"}
    async with httpx.AsyncClient(headers=headers, timeout=60) as client:
        for _ in range(min(20, requests)):  # warm the connections, not measured
            (await client.post(url, content=body)).raise_for_status()
        remaining = requests

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                start = time.perf_counter()
                answer = await client.post(url, content=body)
                latencies.append(time.perf_counter() - start)
                answer.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, elapsed


def _summary(latencies: list[float], elapsed: float) -> dict:
    ordered = sorted(latencies)
    return {"p50_ms": statistics.median(ordered) * 1000,
            "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000,
            "throughput": len(latencies) / elapsed}


def _same_answers(ours: str, baseline: str, cases: list[Scenario], headers: dict) -> None:
    """Both servers must answer alike before their speed means anything (labels exactly,
    probabilities to 1e-12: a row-major matrix, as the baseline builds it, makes BLAS sum
    in another order than the table layout the app's Score Model uses, which ours keeps)."""
    import httpx

    def flat(document: object) -> list:
        if isinstance(document, dict):
            return [x for key in sorted(document) for x in [key, *flat(document[key])]]
        if isinstance(document, list):
            return [x for item in document for x in flat(item)]
        return [document]

    for case in cases:
        a = flat(httpx.post(ours + case.ours_path, content=case.body, headers={
            **headers, "Content-Type": "application/json"}).json())
        b = flat(httpx.post(baseline + case.baseline_path, content=case.body,
                            headers={"Content-Type": "application/json"}).json())
        if len(a) != len(b) or any(
                x != y and abs(float(x) - float(y)) > 1e-12 for x, y in zip(a, b, strict=True)):
            raise SystemExit(f"{case.name}: the servers answer differently:\n{a[:8]}\n{b[:8]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="fewer requests (a smoke run)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--baseline-server", nargs=2, metavar=("BUNDLE", "PORT"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--results", type=Path, metavar="FILE",
                        help="also write the figures as JSON to FILE (used by run_all.py)")
    args = parser.parse_args()
    if args.baseline_server:
        import uvicorn

        bundle, port = args.baseline_server
        uvicorn.run(baseline_app(Path(bundle)), host="127.0.0.1", port=int(port),
                    log_level="warning", access_log=False)
        return

    from studio.engine import Engine
    from studio.serve import export_bundle, new_key_pair, prepare_scoring_workflow
    from studio.workflow import load_workflow

    requests = {1: 300, 100: 150} if args.short else {1: 3000, 100: 1200}
    rounds = 3 if args.short else 6
    folder = Path(tempfile.mkdtemp(prefix="axon-bench-service-"))
    workflow = load_workflow(ROOT / "examples" / "breast_cancer_classification.axon.json")
    with Engine() as engine:
        engine.run(workflow)
        scoring = prepare_scoring_workflow(workflow, engine, artifact_dir=folder / "models")
    private, public, _ = new_key_pair(folder / "signer")
    result = export_bundle(scoring, folder / "bundle", signing_key=private)
    (folder / "key.txt").write_text(result.api_key + "\n")
    example = result.manifest["example"]["request"]
    headers = {"Authorization": f"Bearer {result.api_key}"}

    ours_port, baseline_port = _free_port(), _free_port()
    ours_url, baseline_url = f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{baseline_port}"
    logs = [open(folder / "ours.log", "w"), open(folder / "baseline.log", "w")]  # noqa: SIM115
    processes = [
        subprocess.Popen([sys.executable, "-m", "studio.cli.main", "serve", str(result.folder),
                          "--trust-key", str(public), "--port", str(ours_port),
                          "--api-key-file", str(folder / "key.txt"),
                          "--jobs-dir", str(folder / "jobs")],
                         cwd=ROOT, stdout=logs[0], stderr=subprocess.STDOUT),
        subprocess.Popen([sys.executable, __file__, "--baseline-server", str(result.folder),
                          str(baseline_port)], cwd=ROOT, stdout=logs[1],
                         stderr=subprocess.STDOUT)]
    measured: dict[str, dict[str, list]] = {}
    try:
        for url, process in zip((ours_url, baseline_url), processes, strict=True):
            _wait_until_up(url, process)
        cases = scenarios(example, 1) + scenarios(example, 100)
        _same_answers(ours_url, baseline_url, cases, headers)
        for case in cases:
            rows = 1 if case.name.endswith("1 record") else 100
            total = {"ours": [[], 0.0], "baseline": [[], 0.0]}
            for _ in range(rounds):
                for name, url, path, auth in (("ours", ours_url, case.ours_path, headers),
                                              ("baseline", baseline_url, case.baseline_path,
                                               {})):
                    latencies, seconds = asyncio.run(_load(
                        url + path, case.body, auth, requests[rows] // rounds,
                        args.concurrency))
                    total[name][0] += latencies
                    total[name][1] += seconds
            measured[case.name] = total
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        for log in logs:
            log.close()
    access_lines = sum(1 for line in (folder / "ours.log").read_text().splitlines()
                       if "axon.access" in line)

    print(f"{sum(requests[1 if c.endswith('1 record') else 100] for c in measured)} requests "
          f"per server in {rounds} alternating rounds, {args.concurrency} in flight, loopback, "
          f"one server process each; ours logged {access_lines} access lines")
    header = (f"{'scenario':<28} {'ours p50':>9} {'base p50':>9} {'p50 ratio':>9} "
              f"{'ours p99':>9} {'base p99':>9} {'p99 ratio':>9} {'ours r/s':>9} "
              f"{'base r/s':>9}")
    print(header)
    from report import Figure, write_results

    figures = []
    table = {}
    for name, total in measured.items():
        ours, base = _summary(*total["ours"]), _summary(*total["baseline"])
        table[name] = {"ours": ours, "baseline": base}
        print(f"{name:<28} {ours['p50_ms']:>8.2f}ms {base['p50_ms']:>8.2f}ms "
              f"{ours['p50_ms'] / base['p50_ms']:>9.2f} {ours['p99_ms']:>8.2f}ms "
              f"{base['p99_ms']:>8.2f}ms {ours['p99_ms'] / base['p99_ms']:>9.2f} "
              f"{ours['throughput']:>9.0f} {base['throughput']:>9.0f}")
        figures.append(Figure(
            f"service p50 / minimal FastAPI app, {name}", ours["p50_ms"] / 1000,
            base["p50_ms"] / 1000, 1.2,
            f"p99 {ours['p99_ms']:.1f} vs {base['p99_ms']:.1f} ms; "
            f"{ours['throughput']:.0f} vs {base['throughput']:.0f} req/s"))
    print(json.dumps({"load_average": os.getloadavg()[0], "scenarios": table}))
    write_results(args.results, figures)


if __name__ == "__main__":
    main()
