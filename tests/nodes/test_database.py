"""Import Data (Database): a real SQLite file, and a real PostgreSQL server where the
machine has one (started by the test in a temporary folder)."""

from __future__ import annotations

import shutil
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from nodes.data.database import ImportDatabase
from nodes.errors import NodeInputError, ParameterError
from nodes.testing import run_node
from studio.engine import Engine
from studio.workflow import Workflow


@pytest.fixture
def sqlite_file(tmp_path) -> Path:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE sales (region TEXT, amount REAL, churned INTEGER)")
        connection.executemany("INSERT INTO sales VALUES (?, ?, ?)",
                               [("north", 10.5, 0), ("south", 3.0, 1), ("north", 7.25, 1)])
    return path


def test_a_table_and_a_query_are_read_with_their_lineage(sqlite_file):
    url = f"sqlite:///{sqlite_file}"
    table = run_node(ImportDatabase, {"url": url, "table": "sales",
                                      "label_column": "churned"})["data"]
    assert table.frame.to_dict("list") == {"region": ["north", "south", "north"],
                                           "amount": [10.5, 3.0, 7.25], "churned": [0, 1, 1]}
    assert table.label_column == "churned"
    query = run_node(ImportDatabase, {"url": url, "source": "query", "query":
                                      "SELECT region, SUM(amount) AS total FROM sales "
                                      "GROUP BY region ORDER BY region"})["data"]
    assert query.frame.to_dict("list") == {"region": ["north", "south"], "total": [17.75, 3.0]}


def test_changed_rows_change_the_cache_key_and_the_node_runs_again(sqlite_file):
    workflow = Workflow()
    workflow.add_node("import_database", {"url": f"sqlite:///{sqlite_file}", "table": "sales"},
                      node_id="db")
    with Engine(jobs=1) as engine:
        first = engine.run(workflow)
        again = engine.run(workflow)
        with sqlite3.connect(sqlite_file) as connection:
            connection.execute("UPDATE sales SET amount = 99 WHERE region = 'south'")
        changed = engine.run(workflow)
        frame = engine.outputs(workflow, "db")["data"].frame
    assert not first.nodes["db"].cache_hit and again.nodes["db"].cache_hit
    assert not changed.nodes["db"].cache_hit and 99.0 in frame["amount"].tolist()
    digests = [r.lineage["datasets"][0]["sha256"] for r in (first, changed)]
    assert digests[0] != digests[1]


def test_passwords_never_go_into_the_file_and_mistakes_are_named(sqlite_file, monkeypatch):
    with pytest.raises(ParameterError, match="must not hold a password"):
        ImportDatabase({"url": "postgresql://ann:secret@localhost/shop", "table": "sales"})
    with pytest.raises(ParameterError, match="SQLAlchemy URL"):
        ImportDatabase({"url": "not a url", "table": "sales"})
    with pytest.raises(NodeInputError, match="no table 'orders'"):
        run_node(ImportDatabase, {"url": f"sqlite:///{sqlite_file}", "table": "orders"})
    with pytest.raises(NodeInputError, match='reading .* failed: .*"nothing": syntax error'):
        run_node(ImportDatabase, {"url": f"sqlite:///{sqlite_file}", "source": "query",
                                  "query": "SELECT nothing FROM sales"})
    monkeypatch.delenv("AXON_STUDIO_DB_PASSWORD", raising=False)
    with pytest.raises(NodeInputError, match="AXON_STUDIO_DB_PASSWORD"):
        run_node(ImportDatabase, {"url": f"sqlite:///{sqlite_file}", "table": "sales",
                                  "credentials": "environment"})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def postgres():
    """A PostgreSQL server of this machine's own, in a temporary folder (skipped where
    the machine has none, or the test runs as root without a user to run it as)."""
    import os
    import tempfile

    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("no PostgreSQL server on this machine (Debian: postgresql)")
    pytest.importorskip("psycopg", reason="the postgres extra is not installed")
    folder = Path(tempfile.mkdtemp(prefix="axon-pg-"))
    data = folder / "data"
    port = _free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        if shutil.which("runuser") is None:
            pytest.skip("running as root with no runuser to start PostgreSQL as another user")
        as_user = ["runuser", "-u", "nobody", "--"]
    _pwfile(folder)
    if as_user:
        subprocess.run(["chown", "-R", "nobody", str(folder)], check=True)
    started = False
    try:
        subprocess.run([*as_user, initdb, "-D", str(data), "-U", "ann", "--auth=password",
                        f"--pwfile={folder / 'password'}"], check=True, capture_output=True)
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-o",
                        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "-l",
                        str(folder / "log"), "start", "-w"], check=True, capture_output=True)
        started = True
        import psycopg

        for _ in range(50):
            try:
                with psycopg.connect(host="127.0.0.1", port=port, user="ann",
                                     password="s3cret", dbname="postgres") as connection:
                    connection.execute("CREATE TABLE sales (region TEXT, amount FLOAT8)")
                    connection.execute("INSERT INTO sales VALUES ('north', 1.5), ('west', 2)")
                break
            except psycopg.OperationalError:
                time.sleep(0.2)
        yield port
    finally:
        if started:
            subprocess.run([*as_user, pg_ctl, "-D", str(data), "stop", "-m", "fast"],
                           capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def _pwfile(folder: Path) -> Path:
    path = folder / "password"
    path.write_text("s3cret\n")
    path.chmod(0o644)
    return path


def test_a_real_postgresql_server_with_the_password_from_the_environment(postgres,
                                                                        monkeypatch):
    monkeypatch.setenv("SHOP_PASSWORD", "s3cret")
    params = {"url": f"postgresql+psycopg://ann@127.0.0.1:{postgres}/postgres",
              "table": "sales", "credentials": "environment",
              "password_variable": "SHOP_PASSWORD"}
    frame = run_node(ImportDatabase, params)["data"].frame
    pd.testing.assert_frame_equal(frame, pd.DataFrame({"region": ["north", "west"],
                                                       "amount": [1.5, 2.0]}))
    monkeypatch.setenv("SHOP_PASSWORD", "wrong")
    with pytest.raises(NodeInputError, match="failed"):
        run_node(ImportDatabase, {**params, "table": "sales"})
