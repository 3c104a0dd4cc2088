"""Autosave to a recovery folder, and recovery after a crash.

While a document has unsaved changes it is written (atomically) to the
recovery folder every minute, with a small sidecar naming the file it came
from. A clean save or a normal close removes it; whatever is left at the
next start was interrupted and is offered for restoring.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from studio.workflow import Workflow, dumps
from studio.workflow.fileformat import atomic_write_text


def recovery_dir() -> Path:
    override = os.environ.get("AXON_STUDIO_RECOVERY_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("axon-studio")) / "recovery"


@dataclass
class RecoveryFile:
    """A document that was not saved when the app last stopped."""

    path: Path
    original: Path | None
    saved_at: str

    @property
    def label(self) -> str:
        return str(self.original) if self.original else "an untitled workflow"


def recovery_path(original: Path | None, token: str) -> Path:
    """Where a document's autosave goes: by its file, or by a per-window token."""
    key = str(Path(original).resolve()) if original else f"untitled-{token}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return recovery_dir() / f"{digest}.axon.json"


def write_recovery(workflow: Workflow, original: Path | None, token: str,
                   saved_at: str) -> Path:
    target = recovery_path(original, token)
    atomic_write_text(target, dumps(workflow))
    atomic_write_text(target.with_suffix(".meta"), json.dumps(
        {"original": str(original) if original else None, "saved_at": saved_at}))
    return target


def remove_recovery(original: Path | None, token: str) -> None:
    target = recovery_path(original, token)
    for path in (target, target.with_suffix(".meta")):
        path.unlink(missing_ok=True)


def pending_recoveries() -> list[RecoveryFile]:
    folder = recovery_dir()
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob("*.axon.json")):
        try:
            meta = json.loads(path.with_suffix(".meta").read_text())
        except (OSError, ValueError):
            meta = {}
        original = meta.get("original")
        found.append(RecoveryFile(path, Path(original) if original else None,
                                  meta.get("saved_at", "")))
    return found


def discard(recovery: RecoveryFile) -> None:
    for path in (recovery.path, recovery.path.with_suffix(".meta")):
        path.unlink(missing_ok=True)
