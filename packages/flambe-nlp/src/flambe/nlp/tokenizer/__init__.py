"""Tokenizers: split text into tokens (words, characters, n-grams, labels).

These lived in ``flambe.tokenizer`` in the original Flambé; they come with
the ``flambe-nlp`` distribution as ``flambe.nlp.tokenizer``.
"""

from flambe.nlp.tokenizer.char import CharTokenizer
from flambe.nlp.tokenizer.label import LabelTokenizer
from flambe.nlp.tokenizer.tokenizer import Tokenizer
from flambe.nlp.tokenizer.word import (
    NGramsTokenizer,
    WhitespaceTokenizer,
    WordTokenizer,
    english_stop_words,
)

__all__ = [
    "Tokenizer",
    "WordTokenizer",
    "WhitespaceTokenizer",
    "CharTokenizer",
    "NGramsTokenizer",
    "LabelTokenizer",
    "english_stop_words",
]
