"""Publishing a trained workflow as a web service (no Qt).

The API the desktop app and the CLI use::

    from studio.serve import prepare_scoring_workflow, export_bundle, load_bundle, start_server

    scoring = prepare_scoring_workflow(workflow, engine)     # a Workflow: show it, save it
    result = export_bundle(scoring, "bundle/")                # result.folder, result.api_key
    bundle = load_bundle("bundle/")                           # verifies every digest
    handle = start_server(bundle, api_key=result.api_key)     # handle.url, handle.api_key
    handle.stop()

FastAPI and uvicorn are imported only when a server is built or an export
writes its OpenAPI document.
"""

from studio.serve.bundle import Bundle, ExportResult, export_bundle, load_bundle
from studio.serve.errors import BundleError, PrepareError, RequestDataError
from studio.serve.prepare import prepare_scoring_workflow
from studio.serve.scoring import ScoringPipeline
from studio.serve.server import ServerHandle, start_server

__all__ = [
    "Bundle", "BundleError", "ExportResult", "PrepareError", "RequestDataError",
    "ScoringPipeline", "ServerHandle", "export_bundle", "load_bundle",
    "prepare_scoring_workflow", "start_server",
]
