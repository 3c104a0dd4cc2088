"""Publishing a trained workflow as a web service (no Qt).

The API the desktop app and the CLI use::

    from studio.serve import prepare_scoring_workflow, export_bundle, load_bundle, start_server

    scoring = prepare_scoring_workflow(workflow, engine)     # a Workflow: show it, save it
    result = export_bundle(scoring, "bundle/", signing_key="alice")   # signed by key file alice
    bundle = load_bundle("bundle/", trust_keys=load_trusted_keys(["alice.pub"]))
    handle = start_server(bundle, api_key=result.api_key)     # handle.url, handle.api_key
    handle.stop()

``load_bundle`` verifies the manifest's signature against the trusted keys
(``allow_unsigned=True`` skips that; a bundle this process exported needs
none), then every file's digest.

FastAPI and uvicorn are imported only when a server is built or an export
writes its OpenAPI document.
"""

from studio.serve.bundle import Bundle, ExportResult, export_bundle, load_bundle, sign_bundle
from studio.serve.errors import BundleError, PrepareError, RequestDataError
from studio.serve.prepare import prepare_scoring_workflow
from studio.serve.scoring import ScoringPipeline
from studio.serve.server import ServerHandle, start_server
from studio.serve.signing import (
    KeyFileError,
    TrustedKey,
    load_signing_key,
    load_trusted_keys,
    new_key_pair,
)

__all__ = [
    "Bundle", "BundleError", "ExportResult", "KeyFileError", "PrepareError",
    "RequestDataError", "ScoringPipeline", "ServerHandle", "TrustedKey", "export_bundle",
    "load_bundle", "load_signing_key", "load_trusted_keys", "new_key_pair",
    "prepare_scoring_workflow", "sign_bundle", "start_server",
]
