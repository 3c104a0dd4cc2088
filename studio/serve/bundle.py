"""Service bundles: a self-contained folder that ``studio serve`` runs.

    bundle/
      manifest.json         name, version, schemas, lineage, environment, API key
                            digests, and the SHA-256 of every other file
      scoring.axon.json     the scoring workflow (artifact paths relative to the bundle)
      models/<node>/        each trained model / fitted transform, in safe formats
                            (skops for scikit-learn, registered formats such as .keras)
      openapi.json          the service's OpenAPI document
      README.md             the endpoints and example requests

      manifest.sig          the Ed25519 signature of manifest.json (``--sign-key``)

``load_bundle`` first checks the signature against the trusted keys (the
manifest pins every other file, so this one check covers the bundle), then
every digest and that no file is missing or added, before anything is
loaded; then the stored models check their own lineage digests as they load.
Nothing in a bundle is unpickled. See ``studio.serve.signing``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from nodes.digest import file_digest
from nodes.errors import StudioError
from studio.engine.record import environment
from studio.serve.auth import key_digest, new_api_key
from studio.serve.errors import BundleError
from studio.serve.prepare import stored_value_nodes
from studio.serve.schema import frame_to_records, output_schema, records_to_frame
from studio.serve.scoring import ScoringPipeline
from studio.serve.signing import (
    SIGNATURE_FILE,
    TrustedKey,
    Verification,
    key_id,
    load_signing_key,
    signature_document,
    verify,
)
from studio.workflow import Workflow, load_workflow, save_workflow

log = logging.getLogger("axon.serve")

BUNDLE_FORMAT = "axon-studio-service-bundle"
BUNDLE_VERSION = 1
MANIFEST = "manifest.json"
WORKFLOW_FILE = "scoring.axon.json"
#: Manifests this process wrote, by bundle folder: such a bundle needs no signature
#: to be served by the same process (the app's Publish exports and serves at once).
#: The manifest must be byte-identical, and it pins every other file.
_EXPORTED_HERE: dict[str, str] = {}


@dataclass
class ExportResult:
    """What ``export_bundle`` wrote: the folder, the API key (shown once) and the manifest."""

    folder: Path
    api_key: str
    manifest: dict[str, Any]
    signed_by: str | None = None  # the signing key's id (``--sign-key``)


@dataclass
class Bundle:
    """A verified bundle: its manifest, its scoring workflow and the ready pipeline."""

    folder: Path
    manifest: dict[str, Any]
    workflow: Workflow
    pipeline: ScoringPipeline
    manifest_sha256: str = ""
    verification: Verification = field(default_factory=lambda: Verification(None, ""))

    @property
    def name(self) -> str:
        return str(self.manifest["name"])

    @property
    def api_key_digests(self) -> list[str]:
        return list(self.manifest.get("auth", {}).get("key_sha256", []))

    @property
    def digest(self) -> str:
        """SHA-256 of the manifest as verified at load, which pins every file of the bundle."""
        return self.manifest_sha256

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", "1"))


SigningKey = Ed25519PrivateKey | str | Path


def export_bundle(scoring: Workflow, out_dir: str | Path, *, name: str | None = None,
                  version: str = "1", api_key: str | None = None,
                  overwrite: bool = False, trusted: bool = False,
                  signing_key: SigningKey | None = None) -> ExportResult:
    """Write the bundle of a prepared scoring workflow into ``out_dir``.

    ``api_key`` (default: a new random one) is stored only as its digest.
    ``signing_key`` (an Ed25519 private key, or the path of one made by
    ``studio keys new``) signs the manifest. An existing non-empty
    ``out_dir`` is replaced only with ``overwrite`` and only when it is a
    bundle. The folder is staged beside ``out_dir`` and renamed into place,
    so a failed export leaves nothing half-written.
    """
    private_key = _signing_key(signing_key)
    out_dir = Path(out_dir)
    replaceable = overwrite and (out_dir / MANIFEST).is_file()
    if out_dir.exists() and any(out_dir.iterdir()) and not replaceable:
        raise BundleError(str(out_dir), ["the folder exists and is not empty"],
                          fix="Choose a new folder (or --overwrite an older bundle).")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        manifest, key = _write_bundle(scoring, staging, name, version, api_key, trusted)
        manifest_bytes = (staging / MANIFEST).read_bytes()
        if private_key is not None:
            (staging / SIGNATURE_FILE).write_bytes(signature_document(manifest_bytes,
                                                                      private_key))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _EXPORTED_HERE[str(out_dir.resolve())] = hashlib.sha256(manifest_bytes).hexdigest()
    return ExportResult(out_dir, key, manifest,
                        key_id(private_key.public_key()) if private_key else None)


def sign_bundle(folder: str | Path, signing_key: SigningKey) -> str:
    """Sign an exported bundle (after checking every digest); returns the key id.

    Signing adds ``manifest.sig`` and changes no other file, so a bundle
    exported unsigned can be signed later by whoever vouches for it.
    """
    private_key = _signing_key(signing_key)
    folder = Path(folder).resolve()
    manifest_bytes, manifest = _read_manifest(folder)
    _check_files(folder, manifest)
    (folder / SIGNATURE_FILE).write_bytes(signature_document(manifest_bytes, private_key))
    return key_id(private_key.public_key())


def _signing_key(signing_key: SigningKey | None) -> Ed25519PrivateKey | None:
    if signing_key is None or isinstance(signing_key, Ed25519PrivateKey):
        return signing_key
    return load_signing_key(signing_key)


def _write_bundle(scoring: Workflow, folder: Path, name: str | None, version: str,
                  api_key: str | None, trusted: bool) -> tuple[dict[str, Any], str]:
    workflow = scoring.copy()
    for node_id in stored_value_nodes(workflow):
        node = workflow.nodes[node_id]
        source = Path(node.params["path"])
        if not source.is_dir():
            raise BundleError(str(folder), [f"the stored value of '{workflow.label(node.id)}'"
                                            f" ({source}) does not exist"],
                              fix="Prepare the scoring workflow again.")
        relative = Path("models") / node.id
        shutil.copytree(source, folder / relative)
        node.params = {**node.params, "path": relative.as_posix()}
    save_workflow(workflow, folder / WORKFLOW_FILE)

    try:
        pipeline = ScoringPipeline(_absolute(workflow, folder), trusted=trusted)
    except StudioError as error:
        raise BundleError(str(folder), [str(error)],
                          fix="Prepare the scoring workflow again.") from None
    service = dict(workflow.info.extra.get("service", {}))
    example = service.get("example") or {}
    try:
        example_frame = records_to_frame([example], pipeline.schema, pipeline.unknown_columns)
        answer = pipeline.score(example_frame).frame
    except StudioError as error:
        raise BundleError(str(folder), [f"the pipeline cannot score its example row: {error}"],
                          fix="Run the training workflow and prepare again.") from None
    key = api_key or new_api_key()
    manifest: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "bundle_version": BUNDLE_VERSION,
        "name": name or scoring.info.name or "scoring pipeline",
        "version": version,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "scoring_workflow": WORKFLOW_FILE,
        "input_schema": pipeline.schema,
        "unknown_columns": pipeline.unknown_columns,
        "output_schema": output_schema(answer),
        "global_parameters": pipeline.describe_global_parameters(),
        "example": {"request": example, "response": frame_to_records(answer)[0]},
        "source_workflow": service.get("source_workflow"),
        "training_run": service.get("training_run"),
        "lineage": service.get("lineage", {}),
        "environment": {"training": service.get("environment", {}),
                        "export": {k: v for k, v in environment().items()
                                   if k != "executable"}},
        "auth": {"scheme": "Bearer", "key_sha256": [key_digest(key)]},
    }
    from studio.ownership.artifacts import ownership_manifest

    # The data-ownership digest of every model served (inside the signature).
    ownership = ownership_manifest(scoring)
    if ownership is not None:
        manifest["ownership"] = ownership
    from studio.serve.app import build_openapi  # FastAPI only when exporting or serving

    (folder / "openapi.json").write_text(json.dumps(build_openapi(manifest), indent=2) + "\n")
    (folder / "README.md").write_text(_readme(manifest), encoding="utf-8")
    manifest["files"] = {path.relative_to(folder).as_posix(): file_digest(path)
                         for path in sorted(folder.rglob("*")) if path.is_file()}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, allow_nan=False) + "\n")
    return manifest, key


def load_bundle(folder: str | Path, *, trusted: bool = False,
                trust_keys: Sequence[TrustedKey] = (), allow_unsigned: bool = False) -> Bundle:
    """Verify and load a bundle; raises BundleError naming every problem found.

    The manifest's signature must verify against one of ``trust_keys``
    (``studio serve --trust-key``), unless ``allow_unsigned``, or unless
    this process exported the bundle itself. Then every file's digest is
    checked, before anything is loaded. Loading runs no code stored in the
    bundle unless ``trusted`` (``serve --trust``): signing says who made a
    bundle, trusting says its code may run; they are separate decisions.
    """
    folder = Path(folder).resolve()
    manifest_bytes, manifest = _read_manifest(folder)
    verification = _verify_signature(folder, manifest_bytes, trust_keys, allow_unsigned)
    _check_files(folder, manifest)
    try:
        workflow = load_workflow(folder / WORKFLOW_FILE)
        pipeline = ScoringPipeline(_absolute(workflow, folder), trusted=trusted)
    except StudioError as error:
        raise BundleError(str(folder), [str(error)], fix="Export the bundle again.") from None
    return Bundle(folder, manifest, workflow, pipeline,
                  hashlib.sha256(manifest_bytes).hexdigest(), verification)


def check_signature_and_files(folder: str | Path, trust_keys: Sequence[TrustedKey]
                              ) -> Verification:
    """The checks ``load_bundle`` makes before loading anything (``studio keys verify``)."""
    folder = Path(folder).resolve()
    manifest_bytes, manifest = _read_manifest(folder)
    verification = _verify_signature(folder, manifest_bytes, trust_keys, False)
    _check_files(folder, manifest)
    return verification


def _verify_signature(folder: Path, manifest_bytes: bytes, trust_keys: Sequence[TrustedKey],
                      allow_unsigned: bool) -> Verification:
    signature_path = folder / SIGNATURE_FILE
    signature = signature_path.read_bytes() if signature_path.is_file() else None
    signer, reason = verify(manifest_bytes, signature, trust_keys)
    if signer is not None:
        source = next(k.source for k in trust_keys if k.key_id == signer)
        return Verification(signer, f"signed by key {signer} (trusted: {source})")
    digest = hashlib.sha256(manifest_bytes).hexdigest()
    if _EXPORTED_HERE.get(str(folder)) == digest:
        return Verification(None, "exported by this process (its manifest is unchanged)")
    if allow_unsigned:
        note = f"NOT verified: {reason} (served with --allow-unsigned)"
        log.warning("the bundle %s is %s", folder, note)
        return Verification(None, note)
    fix = ("Serve it with --trust-key PUB, the public key of whoever signed it (made by "
           "'studio keys new'); export it again with --sign-key if it was changed; or, "
           "for a bundle you built yourself, --allow-unsigned.")
    raise BundleError(str(folder), [f"{reason}; the manifest pins every file, so without a "
                                    "trusted signature an edited bundle cannot be told from "
                                    "the exported one"], fix=fix)


def _check_files(folder: Path, manifest: dict[str, Any]) -> None:
    problems = []
    listed = manifest.get("files")
    if not isinstance(listed, dict) or WORKFLOW_FILE not in listed:
        raise BundleError(str(folder), ["the manifest lists no files"],
                          fix="Export the bundle again.")
    for relative, expected in sorted(listed.items()):
        path = (folder / relative).resolve()
        if folder not in path.parents:
            problems.append(f"'{relative}' points outside the bundle")
        elif not path.is_file():
            problems.append(f"'{relative}' is missing")
        elif file_digest(path) != expected:
            problems.append(f"'{relative}' was changed after export (its SHA-256 does not "
                            "match the manifest)")
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_file() and relative not in (MANIFEST, SIGNATURE_FILE) \
                and relative not in listed:
            problems.append(f"'{relative}' is not part of the exported bundle")
    if problems:
        raise BundleError(str(folder), problems,
                          fix="Export the bundle again from its training workflow; do not "
                              "edit or add files inside it.")


def _read_manifest(folder: Path) -> tuple[bytes, dict[str, Any]]:
    path = folder / MANIFEST
    if not folder.is_dir():
        raise BundleError(str(folder), ["the folder does not exist"])
    try:
        data = path.read_bytes()
        manifest = json.loads(data)
    except FileNotFoundError:
        raise BundleError(str(folder), ["it has no manifest.json (is it a bundle?)"],
                          fix="Give the folder written by 'studio export'.") from None
    except (OSError, ValueError, RecursionError) as error:
        raise BundleError(str(folder), [f"manifest.json cannot be read: {error}"]) from None
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise BundleError(str(folder), ["manifest.json is not an Axon Studio bundle manifest"])
    version = manifest.get("bundle_version")
    if not isinstance(version, int) or version > BUNDLE_VERSION:
        raise BundleError(str(folder), [f"bundle version {version!r} is newer than this "
                                        f"program reads ({BUNDLE_VERSION})"],
                          fix="Upgrade Axon Studio.")
    return data, manifest


def _absolute(workflow: Workflow, folder: Path) -> Workflow:
    """A copy whose stored-value paths point into ``folder`` (they must stay inside it)."""
    copy = workflow.copy()
    for node_id in stored_value_nodes(copy):
        node = copy.nodes[node_id]
        path = (folder / node.params["path"]).resolve()
        if folder.resolve() not in path.parents:
            raise BundleError(str(folder), [f"'{copy.label(node.id)}' points outside the "
                                            "bundle"])
        node.params = {**node.params, "path": str(path)}
    return copy


def _readme(manifest: dict[str, Any]) -> str:
    example = manifest["example"]
    inputs = "\n".join(f"| {e['name']} | {e['dtype']} | {'yes' if e['required'] else 'no'} |"
                       for e in manifest["input_schema"])
    outputs = "\n".join(f"| {e['name']} | {e['dtype']} |" for e in manifest["output_schema"])
    columns = [e["name"] for e in manifest["input_schema"] if e["name"] in example["request"]]
    classic = {"Inputs": {"input1": {"ColumnNames": columns,
                                     "Values": [[str(example["request"][c]) for c in columns]]}},
               "GlobalParameters": {}}
    modern = {"records": [example["request"]]}
    return f"""# {manifest['name']} (version {manifest['version']})

An Axon Studio service bundle. Serve it with the public key of whoever
signed it (`manifest.sig`):

    studio serve THIS_FOLDER --trust-key SIGNER.pub --port 8000

(`--allow-unsigned` instead, for an unsigned bundle you built yourself.)

Every request needs `Authorization: Bearer <API key>` (the key shown when the
bundle was exported). Interactive docs: `/docs`; OpenAPI: `/openapi.json`.

## Inputs

| column | dtype | required |
| --- | --- | --- |
{inputs}

Unknown columns: {manifest['unknown_columns']}. Values may be sent as strings.

## Outputs

| column | dtype |
| --- | --- |
{outputs}

## Score records

    curl -s http://127.0.0.1:8000/v1/score \\
      -H "Authorization: Bearer $API_KEY" -H "Content-Type: application/json" \\
      -d '{json.dumps(modern)}'

Answer: `{json.dumps({"results": [example["response"]]})}`

## Azure ML Studio (classic) request/response

    POST /workspaces/WS/services/SVC/execute?api-version=2.0&details=true

    {json.dumps(classic)}

Batch jobs: `POST /v1/jobs` (JSON records or CSV), `GET /v1/jobs/ID`,
`GET /v1/jobs/ID/result`; classic: `POST .../services/SVC/jobs?api-version=2.0`,
`POST .../jobs/ID/start`, `GET .../jobs/ID`, `DELETE .../jobs/ID`.

## Lineage

Trained on datasets with SHA-256: {', '.join(sorted({d['sha256'] for d in
    manifest['lineage'].get('datasets', [])})) or 'unknown'}.
"""
