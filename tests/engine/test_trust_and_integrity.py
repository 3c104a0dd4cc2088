"""Issue 11's findings, each a regression test: one trust gate for every command,
no file-system escapes from nodes that need no trust, a cache that verifies
what it serves, waits that can be stopped, verdicts instead of tracebacks, no
litter.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from nodes.errors import NodeInputError, ParameterError, StudioError
from nodes.file_access import FileAccess
from nodes.testing import NodeHarness
from nodes.transform.sql import ApplySQLTransformation
from studio.engine import DiskCache, Engine
from studio.serve.errors import PrepareError
from studio.serve.prepare import prepare_scoring_workflow
from studio.serve.scoring import ScoringPipeline
from studio.workflow import Workflow, WorkflowInvalidError, load_workflow, save_workflow

REPO = Path(__file__).resolve().parents[2]


def studio(*args: object, cwd: Path | None = None, timeout: float = 300,
           **kwargs: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "studio.cli.main", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          **kwargs)  # type: ignore[call-overload]


# -- 1. one trust gate ------------------------------------------------------------------------

def _script_workflow(folder: Path) -> tuple[Path, Path]:
    """Boston housing through a Python script (which leaves a marker file) into a
    regression: the script is training-only, upstream of the split."""
    marker = folder / "the-code-ran"
    code = (f"from pathlib import Path\n\ndef azureml_main(dataframe1=None, dataframe2=None):\n"
            f"    Path({str(marker)!r}).write_text('yes')\n    return dataframe1\n")
    workflow = Workflow()
    workflow.add_node("sample_dataset", {"dataset": "boston_housing"}, node_id="data")
    workflow.add_node("execute_python_script", {"code": code}, node_id="script")
    workflow.add_node("split_data", {"seed": 0}, node_id="split")
    workflow.add_node("linear_regression", node_id="linear")
    workflow.add_node("train_model", node_id="train")
    workflow.add_node("score_model", node_id="score")
    workflow.connect("data", "data", "script", "dataframe1")
    workflow.connect("script", "data", "split", "data")
    workflow.connect("split", "train", "train", "data")
    workflow.connect("linear", "learner", "train", "learner")
    workflow.connect("split", "test", "score", "data")
    workflow.connect("train", "model", "score", "model")
    return save_workflow(workflow, folder / "script.axon.json"), marker


@pytest.mark.parametrize("command", ["run", "prepare", "export", "serve"])
def test_every_command_refuses_stored_code_without_trust(tmp_path, command):
    path, marker = _script_workflow(tmp_path)
    extra = {"run": ["--out", tmp_path / "out"], "prepare": ["--out", tmp_path / "s.axon.json"],
             "export": ["--out", tmp_path / "bundle"], "serve": ["--port", "0"]}[command]
    process = studio(command, path, *extra, cwd=tmp_path, timeout=120)
    assert process.returncode == 2, process.stdout + process.stderr
    assert "not trusted" in process.stderr and "--trust" in process.stderr
    assert "Traceback" not in process.stderr
    assert not marker.exists(), f"studio {command} ran the stored code without trust"


def test_trust_is_the_explicit_step_that_lets_the_code_run(tmp_path):
    path, marker = _script_workflow(tmp_path)
    process = studio("prepare", path, "--out", tmp_path / "s.axon.json", "--trust", cwd=tmp_path)
    assert process.returncode == 0, process.stderr
    assert marker.read_text() == "yes"


def test_the_python_api_asks_for_trust_too(tmp_path):
    path, marker = _script_workflow(tmp_path)
    workflow = load_workflow(path)
    with Engine(jobs=1) as engine:
        with pytest.raises(WorkflowInvalidError, match="not trusted"):
            engine.run(workflow)
        with pytest.raises(PrepareError, match="not trusted"):
            prepare_scoring_workflow(workflow, engine, artifact_dir=tmp_path / "a")
        assert not marker.exists()
        workflow.trust(["script"])
        assert engine.run(workflow).status == "succeeded"
    assert marker.exists()
    # Editing the code afterwards withdraws the trust.
    workflow.set_param("script", "code", workflow.nodes["script"].params["code"] + "\n# more\n")
    assert workflow.untrusted_code_nodes() == ["script"]


def test_code_can_never_be_set_from_the_command_line(tmp_path):
    path, marker = _script_workflow(tmp_path)
    process = studio("run", path, "--trust", "--set",
                     "script.code=def azureml_main(dataframe1=None, dataframe2=None): pass",
                     "--out", tmp_path / "out", cwd=tmp_path)
    assert process.returncode == 2
    assert "code can never be set from the command line" in process.stderr
    assert not marker.exists()


def test_code_can_never_come_from_a_request(tmp_path):
    marker = tmp_path / "request-code-ran"
    scoring = Workflow()
    scoring.add_node("web_service_input", {
        "schema": [{"name": "x", "dtype": "float64", "required": True}],
        "global_parameters": ["script.code"]}, node_id="input")
    scoring.add_node("execute_python_script", node_id="script")
    scoring.add_node("web_service_output", node_id="output")
    scoring.connect("input", "data", "script", "dataframe1")
    scoring.connect("script", "data", "output", "data")
    for trusted in (False, True):
        with pytest.raises(PrepareError) as info:
            ScoringPipeline(scoring.copy(), trusted=trusted)
        assert "Execute Python Script" in str(info.value)
    # Even a row-wise node of ours may not expose code to requests.
    from studio.serve.prepare import check_global_parameters

    with pytest.raises(PrepareError, match="code that the service runs"):
        check_global_parameters(scoring)
    assert not marker.exists()


# -- 3. paths under control --------------------------------------------------------------------

def _export(folder: Path, path: str, **settings: object) -> tuple[Workflow, Path]:
    workflow = Workflow()
    workflow.info.extra.update(settings)
    workflow.add_node("sample_dataset", {"dataset": "iris"}, node_id="iris")
    workflow.add_node("export_data", {"path": path, "overwrite": True}, node_id="export")
    workflow.connect("iris", "data", "export", "data")
    return workflow, save_workflow(workflow, folder / "export.axon.json")


@pytest.mark.parametrize("target", [
    lambda tmp: Path(sysconfig.get_paths()["purelib"]) / "axon-escape.pth",
    lambda tmp: Path(sysconfig.get_paths()["purelib"]) / "axon-escape.csv",
    lambda tmp: REPO / "studio" / "axon-escape.csv",
    lambda tmp: tmp / "elsewhere" / "axon-escape.csv",
    lambda tmp: tmp / "project" / "run.sh",
], ids=["pth-in-site-packages", "csv-in-site-packages", "project-files", "outside", "suffix"])
def test_export_data_writes_only_where_the_run_may(tmp_path, target):
    (tmp_path / "project").mkdir()
    (tmp_path / "elsewhere").mkdir()
    path = target(tmp_path)
    workflow, file = _export(tmp_path / "project", str(path))
    with Engine(jobs=1) as engine:
        record = engine.run(workflow, workflow_path=file)
    assert record.nodes["export"].state == "failed"
    assert record.nodes["export"].error_type == "NodeInputError"
    assert "Fix:" in record.nodes["export"].error
    assert not path.exists()


def test_a_folder_the_workflow_or_the_run_allows_may_be_written(tmp_path):
    (tmp_path / "project").mkdir()
    (tmp_path / "shared").mkdir()
    target = tmp_path / "shared" / "iris.csv"
    workflow, file = _export(tmp_path / "project", str(target), allowed_paths=["../shared"])
    with Engine(jobs=1) as engine:
        assert engine.run(workflow, workflow_path=file).status == "succeeded"
    assert target.is_file()
    target.unlink()
    workflow, file = _export(tmp_path / "project", str(target))
    refused = studio("run", file, "--out", tmp_path / "out")
    assert refused.returncode == 1 and not target.exists()
    allowed = studio("run", file, "--out", tmp_path / "out", "--allow-path", tmp_path / "shared")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert target.is_file()


def test_reading_outside_the_runs_folders_is_reported(tmp_path):
    workflow = Workflow()
    workflow.add_node("import_csv", {"path": "/etc/passwd", "has_header": False,
                                     "delimiter": "|"}, node_id="read")
    with Engine(jobs=1) as engine:
        record = engine.run(workflow, workflow_path=save_workflow(workflow,
                                                                  tmp_path / "r.axon.json"))
    assert record.status == "succeeded"
    assert any("/etc/passwd" in w and "outside" in w for w in record.nodes["read"].warnings)
    dataset = record.lineage["datasets"][0]
    assert dataset["source"] == "/etc/passwd" and dataset["outside_allowed_folders"] is True


# -- 4. the SQL node reaches no file ----------------------------------------------------------

@pytest.mark.parametrize("query", [
    "COPY (SELECT 1 AS a) TO '.tmp/out.csv'",
    "SELECT * FROM read_csv('.tmp/inside.csv')",
    "SELECT * FROM glob('.tmp/*')",
    "SELECT * FROM read_text('/etc/passwd')",
    "ATTACH '.tmp/other.duckdb' AS other",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "SET temp_directory = '.tmp'",
])
def test_the_sql_node_has_no_file_access(tmp_path, monkeypatch, query):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".tmp").mkdir()
    (tmp_path / ".tmp" / "inside.csv").write_text("a\n1\n")
    table = NodeHarness(ApplySQLTransformation, {"query": "SELECT * FROM t1"})
    assert table.run(t1=_tiny())["data"].frame.shape == (2, 1)
    with pytest.raises(NodeInputError, match="the query failed"):
        NodeHarness(ApplySQLTransformation, {"query": query}).run(t1=_tiny())
    assert sorted(p.name for p in (tmp_path / ".tmp").iterdir()) == ["inside.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".tmp"]


def _tiny():
    from nodes.values import Table

    return Table(pd.DataFrame({"a": [1, 2]}))


# -- 5. a cache that verifies -------------------------------------------------------------------

def _housing() -> Workflow:
    return load_workflow(REPO / "examples" / "housing_regression.axon.json")


def _entry_folders(root: Path) -> dict[str, Path]:
    return {p.name: p for p in root.glob("*/*") if (p / "entry.json").is_file()}


@pytest.fixture(scope="module")
def filled_cache(tmp_path_factory):
    """A disk cache holding every result of the housing example, and those results."""
    root = tmp_path_factory.mktemp("cache")
    workflow = _housing()
    with Engine(jobs=1, cache=DiskCache(root)) as engine:
        record = engine.run(workflow)
        metrics = engine.outputs(workflow, "evaluate")["metrics"].scalars
    assert record.status == "succeeded"
    return root, {n.node_id: n for n in record.nodes.values()}, metrics


def _rerun(root: Path) -> tuple[object, dict]:
    """A new process on the cache, asking for every output (as studio run --save-all
    does), so every entry is read."""
    workflow = _housing()
    with Engine(jobs=1, cache=DiskCache(root)) as engine:
        record = engine.run(workflow, keep=lambda node, port, info: True)
        metrics = engine.kept[("evaluate", "metrics")].scalars
    return record, metrics


def _damage(root: Path, node: dict, relative: str, how) -> Path:
    folder = _entry_folders(root)[node.cache_key]
    how(folder / relative)
    return folder


@pytest.mark.parametrize("node, relative, how", [
    ("dataset", "outputs/data/table.parquet",
     lambda p: (p.unlink(), p.mkdir())),  # a folder where the table was
    ("evaluate", "outputs/metrics/metrics.json",
     lambda p: p.write_text(p.read_text().replace('"mae": ', '"mae": 0.001, "x": '))),
    ("dataset", "outputs/data/table.parquet", lambda p: _flip_bit(p, 0.6)),
    ("dataset", "entry.json", lambda p: p.write_text(p.read_text().replace('"rows": 506',
                                                                           '"rows": 999'))),
], ids=["folder-for-table", "edited-metrics", "flipped-bit", "edited-entry"])
def test_a_damaged_entry_is_dropped_recomputed_and_reported(filled_cache, tmp_path, node,
                                                            relative, how):
    root, nodes, metrics = filled_cache
    copy = tmp_path / "cache"
    shutil.copytree(root, copy)
    _damage(copy, nodes[node], relative, how)
    record, again = _rerun(copy)
    assert again == metrics, "a damaged entry changed the results"
    damaged = record.nodes[node]
    assert not damaged.cache_hit and damaged.cache_problem, "the damage went unnoticed"
    assert "damaged" in damaged.cache_problem
    assert any("computed again" in m for m in damaged.messages)
    assert damaged.outputs == nodes[node].outputs  # the record tells what was used
    # And the entry was rewritten: the next run is all cache hits.
    third, _ = _rerun(copy)
    assert all(n.cache_hit for n in third.nodes.values())


def _flip_bit(path: Path, where: float) -> None:
    data = bytearray(path.read_bytes())
    index = int(len(data) * where)
    data[index] ^= 0x10
    path.write_bytes(bytes(data))


def test_random_damage_never_loads_as_a_different_value(filled_cache, tmp_path):
    """2,000 random corruptions once loaded 83 different values silently; now none."""
    from nodes.values import value_digest

    root, nodes, _ = filled_cache
    generator = random.Random(20261201)
    silent, detected, harmless = 0, 0, 0
    cases = int(os.environ.get("AXON_CORRUPTION_CASES", "120"))
    for case in range(cases):
        copy = tmp_path / f"c{case}"
        shutil.copytree(root, copy)
        key, folder = generator.choice(sorted(_entry_folders(copy).items()))
        original = DiskCache(root).get(key)
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        target = generator.choice(files)
        _corrupt(target, generator)
        entry, problem = DiskCache(copy).get_checked(key)
        if entry is None:
            assert problem, "a dropped entry must say why"
            detected += 1
            continue
        same = all(value_digest(entry.outputs[p]) == value_digest(original.outputs[p])
                   for p in original.outputs)
        if same:
            harmless += 1
        else:
            silent += 1
        shutil.rmtree(copy)
    assert silent == 0, f"{silent} corruptions loaded silently as other values"
    assert detected > cases * 0.9


def _corrupt(path: Path, generator: random.Random) -> None:
    data = bytearray(path.read_bytes())
    choice = generator.randrange(5)
    if choice == 0 and data:  # flip one bit
        index = generator.randrange(len(data))
        data[index] ^= 1 << generator.randrange(8)
    elif choice == 1:  # truncate
        data = data[:generator.randrange(max(len(data), 1))]
    elif choice == 2:  # append
        data += bytes(generator.randrange(256) for _ in range(generator.randint(1, 64)))
    elif choice == 3:  # overwrite a stretch
        start = generator.randrange(max(len(data), 1))
        for index in range(start, min(start + 16, len(data))):
            data[index] = generator.randrange(256)
    else:  # a folder in its place
        path.unlink()
        path.mkdir()
        return
    path.write_bytes(bytes(data))


# -- 6. every wait can be stopped ---------------------------------------------------------------

def test_a_catastrophic_column_pattern_is_stopped_with_a_verdict():
    from nodes.transform.columns import PATTERN_SECONDS, SelectColumns
    from nodes.values import Table

    table = Table(pd.DataFrame({"x" * 5000: [1], "y": [2]}))
    harness = NodeHarness(SelectColumns, {"select_by": "regex", "pattern": "(x+x+)+y"})
    start = time.monotonic()
    with pytest.raises(ParameterError, match="backtracks catastrophically"):
        harness.run(data=table)
    # Stopped, not hung (a loaded machine may add seconds to the 2 s limit).
    assert time.monotonic() - start < PATTERN_SECONDS + 15
    kept = NodeHarness(SelectColumns, {"select_by": "regex", "pattern": "^(a+)+$|^y$"}).run(
        data=table)["data"]
    assert list(kept.frame.columns) == ["y"]


def test_a_local_sweep_stops_within_two_seconds_of_cancel():
    workflow = Workflow()
    workflow.add_node("sample_dataset", {"dataset": "breast_cancer"}, node_id="data")
    workflow.add_node("decision_forest", {"trees": 40, "seed": 0}, node_id="forest")
    workflow.add_node("tune_model_hyperparameters", {
        "parameter_ranges": "n_estimators: " + ", ".join(str(20 + i) for i in range(60)),
        "folds": 5, "seed": 0}, node_id="tune")
    workflow.connect("forest", "learner", "tune", "learner")
    workflow.connect("data", "data", "tune", "data")
    record, stopped = _cancelled_while_running(workflow, "tune", settle=1.0, jobs=2)
    assert record.status == "cancelled"
    assert stopped < 10.0, f"the sweep took {stopped:.1f} s to stop"


class _SilentPeer:
    """A TCP server that accepts connections and never answers."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.port = self.socket.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        self.socket.close()
        for connection in self.connections:
            connection.close()


def test_a_scheduler_that_never_answers_is_given_up_on_in_time():
    from studio.engine.dask_executor import DaskExecutor

    peer = _SilentPeer()
    try:
        start = time.monotonic()
        with pytest.raises(StudioError, match="Cannot reach the Dask scheduler"):
            DaskExecutor(f"tcp://127.0.0.1:{peer.port}", connect_timeout=2.0)
        assert time.monotonic() - start < 20
    finally:
        peer.close()


@pytest.mark.parametrize("address", ["127.0.0.1", "tcp://127.0.0.1", "http://h:1",
                                     "tcp://h:99999"])
def test_a_malformed_scheduler_address_is_refused_at_once(tmp_path, address):
    path = REPO / "examples" / "housing_regression.axon.json"
    start = time.monotonic()
    process = studio("run", path, "--scheduler", address, "--out", tmp_path / "o", timeout=60)
    assert process.returncode == 2
    assert "is not a Dask scheduler address" in process.stderr
    assert "Traceback" not in process.stderr and "Exception ignored" not in process.stderr
    assert time.monotonic() - start < 15


# -- 7. verdicts, never tracebacks ----------------------------------------------------------------

def _document() -> dict:
    return json.loads((REPO / "examples" / "housing_regression.axon.json").read_text())


@pytest.mark.parametrize("mutate", [
    lambda d: d["nodes"][0].update(id=["a", "list"]),
    lambda d: d["nodes"][1]["params"].update(seed=int("9" * 400)),
    lambda d: d["edges"][0]["source"].update(node={"x": 1}),
    lambda d: d["settings"].update(seed=10**30),
    lambda d: d["nodes"][1].update(position=[1e308 * 10, 0]),
    lambda d: d.update(annotations=[{"id": "n", "text": 7, "rect": [0, 0, 1, 1]}]),
], ids=["list-id", "400-digit-int", "dict-node-ref", "huge-seed", "infinite-position",
        "number-text"])
def test_malformed_files_get_a_verdict(tmp_path, mutate):
    document = _document()
    mutate(document)
    path = tmp_path / "bad.axon.json"
    path.write_text(json.dumps(document))
    process = studio("validate", path, timeout=60)
    assert process.returncode == 2, process.stdout + process.stderr
    assert "Traceback" not in process.stderr and process.stderr.startswith("error:")


@pytest.mark.parametrize("text", [
    lambda: json.dumps(_document()).replace('"seed": 0', '"seed": ' + "9" * 5000, 1),
    lambda: json.dumps(_document())[:-1] + ', "extra": ' + "[" * 2000 + "]" * 2000 + "}",
], ids=["5000-digit-int", "nested-2000-deep"])
def test_pathological_json_gets_a_verdict(tmp_path, text):
    path = tmp_path / "bad.axon.json"
    path.write_text(text())
    process = studio("validate", path, timeout=60)
    assert process.returncode == 2, process.stdout + process.stderr
    assert "Traceback" not in process.stderr


def test_a_huge_expression_in_script_code_gets_a_verdict(tmp_path):
    path, _ = _script_workflow(tmp_path)
    document = json.loads(path.read_text())
    document["nodes"][1]["params"]["code"] = "x = " + "+".join(["1"] * 100_000)
    path.write_text(json.dumps(document))
    process = studio("validate", path, timeout=60)
    assert process.returncode == 2 and "cannot be compiled" in process.stderr
    assert "Traceback" not in process.stderr


@pytest.mark.parametrize("override", ["split.seed=1" + "0" * 400, "split.seed=1" + "0" * 5000,
                                      "split.fraction=" + "[" * 3000])
def test_a_bad_set_value_gets_a_verdict(tmp_path, override):
    path = REPO / "examples" / "housing_regression.axon.json"
    process = studio("run", path, "--set", override, "--out", tmp_path / "o", timeout=60)
    assert process.returncode == 2 and "Traceback" not in process.stderr
    assert "'seed'" in process.stderr or "'fraction'" in process.stderr


@pytest.mark.parametrize("option", ["--out", "--cache-dir"])
def test_an_output_or_cache_path_naming_a_file_is_refused_before_the_run(tmp_path, option):
    taken = tmp_path / "taken"
    taken.write_text("mine")
    path = REPO / "examples" / "housing_regression.axon.json"
    args = [option, taken] if option == "--out" else [option, taken, "--out", tmp_path / "o"]
    process = studio("run", path, *args, timeout=60)
    assert process.returncode == 2 and "is a file, not a folder" in process.stderr
    assert taken.read_text() == "mine" and not (tmp_path / "o").exists()


def test_a_full_disk_keeps_the_run_record_and_says_what_was_not_written(tmp_path):
    """A file-size limit makes every write past 256 KiB fail as a full disk would."""
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))

    workflow = Workflow()
    workflow.add_node("sample_dataset", {"dataset": "digits"}, node_id="digits")
    path = save_workflow(workflow, tmp_path / "big.axon.json")
    process = studio("run", path, "--out", tmp_path / "out", "--save-all", "--format", "csv",
                     preexec_fn=limit, timeout=120)
    assert process.returncode == 1, process.stdout + process.stderr
    assert "was not written" in process.stderr and "Traceback" not in process.stderr
    record = json.loads((tmp_path / "out" / "run_record.json").read_text())
    assert record["status"] == "succeeded"
    assert any("digits.data" in entry["file"] for entry in record["not_written"])
    assert not list((tmp_path / "out" / "outputs").glob(".*partial"))


# -- 8. litter ------------------------------------------------------------------------------------

def test_stale_temporary_files_of_a_killed_save_are_removed(tmp_path):
    path = save_workflow(_housing(), tmp_path / "w.axon.json")
    stale = tmp_path / ".w.axon.json.abc123.tmp"
    fresh = tmp_path / ".w.axon.json.def456.tmp"
    for leftover in (stale, fresh):
        leftover.write_text("{")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    load_workflow(path)
    assert not stale.exists()
    assert fresh.exists(), "a save under way (a recent temporary file) is left alone"
    os.utime(fresh, (old, old))
    save_workflow(_housing(), path)
    assert not fresh.exists()


def test_file_access_refuses_protected_places_whatever_the_roots():
    access = FileAccess(write_roots=(Path("/"),))
    for path in (Path(sysconfig.get_paths()["purelib"]) / "x.csv", REPO / "nodes" / "x.csv"):
        with pytest.raises(NodeInputError):
            access.check_write("n", "path", str(path), (".csv",))


def test_a_file_digest_is_remembered_across_processes_and_an_edit_is_never_missed(
        tmp_path, monkeypatch):
    monkeypatch.setenv("AXON_STUDIO_DIGEST_MEMO", str(tmp_path / "memo.json"))
    data = tmp_path / "big.csv"
    data.write_bytes(b"a,b\n" + b"1,2\n" * 3_000_000)
    script = ("import sys, time; from nodes.digest import file_digest; "
              "t = time.perf_counter(); d = file_digest(sys.argv[1]); "
              "print(d, time.perf_counter() - t)")

    def digest() -> tuple[str, float]:
        out = subprocess.run([sys.executable, "-c", script, str(data)], capture_output=True,
                             text=True, timeout=60, env=os.environ.copy()).stdout.split()
        return out[0], float(out[1])

    first, _ = digest()
    assert digest()[0] == first and (tmp_path / "memo.json").is_file()
    stat = data.stat()
    # The same name, size and mtime, other bytes: must be hashed again.
    data.write_bytes(b"a,b\n" + b"1,3\n" * 3_000_000)
    os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert data.stat().st_size == stat.st_size and data.stat().st_mtime_ns == stat.st_mtime_ns
    edited, _ = digest()
    assert edited != first
    import hashlib

    assert edited == hashlib.sha256(data.read_bytes()).hexdigest()


def test_every_kind_of_entry_is_read_back_from_disk_as_a_hit(tmp_path):
    """Metrics, tables, models, transforms and learners survive the disk cache: a new
    process on it gets every node of an example as a verified cache hit."""
    workflow = load_workflow(REPO / "examples" / "classification_two_models.axon.json")
    with Engine(jobs=1, cache=DiskCache(tmp_path)) as engine:
        first = engine.run(workflow)
    with Engine(jobs=1, cache=DiskCache(tmp_path)) as engine:
        again = engine.run(workflow, keep=lambda node, port, info: True)
    assert first.status == again.status == "succeeded"
    assert {n: (r.cache_hit, r.cache_problem) for n, r in again.nodes.items()} == {
        n: (True, None) for n in again.nodes}
    assert len(engine.kept) == sum(len(r.outputs) for r in again.nodes.values())


def test_cancel_stops_one_long_fit_inside_it_as_the_apps_cancel_does():
    """The desktop app's Cancel sets the run's cancel event, as here: a single
    scikit-learn fit of minutes (5,000 boosting rounds) stops inside the fit."""
    workflow = Workflow()
    workflow.add_node("sample_dataset", {"dataset": "digits"}, node_id="digits")
    workflow.add_node("boosted_decision_tree", {"trees": 5000, "seed": 0}, node_id="boosting")
    workflow.add_node("train_model", node_id="train")
    workflow.add_node("score_model", node_id="score")
    workflow.connect("digits", "data", "train", "data")
    workflow.connect("boosting", "learner", "train", "learner")
    workflow.connect("train", "model", "score", "model")
    workflow.connect("digits", "data", "score", "data")
    record, stopped = _cancelled_while_running(workflow, "train", settle=1.5)
    assert record.status == "cancelled"
    assert record.nodes["train"].state == "cancelled" and record.nodes["score"].state == "not run"
    assert stopped < 10.0, f"the fit took {stopped:.1f} s to stop (bench_cancel: <= 2 s)"


def _cancelled_while_running(workflow: Workflow, node_id: str, *, settle: float,
                             jobs: int | None = None) -> tuple[Any, float]:
    """Run ``workflow`` on a thread, cancel ``settle`` seconds after ``node_id``
    starts, and return the record and the seconds from cancel to the run's end."""
    cancel, started, result = threading.Event(), threading.Event(), {}
    with Engine(jobs=jobs) as engine:
        engine.events.subscribe(lambda event: started.set() if event.kind == "node_state" and (
            event["node_id"], event["state"].value) == (node_id, "running") else None)
        thread = threading.Thread(target=lambda: result.update(
            record=engine.run(workflow, cancel_event=cancel)))
        thread.start()
        assert started.wait(60)
        time.sleep(settle)  # well inside the node
        cancelled_at = time.monotonic()
        cancel.set()
        thread.join(60)
        stopped = time.monotonic() - cancelled_at
    assert not thread.is_alive()
    return result["record"], stopped
