"""Principal Component Analysis: fewer, uncorrelated columns that keep most variance."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from nodes.context import RunContext
from nodes.contract import ScoringRole
from nodes.data.checks import (
    columns_text,
    is_numeric,
    require_columns,
    require_no_missing,
    require_numeric,
)
from nodes.errors import NodeInputError
from nodes.node import Node
from nodes.params import BoolParam, ColumnParam, IntParam
from nodes.ports import TABLE, TRANSFORM, Input, Output
from nodes.transform.fitted import TableTransformer
from nodes.values import Table, Transform, register_artifact_class


@register_artifact_class
class PrincipalComponents(TableTransformer):
    """Fitted component directions, mean and scale (JSON)."""

    setting_names = ("columns", "components", "whiten")

    def transform_table(self, table: Table) -> Table:
        s = self.state_values
        X = table.frame[s["columns"]].to_numpy(dtype=float) - np.asarray(s["mean"])
        projected = X @ np.asarray(s["directions"]).T
        if s["whiten"]:
            projected /= np.sqrt(np.asarray(s["variance"]))
        names = [f"PC{i + 1}" for i in range(projected.shape[1])]
        frame = table.frame.drop(columns=s["columns"])
        frame = pd.concat([frame, pd.DataFrame(projected, columns=names, index=frame.index)],
                          axis=1)
        return table.with_frame(frame)


class PrincipalComponentAnalysis(Node):
    """Replace numeric columns by their first principal components.

    Input 'data': a table. Output 'data': the chosen columns replaced by
    'PC1', 'PC2', ... (the projections on the directions of largest
    variance, scikit-learn's PCA; other columns and roles kept). Output
    'transform': the fitted projection, for test rows via Apply
    Transformation. Output 'variance': per component its explained
    variance and share of the total ('explained_variance_ratio') and the
    running total.

    'components' is how many to keep (at most the number of columns or
    rows). With 'whiten' on each component is scaled to unit variance.
    Scale the columns first (Normalize Data) when their units differ.
    'columns' empty means every numeric feature column.
    """

    type_id = "principal_component_analysis"
    imports = ("sklearn.decomposition",)
    title = "Principal Component Analysis"
    category = "Transform"
    aliases = ("PCA",)
    scoring_role = ScoringRole.FITTED
    fitted_transform_port = "transform"

    class Inputs:
        data = Input(TABLE, help="The table with numeric columns.")

    class Outputs:
        data = Output(TABLE, help="The table with component columns.")
        transform = Output(TRANSFORM, help="The fitted projection, for Apply Transformation.")
        variance = Output(TABLE, help="Explained variance per component.")

    columns = ColumnParam(multiple=True, help="Columns to project; empty: every numeric "
                                              "feature column.")
    components = IntParam(2, minimum=1, maximum=10_000, help="Components to keep.")
    whiten = BoolParam(False, help="Scale each component to unit variance.")

    def run(self, ctx: RunContext, data: Table) -> dict[str, Any]:
        from sklearn.decomposition import PCA

        if self.columns:
            require_columns(self.label, data, self.columns, port="data",
                            why=" named by 'columns'")
            columns = list(self.columns)
        else:
            columns = [c for c in data.feature_columns if is_numeric(data.frame[c])]
        require_numeric(self.label, data, columns, port="data", what="projected")
        require_no_missing(self.label, data, columns, port="data")
        limit = min(len(columns), len(data.frame))
        if self.components > limit:
            raise NodeInputError(self.label, f"{self.components} components asked, but at "
                                 f"most {limit} fit ({len(columns)} columns, "
                                 f"{len(data.frame)} rows).", port="data",
                                 fix=f"Set 'components' to {limit} or less. Columns: "
                                     f"{columns_text(columns)}.")
        pca = PCA(n_components=self.components, whiten=self.whiten, svd_solver="full")
        pca.fit(data.frame[columns].to_numpy(dtype=float))
        fitted = PrincipalComponents(columns=columns, components=self.components,
                                     whiten=self.whiten, mean=pca.mean_.tolist(),
                                     directions=pca.components_.tolist(),
                                     variance=pca.explained_variance_.tolist())
        transform = Transform(fitted, columns, self.title)
        variance = Table(pd.DataFrame({
            "component": [f"PC{i + 1}" for i in range(self.components)],
            "explained_variance": pca.explained_variance_,
            "explained_variance_ratio": pca.explained_variance_ratio_,
            "cumulative_ratio": np.cumsum(pca.explained_variance_ratio_)}))
        return {"data": transform.apply(data), "transform": transform, "variance": variance}
