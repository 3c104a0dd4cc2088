"""`studio export` and `studio serve` as a user runs them, in fresh interpreters."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
HOUSING = REPO / "examples" / "housing_regression.axon.json"


def _studio(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "studio.cli.main", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_export_then_serve_answers_with_the_printed_key(tmp_path):
    exported = _studio("export", str(HOUSING), "--out", "bundle", "--api-key-file", "key.txt",
                       cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    key = (tmp_path / "key.txt").read_text().strip()
    assert key in exported.stdout
    assert (tmp_path / "key.txt").stat().st_mode & 0o077 == 0
    example = json.loads((tmp_path / "bundle" / "manifest.json").read_text())["example"]
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "studio.cli.main", "serve", "bundle",
                               "--port", str(port)], cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/health", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()
                assert time.monotonic() < deadline
                time.sleep(0.1)
        answer = httpx.post(url + "/v1/score", json={"records": [example["request"]]},
                            headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 200
        assert answer.json()["results"] == [example["response"]]
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert "Records are scored by a compiled numpy plan, checked against the nodes." in output


def test_serve_refuses_no_auth_off_loopback_and_a_tampered_bundle(tmp_path):
    assert _studio("export", str(HOUSING), "--out", "bundle", cwd=tmp_path).returncode == 0
    (tmp_path / "bundle" / "scoring.axon.json").write_text("{}")
    refused = _studio("serve", "bundle", cwd=tmp_path)
    assert refused.returncode == 2
    assert "'scoring.axon.json' was changed after export" in refused.stderr
    open_to_all = _studio("serve", "bundle", "--no-auth", "--host", "0.0.0.0", cwd=tmp_path)
    assert open_to_all.returncode == 2 and "loopback" in open_to_all.stderr


def test_studio_run_and_nodes_do_not_load_the_web_stack(tmp_path):
    script = ("import sys, contextlib, io\nfrom studio.cli.main import main\n"
              "with contextlib.redirect_stdout(io.StringIO()):\n"
              "    main(['nodes'])\n"
              "    main(['run', 'examples/housing_regression.axon.json', '--out', "
              "sys.argv[1]])\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] in "
              "('fastapi', 'uvicorn', 'starlette')))")
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "run")],
                            cwd=REPO, capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"
