"""Cleaning text before it is vectorized or indexed."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from nodes.context import RunContext
from nodes.contract import ScoringRole
from nodes.node import Node
from nodes.params import BoolParam, ColumnParam, StringParam
from nodes.ports import TABLE, Input, Output
from nodes.text.tokens import resolve_text_column, text_values
from nodes.values import Table

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_PUNCTUATION = re.compile(r"[^\w\s]|_")
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)*\b")
_SPACES = re.compile(r"\s+")


@cache
def _stop_words() -> frozenset[str]:
    """scikit-learn's English stop words (loaded on first use)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return ENGLISH_STOP_WORDS


def preprocess(text: str, *, lowercase: bool, remove_urls: bool, remove_punctuation: bool,
               remove_numbers: bool, remove_stop_words: bool) -> str:
    """One text cleaned; words end up separated by single spaces."""
    if remove_urls:
        text = _URL.sub(" ", text)
    if lowercase:
        text = text.lower()
    if remove_punctuation:
        text = _PUNCTUATION.sub(" ", text)
    if remove_numbers:
        text = _NUMBER.sub(" ", text)
    tokens = _SPACES.split(text.strip())
    if remove_stop_words:
        stop_words = _stop_words()
        tokens = [t for t in tokens if t.lower() not in stop_words]
    return " ".join(t for t in tokens if t)


class PreprocessText(Node):
    """Clean a text column: lower-case it, drop links, punctuation, numbers and stop words.

    Input 'data': a table with a text column. Output 'data': the same table
    with the cleaned text, in place or in 'output_column'. Words end up
    separated by single spaces; a missing text becomes empty.

    The steps run in this order: remove links (http://..., https://...,
    www....), lower-case, replace punctuation by spaces, remove numbers,
    remove English stop words (scikit-learn's list of 318 words such as
    'the', 'and', 'of'). The node learns nothing from the data, so run it
    on training and test rows alike (or before Split Data).

    'text_column' empty means the first text feature column.
    """

    type_id = "preprocess_text"
    imports = ("sklearn.feature_extraction.text",)
    version = 1
    title = "Preprocess Text"
    category = "Text"
    scoring_role = ScoringRole.ROW_WISE

    class Inputs:
        data = Input(TABLE, help="The table with the text column.")

    class Outputs:
        data = Output(TABLE, help="The table with the cleaned text.")

    text_column = ColumnParam("", help="Column with the text; empty: the first text column.")
    lowercase = BoolParam(True, help="Turn every letter to lower case.")
    remove_urls = BoolParam(True, help="Remove links (http://, https://, www.).")
    remove_punctuation = BoolParam(True, help="Replace punctuation by spaces.")
    remove_numbers = BoolParam(False, help="Remove numbers (e.g. 42, 3.5, 1,000).")
    remove_stop_words = BoolParam(False, help="Remove English stop words (the, and, of...).")
    output_column = StringParam("", help="Column for the cleaned text; empty: replace the "
                                         "text column.")

    def run(self, ctx: RunContext, data: Table) -> dict[str, Any]:
        column = resolve_text_column(self.label, data, self.text_column)
        options = {name: self.params[name] for name in (
            "lowercase", "remove_urls", "remove_punctuation", "remove_numbers",
            "remove_stop_words")}
        cleaned = [preprocess(text, **options) for text in text_values(data, column)]
        frame = data.frame.copy()
        target = self.output_column or column
        frame[target] = cleaned
        frame[target] = frame[target].astype("str")
        return {"data": data.with_frame(frame)}
