"""Turning text into numbers: word-count features, and word index sequences."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from nodes.context import RunContext
from nodes.contract import ScoringRole
from nodes.errors import NodeInputError, ParameterError
from nodes.node import Node
from nodes.params import BoolParam, ChoiceParam, ColumnParam, IntParam, StringParam
from nodes.ports import TABLE, TRANSFORM, Input, Output
from nodes.text.tokens import TOKEN_PATTERN, resolve_text_column, text_values, words
from nodes.transform.fitted import TableTransformer
from nodes.values import Table, Transform, register_artifact_class

#: Reserved word indices (as in Keras' IMDB data): 0 pads, 1 is an unknown word.
PADDING_INDEX = 0
UNKNOWN_INDEX = 1
FIRST_WORD_INDEX = 2

_METHODS = ("multi_hot", "counts", "tfidf")


@register_artifact_class
class TextVectorizer(TableTransformer):
    """A fitted vocabulary (and idf weights) that turns a text column into
    one numeric column per term."""

    setting_names = ("column", "method", "ngram_min", "ngram_max", "lowercase", "prefix",
                     "keep_text")

    def terms(self) -> list[str]:
        return list(self.state_values["vocabulary"])

    def feature_names(self) -> list[str]:
        return [self.state_values["prefix"] + term for term in self.terms()]

    def counts(self, texts: Any, binary: bool) -> Any:
        """Sparse term counts (0/1 when ``binary``), one row per text."""
        from sklearn.feature_extraction.text import CountVectorizer

        s = self.state_values
        counter = CountVectorizer(
            vocabulary={term: i for i, term in enumerate(s["vocabulary"])},
            ngram_range=(s["ngram_min"], s["ngram_max"]), lowercase=s["lowercase"],
            token_pattern=TOKEN_PATTERN, binary=binary)
        return counter.transform(texts)

    def matrix(self, texts: Any) -> np.ndarray:
        s = self.state_values
        counts = self.counts(texts, binary=s["method"] == "multi_hot")
        if s["method"] == "tfidf":
            weighted = counts.multiply(np.asarray(s["idf"])[None, :]).tocsr()
            from sklearn.preprocessing import normalize

            return normalize(weighted, norm="l2").toarray().astype(np.float32)
        return counts.toarray().astype(np.float32 if s["method"] == "counts" else np.uint8)

    def transform_table(self, table: Table) -> Table:
        s = self.state_values
        values = self.matrix(list(text_values(table, s["column"])))
        features = pd.DataFrame(values, columns=self.feature_names(), index=table.frame.index)
        base = table.frame if s["keep_text"] else table.frame.drop(columns=[s["column"]])
        base = base.drop(columns=[c for c in features.columns if c in base.columns])
        roles = {s["column"]: "ignore"} if s["keep_text"] else {}
        return table.with_frame(pd.concat([base, features], axis=1), roles)


class VectorizeText(Node):
    """Turn a text column into numeric features: one column per word or n-gram.

    Input 'data': a table with a text column. Output 'data': the table with
    a numeric column per vocabulary term, named 'prefix' + term (e.g.
    'w_cancer', 'w_heart attack'); output 'transform': the fitted
    vocabulary, to vectorize test rows exactly the same way with Apply
    Transformation (fit on the training rows only); output 'vocabulary':
    the terms with their column, document frequency and idf weight.

    Methods: 'multi_hot' 1 when the term occurs in the text, else 0;
    'counts' how often it occurs; 'tfidf' the count times the term's
    inverse document frequency ln((1 + n) / (1 + df)) + 1, each row then
    scaled to unit length (scikit-learn's TfidfVectorizer with its
    defaults). Words are runs of letters and digits; 'ngram_min' and
    'ngram_max' choose single words (1, 1), word pairs (2, 2) or both
    (1, 2). The vocabulary is the 'max_features' most frequent terms (0:
    all; for 'multi_hot' frequency counts texts, otherwise occurrences)
    that occur in at least 'min_document_frequency' texts.

    The text column is dropped unless 'keep_text' is on (it then gets the
    'ignore' role, so learners skip it). 'text_column' empty means the
    first text feature column.
    """

    type_id = "vectorize_text"
    imports = ("sklearn.feature_extraction.text",)
    version = 1
    title = "Vectorize Text"
    category = "Text"
    aliases = ("Extract N-Gram Features from Text", "Feature Hashing")
    scoring_role = ScoringRole.FITTED
    fitted_transform_port = "transform"

    class Inputs:
        data = Input(TABLE, help="The table with the text column.")

    class Outputs:
        data = Output(TABLE, help="The table with one numeric column per term.")
        transform = Output(TRANSFORM, help="The fitted vocabulary, for Apply Transformation.")
        vocabulary = Output(TABLE, help="Terms, their columns, document frequencies and idf.")

    text_column = ColumnParam("", help="Column with the text; empty: the first text column.")
    method = ChoiceParam("tfidf", _METHODS,
                         help="multi_hot: 0/1 presence; counts: occurrences; tfidf: "
                              "counts weighted by rarity, rows scaled to length 1.")
    ngram_min = IntParam(1, minimum=1, maximum=5, help="Shortest n-gram (1: single words).")
    ngram_max = IntParam(1, minimum=1, maximum=5, help="Longest n-gram (2: word pairs too).")
    max_features = IntParam(1000, minimum=0, maximum=100_000,
                            help="Keep the most frequent terms, at most this many; 0: all.")
    min_document_frequency = IntParam(1, minimum=1,
                                      help="Keep terms found in at least this many texts.")
    lowercase = BoolParam(True, help="Lower-case the text before finding terms.")
    prefix = StringParam("w_", help="Prefix of the term column names.")
    keep_text = BoolParam(False, help="Keep the text column (role 'ignore').")

    @classmethod
    def check_parameters(cls, values: dict[str, Any], label: str) -> None:
        if values["ngram_min"] > values["ngram_max"]:
            raise ParameterError(label, "ngram_max", values["ngram_max"],
                                 f"it must be >= ngram_min ({values['ngram_min']})",
                                 fix="Raise 'ngram_max' or lower 'ngram_min'.")

    def run(self, ctx: RunContext, data: Table) -> dict[str, Any]:
        from sklearn.feature_extraction.text import TfidfVectorizer

        column = resolve_text_column(self.label, data, self.text_column)
        texts = list(text_values(data, column))
        vectorizer = TfidfVectorizer(
            ngram_range=(self.ngram_min, self.ngram_max), lowercase=self.lowercase,
            token_pattern=TOKEN_PATTERN, max_features=self.max_features or None,
            min_df=self.min_document_frequency, binary=self.method == "multi_hot")
        try:
            vectorizer.fit(texts)
        except ValueError as error:  # no term survives (empty texts, min_df too high)
            raise NodeInputError(self.label, f"no terms found in {column!r}: {error}",
                                 port="data", columns=[column],
                                 fix="Check the text column, or lower "
                                     "'min_document_frequency'.") from None
        terms = list(vectorizer.get_feature_names_out())
        idf = vectorizer.idf_
        fitted = TextVectorizer(column=column, method=self.method, ngram_min=self.ngram_min,
                                ngram_max=self.ngram_max, lowercase=self.lowercase,
                                prefix=self.prefix, keep_text=self.keep_text,
                                vocabulary=terms, idf=idf.tolist())
        transform = Transform(fitted, [column], f"{self.title} ({self.method})")
        ctx.progress(0.5, f"{len(terms)} terms")
        out = transform.apply(data)
        frequency = np.asarray(fitted.counts(texts, binary=True).sum(axis=0)).ravel()
        vocabulary = Table(pd.DataFrame({
            "term": pd.Series(terms, dtype="str"), "column": fitted.feature_names(),
            "document_frequency": frequency.astype(np.int64), "idf": idf}))
        return {"data": out, "transform": transform, "vocabulary": vocabulary}


@register_artifact_class
class WordIndexer(TableTransformer):
    """A fitted vocabulary that turns each text into a list of word indices."""

    setting_names = ("column", "vocabulary_size", "lowercase", "unknown_words",
                     "max_length", "sequence_column", "keep_text")

    def index_of(self) -> dict[str, int]:
        return {word: FIRST_WORD_INDEX + i for i, word in enumerate(self.state_values["words"])}

    def sequences(self, texts: Any) -> list[list[int]]:
        s = self.state_values
        lookup = self.index_of()
        keep_unknown = s["unknown_words"] == "mark"
        result = []
        for text in texts:
            sequence = []
            for word in words(text, s["lowercase"]):
                index = lookup.get(word)
                if index is not None:
                    sequence.append(index)
                elif keep_unknown:
                    sequence.append(UNKNOWN_INDEX)
            if s["max_length"]:
                sequence = sequence[:s["max_length"]]
            result.append(sequence)
        return result

    def transform_table(self, table: Table) -> Table:
        s = self.state_values
        frame = table.frame.copy()
        sequences = self.sequences(text_values(table, s["column"]))
        if not s["keep_text"]:
            frame = frame.drop(columns=[s["column"]])
        frame[s["sequence_column"]] = pd.Series(sequences, index=frame.index, dtype=object)
        roles = {s["column"]: "ignore"} if s["keep_text"] else {}
        return table.with_frame(frame, roles)


class TextToWordIndices(Node):
    """Turn each text into a list of word indices over a vocabulary of the most frequent words.

    The preparation of the IMDB reviews in "Deep Learning with Python":
    every word of the training texts is counted, the most frequent ones
    form the vocabulary, and each text becomes the list of its words'
    indices, in order.

    Input 'data': a table with a text column. Output 'data': the table with
    the text column replaced by 'sequence_column', whose every cell is a
    list of whole numbers (e.g. [14, 2, 87, 1, 5]); output 'transform':
    the fitted vocabulary, to index test rows exactly the same way with
    Apply Transformation (fit on the training rows only); output
    'vocabulary': each word with its index and count in the fitted texts.

    Indices: 0 is kept for padding (never produced here), 1 stands for a
    word outside the vocabulary, and the words get 2, 3, ... in order of
    decreasing count (ties in alphabetical order), so every index is below
    'vocabulary_size' (the 'num_words' of Keras) and a multi-hot or
    embedding layer of that size fits. 'unknown_words' 'mark' writes 1 for
    a word outside the vocabulary, 'drop' leaves it out. 'max_length' > 0
    keeps only the first that many indices of each text. Words are runs of
    letters and digits, lower-cased when 'lowercase' is on (clean the text
    first with Preprocess Text for more control).
    """

    type_id = "text_to_word_indices"
    version = 1
    title = "Text to Word Indices"
    category = "Text"
    aliases = ("Convert Word to Vector",)
    scoring_role = ScoringRole.FITTED
    fitted_transform_port = "transform"

    class Inputs:
        data = Input(TABLE, help="The table with the text column.")

    class Outputs:
        data = Output(TABLE, help="The table with a column of word index lists.")
        transform = Output(TRANSFORM, help="The fitted vocabulary, for Apply Transformation.")
        vocabulary = Output(TABLE, help="Each vocabulary word with its index and count.")

    text_column = ColumnParam("", help="Column with the text; empty: the first text column.")
    vocabulary_size = IntParam(10000, minimum=3, maximum=1_000_000,
                               help="Indices run from 0 to this - 1: 0 padding, 1 unknown, "
                                    "then the (size - 2) most frequent words.")
    unknown_words = ChoiceParam("mark", ["mark", "drop"],
                                help="mark: index 1 for a word outside the vocabulary; "
                                     "drop: leave it out.")
    max_length = IntParam(0, minimum=0, help="Keep at most this many indices per text; "
                                             "0: all.")
    lowercase = BoolParam(True, help="Lower-case the words first.")
    sequence_column = StringParam("word_indices", allow_empty=False,
                                  help="Name of the column with the index lists.")
    keep_text = BoolParam(False, help="Keep the text column (role 'ignore').")

    def run(self, ctx: RunContext, data: Table) -> dict[str, Any]:
        column = resolve_text_column(self.label, data, self.text_column)
        if self.sequence_column in data.frame.columns and self.sequence_column != column:
            raise NodeInputError(
                self.label, f"the table already has a column {self.sequence_column!r}.",
                port="data", columns=[self.sequence_column],
                fix="Choose another 'sequence_column'.")
        counts: Counter[str] = Counter()
        for text in text_values(data, column):
            counts.update(words(text, self.lowercase))
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        kept = ranked[:self.vocabulary_size - FIRST_WORD_INDEX]
        indexer = WordIndexer(column=column, vocabulary_size=self.vocabulary_size,
                              lowercase=self.lowercase, unknown_words=self.unknown_words,
                              max_length=self.max_length, sequence_column=self.sequence_column,
                              keep_text=self.keep_text, words=[w for w, _ in kept])
        transform = Transform(indexer, [column], self.title)
        ctx.log("%d distinct words, %d kept", len(counts), len(kept))
        vocabulary = Table(pd.DataFrame({
            "word": pd.Series([w for w, _ in kept], dtype="str"),
            "index": np.arange(FIRST_WORD_INDEX, FIRST_WORD_INDEX + len(kept), dtype=np.int64),
            "count": np.array([n for _, n in kept], dtype=np.int64)}))
        return {"data": transform.apply(data), "transform": transform,
                "vocabulary": vocabulary}
