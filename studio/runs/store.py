"""The local run store: every run's parameters, overrides, seed, metrics, lineage.

One SQLite file (``runs.sqlite3``) in the user data folder
(``~/.local/share/axon-studio/runs`` on Linux), or in the folder given by
``--runs-dir`` / ``runs_dir=`` / ``AXON_STUDIO_RUNS_DIR``. A run is stored
as its whole run record (JSON, as ``run_record.json``), the workflow
document exactly as it ran (so the run can be repeated even after the file
changed or moved), the ``--set`` overrides, and two indexed tables: each
node's parameters and each metric, for listing and comparing without
parsing records.

The standard library's ``sqlite3`` is used rather than SQLAlchemy: the
store is part of every run, so it must not add a core dependency, and one
file with three tables needs no ORM. Every write is one transaction; the
file is opened in WAL mode so a listing never waits for a run being
recorded in another process.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nodes.errors import StudioError

#: Bumped when the tables change; a newer file is refused, never rewritten.
STORE_VERSION = 1
STORE_FILE = "runs.sqlite3"
ENV_RUNS_DIR = "AXON_STUDIO_RUNS_DIR"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    workflow_name TEXT NOT NULL,
    workflow_path TEXT NOT NULL,
    workflow_sha256 TEXT NOT NULL,
    status TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    duration_s REAL,
    seed INTEGER NOT NULL,
    source TEXT NOT NULL,
    from_run TEXT,
    overrides TEXT NOT NULL,
    document TEXT NOT NULL,
    record TEXT NOT NULL,
    mlflow TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_path ON runs (workflow_path, started);
CREATE INDEX IF NOT EXISTS runs_by_start ON runs (started);
CREATE TABLE IF NOT EXISTS node_params (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    node_id TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (run_id, node_id, name)
);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    output TEXT NOT NULL,
    name TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (run_id, output, name)
);
"""


class RunStoreError(StudioError):
    """The run store cannot be opened or written, or a run is not in it."""


class UnknownRunError(RunStoreError):
    """No stored run matches what was asked for."""


def default_runs_dir() -> Path:
    """Where runs are kept: ``AXON_STUDIO_RUNS_DIR``, else the user data folder."""
    configured = os.environ.get(ENV_RUNS_DIR)
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return platformdirs.user_data_path("axon-studio", appauthor=False) / "runs"


@dataclass
class StoredRun:
    """One run as the store holds it (``record`` is the full run record)."""

    run_id: str
    workflow_name: str
    workflow_path: str
    workflow_sha256: str
    status: str
    started: str
    finished: str | None
    duration_s: float | None
    seed: int
    source: str
    from_run: str | None
    overrides: list[str]
    document: str
    record: dict[str, Any]
    metrics: dict[str, dict[str, float | None]] = field(default_factory=dict)
    #: {"uri": ..., "experiment_id": ..., "run_id": ...} once sent to MLflow.
    mlflow: dict[str, Any] | None = None

    @property
    def params(self) -> dict[str, dict[str, Any]]:
        """Each node's parameters as it ran (an inherited seed resolved)."""
        return {node_id: dict(node.get("params", {}))
                for node_id, node in self.record.get("nodes", {}).items()}

    @property
    def titles(self) -> dict[str, str]:
        return {node_id: node.get("title", node_id)
                for node_id, node in self.record.get("nodes", {}).items()}

    def summary(self) -> dict[str, Any]:
        """The listing's columns, as plain JSON."""
        return {"run_id": self.run_id, "workflow": self.workflow_name,
                "path": self.workflow_path, "status": self.status, "started": self.started,
                "duration_s": self.duration_s, "seed": self.seed, "source": self.source,
                "from_run": self.from_run, "overrides": self.overrides,
                "metrics": self.metrics, "mlflow": self.mlflow}

    def to_dict(self) -> dict[str, Any]:
        """Everything stored, as plain JSON (``studio runs show --json``)."""
        return {**self.summary(), "workflow_sha256": self.workflow_sha256,
                "finished": self.finished, "record": self.record}


class RunStore:
    """The run store in ``folder`` (default: :func:`default_runs_dir`).

    ``add`` keeps a run; ``list``, ``get`` and ``resolve`` find runs again.
    Opening creates the folder and the file when missing.
    """

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder = Path(folder).expanduser() if folder is not None else default_runs_dir()
        self.path = self.folder / STORE_FILE
        if self.folder.exists() and not self.folder.is_dir():
            raise RunStoreError(f"the runs folder {self.folder} is a file, not a folder.",
                                fix="Give --runs-dir a folder (it is created when missing).")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with self._connect() as connection:
                self._prepare(connection)
        except sqlite3.DatabaseError as error:
            raise RunStoreError(f"the run store {self.path} cannot be used: {error}.",
                                fix="Move the file away (a new store is then created), or "
                                    "give another --runs-dir.") from None
        except OSError as error:
            raise RunStoreError(f"the runs folder {self.folder} cannot be created or written "
                                f"to: {error.strerror or error}.",
                                fix="Give --runs-dir a folder you can write to.") from None

    # -- connection --------------------------------------------------------
    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, timeout=30.0)
        try:
            connection.execute("PRAGMA foreign_keys = ON")
            with connection:  # one transaction: committed, or rolled back on error
                yield connection
        finally:
            connection.close()

    def _prepare(self, connection: sqlite3.Connection) -> None:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > STORE_VERSION:
            raise RunStoreError(
                f"the run store {self.path} was written by a newer Axon Studio (store "
                f"version {version}; this one reads up to {STORE_VERSION}).",
                fix="Upgrade Axon Studio, or give another --runs-dir.")
        if version < STORE_VERSION:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.executescript(_SCHEMA)
            connection.execute(f"PRAGMA user_version = {STORE_VERSION}")

    # -- writing -------------------------------------------------------------
    def add(self, run: StoredRun) -> StoredRun:
        """Keep ``run`` (replacing a run with the same id, e.g. one recorded twice)."""
        rows_params = [(run.run_id, node_id, name, json.dumps(value, sort_keys=True))
                       for node_id, params in run.params.items()
                       for name, value in params.items()]
        rows_metrics = [(run.run_id, output, name, _number(value))
                        for output, scalars in run.metrics.items()
                        for name, value in scalars.items()]
        try:
            with self._connect() as connection:
                connection.execute("DELETE FROM runs WHERE run_id = ?", (run.run_id,))
                connection.execute(
                    "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (run.run_id, run.workflow_name, run.workflow_path, run.workflow_sha256,
                     run.status, run.started, run.finished, run.duration_s, run.seed,
                     run.source, run.from_run, json.dumps(run.overrides), run.document,
                     json.dumps(run.record, allow_nan=False),
                     json.dumps(run.mlflow) if run.mlflow else None))
                connection.executemany("INSERT INTO node_params VALUES (?, ?, ?, ?)",
                                       rows_params)
                connection.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?)", rows_metrics)
        except (sqlite3.Error, OSError) as error:
            raise RunStoreError(f"the run {run.run_id} could not be kept in {self.path}: "
                                f"{error}.", fix="Check the disk space and permissions of "
                                                 "the runs folder (--runs-dir).") from None
        return run

    def set_mlflow(self, run_id: str, mlflow: Mapping[str, Any]) -> None:
        """Remember where a stored run was sent in MLflow."""
        with self._connect() as connection:
            connection.execute("UPDATE runs SET mlflow = ? WHERE run_id = ?",
                               (json.dumps(dict(mlflow)), run_id))

    def delete(self, run_id: str) -> None:
        with self._connect() as connection:
            connection.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))

    # -- reading -------------------------------------------------------------
    def list(self, *, workflow_path: str | os.PathLike[str] | None = None,
             workflow_name: str | None = None, status: str | None = None,
             limit: int | None = None) -> list[StoredRun]:
        """Stored runs, newest first; only those of one workflow file (its resolved
        path) or name, or with one status, when asked."""
        where, values = [], []
        if workflow_path is not None:
            where.append("workflow_path = ?")
            values.append(str(Path(workflow_path).expanduser().resolve()))
        if workflow_name is not None:
            where.append("workflow_name = ?")
            values.append(workflow_name)
        if status is not None:
            where.append("status = ?")
            values.append(status)
        query = "SELECT * FROM runs"
        if where:
            query += " WHERE " + " AND ".join(where)
        query += " ORDER BY started DESC, rowid DESC"
        if limit is not None:
            query += " LIMIT ?"
            values.append(int(limit))
        with self._connect() as connection:
            connection.row_factory = sqlite3.Row
            rows = connection.execute(query, values).fetchall()
            return [self._run(connection, row) for row in rows]

    def get(self, run_id: str) -> StoredRun:
        """The run with exactly this id; raises UnknownRunError."""
        with self._connect() as connection:
            connection.row_factory = sqlite3.Row
            row = connection.execute("SELECT * FROM runs WHERE run_id = ?",
                                     (run_id,)).fetchone()
            if row is None:
                raise UnknownRunError(f"there is no run {run_id!r} in {self.path}.",
                                      fix="See the stored runs with 'studio runs list'.")
            return self._run(connection, row)

    def resolve(self, reference: str) -> StoredRun:
        """A run by id, by a unique start of its id (4 characters or more), or
        ``latest`` / ``latest~N`` (the run N before the latest one)."""
        text = str(reference).strip()
        if text == "latest" or text.startswith("latest~"):
            back = text.removeprefix("latest").removeprefix("~") or "0"
            if not back.isdigit():
                raise UnknownRunError(f"{reference!r} is not a run reference.",
                                      fix="Use a run id, 'latest' or 'latest~N' (N a number).")
            runs = self.list(limit=int(back) + 1)
            if len(runs) <= int(back):
                raise UnknownRunError(f"there are only {len(runs)} stored run(s), so "
                                      f"{reference!r} names none.",
                                      fix="See the stored runs with 'studio runs list'.")
            return runs[int(back)]
        if len(text) < 4 or not all(c.isalnum() for c in text):
            raise UnknownRunError(f"{reference!r} is not a run id.",
                                  fix="Give a run id (or its first 4 characters or more) "
                                      "from 'studio runs list', or 'latest'.")
        with self._connect() as connection:
            ids = [row[0] for row in connection.execute(
                "SELECT run_id FROM runs WHERE substr(run_id, 1, ?) = ? ORDER BY started",
                (len(text), text))]
        if not ids:
            raise UnknownRunError(f"there is no run {text!r} in {self.path}.",
                                  fix="See the stored runs with 'studio runs list' (and "
                                      "check --runs-dir).")
        if len(ids) > 1:
            raise UnknownRunError(f"{text!r} is the start of {len(ids)} run ids "
                                  f"({', '.join(ids[:5])}).", fix="Give more characters.")
        return self.get(ids[0])

    def _run(self, connection: sqlite3.Connection, row: sqlite3.Row) -> StoredRun:
        metrics: dict[str, dict[str, float | None]] = {}
        for output, name, value in connection.execute(
                "SELECT output, name, value FROM metrics WHERE run_id = ? ORDER BY rowid",
                (row["run_id"],)):
            metrics.setdefault(output, {})[name] = value
        return StoredRun(
            run_id=row["run_id"], workflow_name=row["workflow_name"],
            workflow_path=row["workflow_path"], workflow_sha256=row["workflow_sha256"],
            status=row["status"], started=row["started"], finished=row["finished"],
            duration_s=row["duration_s"], seed=row["seed"], source=row["source"],
            from_run=row["from_run"], overrides=json.loads(row["overrides"]),
            document=row["document"], record=json.loads(row["record"]), metrics=metrics,
            mlflow=json.loads(row["mlflow"]) if row["mlflow"] else None)


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None if value is None else float(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def open_store(runs_dir: str | os.PathLike[str] | None = None) -> RunStore:
    """The run store in ``runs_dir`` (None: the default folder)."""
    return RunStore(runs_dir)


def metric_rows(runs: Sequence[StoredRun]) -> list[str]:
    """Every ``output.metric`` name over ``runs``, in first-seen order."""
    names: dict[str, None] = {}
    for run in runs:
        for output, scalars in run.metrics.items():
            for name in scalars:
                names[f"{output}.{name}"] = None
    return list(names)
