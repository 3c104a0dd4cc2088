"""`studio keys`, `studio export` and `studio serve` as a user runs them, in fresh interpreters."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
from serve_helpers import REPO, ServeProcess, studio

HOUSING = REPO / "examples" / "housing_regression.axon.json"


def test_keys_export_signed_then_serve_with_the_public_key(tmp_path):
    made = studio("keys", "new", "alice", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "alice").stat().st_mode & 0o077 == 0
    assert (tmp_path / "alice.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    exported = studio("export", HOUSING, "--out", "bundle", "--api-key-file", "key.txt",
                      "--sign-key", "alice", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert "Signed by key" in exported.stdout and "--trust-key alice.pub" in exported.stdout
    key = (tmp_path / "key.txt").read_text().strip()
    assert key in exported.stdout
    assert (tmp_path / "key.txt").stat().st_mode & 0o077 == 0
    verified = studio("keys", "verify", "bundle", "--trust-key", "alice.pub", cwd=tmp_path)
    assert verified.returncode == 0 and "signed by key" in verified.stdout
    example = json.loads((tmp_path / "bundle" / "manifest.json").read_text())["example"]
    server = ServeProcess("bundle", "--trust-key", "alice.pub", cwd=tmp_path)
    try:
        server.wait_ready()
        answer = httpx.post(server.url + "/v1/score", json={"records": [example["request"]]},
                            headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 200
        assert answer.json()["results"] == [example["response"]]
    finally:
        output = server.stop()
    assert "Records are scored by a compiled numpy plan, checked against the nodes." in output
    assert "Bundle: signed by key" in output and "alice.pub" in output
    assert "Traceback" not in output


def test_unsigned_or_wrongly_signed_bundles_are_refused_naming_why(tmp_path):
    assert studio("keys", "new", "alice", cwd=tmp_path).returncode == 0
    assert studio("keys", "new", "mallory", cwd=tmp_path).returncode == 0
    assert studio("export", HOUSING, "--out", "bundle", cwd=tmp_path).returncode == 0
    unsigned = studio("serve", "bundle", "--trust-key", "alice.pub", cwd=tmp_path)
    assert unsigned.returncode == 2
    assert "it is not signed (no manifest.sig)" in unsigned.stderr
    assert "--allow-unsigned" in unsigned.stderr and "Traceback" not in unsigned.stderr
    no_key = studio("serve", "bundle", cwd=tmp_path)
    assert no_key.returncode == 2 and "not signed" in no_key.stderr
    signed = studio("keys", "sign", "bundle", "--sign-key", "mallory", cwd=tmp_path)
    assert signed.returncode == 0, signed.stderr
    foreign = studio("serve", "bundle", "--trust-key", "alice.pub", cwd=tmp_path)
    assert foreign.returncode == 2
    assert "which is not a trusted key" in foreign.stderr
    # A private key is never what a server is given.
    private = studio("serve", "bundle", "--trust-key", "alice", cwd=tmp_path)
    assert private.returncode == 2 and "is a private key" in private.stderr
    # A signing key others may read is refused before anything is exported.
    (tmp_path / "alice").chmod(0o644)
    exposed = studio("export", HOUSING, "--out", "other", "--sign-key", "alice", cwd=tmp_path)
    assert exposed.returncode == 2 and "chmod 600" in exposed.stderr
    assert not (tmp_path / "other").exists()


def test_allow_unsigned_serves_a_bundle_you_built_and_says_so(tmp_path):
    assert studio("export", HOUSING, "--out", "bundle", cwd=tmp_path).returncode == 0
    server = ServeProcess("bundle", "--allow-unsigned", cwd=tmp_path)
    try:
        server.wait_ready()
        ready = httpx.get(server.url + "/ready").json()
    finally:
        output = server.stop()
    assert "NOT verified: it is not signed" in ready["checks"]["bundle"]
    assert "Bundle: NOT verified" in output


def test_serve_refuses_no_auth_off_loopback_and_a_tampered_bundle(tmp_path):
    assert studio("keys", "new", "alice", cwd=tmp_path).returncode == 0
    assert studio("export", HOUSING, "--out", "bundle", "--sign-key", "alice",
                  cwd=tmp_path).returncode == 0
    (tmp_path / "bundle" / "scoring.axon.json").write_text("{}")
    refused = studio("serve", "bundle", "--allow-unsigned", cwd=tmp_path)
    assert refused.returncode == 2
    assert "'scoring.axon.json' was changed after export" in refused.stderr
    open_to_all = studio("serve", "bundle", "--no-auth", "--host", "0.0.0.0", cwd=tmp_path)
    assert open_to_all.returncode == 2 and "loopback" in open_to_all.stderr


def test_studio_run_and_nodes_do_not_load_the_web_stack(tmp_path):
    script = ("import sys, contextlib, io\nfrom studio.cli.main import main\n"
              "with contextlib.redirect_stdout(io.StringIO()):\n"
              "    main(['nodes'])\n"
              "    main(['run', 'examples/housing_regression.axon.json', '--out', "
              "sys.argv[1]])\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] in "
              "('fastapi', 'uvicorn', 'starlette', 'prometheus_client')))")
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "run")],
                            cwd=REPO, capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_importing_studio_serve_loads_no_web_framework():
    script = ("import sys, studio.serve\nprint(sorted(m for m in sys.modules if "
              "m.split('.')[0] in ('fastapi', 'uvicorn', 'starlette', 'prometheus_client')))")
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                            text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"
