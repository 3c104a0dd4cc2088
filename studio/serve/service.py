"""What a running service holds: the verified bundle, its settings, keys, jobs and metrics."""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
from starlette.concurrency import run_in_threadpool

from nodes.errors import StudioError
from studio.serve.auth import KeyRing
from studio.serve.errors import RequestDataError, ServiceError
from studio.serve.jobs import DEFAULT_TTL_SECONDS, JobStore
from studio.serve.metrics import ServiceMetrics
from studio.serve.schema import concat_tables
from studio.serve.scoring import Answer
from studio.serve.wire import WHOLE_BODY_LIMIT, Request

log = logging.getLogger("axon.serve")

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024


@dataclass
class ServiceSettings:
    """The operator's choices (``studio serve`` options of the same names)."""

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    #: Longest wait for the next part of a body (seconds); then 408.
    read_timeout: float = 10.0
    public_docs: bool = False  # /docs and /openapi.json without a key
    public_metrics: bool = False  # /metrics without a key
    data_dir: Path | None = None  # classic batch jobs' RelativeLocation files
    jobs_dir: Path | None = None  # None: a new temporary folder
    job_ttl: float = DEFAULT_TTL_SECONDS
    access_log: bool = True


@dataclass
class Answers:
    """The answer to one request: its columns and the rows of each part of it."""

    columns: list[str]
    types: list[str]
    parts: list[list[list[Any]]]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for part in self.parts for row in part]


class Service:
    """One bundle being served."""

    def __init__(self, bundle: Any, settings: ServiceSettings, keys: KeyRing | None) -> None:
        self.bundle = bundle
        self.manifest = bundle.manifest
        self.pipeline = bundle.pipeline
        self.settings = settings
        self.keys = keys
        self.identity = {"name": str(self.manifest["name"]),
                         "version": str(self.manifest.get("version", "1")),
                         "bundle_sha256": bundle.digest}
        self.metrics = ServiceMetrics(self.identity)
        # Header values are latin-1 on the wire: a name in another script is %-encoded.
        self.identity_headers = [
            (b"x-model-name", quote(self.identity["name"], safe=" -_.()[]:/").encode()),
            (b"x-model-version", quote(self.identity["version"], safe=" -_.+").encode()),
            (b"x-bundle-sha256", self.identity["bundle_sha256"].encode())]
        jobs_root = settings.jobs_dir or Path(tempfile.mkdtemp(prefix="axon-jobs-"))
        self.jobs = JobStore(Path(jobs_root), self.pipeline, bundle_sha256=bundle.digest,
                             ttl_seconds=settings.job_ttl,
                             on_finished=lambda state: self.metrics.jobs.labels(state).inc())
        self.data_dir = settings.data_dir.resolve() if settings.data_dir else None
        self.example_check = "not checked yet"
        self.example_ok = True

    # -- life ---------------------------------------------------------------------
    def started(self) -> None:
        """At start-up: check the example answer, resume batch jobs left unfinished."""
        self.example_ok, self.example_check = self._check_example()
        if not self.example_ok:
            log.error("not ready: %s", self.example_check)
        self.jobs.resume()

    def stopped(self) -> None:
        self.jobs.close()

    def ready_problems(self) -> list[str]:
        problems = []
        if not self.example_ok:
            problems.append(self.example_check)
        try:  # a real write: a full disk or a read-only mount fails here, even for root
            with tempfile.NamedTemporaryFile(dir=self.jobs.root, prefix=".ready-"):
                pass
        except OSError as error:
            problems.append(f"batch jobs cannot be kept: {self.jobs.root}: "
                            f"{error.strerror or error}")
        return problems

    def _check_example(self) -> tuple[bool, str]:
        example = self.manifest.get("example") or {}
        if not example.get("request"):
            return True, "no example to check"
        try:
            answer = self.pipeline.answer([example["request"]])
        except StudioError as error:
            return False, f"the manifest's example cannot be scored: {error}"
        same = json.dumps(answer.records()[0], sort_keys=True) == json.dumps(
            example.get("response"), sort_keys=True)
        return True, ("the example is answered as at export" if same else
                      "the example is answered differently from export (another "
                      "environment?); see /v1/schema for the recorded answer")

    # -- answering --------------------------------------------------------------------
    async def run(self, work: Callable[[], Any], body_size: int) -> Any:
        """Small requests on the event loop (a thread hand-off costs more than they do),
        large ones on a worker thread so the loop keeps answering others."""
        if body_size <= WHOLE_BODY_LIMIT:
            return work()
        return await run_in_threadpool(work)

    def answer(self, request: Request) -> Answers:
        schema, unknown = self.pipeline.schema, self.pipeline.unknown_columns
        if request.rows.in_parts:
            # Every row is checked before any is scored, as for a body read whole: the
            # error a client gets never depends on how the body was read. (The tables
            # are made again below rather than kept: memory stays a part's worth.)
            for _ in request.rows.tables(schema, unknown):
                pass
        columns: list[str] | None = None
        types: list[str] = []
        parts = []
        for table in request.rows.tables(schema, unknown):
            answer: Answer = self.pipeline.answer(table, request.global_parameters)
            if columns is None:
                columns, types = answer.columns, answer.types
            elif answer.columns != columns:
                raise RequestDataError(
                    f"rows from row {table.first_row} on get other answer columns than the "
                    "rows before them (they name other optional columns).",
                    fix="Send the same columns in every record.")
            parts.append(answer.rows)
            self.metrics.rows_scored(answer.path, table.rows)
        return Answers(columns or [], types, parts)

    def job_frame(self, request: Request) -> pd.DataFrame:
        tables = list(request.rows.tables(self.pipeline.schema, self.pipeline.unknown_columns))
        return concat_tables(tables)

    def local_file(self, relative: Any, *, must_exist: bool) -> Path:
        if self.data_dir is None:
            raise ServiceError(400, "BadArgument", "this server reads and writes no local "
                               "files; send the rows inline, or start it with --data-dir")
        if not isinstance(relative, str) or not relative or "\x00" in relative:
            raise ServiceError(400, "BadArgument", "'RelativeLocation' must name a file")
        try:
            path = (self.data_dir / relative).resolve()
        except (OSError, ValueError):
            raise ServiceError(400, "BadArgument", "'RelativeLocation' is not a usable "
                               "file name") from None
        if self.data_dir not in path.parents:
            raise ServiceError(400, "BadArgument",
                               f"'{relative[:200]}' is outside the server's data folder")
        if must_exist and not path.is_file():
            raise ServiceError(400, "BadArgument", f"'{relative[:200]}' does not exist in the "
                               "server's data folder")
        return path
