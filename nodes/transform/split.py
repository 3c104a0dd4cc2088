"""Splitting the rows of a table in two."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nodes.context import RunContext, derive_seed
from nodes.contract import Partitioning, Randomness, ScoringRole
from nodes.data.checks import require_columns, require_no_missing, require_rows
from nodes.errors import NodeInputError, ParameterError
from nodes.node import Node
from nodes.params import BoolParam, ColumnParam, FloatParam, SeedParam
from nodes.ports import TABLE, Input, Output
from nodes.values import Table


class SplitData(Node):
    """Split the rows of a table in two, e.g. into training and test rows.

    Input 'data': a table. Outputs 'train' (the share 'fraction' of the
    rows, rounded down) and 'test' (the rest); both keep every column and
    role. The rows are numbered 0, 1, ... again in each output.

    The split is scikit-learn's train_test_split(rows, train_size=fraction,
    random_state=seed, shuffle=shuffle, stratify=...), so a script calling
    it with the same seed gets exactly the same rows. With 'shuffle' off
    the first rows go to 'train' in table order and 'seed' is not used.

    With 'stratify' on, both outputs keep the class proportions of the
    stratification column: 'stratify_column', or when that is empty the
    table's label column. Stratifying needs shuffling, no missing values in
    that column and at least two rows of each class.
    """

    type_id = "split_data"
    imports = ("sklearn.model_selection",)
    version = 1
    title = "Split Data"
    category = "Transform"
    scoring_role = ScoringRole.TRAINING_ONLY
    randomness = Randomness()
    #: On a partitioned table (Dask), each partition is split with the same
    #: fraction and a seed derived from 'seed' and the partition's number.
    partitioning = Partitioning.ROWS

    class Inputs:
        data = Input(TABLE, help="The table whose rows to split.")

    class Outputs:
        train = Output(TABLE, help="The first share of the rows ('fraction').")
        test = Output(TABLE, help="The remaining rows.")

    fraction = FloatParam(0.7, minimum=0.0, maximum=1.0, exclusive_minimum=True,
                          exclusive_maximum=True, help="Share of the rows in 'train'.")
    shuffle = BoolParam(True, help="Draw the rows at random; off: first rows to 'train'.")
    seed = SeedParam(help="Random seed; the same seed gives the same split.")
    stratify = BoolParam(False, help="Keep the class proportions of the label in both outputs.")
    stratify_column = ColumnParam("", advanced=True,
                                  help="Column to stratify on; empty: the label column.")

    @classmethod
    def partitioning_for(cls, params: Mapping[str, Any]) -> Partitioning:
        # Without shuffling the first rows of the whole table go to 'train'.
        return Partitioning.ROWS if params.get("shuffle", True) else Partitioning.WHOLE_TABLE

    @classmethod
    def check_parameters(cls, values: dict[str, Any], label: str) -> None:
        if values["stratify"] and not values["shuffle"]:
            raise ParameterError(label, "stratify", True, "stratifying needs shuffle on",
                                 fix="Turn 'shuffle' on, or 'stratify' off.")

    def run(self, ctx: RunContext, data: Table) -> dict[str, Any]:
        from sklearn.model_selection import train_test_split

        require_rows(self.label, data, port="data")
        stratify = None
        if self.stratify:
            column = self.stratify_column or data.label_column
            if column is None:
                raise NodeInputError(
                    self.label, "'stratify' is on but the table has no label column.",
                    port="data", fix="Set 'stratify_column', give a column the label role "
                                     "upstream, or turn 'stratify' off.")
            require_columns(self.label, data, [column], port="data",
                            why=" named by the 'stratify_column' parameter")
            require_no_missing(self.label, data, [column], port="data")
            stratify = data.frame[column]
        seed = self.seed
        if ctx.partition is not None:  # one partition of a table on Dask workers
            index, count = ctx.partition
            seed = self.seed if index == 0 else derive_seed(self.seed, f"partition-{index}")
            if index == 0 and count > 1:
                ctx.log("Split partition by partition (%d partitions): 'fraction' of each, "
                        "drawn with seeds derived from the seed; not the rows an in-process "
                        "run draws.", count)
        try:
            train, test = train_test_split(data.frame, train_size=self.fraction,
                                           random_state=seed, shuffle=self.shuffle,
                                           stratify=stratify)
        except ValueError as error:
            # Too few rows for the fraction, or a class too small to stratify.
            raise NodeInputError(
                self.label, f"cannot split {len(data.frame)} rows this way: {error}",
                port="data", fix="Change 'fraction', turn 'stratify' off, or give more rows."
            ) from None
        return {"train": data.with_frame(train.reset_index(drop=True)),
                "test": data.with_frame(test.reset_index(drop=True))}
