"""``TextField``: text to token ids, with a vocabulary and optional pretrained vectors."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import chain
from typing import Any

import numpy as np
import torch

from flambe.compile.registrable import registrable_factory
from flambe.errors import DataError
from flambe.field.field import Field
from flambe.nlp.field.embeddings import read_embeddings
from flambe.nlp.field.vocabulary import iter_texts, read_vocabulary
from flambe.nlp.tokenizer import Tokenizer, WordTokenizer


class TextField(Field):
    """Tokenizes text and maps the tokens to ids.

    **Vocabulary.** The special tokens come first, in the order pad, unk,
    sos, eos, then ``additional_special_tokens`` (those that are not None),
    so by default ``<pad>`` is 0 and ``<unk>`` is 1. :meth:`setup` adds the
    tokens of every split it is given (a dataset gives train, val and test)
    in the order they are first seen; it may run again (another dataset)
    and then only adds: ids never change. ``min_freq`` keeps a token out
    until it has been seen that many times (counts add up across calls);
    ``max_size`` caps ``vocab_size`` (specials included), keeping the most
    frequent of the new tokens of a call. A fixed ``vocabulary`` (a list or
    a file, one token a line) replaces all of that: ``setup`` adds nothing.

    **Pretrained vectors.** With ``embeddings`` (a GloVe, word2vec or
    fastText ``.vec`` file, read by Flambé, no gensim), a token gets an id
    only when the file has a vector for it, or with ``unk_init_all`` (a
    random vector); other tokens map to unk's id and do not count in
    ``vocab_size``. Specials without a vector get a random one (the pad
    row is zeros). ``embedding_matrix`` [vocab_size x dim] is aligned with
    the ids: feed it to ``!Embeddings.from_pretrained``. Random rows are
    normal, scaled to the standard deviation of the loaded vectors.
    ``setup_all_embeddings`` adds every word of the file after the data's.

    **Processing.** :meth:`process` lowercases (``lower``), tokenizes,
    brackets the tokens with sos/eos, maps them to ids (unknown tokens to
    unk; without an unk token an unknown token is an error naming it;
    ``drop_unknown`` leaves them out) and keeps at most ``max_seq_len``
    ids: the first ones (the last ones with ``truncate_end``), sos and eos
    always kept. Lists, tuples and dicts of strings are processed item by
    item. Before ``setup`` every token maps to unk.

    Parameters
    ----------
    tokenizer : Tokenizer, optional
        Default :class:`~flambe.nlp.tokenizer.WordTokenizer` (words and
        punctuation apart).
    lower : bool
        Lowercase the text (before tokenizing, in setup and process).
    pad_token, unk_token, sos_token, eos_token : str, optional
        The special tokens; None for none.
    embeddings : str, optional
        Path of a pretrained vectors file.
    embeddings_format : str
        ``'glove'`` (no header), ``'word2vec'`` or ``'fasttext'`` (text
        ``.vec`` with a ``<count> <dim>`` header).
    embeddings_binary : bool
        The word2vec file is binary.
    unk_init_all : bool
        Give tokens without a pretrained vector their own id and a random row.
    drop_unknown : bool
        Leave unknown tokens out of processed sequences.
    max_seq_len : int, optional
        The longest processed sequence, in ids.
    truncate_end : bool
        Keep the end of long sequences instead of their start.
    setup_all_embeddings : bool
        Add every word of the embeddings file to the vocabulary.
    additional_special_tokens : List[str], optional
        More specials, after pad, unk, sos and eos.
    vocabulary : List[str] or str, optional
        A fixed vocabulary (after the specials), or the path of a file with
        one token a line.
    min_freq : int
        How often a token must be seen to get an id (default 1).
    max_size : int, optional
        The largest ``vocab_size``, specials included.

    Attributes
    ----------
    vocab : Dict[str, int]
        Token to id, in id order (saved with the state).
    embedding_matrix : torch.Tensor or None
        The pretrained vectors aligned with the ids (saved with the state).

    Examples
    --------
    >>> field = TextField()
    >>> field.setup(["Flambe is awesome", "This framework rocks!"])
    >>> field.vocab_size
    9
    >>> field.process("Flambe rocks")
    tensor([2, 7])

    """

    def __init__(
        self,
        tokenizer: Tokenizer | None = None,
        lower: bool = False,
        pad_token: str | None = "<pad>",
        unk_token: str | None = "<unk>",
        sos_token: str | None = None,
        eos_token: str | None = None,
        embeddings: str | None = None,
        embeddings_format: str = "glove",
        embeddings_binary: bool = False,
        unk_init_all: bool = False,
        drop_unknown: bool = False,
        max_seq_len: int | None = None,
        truncate_end: bool = False,
        setup_all_embeddings: bool = False,
        additional_special_tokens: Sequence[str] | None = None,
        vocabulary: str | Sequence[str] | None = None,
        min_freq: int = 1,
        max_size: int | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.tokenizer = tokenizer if tokenizer is not None else WordTokenizer()
        if not callable(getattr(self.tokenizer, "tokenize", None)):
            raise DataError(f"{name}: tokenizer {self.tokenizer!r} has no tokenize method")
        self.lower = lower
        self.pad = pad_token
        self.unk = unk_token
        self.sos = sos_token
        self.eos = eos_token
        self.embeddings = embeddings
        self.embeddings_format = embeddings_format
        self.embeddings_binary = embeddings_binary
        self.unk_init_all = unk_init_all
        self.drop_unknown = drop_unknown
        self.truncate_end = truncate_end
        self.setup_all_embeddings = setup_all_embeddings
        if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
            raise DataError(f"{name}: min_freq must be a positive integer, not {min_freq!r}")
        self.min_freq = min_freq
        self.specials: list[str] = []
        for token in (
            pad_token,
            unk_token,
            sos_token,
            eos_token,
            *(additional_special_tokens or ()),
        ):
            if token is not None and token not in self.specials:
                self.specials.append(token)
        bracket = (sos_token is not None) + (eos_token is not None)
        if max_seq_len is not None and (
            isinstance(max_seq_len, bool)
            or not isinstance(max_seq_len, int)
            or max_seq_len <= bracket
        ):
            raise DataError(
                f"{name}: max_seq_len must be an integer above {bracket} "
                f"(the sos/eos tokens), not {max_seq_len!r}"
            )
        self.max_seq_len = max_seq_len
        if max_size is not None and (
            isinstance(max_size, bool)
            or not isinstance(max_size, int)
            or max_size < len(self.specials)
        ):
            raise DataError(
                f"{name}: max_size must be an integer of at least "
                f"{len(self.specials)} (the special tokens), not {max_size!r}"
            )
        self.max_size = max_size
        if embeddings is not None and embeddings_format not in ("glove", "word2vec", "fasttext"):
            raise DataError(
                f"{name}: unknown embeddings_format {embeddings_format!r}",
                hint="use glove, word2vec or fasttext (gensim model names "
                "need a download: give the file's path)",
            )
        self.vocab: dict[str, int] = {}
        for token in self.specials:
            self.vocab[token] = len(self.vocab)
        self.fixed = vocabulary is not None
        if vocabulary is not None:
            if min_freq != 1 or max_size is not None:
                raise DataError(
                    f"{name}: min_freq and max_size do not apply to a fixed vocabulary",
                    hint="leave them out, or drop 'vocabulary'",
                )
            for token in read_vocabulary(vocabulary, name):
                if token not in self.vocab:
                    self.vocab[token] = len(self.vocab)
        self.counts: dict[str, int] = {}
        self.embedding_matrix: torch.Tensor | None = None
        self.register_attrs("vocab", "counts", "embedding_matrix")

    # -- factories --------------------------------------------------------------------
    @registrable_factory
    @classmethod
    def from_embeddings(
        cls,
        embeddings: str,
        embeddings_format: str = "glove",
        embeddings_binary: bool = False,
        build_vocab_from_embeddings: bool = False,
        unk_init_all: bool = False,
        drop_unknown: bool = False,
        additional_special_tokens: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> TextField:
        """A field with pretrained vectors (``!TextField.from_embeddings`` in YAML).

        ``build_vocab_from_embeddings`` adds every word of the file (the
        constructor's ``setup_all_embeddings``); other keywords are the
        constructor's.
        """
        return cls(
            embeddings=embeddings,
            embeddings_format=embeddings_format,
            embeddings_binary=embeddings_binary,
            unk_init_all=unk_init_all,
            drop_unknown=drop_unknown,
            setup_all_embeddings=build_vocab_from_embeddings,
            additional_special_tokens=additional_special_tokens,
            **kwargs,
        )

    # -- properties -------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        """The number of ids (specials included)."""
        return len(self.vocab)

    @property
    def vocab_list(self) -> list[str]:
        """The tokens in id order."""
        return list(self.vocab)

    @property
    def pad_token(self) -> str | None:
        """The padding token."""
        return self.pad

    @property
    def unk_token(self) -> str | None:
        """The unknown-token token."""
        return self.unk

    @property
    def sos_token(self) -> str | None:
        """The start-of-sequence token."""
        return self.sos

    @property
    def eos_token(self) -> str | None:
        """The end-of-sequence token."""
        return self.eos

    @property
    def pad_idx(self) -> int | None:
        """The id of the padding token (None without one)."""
        return None if self.pad is None else self.vocab.get(self.pad)

    # -- setup ------------------------------------------------------------------------
    def _tokens(self, text: str) -> list[str]:
        return self.tokenizer.tokenize(text.lower() if self.lower else text)

    def setup(self, *data: Any) -> None:
        """Add the tokens of every split to the vocabulary (and load vectors).

        Parameters
        ----------
        *data : np.ndarray or list
            The field's column of each split: strings, or nested lists or
            dicts of strings (flattened).

        Raises
        ------
        DataError
            A value that is None; a bad embeddings file (its line named).

        """
        texts = iter_texts(data, type(self).__name__)
        if self.lower:
            texts = map(str.lower, texts)
        # one C-level pass: tokenize every text and count the tokens in seen order
        found: Counter = Counter(chain.from_iterable(map(self.tokenizer.tokenize, texts)))
        counts = self.counts
        for token, count in found.items():
            counts[token] = counts.get(token, 0) + count
        new: list[str] = []
        if not self.fixed:
            vocab, min_freq = self.vocab, self.min_freq
            new = [t for t in found if t not in vocab and counts[t] >= min_freq]
        if self.embeddings is None:
            self._add(self._limit(new))
            return
        self._setup_embeddings(new)

    def _limit(self, new: list[str]) -> list[str]:
        """The new tokens that fit under ``max_size``, the most frequent ones, in seen order."""
        if self.max_size is None:
            return new
        room = max(self.max_size - len(self.vocab), 0)
        if len(new) <= room:
            return new
        counts = self.counts
        kept = set(sorted(new, key=lambda t: -counts[t])[:room])  # stable: seen order on ties
        return [t for t in new if t in kept]

    def _add(self, tokens: list[str]) -> None:
        vocab = self.vocab
        for token in tokens:
            if token not in vocab:
                vocab[token] = len(vocab)

    def _setup_embeddings(self, new: list[str]) -> None:
        first = self.embedding_matrix is None
        wanted: set[str] | None = set(new)
        if first:
            wanted.update(self.vocab)  # type: ignore[union-attr]
        if self.setup_all_embeddings:
            wanted = None
        if not first and not new and not self.setup_all_embeddings:
            return
        assert self.embeddings is not None
        vectors, dim = read_embeddings(
            str(self.embeddings), self.embeddings_format, self.embeddings_binary, wanted
        )
        matrix = None if first else self.embedding_matrix  # first: no vectors yet
        if matrix is not None and dim != matrix.size(1):
            raise DataError(
                f"{self.embeddings}: vectors of dimension {dim}, but the field's "
                f"embedding_matrix has {matrix.size(1)} columns"
            )
        std = float(np.std(np.stack(list(vectors.values())))) if vectors else 1.0
        rows: list[torch.Tensor] = []

        def row(token: str) -> torch.Tensor:
            vector = vectors.get(token)
            if vector is not None:
                return torch.from_numpy(np.array(vector, dtype=np.float32))
            if token == self.pad:
                return torch.zeros(dim)
            return torch.randn(dim) * std

        if first:  # specials and a fixed vocabulary: every token keeps its id
            rows.extend(row(token) for token in self.vocab)
        keep = [t for t in new if t in vectors or self.unk_init_all]
        if self.setup_all_embeddings:
            seen = set(keep)
            keep.extend(w for w in vectors if w not in self.vocab and w not in seen)
        keep = self._limit([t for t in keep if t not in self.vocab])
        rows.extend(row(token) for token in keep)
        self._add(keep)
        block = torch.stack(rows) if rows else torch.zeros(0, dim)
        self.embedding_matrix = block if matrix is None else torch.cat([matrix, block])

    # -- process ----------------------------------------------------------------------
    def _unknown(self, tokens: list[str]) -> DataError:
        missing = [t for t in tokens if t not in self.vocab]
        return DataError(
            f"{type(self).__name__}: token {missing[0]!r} is not in the "
            "vocabulary and the field has no unk_token",
            hint="set unk_token, or drop_unknown: true to leave such tokens out",
        )

    def process(self, example: Any) -> Any:
        """Turn text into a LongTensor of ids (lists, tuples and dicts item by item).

        Raises
        ------
        DataError
            An unknown token without an unk token (and without
            ``drop_unknown``), or a value that is None.

        """
        if type(example) is not str:
            if isinstance(example, str):
                example = str(example)
            elif isinstance(example, dict):
                return {key: self.process(value) for key, value in example.items()}
            elif isinstance(example, (list, tuple)):
                return [self.process(value) for value in example]
            elif example is None:
                raise DataError(f"{type(self).__name__}: the example is None, not text")
            else:
                example = str(example)
        tokens = self.tokenizer.tokenize(example.lower() if self.lower else example)
        vocab = self.vocab
        unk = vocab.get(self.unk) if self.unk is not None else None
        if self.drop_unknown:
            ids = [vocab[t] for t in tokens if t in vocab]
        elif unk is not None:
            get = vocab.get
            ids = [get(t, unk) for t in tokens]
        else:
            try:
                ids = [vocab[t] for t in tokens]
            except KeyError:
                raise self._unknown(tokens) from None
        limit = self.max_seq_len
        if self.sos is not None or self.eos is not None:
            if limit is not None:
                limit -= (self.sos is not None) + (self.eos is not None)
                if len(ids) > limit:
                    ids = ids[-limit:] if self.truncate_end else ids[:limit]
            if self.sos is not None:
                ids.insert(0, vocab[self.sos])
            if self.eos is not None:
                ids.append(vocab[self.eos])
        elif limit is not None and len(ids) > limit:
            ids = ids[-limit:] if self.truncate_end else ids[:limit]
        # through numpy: about 3x faster than torch.tensor(list) for short lists
        return torch.from_numpy(np.array(ids, dtype=np.int64))
