"""Character-level tokenizer."""

from __future__ import annotations

from flambe.nlp.tokenizer.tokenizer import Tokenizer


class CharTokenizer(Tokenizer):
    """One token per character, whitespace and punctuation included ("" gives [])."""

    def tokenize(self, example: str) -> list[str]:
        """The characters of ``example``."""
        return list(example)
