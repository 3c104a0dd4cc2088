"""Running the service: in the foreground (``studio serve``) or on a background thread.

    handle = start_server("bundle/")           # or a loaded Bundle
    handle.url, handle.api_key                  # http://127.0.0.1:PORT, the key to send
    handle.stop()

``start_server`` is what the desktop app's Publish action calls. Several
worker processes (``--workers N``) each load and verify the bundle; batch
jobs live in a shared folder so every worker sees them.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nodes.errors import StudioError
from studio.serve.auth import key_digest, new_api_key
from studio.serve.bundle import Bundle, load_bundle
from studio.serve.errors import BundleError

LOOPBACK = ("127.0.0.1", "localhost", "::1")
_CONFIG_VARIABLE = "AXON_SERVE_CONFIG"


@dataclass
class ServerHandle:
    """A server running on a background thread."""

    url: str
    api_key: str | None
    bundle: Bundle
    _server: Any = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting requests, finish the ones in flight, and return."""
        self._server.should_exit = True
        self._thread.join(timeout)
        self._server.app_state_service.jobs.close()

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_server(bundle: Bundle | str | Path, *, host: str = "127.0.0.1", port: int = 0,
                 api_key: str | None = None, no_auth: bool = False,
                 max_body_bytes: int | None = None, data_dir: Path | None = None,
                 jobs_dir: Path | None = None, trusted: bool = False) -> ServerHandle:
    """Serve ``bundle`` on a background thread; returns once it accepts connections.

    ``port`` 0 picks a free port. The server accepts the bundle's own key
    and ``api_key`` (a new one is made when not given; ``handle.api_key``
    tells it), unless ``no_auth`` (loopback only).
    """
    import uvicorn

    from studio.serve.app import DEFAULT_MAX_BODY_BYTES, create_app

    if not isinstance(bundle, Bundle):
        bundle = load_bundle(bundle, trusted=trusted)
    check_host(host, no_auth)
    digests = None
    if not no_auth:
        api_key = api_key or new_api_key()
        digests = [*bundle.api_key_digests, key_digest(api_key)]
    else:
        api_key = None
    app = create_app(bundle, key_digests=digests,
                     max_body_bytes=max_body_bytes or DEFAULT_MAX_BODY_BYTES,
                     data_dir=data_dir, jobs_dir=jobs_dir)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning",
                            access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    server.app_state_service = app.state.service  # for stop()
    thread = threading.Thread(target=server.run, name="axon-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise BundleError(str(bundle.folder), [f"the server could not start on "
                                                   f"{host}:{port}"],
                              fix="Choose another port, or stop what is using it.")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()
    shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
    return ServerHandle(f"http://{shown}:{bound[1]}", api_key, bundle, server, thread)


def check_host(host: str, no_auth: bool) -> None:
    """Refuse to serve without API keys anywhere but on a loopback address."""
    if no_auth and host not in LOOPBACK:
        raise StudioError(f"serving without API keys is only allowed on a loopback address, "
                          f"not {host}.", fix="Use --host 127.0.0.1, or keep API keys on.")


def serve_forever(folder: Path, *, host: str, port: int, workers: int,
                  key_digests: list[str] | None, max_body_bytes: int,
                  data_dir: Path | None, trusted: bool = False) -> None:
    """Run uvicorn in the foreground until Ctrl-C (``studio serve``)."""
    import uvicorn

    check_host(host, key_digests is None)
    jobs_dir = Path(tempfile.mkdtemp(prefix="axon-jobs-"))
    config = {"folder": str(folder), "key_digests": key_digests,
              "max_body_bytes": max_body_bytes, "jobs_dir": str(jobs_dir),
              "data_dir": str(data_dir) if data_dir else None, "trusted": trusted}
    os.environ[_CONFIG_VARIABLE] = json.dumps(config)
    if workers > 1:
        uvicorn.run("studio.serve.server:app_from_environment", factory=True, host=host,
                    port=port, workers=workers, log_level="info", access_log=False)
    else:
        # No access log: one line per request costs more than scoring a record.
        uvicorn.run(app_from_environment(), host=host, port=port, log_level="info",
                    access_log=False)


def app_from_environment() -> Any:
    """The app of each worker process, configured by ``serve_forever``."""
    from studio.serve.app import create_app

    config = json.loads(os.environ[_CONFIG_VARIABLE])
    bundle = load_bundle(config["folder"], trusted=bool(config.get("trusted")))
    digests = config["key_digests"]
    return create_app(bundle, key_digests=digests, max_body_bytes=config["max_body_bytes"],
                      jobs_dir=Path(config["jobs_dir"]),
                      data_dir=Path(config["data_dir"]) if config["data_dir"] else None)
