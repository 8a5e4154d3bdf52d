"""Label tokenizer: one label, or several separated by a separator."""

from __future__ import annotations

from flambe.nlp.tokenizer.tokenizer import Tokenizer


class LabelTokenizer(Tokenizer):
    """The whole string as one label, or the labels separated by ``multilabel_sep``.

    Parameters
    ----------
    multilabel_sep : str, optional
        The separator of several labels (``'|'`` turns ``"a|b"`` into
        ``['a', 'b']``); without it ``"a|b"`` is the single label ``'a|b'``.

    """

    def __init__(self, multilabel_sep: str | None = None) -> None:
        super().__init__()
        self.multilabel_sep = multilabel_sep

    def tokenize(self, example: str) -> list[str]:
        """The label(s) of ``example``."""
        if self.multilabel_sep:
            return example.split(self.multilabel_sep)
        return [example]
