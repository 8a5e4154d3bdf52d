"""Word-level tokenizers: words and punctuation, whitespace, n-grams."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

from flambe.errors import DataError
from flambe.nlp.tokenizer.tokenizer import Tokenizer

# One alternative per kind of token, tried in order at each position (a
# data-free take on the Penn Treebank conventions).
_WORD_PATTERN = re.compile(
    r"""
    <[^\s<>]+>                          # markup tokens stay whole: <unk>, <eol>, <s>
  | (?:[^\W\d_]\.){2,}(?![^\W_])        # abbreviations with dots: U.S., e.g.
  | \d+(?:[.,:/]\d+)+                   # numbers with separators: 3.14, 1,000, 10:30
  | \w+(?=[nN]'[tT]\b)                  # the word before n't: do|n't, ca|n't
  | [nN]'[tT]\b                         # n't
  | '(?:[sSdDmM]|re|RE|ve|VE|ll|LL)\b   # clitics: 's 're 've 'll 'd 'm
  | \w+(?:-\w+)*                        # words, hyphenated words
  | \.\.\.|--|``|''                     # multi-character punctuation
  | \S                                  # any other character, alone
""",
    re.VERBOSE,
)

STOP_WORDS_FILE = "stopwords_english.txt"


class WordTokenizer(Tokenizer):
    """Words and punctuation as separate tokens.

    ``"justo. Praesent luctus."`` gives ``['justo', '.', 'Praesent',
    'luctus', '.']``. Following the Penn Treebank conventions (without
    NLTK): punctuation marks are tokens of their own; ``n't`` and the
    clitics ``'s 're 've 'll 'd 'm`` are split off (``"don't"`` gives
    ``['do', "n't"]``); hyphenated words (``well-made``), numbers with
    separators (``3.14``, ``1,000``), abbreviations with dots (``U.S.``),
    ``...``, ``--``, ``````/``''`` and markup tokens such as ``<unk>`` or
    ``<eol>`` stay whole. Letters and digits of any script count as word
    characters. The empty string gives ``[]``.

    (The original 0.4.18 ``WordTokenizer`` split on whitespace only; that
    is :class:`WhitespaceTokenizer` now.)
    """

    def tokenize(self, example: str) -> list[str]:
        """The words and punctuation marks of ``example``, in order."""
        return _WORD_PATTERN.findall(example)


class WhitespaceTokenizer(Tokenizer):
    """Split on whitespace only (``str.split()``): punctuation stays attached.

    ``"justo. Praesent luctus."`` gives ``['justo.', 'Praesent',
    'luctus.']``. The right choice for text that is tokenized already
    (SST, PTB) and the fastest tokenizer.
    """

    def tokenize(self, example: str) -> list[str]:
        """The whitespace-separated pieces of ``example``."""
        return example.split()


@lru_cache(maxsize=1)
def english_stop_words() -> frozenset[str]:
    """The English stop-word list shipped with flambe-nlp (the 179 words of NLTK's list)."""
    text = (
        resources.files("flambe.nlp.tokenizer")
        .joinpath(STOP_WORDS_FILE)
        .read_text(encoding="utf-8")
    )
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


class NGramsTokenizer(Tokenizer):
    """Word n-grams, each joined by single spaces.

    Words come from :class:`WordTokenizer`; with ``exclude_stopwords``,
    stop words are removed first (exact, case-sensitive matches). For a
    list of ``n``, the n-grams of each ``n`` are concatenated in the order
    given.

    >>> NGramsTokenizer(2)("justo. Praesent luctus.")
    ['justo .', '. Praesent', 'Praesent luctus', 'luctus .']

    Parameters
    ----------
    ngrams : int or List[int]
        The n-gram size(s), each at least 1.
    exclude_stopwords : bool
        Remove stop words before building the n-grams.
    stop_words : List[str], optional
        The stop words; by default the English list shipped with the
        package (:func:`english_stop_words`, lowercase words).

    Raises
    ------
    DataError
        An n-gram size that is not a positive integer.

    """

    def __init__(
        self,
        ngrams: int | list[int] = 1,
        exclude_stopwords: bool = False,
        stop_words: Sequence[str] | None = None,
    ) -> None:
        super().__init__()
        sizes = [ngrams] if isinstance(ngrams, int) else list(ngrams)
        if not sizes or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in sizes):
            raise DataError(
                f"NGramsTokenizer: ngrams must be a positive integer or a "
                f"list of them, not {ngrams!r}"
            )
        self.ngrams = ngrams
        self.sizes = sizes
        self.exclude_stopwords = exclude_stopwords
        self.stop_words: frozenset[str] = (
            frozenset(stop_words) if stop_words is not None else english_stop_words()
        )

    @staticmethod
    def _tokenize(words: list[str], n: int) -> list[str]:
        """The n-grams of ``words`` joined by spaces."""
        if n == 1:
            return list(words)
        return [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]

    def tokenize(self, example: str) -> list[str]:
        """The n-grams of ``example``, for each size in order."""
        words = _WORD_PATTERN.findall(example)
        if self.exclude_stopwords:
            stop = self.stop_words
            words = [w for w in words if w not in stop]
        out: list[str] = []
        for n in self.sizes:
            out.extend(self._tokenize(words, n))
        return out
