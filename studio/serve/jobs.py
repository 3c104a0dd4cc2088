"""Batch jobs, kept on disk: every server worker sees them, and they outlive a restart.

A job is a folder ``<root>/<id>/`` with ``job.json`` (its state, replaced
atomically under a file lock, so workers in other processes never
overwrite each other's changes), ``input.parquet`` and, once finished,
``result.parquet`` (or a CSV written where the caller asked, under the
server's data folder). Ids are 32 lowercase hex digits (a random UUID);
anything else is refused before it touches the file system.

A job runs on the job thread of the worker that started it, holding
``run.lock``. When a server starts, it resumes the jobs that were queued
or running when the last one stopped (a lock nobody holds means nobody
runs them). Jobs are deleted ``ttl`` seconds after they finished (or were
created, if never started); ``expires`` in the job says when.

States: ``not_started`` (classic jobs wait for /start), ``queued``,
``running``, ``succeeded``, ``failed``, ``cancelled``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from nodes.errors import StudioError
from studio.serve.scoring import ScoringPipeline

log = logging.getLogger("axon.serve")

FINAL_STATES = ("succeeded", "failed", "cancelled")
JOB_ID = re.compile(r"[0-9a-f]{32}\Z")
DEFAULT_TTL_SECONDS = 24 * 3600
_SWEEP_EVERY_SECONDS = 60.0


class JobStore:
    """Create, run, inspect and cancel batch jobs of one scoring pipeline."""

    def __init__(self, root: Path, pipeline: ScoringPipeline, *, bundle_sha256: str = "",
                 ttl_seconds: float = DEFAULT_TTL_SECONDS,
                 on_finished: Callable[[str], None] | None = None) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.pipeline = pipeline
        self.bundle_sha256 = bundle_sha256
        self.ttl = float(ttl_seconds)
        self.on_finished = on_finished or (lambda state: None)
        self._runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="axon-job")
        self._swept = 0.0

    def close(self) -> None:
        self._runner.shutdown(wait=False, cancel_futures=True)

    def resume(self) -> int:
        """Queue again the jobs a stopped server left queued or running; returns how many."""
        self.sweep(force=True)
        resumed = 0
        for folder in sorted(self.root.iterdir()):
            job_id = folder.name
            if not JOB_ID.match(job_id):
                continue
            try:
                job = self.get(job_id)
            except KeyError:
                continue
            if job["status"] in ("queued", "running") and not _held(folder / "run.lock"):
                with self._state(job_id) as state:
                    state["status"] = "queued"
                self._runner.submit(self._run, job_id)
                resumed += 1
        if resumed:
            log.info("resumed %d batch job(s) left unfinished by the last server", resumed)
        return resumed

    # -- lifecycle ----------------------------------------------------------
    def create(self, frame: pd.DataFrame, *, api: str, start: bool,
               global_parameters: dict[str, Any] | None = None,
               output_file: Path | None = None) -> dict[str, Any]:
        self.sweep()
        job_id = uuid.uuid4().hex
        folder = self.root / job_id
        folder.mkdir()
        frame.to_parquet(folder / "input.parquet", index=False)
        created = _now()
        job = {"id": job_id, "api": api, "status": "not_started", "rows": len(frame),
               "created": created, "started": None, "finished": None, "error": None,
               "expires": _later(created, self.ttl),
               "global_parameters": global_parameters or {},
               "output_file": str(output_file) if output_file else None,
               "bundle_sha256": self.bundle_sha256}
        _write(folder, job)
        if start:
            job = self.start(job_id)
        return job

    def start(self, job_id: str) -> dict[str, Any]:
        with self._state(job_id) as job:
            if job["status"] != "not_started":
                return job
            job["status"] = "queued"
        self._runner.submit(self._run, job_id)
        return job

    def cancel(self, job_id: str) -> dict[str, Any]:
        with self._state(job_id) as job:
            if job["status"] not in FINAL_STATES:
                job["status"] = "cancelled"
                job["finished"] = _now()
                job["expires"] = _later(job["finished"], self.ttl)
                self.on_finished("cancelled")
            return job

    def delete(self, job_id: str) -> None:
        self.cancel(job_id)
        shutil.rmtree(self.root / job_id, ignore_errors=True)

    # -- queries --------------------------------------------------------------
    def get(self, job_id: str) -> dict[str, Any]:
        """The job's state; KeyError for an unknown (or malformed, or expired) id."""
        if not isinstance(job_id, str) or not JOB_ID.match(job_id):
            raise KeyError(job_id)
        try:
            job = json.loads((self.root / job_id / "job.json").read_text())
        except (FileNotFoundError, NotADirectoryError, ValueError):
            raise KeyError(job_id) from None
        if _past(job.get("expires")):
            raise KeyError(job_id)
        return job

    def result(self, job_id: str) -> pd.DataFrame:
        job = self.get(job_id)
        if job["output_file"]:
            return pd.read_csv(job["output_file"])
        return pd.read_parquet(self.root / job_id / "result.parquet")

    def sweep(self, *, force: bool = False) -> int:
        """Delete jobs past their time to live (at most once a minute unless forced)."""
        now = time.monotonic()
        if not force and now - self._swept < _SWEEP_EVERY_SECONDS:
            return 0
        self._swept = now
        removed = 0
        for folder in self.root.iterdir():
            if not JOB_ID.match(folder.name) or not folder.is_dir():
                continue
            try:
                job = json.loads((folder / "job.json").read_text())
                expired = _past(job.get("expires"))
            except (OSError, ValueError):
                # A folder a crash left without a state: litter once old enough.
                expired = time.time() - folder.stat().st_mtime > self.ttl
            if expired and not _held(folder / "run.lock"):
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed

    # -- running ----------------------------------------------------------------
    def _run(self, job_id: str) -> None:
        folder = self.root / job_id
        try:
            lock = open(folder / "run.lock", "a")  # noqa: SIM115 -- held while it runs
        except OSError:
            return  # deleted meanwhile
        with lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # another worker runs it
            try:
                with self._state(job_id) as job:
                    if job["status"] != "queued":
                        return  # cancelled while waiting, or finished by another worker
                    job["status"], job["started"] = "running", _now()
            except KeyError:
                return
            status, error = self._score(job, folder)
            try:
                with self._state(job_id) as job:
                    if job["status"] == "cancelled":
                        return
                    finished = _now()
                    job.update(status=status, error=error, finished=finished,
                               expires=_later(finished, self.ttl))
            except KeyError:
                return
            self.on_finished(status)

    def _score(self, job: dict[str, Any], folder: Path) -> tuple[str, str | None]:
        if job.get("bundle_sha256") and self.bundle_sha256 \
                and job["bundle_sha256"] != self.bundle_sha256:
            return "failed", ("the job was submitted to another bundle (manifest SHA-256 "
                              f"{job['bundle_sha256'][:12]}...); submit it again")
        try:
            frame = pd.read_parquet(folder / "input.parquet")
            answer = self.pipeline.score(frame, job["global_parameters"] or None).frame
            if job["output_file"]:
                answer.to_csv(job["output_file"], index=False)
            else:
                answer.to_parquet(folder / "result.parquet", index=False)
            return "succeeded", None
        except StudioError as failure:
            return "failed", str(failure)
        except Exception:  # a bug: logged with its traceback, reported without it
            log.exception("job %s failed", job["id"])
            return "failed", "internal error; see the server log"

    @contextlib.contextmanager
    def _state(self, job_id: str) -> Iterator[dict[str, Any]]:
        """The job's state for a change, written back atomically; the file lock keeps
        other threads and worker processes out meanwhile."""
        folder = self.root / job_id
        if not JOB_ID.match(job_id) or not folder.is_dir():
            raise KeyError(job_id)
        with open(folder / "state.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            job = self.get(job_id)
            yield job
            _write(folder, job)


def _held(lock_path: Path) -> bool:
    """True when some process holds the lock file (a job running right now)."""
    try:
        with open(lock_path, "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(lock, fcntl.LOCK_UN)
            return False
    except OSError:
        return False


def _write(folder: Path, job: dict[str, Any]) -> None:
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".job.", suffix=".json")
    with os.fdopen(handle, "w") as stream:
        json.dump(job, stream)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, folder / "job.json")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _later(moment: str, seconds: float) -> str:
    return (datetime.fromisoformat(moment) + timedelta(seconds=seconds)).isoformat(
        timespec="milliseconds")


def _past(moment: str | None) -> bool:
    if not moment:
        return False
    try:
        return datetime.fromisoformat(moment) <= datetime.now(UTC)
    except ValueError:
        return False

