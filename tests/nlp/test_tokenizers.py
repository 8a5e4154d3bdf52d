"""Tokenizers: words and punctuation, whitespace, characters, n-grams, labels."""

from __future__ import annotations

import pickle

import pytest

from flambe.compile import yaml
from flambe.errors import DataError
from flambe.nlp.tokenizer import (
    CharTokenizer,
    LabelTokenizer,
    NGramsTokenizer,
    WhitespaceTokenizer,
    WordTokenizer,
    english_stop_words,
)

TEXT = "justo. Praesent luctus."


def test_word_tokenizer_separates_words_and_punctuation():
    assert WordTokenizer()(TEXT) == ["justo", ".", "Praesent", "luctus", "."]
    assert WordTokenizer()("") == []
    assert WordTokenizer().tokenize("Hello, world!") == ["Hello", ",", "world", "!"]


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("I don't know", ["I", "do", "n't", "know"]),
        ("they wo n't sit", ["they", "wo", "n't", "sit"]),  # SST's pre-tokenized form
        ("it's John's", ["it", "'s", "John", "'s"]),
        ("a well-made film", ["a", "well-made", "film"]),
        ("costs $3.14, or 1,000 yen", ["costs", "$", "3.14", ",", "or", "1,000", "yen"]),
        ("the U.S. army", ["the", "U.S.", "army"]),
        ("wait... what -- no", ["wait", "...", "what", "--", "no"]),
        ("<unk> said <eol>", ["<unk>", "said", "<eol>"]),
        ("naïve café 東京", ["naïve", "café", "東京"]),
    ],
)
def test_word_tokenizer_conventions(text, tokens):
    assert WordTokenizer()(text) == tokens


def test_whitespace_tokenizer_keeps_punctuation_attached():
    assert WhitespaceTokenizer()(TEXT) == ["justo.", "Praesent", "luctus."]
    assert WhitespaceTokenizer()("  ") == []


def test_char_tokenizer():
    tokens = CharTokenizer()("justo. Praesent")
    assert len(tokens) == 15 and "." in tokens and " " in tokens
    assert CharTokenizer()("") == []


def test_ngrams():
    assert NGramsTokenizer(2)(TEXT) == ["justo .", ". Praesent", "Praesent luctus", "luctus ."]
    assert NGramsTokenizer(1)(TEXT) == WordTokenizer()(TEXT)
    combined = NGramsTokenizer([1, 2, 3])(TEXT)
    assert combined == (
        NGramsTokenizer(1)(TEXT) + NGramsTokenizer(2)(TEXT) + NGramsTokenizer(3)(TEXT)
    )
    assert NGramsTokenizer(5)("a b") == []


def test_ngrams_stop_words_shipped_and_given():
    text = "justo. Praesent the luctus."
    assert NGramsTokenizer(2, exclude_stopwords=True)(text) == [
        "justo .",
        ". Praesent",
        "Praesent luctus",
        "luctus .",
    ]
    assert NGramsTokenizer(2, exclude_stopwords=True, stop_words=["Praesent", "the"])(text) == [
        "justo .",
        ". luctus",
        "luctus .",
    ]
    words = english_stop_words()
    assert len(words) == 179 and {"the", "a", "don't", "wouldn't"} <= words
    # exact, case-sensitive matches
    assert NGramsTokenizer(1, exclude_stopwords=True)("The cat") == ["The", "cat"]


@pytest.mark.parametrize("bad", [0, -1, [1, 0], [], "2", True])
def test_ngrams_refuses_bad_sizes(bad):
    with pytest.raises(DataError, match="ngrams"):
        NGramsTokenizer(bad)


def test_label_tokenizer():
    assert LabelTokenizer("|")("a|b") == ["a", "b"]
    assert LabelTokenizer()("a|b") == ["a|b"]


@pytest.mark.parametrize(
    "tokenizer",
    [
        WordTokenizer(),
        WhitespaceTokenizer(),
        CharTokenizer(),
        NGramsTokenizer([1, 2], exclude_stopwords=True),
        LabelTokenizer(","),
    ],
)
def test_tokenizers_pickle(tokenizer):
    copy = pickle.loads(pickle.dumps(tokenizer))
    assert copy(TEXT + ",x") == tokenizer(TEXT + ",x")


def test_tokenizers_load_from_yaml():
    text = """
word: !WordTokenizer {}
space: !WhitespaceTokenizer {}
char: !CharTokenizer {}
ngrams: !NGramsTokenizer {ngrams: [1, 2], exclude_stopwords: true}
label: !LabelTokenizer {multilabel_sep: ','}
"""
    config = yaml.load(text)
    built = {name: schema() for name, schema in config.items()}
    assert built["word"](TEXT) == ["justo", ".", "Praesent", "luctus", "."]
    assert built["space"](TEXT) == ["justo.", "Praesent", "luctus."]
    assert built["char"]("ab") == ["a", "b"]
    assert built["ngrams"]("the cat sat") == ["cat", "sat", "cat sat"]
    assert built["label"]("a,b") == ["a", "b"]
    assert "!NGramsTokenizer" in yaml.dump(built["ngrams"])
