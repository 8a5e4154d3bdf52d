"""``BoWField``: text to a bag-of-words vector."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from flambe.errors import DataError
from flambe.field.field import Field
from flambe.nlp.field.vocabulary import iter_texts
from flambe.nlp.tokenizer import NGramsTokenizer, Tokenizer


class BoWField(Field):
    """Featurizes text as a bag of words: one count (or frequency) per vocabulary token.

    :meth:`setup` counts the tokens of every split; a token enters the
    vocabulary, after ``unk_token`` (id 0), once it has been seen
    ``min_freq`` times (counts add up across calls, ids never change).
    :meth:`process` returns a float vector of length ``vocab_size``: how
    often each token occurs in the text. **Every token outside the
    vocabulary counts as unk**, whether it was never seen or seen fewer
    than ``min_freq`` times (the original dropped the latter silently).
    With ``normalize`` the vector is divided by its sum (frequencies that
    add up to 1), then multiplied by ``scale_factor``.

    Parameters
    ----------
    tokenizer : Tokenizer, optional
        Default ``NGramsTokenizer(1)`` (words and punctuation).
    lower : bool
        Lowercase the text first.
    unk_token : str, optional
        The token out-of-vocabulary tokens count as; None makes them an error.
    min_freq : int
        How often a token must be seen in setup to get its own entry.
    normalize : bool
        Divide the counts by their sum.
    scale_factor : float, optional
        Multiply the normalized vector by this (needs ``normalize``).

    Attributes
    ----------
    vocab : Dict[str, int]
        Token to position (saved with the state).
    full_vocab : Dict[str, int]
        How often setup saw each token (saved with the state).

    Raises
    ------
    DataError
        ``scale_factor`` without ``normalize``; ``min_freq`` below 1.

    Examples
    --------
    >>> field = BoWField(min_freq=2, normalize=True)
    >>> field.setup(["thank you", "thank you very much", "thanks a lot"])
    >>> field.vocab
    {'<unk>': 0, 'thank': 1, 'you': 2}
    >>> field.process("thank you, thank you")  # ',' counts as unk
    tensor([0.2000, 0.4000, 0.4000])

    """

    def __init__(
        self,
        tokenizer: Tokenizer | None = None,
        lower: bool = False,
        unk_token: str | None = "<unk>",
        min_freq: int = 5,
        normalize: bool = False,
        scale_factor: float | None = None,
    ) -> None:
        super().__init__()
        if scale_factor is not None and not normalize:
            raise DataError(
                "BoWField: scale_factor needs normalize: true",
                hint="set normalize: true, or leave scale_factor out",
            )
        if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
            raise DataError(f"BoWField: min_freq must be a positive integer, not {min_freq!r}")
        self.tokenizer = tokenizer if tokenizer is not None else NGramsTokenizer(1)
        self.lower = lower
        self.unk = unk_token
        self.min_freq = min_freq
        self.normalize = normalize
        self.scale_factor = scale_factor
        self.vocab: dict[str, int] = {} if unk_token is None else {unk_token: 0}
        self.full_vocab: dict[str, int] = {}
        self.register_attrs("vocab", "full_vocab")

    @property
    def vocab_size(self) -> int:
        """The length of the processed vectors."""
        return len(self.vocab)

    @property
    def vocab_list(self) -> list[str]:
        """The tokens in position order."""
        return list(self.vocab)

    def _tokens(self, text: str) -> list[str]:
        return self.tokenizer.tokenize(text.lower() if self.lower else text)

    def setup(self, *data: Any) -> None:
        """Count the tokens of every split and add the frequent ones to the vocabulary."""
        counts, vocab = self.full_vocab, self.vocab
        order: dict[str, None] = {}
        for text in iter_texts(data, "BoWField"):
            for token in self._tokens(text):
                counts[token] = counts.get(token, 0) + 1
                order[token] = None
        for token in order:
            if token not in vocab and counts[token] >= self.min_freq:
                vocab[token] = len(vocab)

    def process(self, example: Any) -> torch.Tensor:
        """The bag-of-words vector [vocab_size] of ``example`` (float32).

        Raises
        ------
        DataError
            A token outside the vocabulary when there is no unk token.

        """
        if not isinstance(example, str):
            if example is None:
                raise DataError("BoWField: the example is None, not text")
            example = str(example)
        tokens = self._tokens(str(example))
        vocab = self.vocab
        if self.unk is None:
            missing = [t for t in tokens if t not in vocab]
            if missing:
                raise DataError(
                    f"BoWField: token {missing[0]!r} is not in the vocabulary and "
                    "the field has no unk_token",
                    hint="set unk_token",
                )
            ids = [vocab[t] for t in tokens]
        else:
            unk = vocab[self.unk]
            get = vocab.get
            ids = [get(t, unk) for t in tokens]
        vector = torch.bincount(
            torch.from_numpy(np.array(ids, dtype=np.int64)), minlength=len(vocab)
        ).to(torch.float32)
        if self.normalize:
            total = vector.sum()
            if total > 0:
                vector = vector / total
            if self.scale_factor is not None:
                vector = vector * self.scale_factor
        return vector


BowField = BoWField  # the spelling of the issue tracker and some docs
