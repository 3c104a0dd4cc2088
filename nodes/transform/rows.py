"""Combining tables (join, add rows, add columns) and removing duplicate rows."""

from __future__ import annotations

from typing import Any

import pandas as pd

from nodes.context import RunContext
from nodes.contract import ScoringRole
from nodes.data.checks import columns_text, require_columns
from nodes.errors import NodeInputError, ParameterError
from nodes.node import Node
from nodes.params import BoolParam, ChoiceParam, ColumnParam, StringParam
from nodes.ports import TABLE, Input, Output
from nodes.values import Table


class RemoveDuplicateRows(Node):
    """Remove rows that repeat an earlier (or later) row.

    Input 'data': a table. Output 'data': the rows left, numbered 0, 1, ...
    again; roles unchanged. Two rows are duplicates when they are equal in
    'key_columns' (empty: in every column). 'keep' 'first' keeps the first
    row of each group of duplicates, 'last' the last one.
    """

    type_id = "remove_duplicate_rows"
    title = "Remove Duplicate Rows"
    category = "Transform"
    scoring_role = ScoringRole.TRAINING_ONLY

    class Inputs:
        data = Input(TABLE, help="The table to deduplicate.")

    class Outputs:
        data = Output(TABLE, help="The table without duplicate rows.")

    key_columns = ColumnParam(multiple=True, help="Columns that decide duplicates; empty: all.")
    keep = ChoiceParam("first", ["first", "last"], help="Which row of duplicates to keep.")

    def run(self, ctx: RunContext, data: Table) -> dict[str, Any]:
        require_columns(self.label, data, self.key_columns, port="data",
                        why=" named by the 'key_columns' parameter")
        kept = data.frame.drop_duplicates(subset=self.key_columns or None, keep=self.keep)
        ctx.log("removed %d duplicate rows", len(data.frame) - len(kept))
        return {"data": data.with_frame(kept.reset_index(drop=True))}


class JoinData(Node):
    """Join two tables on key columns, like a database join.

    Inputs 'left' and 'right': the tables. Output 'data': the joined
    table. Rows match when 'left_keys' equal 'right_keys' (the same number
    of columns, paired in order). 'join' 'inner' keeps matching pairs
    only, 'left' also the left rows with no match, 'right' the right ones,
    'full' both (missing values fill the gaps). The right key columns are
    dropped when 'keep_right_keys' is off (for 'right' and 'full' joins the
    left keys of unmatched right rows are filled from them); other right
    columns whose name the left table already has get 'right_suffix'. Roles come from the
    left table, then the right one (the left label stays the label).
    """

    type_id = "join_data"
    title = "Join Data"
    category = "Transform"
    scoring_role = ScoringRole.NOT_IN_SERVICE

    class Inputs:
        left = Input(TABLE, help="The left table.")
        right = Input(TABLE, help="The right table.")

    class Outputs:
        data = Output(TABLE, help="The joined table.")

    left_keys = ColumnParam(multiple=True, input_port="left", help="Key columns of 'left'.")
    right_keys = ColumnParam(multiple=True, input_port="right", help="Key columns of 'right'.")
    join = ChoiceParam("inner", ["inner", "left", "right", "full"], help="Join type.")
    keep_right_keys = BoolParam(False, help="Keep the right key columns too.")
    right_suffix = StringParam("_right", allow_empty=False,
                               help="Suffix for right columns whose names clash.")

    @classmethod
    def check_parameters(cls, values: dict[str, Any], label: str) -> None:
        if not values["left_keys"] or len(values["left_keys"]) != len(values["right_keys"]):
            raise ParameterError(label, "right_keys", values["right_keys"],
                                 "it must list as many columns as 'left_keys' (at least one)",
                                 fix="Pair each left key column with a right one.")

    def run(self, ctx: RunContext, left: Table, right: Table) -> dict[str, Any]:
        require_columns(self.label, left, self.left_keys, port="left",
                        why=" named by 'left_keys'")
        require_columns(self.label, right, self.right_keys, port="right",
                        why=" named by 'right_keys'")
        for a, b in zip(self.left_keys, self.right_keys, strict=True):
            if pd.api.types.is_numeric_dtype(left.frame[a]) != pd.api.types.is_numeric_dtype(
                    right.frame[b]):
                raise NodeInputError(self.label, f"key {a!r} ({left.frame[a].dtype}) cannot "
                                     f"match {b!r} ({right.frame[b].dtype}).", port="right",
                                     columns=[a, b], fix="Give both keys the same type with "
                                                         "Edit Metadata.")
        how = "outer" if self.join == "full" else self.join
        joined = left.frame.merge(right.frame, how=how, left_on=self.left_keys,
                                  right_on=self.right_keys, suffixes=("", self.right_suffix),
                                  sort=False)
        # where a right column lands: its name, or with the suffix when the left has it
        landed = {c: c + self.right_suffix if c in left.frame.columns else c
                  for c in right.frame.columns}
        for left_key, right_key in zip(self.left_keys, self.right_keys, strict=True):
            if left_key == right_key:
                landed[right_key] = left_key  # one shared key column
        if not self.keep_right_keys:
            if how in ("right", "outer"):  # rows only the right table has keep their key
                for left_key, right_key in zip(self.left_keys, self.right_keys, strict=True):
                    if left_key != right_key:
                        joined[left_key] = joined[left_key].fillna(joined[landed[right_key]])
            joined = joined.drop(columns=[landed[r] for l_, r in zip(
                self.left_keys, self.right_keys, strict=True) if l_ != r
                and landed[r] in joined.columns])
        roles = {landed[c]: r for c, r in right.roles.items() if r != "label"}
        roles.update(left.roles)
        return {"data": Table(joined.reset_index(drop=True),
                              {c: r for c, r in roles.items() if c in joined.columns})}


class AddRows(Node):
    """Stack the rows of two tables with the same columns.

    Inputs 'first' and 'second': tables with the same column names (in any
    order). Output 'data': the rows of 'first' then those of 'second', in
    the column order of 'first', numbered 0, 1, ... again; roles from
    'first'.
    """

    type_id = "add_rows"
    title = "Add Rows"
    category = "Transform"
    scoring_role = ScoringRole.NOT_IN_SERVICE

    class Inputs:
        first = Input(TABLE, help="The upper rows.")
        second = Input(TABLE, help="The lower rows.")

    class Outputs:
        data = Output(TABLE, help="Both tables' rows.")

    def run(self, ctx: RunContext, first: Table, second: Table) -> dict[str, Any]:
        only_first = [c for c in first.frame.columns if c not in second.frame.columns]
        only_second = [c for c in second.frame.columns if c not in first.frame.columns]
        if only_first or only_second:
            raise NodeInputError(
                self.label, "the tables have different columns: only in 'first': "
                f"{columns_text(only_first)}; only in 'second': {columns_text(only_second)}.",
                port="second", columns=only_first + only_second,
                fix="Make the columns the same (Select Columns, Edit Metadata to rename).")
        frame = pd.concat([first.frame, second.frame[list(first.frame.columns)]],
                          ignore_index=True)
        return {"data": first.with_frame(frame)}


class AddColumns(Node):
    """Put the columns of two tables with the same number of rows side by side.

    Inputs 'left' and 'right': tables with as many rows each. Output
    'data': the columns of 'left' then those of 'right', row by row (the
    first row of 'left' beside the first row of 'right'); a right column
    whose name 'left' has gets 'right_suffix'. Roles: the left ones, then
    the right ones (a right label becomes a feature if 'left' has one).
    """

    type_id = "add_columns"
    title = "Add Columns"
    category = "Transform"
    scoring_role = ScoringRole.NOT_IN_SERVICE

    class Inputs:
        left = Input(TABLE, help="The left columns.")
        right = Input(TABLE, help="The right columns.")

    class Outputs:
        data = Output(TABLE, help="Both tables' columns.")

    right_suffix = StringParam("_right", allow_empty=False,
                               help="Suffix for right columns whose names clash.")

    def run(self, ctx: RunContext, left: Table, right: Table) -> dict[str, Any]:
        if len(left.frame) != len(right.frame):
            raise NodeInputError(self.label, f"'left' has {len(left.frame)} rows but 'right' "
                                 f"has {len(right.frame)}.", port="right",
                                 fix="Give both inputs the same rows, or use Join Data on a "
                                     "key column.")
        mapping = {c: c + self.right_suffix for c in right.frame.columns
                   if c in left.frame.columns}
        clashes = [n for n in mapping.values() if n in left.frame.columns]
        if clashes:
            raise NodeInputError(self.label, f"renamed columns {columns_text(clashes)} clash "
                                 "too.", port="right", fix="Choose another 'right_suffix'.")
        right_frame = right.frame.rename(columns=mapping).reset_index(drop=True)
        frame = pd.concat([left.frame.reset_index(drop=True), right_frame], axis=1)
        roles = {mapping.get(c, c): r for c, r in right.roles.items()
                 if not (r == "label" and left.label_column)}
        roles.update(left.roles)
        return {"data": Table(frame, roles)}
