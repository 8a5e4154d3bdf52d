"""The ``Tokenizer`` interface."""

from __future__ import annotations

from abc import abstractmethod

from flambe.compile.component import Component


class Tokenizer(Component):
    """Splits a string into a list of string tokens.

    Subclasses implement :meth:`tokenize`; calling the tokenizer is the
    same as calling ``tokenize``. Tokenizers hold no state beyond their
    options, so they pickle and load from YAML (``!WordTokenizer {}``).
    """

    @abstractmethod
    def tokenize(self, example: str) -> list[str]:
        """Tokenize an input example.

        Parameters
        ----------
        example : str
            The input text.

        Returns
        -------
        List[str]
            The tokens, in order.

        """

    def __call__(self, example: str) -> list[str]:
        """Tokenize ``example`` (the same as :meth:`tokenize`)."""
        return self.tokenize(example)
