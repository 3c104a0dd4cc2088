"""Single-record scoring latency and throughput: the Axon service vs a hand-written FastAPI app.

    python bench/bench_service.py [--short] [--concurrency 8]

Trains the breast cancer example, exports its bundle, then serves it two
ways at once, each in its own process on 127.0.0.1:

- ours: ``studio serve BUNDLE`` (auth, schema checks, the scoring pipeline);
- baseline: a minimal FastAPI app (this file, ``--baseline-server``) that
  loads the same fitted scaler and model from the bundle and calls
  ``transform`` + ``predict`` + ``predict_proba`` on the posted record.

A loopback client sends single-record requests with ``--concurrency``
requests in flight, to one server and then the other, in alternating rounds
(6, --short 3), so that a change in the machine's load during the run
weighs on both alike; it reports p50 / p99 latency and throughput over all
rounds. The overhead ratio is ours / baseline at p50 (target <= 1.2).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def baseline_app(bundle: Path):  # noqa: ANN201 -- a FastAPI app
    """The hand-written comparison: the same fitted objects, no framework of ours."""
    import numpy as np
    from fastapi import FastAPI

    from nodes.values import Model, Transform

    scaler = Transform.load(bundle / "models" / "normalize_transform")
    model = Model.load(bundle / "models" / "train_model")
    features = model.feature_columns
    app = FastAPI()

    @app.post("/score")
    async def score(body: dict) -> dict:
        record = body["records"][0]
        row = np.array([[float(record[c]) for c in features]])
        row = scaler.transformer.transform(row)
        label = model.estimator.predict(row)[0]
        probability = model.estimator.predict_proba(row)[0, 1]
        return {"results": [{"Scored Labels": str(label),
                             "Scored Probabilities": float(probability)}]}

    return app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {process.communicate()}")
        try:
            httpx.post(url, json={}, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


async def _load(url: str, record: dict, headers: dict, requests: int, concurrency: int
                ) -> tuple[list[float], float]:
    """``requests`` single-record requests, ``concurrency`` in flight: latencies, seconds."""
    import httpx

    latencies: list[float] = []
    body = {"records": [record]}
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        for _ in range(min(20, requests)):  # warm the connections, not measured
            (await client.post(url, json=body)).raise_for_status()
        remaining = requests

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                start = time.perf_counter()
                answer = await client.post(url, json=body)
                latencies.append(time.perf_counter() - start)
                answer.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, elapsed


def _summary(name: str, latencies: list[float], elapsed: float) -> dict:
    ordered = sorted(latencies)
    return {"name": name, "p50_ms": statistics.median(ordered) * 1000,
            "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000,
            "throughput": len(latencies) / elapsed}


def _measure_alternately(servers: list[tuple[str, list[str], str, dict]], record: dict,
                         requests: int, concurrency: int, rounds: int) -> list[dict]:
    """Start every server, then measure them in turns, ``rounds`` times each, so a
    change in the machine's load over the run weighs on both alike."""
    processes = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
                 for _, command, _, _ in servers]
    try:
        for (_, _, url, _), process in zip(servers, processes, strict=True):
            _wait_until_up(url, process)
        latencies: list[list[float]] = [[] for _ in servers]
        elapsed = [0.0 for _ in servers]
        for _ in range(rounds):
            for index, (_, _, url, headers) in enumerate(servers):
                measured, seconds = asyncio.run(_load(url, record, headers,
                                                      requests // rounds, concurrency))
                latencies[index] += measured
                elapsed[index] += seconds
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)
    return [_summary(name, lat, sec) for (name, _, _, _), lat, sec
            in zip(servers, latencies, elapsed, strict=True)]


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
    from studio.serve import export_bundle, prepare_scoring_workflow
    from studio.workflow import load_workflow

    requests = 300 if args.short else 3000
    folder = Path(tempfile.mkdtemp(prefix="axon-bench-service-"))
    workflow = load_workflow(ROOT / "examples" / "breast_cancer_classification.axon.json")
    with Engine() as engine:
        engine.run(workflow)
        scoring = prepare_scoring_workflow(workflow, engine, artifact_dir=folder / "models")
    result = export_bundle(scoring, folder / "bundle")
    (folder / "key.txt").write_text(result.api_key + "\n")
    record = result.manifest["example"]["request"]

    ours_port, baseline_port = _free_port(), _free_port()
    rounds = 3 if args.short else 6
    ours, baseline = _measure_alternately([
        ("axon service", [sys.executable, "-m", "studio.cli.main", "serve", str(result.folder),
                          "--port", str(ours_port), "--api-key-file", str(folder / "key.txt")],
         f"http://127.0.0.1:{ours_port}/v1/score",
         {"Authorization": f"Bearer {result.api_key}"}),
        ("hand-written FastAPI", [sys.executable, __file__, "--baseline-server",
                                  str(result.folder), str(baseline_port)],
         f"http://127.0.0.1:{baseline_port}/score", {}),
    ], record, requests, args.concurrency, rounds)
    print(f"single-record scoring, {requests} requests each in {rounds} alternating rounds, "
          f"{args.concurrency} in flight, loopback, one server process each")
    print(f"{'server':<22} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    for row in (ours, baseline):
        print(f"{row['name']:<22} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} "
              f"{row['throughput']:>8.0f}")
    ratio = ours["p50_ms"] / baseline["p50_ms"]
    print(f"overhead ratio at p50 (ours / baseline): {ratio:.2f} (target <= 1.2)")
    print(json.dumps({"ours": ours, "baseline": baseline, "p50_ratio": ratio}))
    from report import Figure, write_results

    write_results(args.results, [Figure(
        "service p50 latency / hand-written FastAPI", ours["p50_ms"] / 1000,
        baseline["p50_ms"] / 1000, 1.2,
        f"{requests} single-record requests, {args.concurrency} in flight; p99 "
        f"{ours['p99_ms']:.1f} vs {baseline['p99_ms']:.1f} ms; "
        f"{ours['throughput']:.0f} vs {baseline['throughput']:.0f} req/s")])


if __name__ == "__main__":
    main()
