"""Running the service: in the foreground (``studio serve``) or on a background thread.

    handle = start_server("bundle/", trust_keys=load_trusted_keys(["alice.pub"]))
    handle.url, handle.api_key                  # http://127.0.0.1:PORT, the key to send
    handle.stop()

``start_server`` is what the desktop app's Publish action calls. With
``--workers N`` every worker process loads and verifies the bundle itself;
batch jobs live in a shared folder so every worker sees them; SIGHUP to the
main process is passed on to every worker, and each reloads its API keys
in place (no worker restarts, no request dropped).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nodes.errors import StudioError
from studio.serve.auth import KeyRing, key_digest, new_api_key, read_key_file
from studio.serve.bundle import Bundle, load_bundle
from studio.serve.errors import BundleError
from studio.serve.signing import TrustedKey, trusted_key_from_pem

if TYPE_CHECKING:  # the web stack loads only when a server starts
    from studio.serve.connections import ConnectionGuard, ConnectionLimits
    from studio.serve.service import ServiceSettings

log = logging.getLogger("axon.serve")

LOOPBACK = ("127.0.0.1", "localhost", "::1")
_CONFIG_VARIABLE = "AXON_SERVE_CONFIG"
#: Seconds the server waits for requests being answered when asked to stop.
GRACEFUL_SECONDS = 30

LOG_CONFIG: dict[str, Any] = {
    "version": 1, "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain",
                            "stream": "ext://sys.stderr"}},
    "loggers": {"uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
                # Our access log replaces uvicorn's (it has the request id and the size).
                "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
                "axon": {"handlers": ["stderr"], "level": "INFO", "propagate": False}},
}


@dataclass
class ServerHandle:
    """A server running on a background thread."""

    url: str
    api_key: str | None
    bundle: Bundle
    app: Any = field(repr=False)
    _server: Any = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def service(self) -> Any:
        return self.app.state.service

    def reload_keys(self) -> tuple[bool, str]:
        """Read ``--api-key-file`` again (what SIGHUP does to ``studio serve``)."""
        return reload_keys(self.service)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting requests, finish the ones in flight, and return."""
        self._server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_server(bundle: Bundle | str | Path, *, host: str = "127.0.0.1", port: int = 0,
                 api_key: str | None = None, no_auth: bool = False,
                 max_body_bytes: int | None = None, data_dir: Path | None = None,
                 jobs_dir: Path | None = None, trusted: bool = False,
                 trust_keys: Sequence[TrustedKey] = (), allow_unsigned: bool = False,
                 key_file: Path | None = None, settings: ServiceSettings | None = None,
                 limits: ConnectionLimits | None = None) -> ServerHandle:
    """Serve ``bundle`` on a background thread; returns once it accepts connections.

    A folder is verified first (``load_bundle``: its signature against
    ``trust_keys`` unless ``allow_unsigned`` or this process exported it).
    ``port`` 0 picks a free port. The server accepts the bundle's own keys
    (or those of ``key_file``) and ``api_key`` (a new one is made when not
    given; ``handle.api_key`` tells it), unless ``no_auth`` (loopback only).
    """
    import uvicorn

    from studio.serve.app import create_app
    from studio.serve.connections import ConnectionLimits, guarded_protocol
    from studio.serve.service import ServiceSettings

    if not isinstance(bundle, Bundle):
        bundle = load_bundle(bundle, trusted=trusted, trust_keys=trust_keys,
                             allow_unsigned=allow_unsigned)
    check_host(host, no_auth)
    keys = None
    if not no_auth:
        api_key = api_key or new_api_key()
        base = read_key_file(key_file) if key_file else bundle.api_key_digests
        keys = KeyRing(base, key_file=key_file, session=[key_digest(api_key)])
    else:
        api_key = None
    settings = settings or ServiceSettings()
    if max_body_bytes:
        settings.max_body_bytes = max_body_bytes
    if data_dir:
        settings.data_dir = Path(data_dir)
    if jobs_dir:
        settings.jobs_dir = Path(jobs_dir)
    app = create_app(bundle, keys=keys, settings=settings)
    limits = limits or ConnectionLimits()
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                            lifespan="on", timeout_keep_alive=limits.keep_alive,
                            http=guarded_protocol(_guard(app, limits)),
                            timeout_graceful_shutdown=GRACEFUL_SECONDS)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="axon-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise BundleError(str(bundle.folder), [f"the server could not start on "
                                                   f"{host}:{port}"],
                              fix="Choose another port, or stop what is using it.")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()
    shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
    return ServerHandle(f"http://{shown}:{bound[1]}", api_key, bundle, app, server, thread)


def check_host(host: str, no_auth: bool) -> None:
    """Refuse to serve without API keys anywhere but on a loopback address."""
    if no_auth and host not in LOOPBACK:
        raise StudioError(f"serving without API keys is only allowed on a loopback address, "
                          f"not {host}.", fix="Use --host 127.0.0.1, or keep API keys on.")


def reload_keys(service: Any) -> tuple[bool, str]:
    """Reload the API keys of a running service, logging and counting the outcome."""
    if service.keys is None:
        return False, "no API keys to reload (--no-auth)"
    reloaded, note = service.keys.reload()
    service.metrics.key_reloads.labels("reloaded" if reloaded else "kept").inc()
    (log.info if reloaded else log.warning)("API keys %s (process %d)",
                                            f"reloaded: {note}" if reloaded else note,
                                            os.getpid())
    return reloaded, note


def _guard(app: Any, limits: ConnectionLimits) -> ConnectionGuard:
    from studio.serve.connections import ConnectionGuard

    metrics = app.state.service.metrics
    return ConnectionGuard(limits, lambda reason: metrics.connections.labels(reason).inc())


# -- studio serve ---------------------------------------------------------------

@dataclass
class ServeConfig:
    """Everything a worker process needs to build the same service (passed as JSON)."""

    folder: str
    host: str
    port: int
    workers: int
    key_digests: list[str] | None  # None: no authentication
    key_file: str | None
    trust_keys: list[tuple[str, str]]  # (PEM, where it came from)
    allow_unsigned: bool
    trusted: bool
    settings: dict[str, Any]
    limits: dict[str, Any]


def serve_forever(config: ServeConfig) -> None:
    """Run uvicorn in the foreground until Ctrl-C or SIGTERM (``studio serve``)."""
    import uvicorn

    from studio.serve.connections import ConnectionLimits

    check_host(config.host, config.key_digests is None)
    limits = ConnectionLimits(**config.limits)
    options = dict(host=config.host, port=config.port, log_config=LOG_CONFIG,
                   access_log=False, lifespan="on", timeout_keep_alive=limits.keep_alive,
                   timeout_graceful_shutdown=GRACEFUL_SECONDS,
                   http="studio.serve.connections:ServerProtocol")
    os.environ[_CONFIG_VARIABLE] = json.dumps(asdict(config))
    if config.workers > 1:
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="axon-metrics-")
        uvicorn_config = uvicorn.Config("studio.serve.server:app_from_environment",
                                        factory=True, workers=config.workers,
                                        # a worker loads and checks the bundle before it
                                        # answers: give it time on a busy machine
                                        timeout_worker_healthcheck=120, **options)
        sockets = [uvicorn_config.bind_socket()]
        _supervisor(uvicorn_config, sockets).run()
        return
    app = app_from_environment()
    signal.signal(signal.SIGHUP, lambda *_: reload_keys(app.state.service))
    uvicorn.Server(uvicorn.Config(app, **options)).run()


def app_from_environment() -> Any:
    """The app of a ``studio serve`` process, configured by ``serve_forever``: loads and
    verifies the bundle, and reloads the API keys on SIGHUP."""
    from studio.serve.app import create_app
    from studio.serve.connections import ConnectionLimits, ServerProtocol
    from studio.serve.service import ServiceSettings

    config = ServeConfig(**json.loads(os.environ[_CONFIG_VARIABLE]))
    trust = [trusted_key_from_pem(pem, source) for pem, source in config.trust_keys]
    bundle = load_bundle(config.folder, trusted=config.trusted, trust_keys=trust,
                         allow_unsigned=config.allow_unsigned)
    keys = None
    if config.key_digests is not None:
        key_file = Path(config.key_file) if config.key_file else None
        keys = KeyRing(read_key_file(key_file) if key_file else config.key_digests,
                       key_file=key_file)
    settings = ServiceSettings(**{**config.settings,
                                  "data_dir": _path(config.settings.get("data_dir")),
                                  "jobs_dir": _path(config.settings.get("jobs_dir"))})
    app = create_app(bundle, keys=keys, settings=settings)
    ServerProtocol.guard = _guard(app, ConnectionLimits(**config.limits))
    if threading.current_thread() is threading.main_thread() and config.workers > 1:
        signal.signal(signal.SIGHUP, lambda *_: reload_keys(app.state.service))
    return app


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _supervisor(config: Any, sockets: list[Any]) -> Any:
    """uvicorn's worker supervisor, except that SIGHUP reloads the keys in every worker
    instead of replacing the workers (a replacement slow to load its bundle made uvicorn
    abort the restart and keep the old keys)."""
    from uvicorn.supervisors.multiprocess import Multiprocess

    class Supervisor(Multiprocess):
        def handle_hup(self) -> None:
            for process in self.processes:
                if process.pid is not None and process.process.is_alive():
                    os.kill(process.pid, signal.SIGHUP)
            log.info("SIGHUP passed on to %d worker(s): each reloads its API keys",
                     len(self.processes))

    return Supervisor(config, sockets)
