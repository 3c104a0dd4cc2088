"""Preprocess Text, Vectorize Text and Text to Word Indices against scikit-learn and by hand."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from nodes.errors import NodeInputError, ParameterError
from nodes.testing import run_node
from nodes.text.preprocess import PreprocessText
from nodes.text.tokens import TOKEN_PATTERN
from nodes.text.vectorize import TextToWordIndices, VectorizeText
from nodes.transform.normalize import ApplyTransformation
from nodes.values import Table, Transform, load_value, save_value
from tests.nodes.conftest import load_sample

TEXTS = ["The cat sat on the mat.", "A dog! A DOG chased the cat...", "Cats & dogs: 2 pets",
         "see https://example.org/x for the cat"]


@pytest.fixture(scope="module")
def tweets() -> Table:
    return load_sample("health_news_tweets")


def small_table(texts=TEXTS) -> Table:
    return Table(pd.DataFrame({"text": texts, "y": [0, 1, 0, 1][:len(texts)]}), {"y": "label"})


def test_the_text_sample_is_real_tweets_with_a_two_class_label(tweets):
    assert tweets.shape == (7990, 3)
    assert tweets.label_column == "outlet" and tweets.role("tweet_id") == "id"
    assert set(tweets.frame["outlet"]) == {"bbchealth", "cnnhealth"}


def test_preprocess_text_cleans_in_order():
    out = run_node(PreprocessText, {"remove_stop_words": True, "remove_numbers": True},
                   data=small_table())["data"]
    assert out.frame["text"].tolist() == ["cat sat mat", "dog dog chased cat", "cats dogs pets",
                                          "cat"]
    assert out.role("y") == "label"


def test_preprocess_text_can_write_a_new_column_and_keep_case():
    out = run_node(PreprocessText, {"lowercase": False, "remove_urls": False,
                                    "output_column": "clean"}, data=small_table())["data"]
    assert out.frame["text"].tolist() == TEXTS
    assert out.frame["clean"][1] == "A dog A DOG chased the cat"


def test_text_to_word_indices_ranks_words_by_count():
    outputs = run_node(TextToWordIndices, {"vocabulary_size": 5}, data=small_table())
    counts = Counter(w for t in TEXTS for w in pd.Series([t]).str.lower().str.findall(
        r"\b\w+\b")[0])
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:3]
    vocabulary = outputs["vocabulary"].frame
    assert vocabulary["word"].tolist() == [w for w, _ in ranked]
    assert vocabulary["index"].tolist() == [2, 3, 4]
    index = dict(zip(vocabulary["word"], vocabulary["index"], strict=True))
    expected = [[index.get(w, 1) for w in pd.Series([t]).str.lower().str.findall(
        r"\b\w+\b")[0]] for t in TEXTS]
    data = outputs["data"]
    assert data.frame["word_indices"].tolist() == expected
    assert "text" not in data.frame.columns and data.role("y") == "label"
    assert all(isinstance(v, int) for seq in expected for v in seq)


def test_word_indices_drop_unknown_and_truncate():
    data = run_node(TextToWordIndices, {"vocabulary_size": 4, "unknown_words": "drop",
                                        "max_length": 2}, data=small_table())["data"]
    for sequence in data.frame["word_indices"]:
        assert len(sequence) <= 2 and all(2 <= i < 4 for i in sequence)


def test_word_index_transform_indexes_test_rows_with_the_training_vocabulary(tweets, tmp_path):
    train = tweets.with_frame(tweets.frame.iloc[:6000].reset_index(drop=True))
    test = tweets.with_frame(tweets.frame.iloc[6000:].reset_index(drop=True))
    outputs = run_node(TextToWordIndices, {"vocabulary_size": 1000}, data=train)
    transform = outputs["transform"]
    scored = run_node(ApplyTransformation, transform=transform, data=test)["data"]
    words = outputs["vocabulary"].frame["word"].tolist()
    lookup = {w: i + 2 for i, w in enumerate(words)}
    first = [lookup.get(w, 1) for w in pd.Series([test.frame["text"][0]]).str.lower()
             .str.findall(r"\b\w+\b")[0]]
    assert scored.frame["word_indices"][0] == first
    assert max(max(s, default=0) for s in scored.frame["word_indices"]) < 1000
    # stored safely and loaded back, it indexes the same way and keeps its digest
    kind = save_value(transform, tmp_path / "t")
    again = load_value(kind, tmp_path / "t")
    assert isinstance(again, Transform) and again.digest() == transform.digest()
    assert again.apply(test).frame["word_indices"].tolist() == \
        scored.frame["word_indices"].tolist()
    save_value(scored, tmp_path / "table")
    loaded = load_value("table", tmp_path / "table")
    assert loaded.frame["word_indices"].tolist() == scored.frame["word_indices"].tolist()
    assert loaded.digest() == scored.digest()


@pytest.mark.parametrize("method", ["multi_hot", "counts", "tfidf"])
def test_vectorize_text_matches_scikit_learn(tweets, method):
    train = tweets.with_frame(tweets.frame.iloc[:3000].reset_index(drop=True))
    test = tweets.with_frame(tweets.frame.iloc[3000:4000].reset_index(drop=True))
    params = {"method": method, "ngram_max": 2, "max_features": 300,
              "min_document_frequency": 2}
    outputs = run_node(VectorizeText, params, data=train)
    kwargs = {"ngram_range": (1, 2), "max_features": 300, "min_df": 2,
              "token_pattern": TOKEN_PATTERN}
    if method == "tfidf":
        reference = TfidfVectorizer(**kwargs).fit(train.frame["text"])
    else:
        reference = CountVectorizer(binary=method == "multi_hot", **kwargs).fit(
            train.frame["text"])
    terms = list(reference.get_feature_names_out())
    assert outputs["vocabulary"].frame["term"].tolist() == terms
    scored = run_node(ApplyTransformation, transform=outputs["transform"], data=test)["data"]
    columns = ["w_" + t for t in terms]
    np.testing.assert_allclose(scored.frame[columns].to_numpy(dtype=float),
                               reference.transform(test.frame["text"]).toarray(), atol=1e-6)
    assert "text" not in scored.frame.columns and scored.role("outlet") == "label"


def test_vectorize_text_errors_name_the_column_and_parameter():
    numbers = Table(pd.DataFrame({"n": [1, 2]}))
    with pytest.raises(NodeInputError, match="no text column"):
        run_node(VectorizeText, data=numbers)
    with pytest.raises(NodeInputError, match="'n'.*not text"):
        run_node(VectorizeText, {"text_column": "n"}, data=numbers)
    with pytest.raises(NodeInputError, match="'txt'"):
        run_node(TextToWordIndices, {"text_column": "txt"}, data=small_table())
    with pytest.raises(NodeInputError, match="no terms"):
        run_node(VectorizeText, data=Table(pd.DataFrame({"t": ["", "  "]})))
    with pytest.raises(ParameterError, match="'ngram_max'"):
        VectorizeText({"ngram_min": 2, "ngram_max": 1})
    with pytest.raises(ParameterError, match="'vocabulary_size'"):
        TextToWordIndices({"vocabulary_size": 2})
