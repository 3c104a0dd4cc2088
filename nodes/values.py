"""The values that flow along wires: Table, Learner, Model, Transform, Metrics.

Each value can describe itself for viewers (``summary()``), digest itself
for lineage (``digest()``), and save itself to / load itself from a folder in
safe formats: Parquet and JSON for data, skops for scikit-learn objects.
Nothing here pickles. ``save_value``/``load_value`` dispatch on the kind.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from nodes.digest import file_digest, frame_digest, stable_digest
from nodes.estimator_state import (
    ARRAYS_FILE,
    STATE_FILE,
    StateFormatError,
    dump_state,
    load_state,
)

ROLES = ("feature", "label", "score", "id", "ignore")

# skops refuses scikit-learn's Tree by default because a crafted file can
# make predict() read out of bounds. We only load skops files whose SHA-256
# we wrote ourselves (cache entries, bundles with verified digests). Node
# types add the types their models need through their ``trusted_types``
# declaration (the registry calls trust_stored_types), so a plugin's model
# stores and loads like a built-in one.
_TRUSTED_SKOPS_TYPES: list[str] = []


def trust_stored_types(names: Iterable[str]) -> None:
    """Let the safe model format load these types ("package.module.Class")."""
    for name in names:
        if name not in _TRUSTED_SKOPS_TYPES:
            _TRUSTED_SKOPS_TYPES.append(name)


def trusted_stored_types() -> list[str]:
    """The types the safe model format loads beyond skops' own defaults."""
    from nodes.registry import default_registry

    default_registry()  # its node types declare theirs when they register
    return list(_TRUSTED_SKOPS_TYPES)


class UnsafeArtifactError(Exception):
    """An artifact holds types we do not load, or its digest does not match."""


class Table:
    """A pandas DataFrame plus the role of each column.

    Roles: ``feature`` (default), ``label``, ``score``, ``id``, ``ignore``.
    Column names are strings. The frame is never mutated in place by nodes;
    they derive new tables (pandas copy-on-write makes that cheap).
    """

    kind: ClassVar[str] = "table"

    def __init__(self, frame: pd.DataFrame, roles: Mapping[str, str] | None = None) -> None:
        if not all(isinstance(c, str) for c in frame.columns):
            frame = frame.rename(columns=str)
        if frame.columns.has_duplicates:
            dup = frame.columns[frame.columns.duplicated()].unique().tolist()
            raise ValueError(f"duplicate column names: {dup}")
        self.frame = frame
        #: Where each row came from and who owns it (``nodes.ownership.rows.RowLeaves``),
        #: when a source with a sidecar made the rows; None otherwise.
        self.ownership: Any = None
        self.roles: dict[str, str] = {}
        for column, role in (roles or {}).items():
            if role not in ROLES:
                raise ValueError(f"column role {role!r} is not one of {ROLES}")
            if column in frame.columns and role != "feature":
                self.roles[column] = role

    # -- roles ---------------------------------------------------------
    def role(self, column: str) -> str:
        return self.roles.get(column, "feature")

    def columns_with_role(self, role: str) -> list[str]:
        return [c for c in self.frame.columns if self.role(c) == role]

    @property
    def label_column(self) -> str | None:
        labels = self.columns_with_role("label")
        return labels[0] if labels else None

    @property
    def feature_columns(self) -> list[str]:
        return self.columns_with_role("feature")

    def with_frame(self, frame: pd.DataFrame,
                   extra_roles: Mapping[str, str] | None = None) -> Table:
        """A new table over ``frame`` keeping the roles of columns that survive."""
        roles = {c: r for c, r in self.roles.items() if c in frame.columns}
        roles.update(extra_roles or {})
        table = Table(frame, roles)
        if self.ownership is not None:  # the rows' owners follow them (nodes/ownership/rows.py)
            table.ownership = self.ownership.follow(self.frame, table.frame)
        return table

    # -- description ---------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return self.frame.shape

    def schema(self) -> list[dict[str, str]]:
        return [{"name": c, "dtype": str(t), "role": self.role(c)}
                for c, t in self.frame.dtypes.items()]

    def summary(self) -> dict[str, Any]:
        return {"kind": self.kind, "rows": len(self.frame), "columns": self.schema()}

    def digest(self) -> str:
        try:
            frame = frame_digest(self.frame)
        except TypeError:  # cells holding lists, e.g. word index sequences
            frame = frame_digest(self.frame.map(_hashable_cell))
        return stable_digest({"frame": frame, "roles": self.roles})

    def __repr__(self) -> str:
        return f"Table({len(self.frame)} rows x {len(self.frame.columns)} columns)"

    # -- persistence ---------------------------------------------------
    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.frame.to_parquet(folder / "table.parquet", index=False)
        _write_json(folder / "roles.json", self.roles)
        if self.ownership is not None:
            self.ownership.save(folder)

    @classmethod
    def load(cls, folder: Path) -> Table:
        frame = pd.read_parquet(folder / "table.parquet")
        for column in frame.columns[frame.dtypes.map(pd.api.types.is_object_dtype)]:
            # Parquet gives list cells back as arrays; nodes made them lists.
            if len(frame) and isinstance(frame[column].iloc[0], np.ndarray):
                frame[column] = frame[column].map(
                    lambda v: v.tolist() if isinstance(v, np.ndarray) else v)
        table = cls(frame, _read_json(folder / "roles.json"))
        if (folder / "ownership.json").is_file():
            from nodes.ownership.rows import RowLeaves

            table.ownership = RowLeaves.load(folder)
        return table


@dataclass
class Learner:
    """An untrained model: a scikit-learn estimator with its settings.

    ``task`` is ``classification``, ``regression`` or ``clustering``;
    ``name`` is what the GUI shows (e.g. "Logistic Regression").
    """

    estimator: Any
    task: str
    name: str
    #: Whether it trains on rows with missing feature values; None until the
    #: learner node's ``accepts_missing_values`` declaration is stamped on it.
    accepts_missing: bool | None = None
    kind: ClassVar[str] = "learner"

    def summary(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "task": self.task,
                "accepts_missing_values": bool(self.accepts_missing),
                "parameters": json_safe(self.estimator.get_params(deep=False))}

    def digest(self) -> str:
        return stable_digest({"task": self.task, "name": self.name, "estimator": self.estimator,
                              "accepts_missing": bool(self.accepts_missing)})

    def save(self, folder: Path) -> None:
        _save_object(folder, self.estimator, {"task": self.task, "name": self.name,
                                              "accepts_missing": bool(self.accepts_missing)})

    @classmethod
    def load(cls, folder: Path) -> Learner:
        estimator, meta = _load_object(folder)
        return cls(estimator, meta["task"], meta["name"], bool(meta.get("accepts_missing")))


@dataclass
class Model:
    """A fitted model plus the schema of the data it expects.

    ``feature_columns`` and ``feature_dtypes`` are the training schema, in
    order; ``classes`` the class labels (classification) in the order of the
    estimator's probability columns; ``training_data`` the digest of the
    table the model was trained on (lineage).
    """

    estimator: Any
    task: str
    name: str
    feature_columns: list[str]
    feature_dtypes: dict[str, str]
    label_column: str | None
    classes: list[Any] | None = None
    training_data: str | None = None
    #: Whether it predicts rows with missing feature values (its learner declared so).
    accepts_missing: bool = False
    #: The data-ownership digest of the training rows (``nodes.ownership.tree.
    #: OwnershipDigest``), when they came from sources with sidecars.
    ownership: Any = None
    kind: ClassVar[str] = "model"

    def summary(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "task": self.task,
                "features": [{"name": c, "dtype": self.feature_dtypes.get(c, "")}
                             for c in self.feature_columns],
                "label": self.label_column, "classes": json_safe(self.classes),
                "parameters": json_safe(self.estimator.get_params(deep=False)),
                "training_data": self.training_data,
                **({"ownership": _ownership_summary(self.ownership)}
                   if self.ownership is not None else {})}

    def digest(self) -> str:
        return stable_digest({"estimator": self.estimator, "features": self.feature_columns,
                              "label": self.label_column, "classes": self.classes,
                              "task": self.task})

    def save(self, folder: Path) -> None:
        _save_object(folder, self.estimator, {
            "task": self.task, "name": self.name, "feature_columns": self.feature_columns,
            "feature_dtypes": self.feature_dtypes, "label_column": self.label_column,
            "classes": json_safe(self.classes), "training_data": self.training_data,
            "accepts_missing": self.accepts_missing})
        if self.ownership is not None:
            self.ownership.save(folder)

    @classmethod
    def load(cls, folder: Path) -> Model:
        estimator, meta = _load_object(folder)
        classes = meta["classes"]
        if classes is not None and hasattr(estimator, "classes_"):
            classes = list(estimator.classes_)  # keep numpy scalar types exact
        ownership = None
        if (folder / "ownership.json").is_file():
            from nodes.ownership.tree import OwnershipDigest

            ownership = OwnershipDigest.load(folder)
        return cls(estimator, meta["task"], meta["name"], meta["feature_columns"],
                   meta["feature_dtypes"], meta["label_column"], classes, meta["training_data"],
                   bool(meta.get("accepts_missing")), ownership)


@dataclass
class Transform:
    """A fitted column transformation (e.g. a scaler) to apply to new data.

    ``columns`` are the columns it was fitted on, in order; applying it to a
    table that lacks one of them is an error naming the column.
    """

    transformer: Any
    columns: list[str]
    name: str
    kind: ClassVar[str] = "transform"

    @property
    def numeric(self) -> bool:
        """True when it works on numbers only (scikit-learn scalers); a
        transformer with ``transform_table(table)`` handles any columns."""
        return not hasattr(self.transformer, "transform_table")

    def apply(self, table: Table) -> Table:
        missing = [c for c in self.columns if c not in table.frame.columns]
        if missing:
            raise KeyError(missing)
        if not self.numeric:
            return self.transformer.transform_table(table)
        values = self.transformer.transform(table.frame[self.columns].to_numpy(dtype=float))
        # A shallow copy and one column at a time: no copy of untouched columns and
        # no 2-D block assignment (several times slower on wide tables). The
        # resulting memory layout matters: scores computed from it must be
        # bit-identical on a one-thread Dask worker and here (tests/dask).
        frame = table.frame.copy(deep=False)
        for index, column in enumerate(self.columns):
            frame[column] = values[:, index]
        return table.with_frame(frame)

    def summary(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "columns": self.columns,
                "parameters": json_safe(self.transformer.get_params(deep=False))}

    def digest(self) -> str:
        return stable_digest({"transformer": self.transformer, "columns": self.columns})

    def save(self, folder: Path) -> None:
        _save_object(folder, self.transformer, {"columns": self.columns, "name": self.name})

    @classmethod
    def load(cls, folder: Path) -> Transform:
        transformer, meta = _load_object(folder)
        return cls(transformer, meta["columns"], meta["name"])


@dataclass
class Matrix:
    """A labelled matrix, e.g. a confusion matrix (rows: actual, columns: predicted)."""

    row_labels: list[Any]
    column_labels: list[Any]
    values: list[list[float]]
    row_title: str = "Actual"
    column_title: str = "Predicted"


@dataclass
class Metrics:
    """Evaluation results: named scalars, matrices, curves (tables of points),
    and ``info``: named texts such as the positive class."""

    task: str
    scalars: dict[str, float]
    matrices: dict[str, Matrix] = field(default_factory=dict)
    curves: dict[str, pd.DataFrame] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    kind: ClassVar[str] = "metrics"

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "info": json_safe(self.info),
            "scalars": {k: json_safe(v) for k, v in self.scalars.items()},
            "matrices": {k: {"row_labels": json_safe(m.row_labels),
                             "column_labels": json_safe(m.column_labels),
                             "values": json_safe(m.values), "row_title": m.row_title,
                             "column_title": m.column_title}
                         for k, m in self.matrices.items()},
            "curves": {k: {"columns": list(c.columns),
                           "values": json_safe(c.to_numpy().tolist())}
                       for k, c in self.curves.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Metrics:
        return cls(
            task=data["task"],
            scalars={k: (math.nan if v is None else v) for k, v in data["scalars"].items()},
            matrices={k: Matrix(**m) for k, m in data.get("matrices", {}).items()},
            curves={k: pd.DataFrame(c["values"], columns=c["columns"])
                    for k, c in data.get("curves", {}).items()},
            info=dict(data.get("info", {})),
        )

    def summary(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.to_dict()}

    def digest(self) -> str:
        # Curves can hold thousands of points: hash them as frames, not as JSON.
        return stable_digest({"task": self.task, "info": json_safe(self.info),
                              "scalars": json_safe(self.scalars),
                              "matrices": json_safe({k: vars(m)
                                                     for k, m in self.matrices.items()}),
                              "curves": {k: frame_digest(c) for k, c in self.curves.items()}})

    def save(self, folder: Path) -> None:
        # Insertion order is meaningful here (metrics are shown in that order).
        (folder / "metrics.json").write_text(json.dumps(self.to_dict(), indent=2,
                                                        allow_nan=False))

    @classmethod
    def load(cls, folder: Path) -> Metrics:
        return cls.from_dict(_read_json(folder / "metrics.json"))


VALUE_KINDS: dict[str, Any] = {cls.kind: cls for cls in (Table, Learner, Model, Transform, Metrics)}

#: Classes that persist themselves (e.g. a Keras network as a .keras file),
#: by a stable name. Loading only ever instantiates a class registered here,
#: never one named by the file alone.
ARTIFACT_CLASSES: dict[str, type] = {}


#: Artifact classes declared by name ("module.Class") whose module is imported
#: only when a stored artifact of that class is loaded; importing the module
#: registers the class (with register_artifact_class).
DEFERRED_ARTIFACT_CLASSES: set[str] = set()


def register_value_kind(cls: type) -> type:
    """Make a new port value class storable (it needs ``kind``, ``save``, ``load``)."""
    VALUE_KINDS[cls.kind] = cls
    return cls


def register_artifact_class(cls: type) -> type:
    """Let estimators of ``cls`` be stored by ``obj.save_artifact(folder)`` and
    loaded by ``cls.load_artifact(folder)`` instead of skops."""
    ARTIFACT_CLASSES[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return cls


def register_deferred_artifact_class(name: str) -> None:
    """Declare the artifact class ``name`` ("package.module.Class", a top-level
    class whose module calls :func:`register_artifact_class` on it) without
    importing its module yet: loading a stored artifact of it imports the
    module then. Only names declared in code are ever imported, never one
    named by a file alone."""
    DEFERRED_ARTIFACT_CLASSES.add(name)


def value_digest(value: Any) -> str:
    """The lineage digest of any output value."""
    if hasattr(value, "digest"):
        return value.digest()
    return stable_digest(value)


@dataclass(frozen=True)
class StoredValue:
    """A value saved in ``folder`` (files already checked against their digests),
    not loaded: what only needs to be copied elsewhere is never deserialised.
    ``load()`` gives the value itself."""

    kind: str
    folder: Path

    def load(self) -> Any:
        return load_value(self.kind, self.folder)


def save_value(value: Any, folder: Path) -> str:
    """Save ``value`` into ``folder`` in a safe format; return its kind."""
    if isinstance(value, StoredValue):  # already in a safe format: the files as they are
        import shutil

        shutil.copytree(value.folder, folder, dirs_exist_ok=True)
        return value.kind
    folder.mkdir(parents=True, exist_ok=True)
    kind = getattr(value, "kind", None)
    if kind in VALUE_KINDS and isinstance(value, VALUE_KINDS[kind]):
        value.save(folder)
        return kind
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise TypeError(f"cannot store a value of type {type(value).__name__} safely") from None
    (folder / "value.json").write_text(text)
    return "json"


def load_value(kind: str, folder: Path) -> Any:
    """Load a value that ``save_value`` wrote."""
    if kind == "json":
        return json.loads((folder / "value.json").read_text())
    try:
        cls = VALUE_KINDS[kind]
    except KeyError:
        raise UnsafeArtifactError(f"unknown stored value kind {kind!r}") from None
    return cls.load(folder)


# -- helpers -------------------------------------------------------------

def _save_object(folder: Path, obj: Any, meta: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{type(obj).__module__}.{type(obj).__qualname__}"
    if ARTIFACT_CLASSES.get(name) is type(obj):
        obj.save_artifact(folder / "artifact")
        files = sorted(p for p in (folder / "artifact").rglob("*") if p.is_file())
        digests = {str(p.relative_to(folder)): file_digest(p) for p in files}
        _write_json(folder / "meta.json", {**meta, "artifact_class": name,
                                           "artifact_sha256": digests})
        return
    stored = dump_state(obj, folder)
    if stored is not None:
        digests = {name: file_digest(folder / name) for name in (STATE_FILE, ARRAYS_FILE)}
        _write_json(folder / "meta.json", {**meta, **stored, "state_sha256": digests})
        return
    import skops.io

    target = folder / "object.skops"
    skops.io.dump(obj, target)
    meta = {**meta, "object_sha256": file_digest(target)}
    _write_json(folder / "meta.json", meta)


def _load_object(folder: Path) -> tuple[Any, dict[str, Any]]:
    meta = _read_json(folder / "meta.json")
    if "artifact_class" in meta:
        cls = ARTIFACT_CLASSES.get(meta["artifact_class"])
        if cls is None and meta["artifact_class"] in DEFERRED_ARTIFACT_CLASSES:
            importlib.import_module(meta["artifact_class"].rpartition(".")[0])
            cls = ARTIFACT_CLASSES.get(meta["artifact_class"])
        if cls is None:
            raise UnsafeArtifactError(f"{folder}: artifact class {meta['artifact_class']!r} "
                                      "is not registered")
        for relative, expected in meta["artifact_sha256"].items():
            if file_digest(folder / relative) != expected:
                raise UnsafeArtifactError(f"{folder / relative} does not match its digest")
        return cls.load_artifact(folder / "artifact"), meta
    if "state_format" in meta:
        digests = meta.get("state_sha256")
        if not isinstance(digests, dict) or set(digests) != {STATE_FILE, ARRAYS_FILE}:
            raise UnsafeArtifactError(f"{folder / 'meta.json'}: the model's file digests "
                                      "are missing")
        for name, expected in digests.items():
            if file_digest(folder / name) != expected:
                raise UnsafeArtifactError(f"{folder / name} does not match the digest "
                                          "recorded beside it")
        try:
            return load_state(folder), meta
        except StateFormatError as error:
            raise UnsafeArtifactError(str(error)) from None
    import skops.io

    target = folder / "object.skops"
    data = target.read_bytes()
    if hashlib.sha256(data).hexdigest() != meta.get("object_sha256"):
        raise UnsafeArtifactError(f"{target} does not match the digest recorded beside it")
    trusted = trusted_stored_types()
    untrusted = [t for t in skops.io.get_untrusted_types(data=data) if t not in trusted]
    if untrusted:
        raise UnsafeArtifactError(
            f"{target} holds types that are not loaded: {untrusted}. A node type whose "
            "model holds them can declare them in its trusted_types.")
    return skops.io.loads(data, trusted=trusted), meta


def _ownership_summary(digest: Any) -> dict[str, Any]:
    summary = digest.summary()
    return {k: summary[k] for k in ("scheme", "root", "rows", "owners", "traced", "use")}


def _hashable_cell(value: Any) -> Any:
    if isinstance(value, (list, np.ndarray)):
        return tuple(_hashable_cell(v) for v in value)
    return value


def json_safe(value: Any) -> Any:
    """Plain JSON for numpy scalars/arrays, NaN as None, estimators as their class name."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return type(value).__name__


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, allow_nan=False))


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text())
