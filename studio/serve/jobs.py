"""Batch jobs, kept on disk so that every server worker sees the same jobs.

A job is a folder ``<root>/<id>/`` with ``job.json`` (its state, replaced
atomically), ``input.parquet`` and, once finished, ``result.parquet`` (or a
CSV written where the caller asked, under the server's data folder). The
worker that is asked to start a job runs it on its own single job thread.

States: ``not_started`` (classic jobs wait for /start), ``queued``,
``running``, ``succeeded``, ``failed``, ``cancelled``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from nodes.errors import StudioError
from studio.serve.scoring import ScoringPipeline

log = logging.getLogger(__name__)

FINAL_STATES = ("succeeded", "failed", "cancelled")


class JobStore:
    """Create, run, inspect and cancel batch jobs of one scoring pipeline."""

    def __init__(self, root: Path, pipeline: ScoringPipeline) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.pipeline = pipeline
        self._runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="axon-job")
        self._lock = threading.Lock()

    def close(self) -> None:
        self._runner.shutdown(wait=False, cancel_futures=True)

    # -- lifecycle ----------------------------------------------------------
    def create(self, frame: pd.DataFrame, *, api: str, start: bool,
               global_parameters: dict[str, Any] | None = None,
               output_file: Path | None = None) -> dict[str, Any]:
        job_id = uuid.uuid4().hex
        folder = self.root / job_id
        folder.mkdir()
        frame.to_parquet(folder / "input.parquet", index=False)
        job = {"id": job_id, "api": api, "status": "not_started", "rows": len(frame),
               "created": _now(), "started": None, "finished": None, "error": None,
               "global_parameters": global_parameters or {},
               "output_file": str(output_file) if output_file else None}
        self._write(job)
        if start:
            job = self.start(job_id)
        return job

    def start(self, job_id: str) -> dict[str, Any]:
        with self._lock:
            job = self.get(job_id)
            if job["status"] != "not_started":
                return job
            job["status"] = "queued"
            self._write(job)
        self._runner.submit(self._run, job_id)
        return job

    def cancel(self, job_id: str) -> dict[str, Any]:
        with self._lock:
            job = self.get(job_id)
            if job["status"] not in FINAL_STATES:
                job["status"] = "cancelled"
                job["finished"] = _now()
                self._write(job)
            return job

    def delete(self, job_id: str) -> None:
        self.cancel(job_id)
        shutil.rmtree(self.root / job_id, ignore_errors=True)

    # -- queries --------------------------------------------------------------
    def get(self, job_id: str) -> dict[str, Any]:
        """The job's state; KeyError for an unknown id."""
        if not job_id.isalnum():
            raise KeyError(job_id)
        try:
            return json.loads((self.root / job_id / "job.json").read_text())
        except (FileNotFoundError, NotADirectoryError):
            raise KeyError(job_id) from None

    def result(self, job_id: str) -> pd.DataFrame:
        job = self.get(job_id)
        if job["output_file"]:
            return pd.read_csv(job["output_file"])
        return pd.read_parquet(self.root / job_id / "result.parquet")

    # -- running ----------------------------------------------------------------
    def _run(self, job_id: str) -> None:
        with self._lock:
            job = self.get(job_id)
            if job["status"] != "queued":
                return  # cancelled while waiting
            job["status"], job["started"] = "running", _now()
            self._write(job)
        folder = self.root / job_id
        try:
            frame = pd.read_parquet(folder / "input.parquet")
            answer = self.pipeline.score(frame, job["global_parameters"]).frame
            if job["output_file"]:
                answer.to_csv(job["output_file"], index=False)
            else:
                answer.to_parquet(folder / "result.parquet", index=False)
            status, error = "succeeded", None
        except StudioError as failure:
            status, error = "failed", str(failure)
        except Exception:  # a bug: logged with its traceback, reported without it
            log.exception("job %s failed", job_id)
            status, error = "failed", "internal error; see the server log"
        with self._lock:
            job = self.get(job_id)
            if job["status"] == "cancelled":
                return
            job.update(status=status, error=error, finished=_now())
            self._write(job)

    def _write(self, job: dict[str, Any]) -> None:
        folder = self.root / job["id"]
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".job.", suffix=".json")
        with os.fdopen(handle, "w") as stream:
            json.dump(job, stream)
        os.replace(temporary, folder / "job.json")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
