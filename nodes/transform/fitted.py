"""Fitted transformations that are not scikit-learn scalers: they work on
whole tables (text, categories, missing values) and persist as JSON.

A ``TableTransformer`` goes inside a :class:`nodes.values.Transform`, so
Apply Transformation treats new data exactly as the fitted data. Its state
is plain JSON, written by ``save_artifact`` and read back by
``load_artifact`` (no pickle, no skops); subclasses are registered with
:func:`nodes.values.register_artifact_class`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from nodes.values import Table, json_safe, register_artifact_class


class TableTransformer:
    """Base of the JSON-persisted table transformers.

    Subclasses set ``settings`` (what the user chose) and ``fitted`` (what
    was learnt from the data), both plain JSON, and implement
    ``transform_table``.
    """

    #: Keys of ``state()`` that are settings (shown as parameters), not fitted values.
    setting_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **state: Any) -> None:
        self.state_values = json_safe(state)

    def state(self) -> dict[str, Any]:
        return self.state_values

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        return {k: v for k, v in self.state_values.items() if k in self.setting_names}

    def digest_state(self) -> dict[str, Any]:
        return {"class": type(self).__qualname__, "state": self.state_values}

    def transform_table(self, table: Table) -> Table:
        raise NotImplementedError

    def save_artifact(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "state.json").write_text(json.dumps(self.state_values, sort_keys=True,
                                                      allow_nan=False))

    @classmethod
    def load_artifact(cls, folder: Path) -> TableTransformer:
        return cls(**json.loads((folder / "state.json").read_text()))


@register_artifact_class
class LogScaler(TableTransformer):
    """ln(1 + x) of numeric columns (nothing is learnt; kept as a Transform so
    Apply Transformation treats test rows alike)."""

    setting_names = ("columns",)

    def transform_table(self, table: Table) -> Table:
        frame = table.frame.copy()
        for column in self.state_values["columns"]:
            frame[column] = np.log1p(frame[column].astype(float))
        return table.with_frame(frame)
