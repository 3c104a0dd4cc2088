"""Who owns a dataset and on which terms it may be used: the sidecar's ``ownership``.

A sample dataset's sidecar is ``sample_datasets/<name>.json``; any other
CSV or Parquet file gets ``<file>.axon-data.json`` beside it (``studio data
describe``). Its ``ownership`` section::

    "ownership": {
      "owners": [{"id": "acme-bank", "name": "Acme Bank", "url": "...",
                  "terms": {...}}],          # optional per-owner terms
      "owner_column": null,                   # or the column naming each row's owner
      "terms": {                              # what every withdrawal must respect
        "purposes": ["research"],             # or ["any"]
        "expires": "2027-06-30",              # last day of use (UTC); null: none
        "regions": ["EU"],                    # or ["any"]; EU and EEA name their members
        "exclusive_to": null,                 # a licensee: only its runs may use the rows
        "attribution": "Acme Bank, 2026",
        "license": "CC-BY-4.0"
      }
    }

With ``owner_column`` null every listed owner owns every row (one owner, or
joint owners); otherwise each row belongs to the owner its cell names, and
the listed owners give names and terms (an owner not listed gets the
dataset's terms under its id).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

SIDECAR_SUFFIX = ".axon-data.json"
SIDECAR_FORMAT = "axon-data-sidecar"
ANY = "any"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@:\-]{0,127}$")
_TERM_KEYS = ("purposes", "expires", "regions", "exclusive_to", "attribution", "license")


class SidecarError(ValueError):
    """A sidecar that cannot be read, naming the file, the field and the fix."""

    def __init__(self, path: str | Path, message: str, fix: str) -> None:
        self.path = str(path)
        self.fix = fix
        super().__init__(f"{path}: {message}")


@dataclass(frozen=True)
class Terms:
    """The terms of use one owner gives for a dataset's rows."""

    purposes: tuple[str, ...] = (ANY,)
    expires: date | None = None
    regions: tuple[str, ...] = (ANY,)
    exclusive_to: str | None = None
    attribution: str | None = None
    license: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"purposes": list(self.purposes),
                "expires": self.expires.isoformat() if self.expires else None,
                "regions": list(self.regions), "exclusive_to": self.exclusive_to,
                "attribution": self.attribution, "license": self.license}

    def merged(self, other: Mapping[str, Any], where: str, path: str | Path) -> Terms:
        """These terms with the fields ``other`` gives replaced."""
        values = self.to_dict()
        values.update(other)
        return parse_terms(values, where, path)


@dataclass(frozen=True)
class Owner:
    """An owner of rows: a stable id, a name to show, and their terms."""

    id: str
    name: str
    terms: Terms
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "url": self.url,
                "terms": self.terms.to_dict()}


@dataclass(frozen=True)
class Ownership:
    """A dataset's owners and terms, as its sidecar gives them."""

    path: str
    owners: tuple[Owner, ...]
    terms: Terms
    owner_column: str | None = None
    #: The file's SHA-256 the sidecar was written for (None: not bound to one).
    sha256: str | None = None
    #: The digest ``studio data describe`` computed when it wrote the sidecar.
    deposit: dict[str, Any] | None = field(default=None, compare=False)

    def owner(self, owner_id: str) -> Owner:
        """The listed owner, or one with the dataset's terms for an id met in the column."""
        for owner in self.owners:
            if owner.id == owner_id:
                return owner
        return Owner(owner_id, owner_id, self.terms)

    def to_dict(self) -> dict[str, Any]:
        return {"sidecar": self.path, "owners": [o.to_dict() for o in self.owners],
                "owner_column": self.owner_column, "terms": self.terms.to_dict()}


def sidecar_path(data_file: str | Path) -> Path:
    """Where the sidecar of ``data_file`` lives: ``<file>.axon-data.json`` beside it."""
    data_file = Path(data_file)
    return data_file.with_name(data_file.name + SIDECAR_SUFFIX)


def read_sidecar_file(path: Path) -> dict[str, Any]:
    """The JSON object of a sidecar file; SidecarError when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise SidecarError(path, f"cannot be read as JSON ({error})",
                           fix="Repair it, or write it again with 'studio data describe'."
                           ) from None
    if not isinstance(data, dict):
        raise SidecarError(path, "is not a JSON object",
                           fix="Write it again with 'studio data describe'.")
    return data


def ownership_of_file(data_file: str | Path) -> Ownership | None:
    """The ownership the sidecar beside ``data_file`` declares, or None without one."""
    path = sidecar_path(data_file)
    if not path.is_file():
        return None
    return parse_ownership(read_sidecar_file(path), path)


def parse_ownership(sidecar: Mapping[str, Any], path: str | Path) -> Ownership | None:
    """The ``ownership`` section of a sidecar's JSON; None when it has none."""
    section = sidecar.get("ownership")
    if section is None:
        return None
    if not isinstance(section, dict):
        raise SidecarError(path, "'ownership' must be an object",
                           fix="See docs/data-ownership.md for the sidecar's form.")
    terms = parse_terms(section.get("terms", {}), "ownership.terms", path)
    raw_owners = section.get("owners", [])
    column = section.get("owner_column")
    if column is not None and (not isinstance(column, str) or not column):
        raise SidecarError(path, "'ownership.owner_column' must be a column name or null",
                           fix="Name the column that holds each row's owner, or use null.")
    if not isinstance(raw_owners, list) or (not raw_owners and column is None):
        raise SidecarError(path, "'ownership.owners' must list at least one owner "
                           "(or 'owner_column' name the column of each row's owner)",
                           fix="Add the owner: studio data describe FILE --owner ID.")
    owners = []
    for index, raw in enumerate(raw_owners):
        where = f"ownership.owners[{index}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or \
                not _ID.match(raw["id"]):
            raise SidecarError(path, f"'{where}.id' must be an owner id (letters, digits, "
                               "'-', '_', '.', '@', ':'; up to 128)",
                               fix="Give each owner a short stable id, e.g. 'acme-bank'.")
        name = raw.get("name", raw["id"])
        if not isinstance(name, str):
            raise SidecarError(path, f"'{where}.name' must be text", fix="Quote the name.")
        owner_terms = raw.get("terms", {})
        if not isinstance(owner_terms, dict):
            raise SidecarError(path, f"'{where}.terms' must be an object",
                               fix="Give the owner's own terms as an object, or leave it out.")
        owners.append(Owner(raw["id"], name, terms.merged(owner_terms, f"{where}.terms", path),
                            raw.get("url") if isinstance(raw.get("url"), str) else None))
    ids = [o.id for o in owners]
    if len(set(ids)) != len(ids):
        raise SidecarError(path, "an owner id is listed twice in 'ownership.owners'",
                           fix="List each owner once.")
    sha256 = sidecar.get("sha256")
    deposit = sidecar.get("deposit") if isinstance(sidecar.get("deposit"), dict) else None
    return Ownership(str(path), tuple(owners), terms, column,
                     sha256 if isinstance(sha256, str) else None, deposit)


def parse_terms(raw: Any, where: str, path: str | Path) -> Terms:
    """Terms from their JSON form; every field is optional (default: unrestricted)."""
    if not isinstance(raw, dict):
        raise SidecarError(path, f"'{where}' must be an object", fix="See docs/data-ownership.md.")
    unknown = sorted(set(raw) - set(_TERM_KEYS))
    if unknown:
        raise SidecarError(path, f"'{where}' has unknown terms {unknown}",
                           fix=f"Terms are {', '.join(_TERM_KEYS)}.")

    def words(key: str) -> tuple[str, ...]:
        value = raw.get(key, [ANY])
        if value is None:
            value = [ANY]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(
                isinstance(v, str) and v.strip() for v in value):
            raise SidecarError(path, f"'{where}.{key}' must be a list of words, e.g. "
                               f"[\"research\"], or [\"any\"]", fix=f"Correct '{key}'.")
        return tuple(v.strip().lower() if v.strip().lower() == ANY else v.strip() for v in value)

    expires = raw.get("expires")
    if expires is not None:
        try:
            expires = date.fromisoformat(expires) if isinstance(expires, str) else None
        except ValueError:
            expires = None
        if expires is None:
            raise SidecarError(path, f"'{where}.expires' must be a date YYYY-MM-DD or null",
                               fix="Write the last day of use, e.g. \"2027-06-30\".")
    texts = {}
    for key in ("exclusive_to", "attribution", "license"):
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise SidecarError(path, f"'{where}.{key}' must be text or null", fix=f"Quote '{key}'.")
        texts[key] = value or None
    return Terms(words("purposes"), expires, words("regions"), **texts)
