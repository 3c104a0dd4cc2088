"""Split Data by a relative expression, and Partition and Sample."""

from __future__ import annotations

import operator
import re
from typing import Any

import numpy as np
import pandas as pd

from nodes.context import RunContext
from nodes.contract import Randomness, ScoringRole
from nodes.data.checks import is_numeric, require_columns, require_no_missing, require_rows
from nodes.errors import NodeInputError, ParameterError
from nodes.node import Node
from nodes.params import (
    BoolParam,
    ChoiceParam,
    ColumnParam,
    FloatParam,
    IntParam,
    SeedParam,
    StringParam,
)
from nodes.ports import TABLE, Input, Output
from nodes.values import Table

_OPERATORS = {"==": operator.eq, "=": operator.eq, "!=": operator.ne, "<>": operator.ne,
              "<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}
_TOKEN = re.compile(r"""\s*(?:
    "(?P<quoted>[^"]+)"                      # "column name"
  | '(?P<text>[^']*)'                        # 'text value'
  | (?P<op><=|>=|==|!=|<>|=|<|>)
  | (?P<word>[^\s"'<>=!]+)
)""", re.VERBOSE)


def parse_expression(text: str) -> list[list[tuple[str, str, Any]]]:
    """``a > 1 and "b c" == 'x' or d <= 2`` -> OR of ANDs of (column, op, value).

    A value is a number, or text in single quotes. Raises ValueError."""
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ValueError(f"cannot read {text[position:position + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match[kind]))
        position = match.end()
    groups: list[list[tuple[str, str, Any]]] = [[]]
    index = 0
    while True:
        if index + 3 > len(tokens):
            raise ValueError("expected: column operator value")
        (kind_c, column), (kind_o, op), (kind_v, value) = tokens[index:index + 3]
        if kind_c not in ("word", "quoted") or kind_o != "op" or kind_v not in ("word", "text"):
            raise ValueError(f"expected: column operator value, near {column!r}")
        if kind_v == "word":
            try:
                parsed: Any = float(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a number; quote text as '{value}'") from None
        else:
            parsed = value
        groups[-1].append((column, op, parsed))
        index += 3
        if index == len(tokens):
            return groups
        kind_j, joiner = tokens[index]
        if kind_j != "word" or joiner.lower() not in ("and", "or"):
            raise ValueError(f"expected 'and' or 'or', found {joiner!r}")
        if joiner.lower() == "or":
            groups.append([])
        index += 1


class SplitDataByExpression(Node):
    """Split the rows of a table by a condition on their values.

    Input 'data': a table. Output 'matching': the rows for which
    'expression' is true; output 'other': the rest (a missing value never
    matches). Both keep every column and role and are numbered 0, 1, ...
    again.

    The expression compares columns with values: 'MEDV > 25', '"petal
    length (cm)" >= 4.5 and species != 'setosa'', joined by 'and' / 'or'
    ('and' binds first). Operators: == (or =), != (or <>), <, <=, >, >=.
    Put column names with spaces in double quotes and text values in
    single quotes; bare values are numbers. Nothing else is evaluated.
    """

    type_id = "split_data_by_expression"
    title = "Split Data by Expression"
    category = "Transform"
    aliases = ("Split Data (Relative Expression)", "Split Data (Regular Expression)")
    scoring_role = ScoringRole.TRAINING_ONLY

    class Inputs:
        data = Input(TABLE, help="The table whose rows to split.")

    class Outputs:
        matching = Output(TABLE, help="Rows for which the expression holds.")
        other = Output(TABLE, help="The other rows.")

    expression = StringParam("", allow_empty=False,
                             help="e.g. MEDV > 25 and CHAS == 1; text in 'single quotes'.")

    @classmethod
    def check_parameters(cls, values: dict[str, Any], label: str) -> None:
        try:
            parse_expression(values["expression"])
        except ValueError as error:
            raise ParameterError(label, "expression", values["expression"],
                                 f"it must be comparisons like MEDV > 25 joined by and/or "
                                 f"({error})") from None

    def run(self, ctx: RunContext, data: Table) -> dict[str, Any]:
        groups = parse_expression(self.expression)
        frame = data.frame
        columns = list(dict.fromkeys(c for group in groups for c, _, _ in group))
        require_columns(self.label, data, columns, port="data", why=" named in 'expression'")
        selected = pd.Series(False, index=frame.index)
        for group in groups:
            both = pd.Series(True, index=frame.index)
            for column, op, value in group:
                series = frame[column]
                if isinstance(value, float) and not is_numeric(series):
                    raise NodeInputError(self.label, f"column {column!r} holds text but is "
                                         f"compared with the number {value:g}.", port="data",
                                         columns=[column],
                                         fix=f"Quote the value as '{value:g}'.")
                if isinstance(value, str) and is_numeric(series):
                    raise NodeInputError(self.label, f"column {column!r} holds numbers but is "
                                         f"compared with the text '{value}'.", port="data",
                                         columns=[column], fix="Remove the quotes.")
                both &= _OPERATORS[op](series, value).fillna(False).astype(bool) & series.notna()
            selected |= both
        return {"matching": data.with_frame(frame[selected].reset_index(drop=True)),
                "other": data.with_frame(frame[~selected].reset_index(drop=True))}


class PartitionAndSample(Node):
    """Take a random sample of the rows, the first rows, or assign every row to one of k folds.

    Input 'data': a table. Output 'data':

    - mode 'sample': a random share 'rate' of the rows (rounded), drawn
      with seed 'seed' (pandas DataFrame.sample); with 'stratify' on, the
      same share of each class of the label (or 'stratify_column').
    - mode 'head': the first 'count' rows.
    - mode 'assign_folds': every row, plus a 'Fold' column (1 to 'folds',
      role id) from scikit-learn's KFold (StratifiedKFold with 'stratify'),
      shuffled with 'seed'.
    """

    type_id = "partition_and_sample"
    imports = ("sklearn.model_selection",)
    title = "Partition and Sample"
    category = "Transform"
    scoring_role = ScoringRole.TRAINING_ONLY
    randomness = Randomness()

    class Inputs:
        data = Input(TABLE, help="The table to sample or partition.")

    class Outputs:
        data = Output(TABLE, help="The sampled rows, or all rows with their fold.")

    mode = ChoiceParam("sample", ["sample", "head", "assign_folds"],
                       help="sample: random rows; head: first rows; assign_folds: a Fold column.")
    rate = FloatParam(0.1, minimum=0.0, maximum=1.0, exclusive_minimum=True,
                      help="sample: share of the rows to keep.")
    count = IntParam(100, minimum=1, help="head: number of rows.")
    folds = IntParam(5, minimum=2, maximum=1000, help="assign_folds: number of folds.")
    stratify = BoolParam(False, help="Keep the class proportions (sample, assign_folds).")
    stratify_column = ColumnParam("", advanced=True,
                                  help="Column to stratify on; empty: the label column.")
    seed = SeedParam(help="Random seed.")

    def run(self, ctx: RunContext, data: Table) -> dict[str, Any]:
        from sklearn.model_selection import KFold, StratifiedKFold

        require_rows(self.label, data, port="data")
        frame = data.frame
        if self.mode == "head":
            return {"data": data.with_frame(frame.head(self.count).reset_index(drop=True))}
        strata = self._strata(data) if self.stratify else None
        if self.mode == "sample":
            if strata is None:
                sample = frame.sample(frac=self.rate, random_state=self.seed)
            else:
                sample = frame.groupby(strata, sort=True, group_keys=False).sample(
                    frac=self.rate, random_state=self.seed)
            return {"data": data.with_frame(sample.reset_index(drop=True))}
        if self.folds > len(frame):
            raise NodeInputError(self.label, f"{self.folds} folds need at least as many rows "
                                 f"(the table has {len(frame)}).", port="data",
                                 fix="Lower 'folds'.")
        if strata is None:
            splits = KFold(self.folds, shuffle=True, random_state=self.seed).split(frame)
        else:
            smallest = strata.value_counts().min()
            if smallest < self.folds:
                raise NodeInputError(self.label, f"the smallest class has {smallest} rows, "
                                     f"fewer than {self.folds} folds.", port="data",
                                     fix="Lower 'folds' or turn 'stratify' off.")
            splits = StratifiedKFold(self.folds, shuffle=True,
                                     random_state=self.seed).split(frame, strata)
        fold = np.zeros(len(frame), dtype=np.int64)
        for number, (_, test) in enumerate(splits, start=1):
            fold[test] = number
        result = frame.assign(Fold=fold)
        return {"data": data.with_frame(result, {"Fold": "id"})}

    def _strata(self, data: Table) -> pd.Series:
        column = self.stratify_column or data.label_column
        if column is None:
            raise NodeInputError(self.label, "'stratify' is on but the table has no label "
                                 "column.", port="data", fix="Set 'stratify_column', or turn "
                                                             "'stratify' off.")
        require_columns(self.label, data, [column], port="data", why=" to stratify on")
        require_no_missing(self.label, data, [column], port="data")
        return data.frame[column]
