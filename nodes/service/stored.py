"""Trained models and fitted transforms stored in files, as a published pipeline carries them.

Prepare for publishing replaces Train Model (and the nodes that fit
transforms) by these nodes, pointing at the artifacts the last run
produced. Each loads a value saved by ``nodes.values`` (skops for
scikit-learn, a registered artifact format such as ``.keras`` otherwise;
nothing is unpickled) and checks that it is exactly the value that was
recorded: its lineage digest must equal 'sha256'.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from nodes.context import RunContext
from nodes.contract import ScoringRole
from nodes.data.files import resolve_path
from nodes.errors import NodeInputError, ParameterError
from nodes.node import Node
from nodes.params import StringParam
from nodes.ports import MODEL, TRANSFORM, Output
from nodes.values import UnsafeArtifactError, load_value, value_digest


class _StoredValue(Node):
    """Base of the nodes that load one stored value and check its digest."""

    kind: ClassVar[str] = ""

    path = StringParam("", help="Folder of the stored value; relative paths start at the "
                            "working directory (a bundle's loader makes them absolute).")
    sha256 = StringParam("", help="The value's lineage digest, as the training run recorded it.")

    @classmethod
    def source_digest(cls, params: Mapping[str, Any]) -> str | None:
        return str(params.get("sha256", "")) or None

    def run(self, ctx: RunContext) -> dict[str, Any]:
        # Empty values are refused here rather than in check_parameters: the
        # node is only ever placed by Prepare for publishing, which fills them.
        for name in ("path", "sha256"):
            if not str(self.params[name]).strip():
                raise ParameterError(self.label, name, self.params[name],
                                     "it must not be empty",
                                     fix="Use Prepare for publishing, which fills it in.")
        folder = resolve_path(self.path)
        if not folder.is_dir():
            raise NodeInputError(self.label, f"the stored {self.kind} '{folder}' does not exist.",
                                 fix="Export the pipeline again, or correct 'path'.")
        try:
            value = load_value(self.kind, folder)
        except (UnsafeArtifactError, OSError, KeyError, ValueError) as error:
            raise NodeInputError(self.label, f"the stored {self.kind} in '{folder}' cannot be "
                                 f"loaded safely: {error}",
                                 fix="Export the pipeline again from its training workflow."
                                 ) from None
        digest = value_digest(value)
        if digest != self.sha256:
            raise NodeInputError(
                self.label, f"the stored {self.kind} in '{folder}' is not the one recorded: "
                f"its digest is {digest}, the pipeline records {self.sha256}.",
                fix="Export the pipeline again from its training workflow.")
        return {next(iter(self.outputs)): value}


class TrainedModel(_StoredValue):
    """A trained model loaded from a file, checked against its recorded digest.

    Output 'model': the model, exactly as Train Model produced it in the
    training run ('sha256' is its digest in that run's lineage).

    'path' is the folder the model was saved in; 'sha256' its digest. Both
    are filled in by Prepare for publishing.
    """

    type_id = "trained_model"
    version = 1
    title = "Trained Model"
    category = "Web Service"
    scoring_role = ScoringRole.FROZEN_VALUE
    loads_stored_kind = "model"
    kind = "model"

    class Outputs:
        model = Output(MODEL, help="The trained model.")


class FittedTransform(_StoredValue):
    """A fitted transformation loaded from a file, checked against its recorded digest.

    Output 'transform': the transformation (e.g. a z-score rescaling),
    exactly as fitted in the training run, for Apply Transformation.

    'path' is the folder it was saved in; 'sha256' its digest. Both are
    filled in by Prepare for publishing.
    """

    type_id = "fitted_transform"
    version = 1
    title = "Fitted Transform"
    category = "Web Service"
    scoring_role = ScoringRole.FROZEN_VALUE
    loads_stored_kind = "transform"
    kind = "transform"

    class Outputs:
        transform = Output(TRANSFORM, help="The fitted transformation.")
