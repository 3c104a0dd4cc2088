"""The service's Prometheus metrics (``GET /metrics``), through prometheus-client.

One registry per app, so several services in one process (tests, the app's
Publish) never share counts. With ``--workers N`` the workers write their
counts to files in ``PROMETHEUS_MULTIPROC_DIR`` (set by ``studio serve``
before the workers start) and any worker's ``/metrics`` adds them all up.

Labels are bounded: ``route`` is the route's template
(``/workspaces/{workspace}/services/{service_id}/execute``), never the
path a client sent, and ``unmatched`` for paths no route serves.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    10.0)


class ServiceMetrics:
    """Counters and histograms of one service, and their exposition."""

    def __init__(self, identity: dict[str, str]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        registry = self.registry
        self.requests = Counter("axon_http_requests", "HTTP requests answered, by route, "
                                "method and status", ["route", "method", "status"],
                                registry=registry)
        self.latency = Histogram("axon_http_request_duration_seconds", "Time from the "
                                 "request's head to the end of the answer", ["route"],
                                 buckets=_LATENCY_BUCKETS, registry=registry)
        self.in_flight = Gauge("axon_http_requests_in_flight", "Requests being answered",
                               multiprocess_mode="livesum", registry=registry)
        self.rows = Counter("axon_rows_scored", "Rows scored, by the path that scored them "
                            "(compiled plan or nodes)", ["path"], registry=registry)
        self.refusals = Counter("axon_request_errors", "Error answers, by error code",
                                ["code"], registry=registry)
        self.connections = Counter("axon_connections_closed_by_server", "Connections the "
                                   "server closed or refused, by reason", ["reason"],
                                   registry=registry)
        self.key_reloads = Counter("axon_api_key_reloads", "API key reloads (SIGHUP), by "
                                   "outcome", ["outcome"], registry=registry)
        self.jobs = Counter("axon_batch_jobs", "Batch jobs that ended, by state", ["state"],
                            registry=registry)
        self.info = Gauge("axon_model_info", "The model served (always 1)",
                          list(identity), multiprocess_mode="max", registry=registry)
        self.info.labels(**identity).set(1)
        self._routes: dict[tuple[str, str, int], Any] = {}
        self._paths: dict[str, Any] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request (children cached: labels() takes a lock)."""
        key = (route, method, status)
        child = self._routes.get(key)
        if child is None:
            child = self._routes[key] = (self.requests.labels(route, method, str(status)),
                                         self.latency.labels(route))
        child[0].inc()
        child[1].observe(seconds)

    def rows_scored(self, path: str, rows: int) -> None:
        child = self._paths.get(path)
        if child is None:
            child = self._paths[path] = self.rows.labels(path)
        child.inc(rows)

    def render(self) -> bytes:
        """The text exposition format (all workers' counts with --workers N)."""
        if self.multiprocess:
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
