"""Import Data from remote files (https://, s3://, gs:// through fsspec): a real HTTP
server on 127.0.0.1 and fsspec's memory filesystem; the content's digest in the
lineage, the store's version tag in the cache key, clear errors for the rest."""

from __future__ import annotations

import hashlib
import http.server
import importlib.util
import tempfile
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import fsspec
import pandas as pd
import pytest

from nodes.data.datasets import ImportCSV
from nodes.data.parquet import ImportParquet
from nodes.data.remote import is_remote
from nodes.errors import NodeInputError
from nodes.testing import run_node
from studio.engine import Engine, MemoryCache
from studio.workflow import Workflow

FRAME = pd.DataFrame({"x": [1.5, 2.5, 3.5, 4.5], "city": ["a", "b", "c", "d"],
                      "label": [0, 1, 0, 1]})


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; counts GETs; sends an ETag (the file's digest) when asked to."""

    def log_message(self, *args):  # quiet
        pass

    def end_headers(self):
        if self.server.with_etag and self.command in ("GET", "HEAD"):
            path = Path(self.translate_path(self.path))
            if path.is_file():
                tag = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
                self.send_header("ETag", f'"{tag}"')
        super().end_headers()

    def do_GET(self):
        self.server.gets.append(self.path)
        super().do_GET()


@pytest.fixture(params=[False, True], ids=["no-etag", "etag"])
def server(request, tmp_path) -> Iterator[tuple[str, Path, http.server.HTTPServer]]:
    folder = tmp_path / "served"
    folder.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            partial(_Handler, directory=str(folder)))
    httpd.with_etag, httpd.gets = request.param, []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", folder, httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def _workflow(node_type: str, url: str) -> Workflow:
    flow = Workflow()
    flow.add_node(node_type, {"path": url, "label_column": "label"}, node_id="data")
    return flow


def test_paths_that_are_urls():
    assert is_remote("https://example.org/a.csv") and is_remote("s3://bucket/key.parquet")
    assert not is_remote("data/a.csv") and not is_remote("C:\\data\\a.csv")
    assert not is_remote("/tmp/a.csv")


def test_a_csv_over_http_reads_as_the_local_file_with_its_digest(server):
    base, folder, _ = server
    FRAME.to_csv(folder / "loans.csv", index=False)
    url = f"{base}/loans.csv"
    copies = set(Path(tempfile.gettempdir()).glob("axon-remote-*"))
    with Engine(cache=MemoryCache()) as engine:
        record = engine.run(_workflow("import_csv", url))
        assert record.status == "succeeded", record.nodes["data"].error
        table = engine.outputs(_workflow("import_csv", url), "data")["data"]
    local = run_node(ImportCSV, {"path": str(folder / "loans.csv"), "label_column": "label"})
    pd.testing.assert_frame_equal(table.frame, local["data"].frame)
    assert table.label_column == "label"
    (read,) = record.lineage["datasets"]
    assert read["source"] == url and read["name"] == "loans.csv"
    assert read["sha256"] == hashlib.sha256((folder / "loans.csv").read_bytes()).hexdigest()
    assert set(Path(tempfile.gettempdir()).glob("axon-remote-*")) == copies  # copy removed


def test_an_unchanged_remote_file_is_a_cache_hit_and_an_edit_re_runs(server):
    base, folder, httpd = server
    FRAME.to_csv(folder / "t.csv", index=False)
    flow = _workflow("import_csv", f"{base}/t.csv")
    with Engine(cache=MemoryCache()) as engine:
        first = engine.run(flow)
        gets = len(httpd.gets)
        second = engine.run(flow)
        assert second.nodes["data"].cache_hit
        if httpd.with_etag:
            assert len(httpd.gets) == gets  # the ETag answered: nothing fetched again
        FRAME.assign(x=FRAME["x"] * 2).to_csv(folder / "t.csv", index=False)
        third = engine.run(flow)
        assert not third.nodes["data"].cache_hit
        assert third.lineage["datasets"][0]["sha256"] != first.lineage["datasets"][0]["sha256"]
        doubled = engine.outputs(flow, "data")["data"].frame["x"].tolist()
    assert doubled == (FRAME["x"] * 2).tolist()


def test_a_missing_remote_file_names_the_node_the_url_and_the_fix(server):
    base, _, _ = server
    with pytest.raises(NodeInputError) as error:
        run_node(ImportCSV, {"path": f"{base}/nowhere.csv"})
    assert "nowhere.csv" in str(error.value) and "Check the URL" in str(error.value)
    with Engine() as engine:
        record = engine.run(_workflow("import_csv", f"{base}/nowhere.csv"))
    assert record.status == "failed" and "nowhere.csv" in record.nodes["data"].error


def test_parquet_from_fsspecs_memory_filesystem():
    memory = fsspec.filesystem("memory")
    with memory.open("/bucket/loans.parquet", "wb") as handle:
        FRAME.to_parquet(handle, index=False)
    try:
        outputs = run_node(ImportParquet, {"path": "memory://bucket/loans.parquet",
                                           "label_column": "label"})
        pd.testing.assert_frame_equal(outputs["data"].frame, FRAME)
        with Engine() as engine:
            record = engine.run(_workflow("import_parquet", "memory://bucket/loans.parquet"))
        data = memory.cat_file("/bucket/loans.parquet")
        assert record.lineage["datasets"][0]["sha256"] == hashlib.sha256(data).hexdigest()
    finally:
        memory.rm("/bucket", recursive=True)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "simplecache::https://example.org/a.csv",
                                 "zip://a.csv::file:///tmp/x.zip", "ftp://example.org/a.csv"])
def test_local_file_protocols_and_chained_urls_are_refused(url):
    with pytest.raises(NodeInputError) as error:
        run_node(ImportCSV, {"path": url})
    assert "does not read" in str(error.value) and "https://" in error.value.fix


@pytest.mark.parametrize(("url", "package", "extra"), [("s3://bucket/a.csv", "s3fs", "s3"),
                                                        ("gs://bucket/a.csv", "gcsfs", "gcs")])
def test_a_store_whose_package_is_missing_names_the_extra(url, package, extra):
    if importlib.util.find_spec(package) is not None:
        pytest.skip(f"{package} is installed here")
    with pytest.raises(NodeInputError) as error:
        run_node(ImportCSV, {"path": url})
    assert package in str(error.value) and f"axon-studio[{extra}]" in error.value.fix
