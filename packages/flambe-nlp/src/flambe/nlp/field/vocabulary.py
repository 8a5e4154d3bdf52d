"""Helpers for text vocabularies: flattening setup data, reading vocabulary files."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from flambe.errors import DataError
from flambe.field.field import iter_values


def iter_texts(data: Sequence[Any], owner: str) -> Iterator[str]:
    """Every string of the splits given to ``setup``, nested lists and dicts flattened.

    Numbers become strings; ``None`` is an error naming the split and position.
    """
    for number, split in enumerate(data):
        if split is None:
            continue
        if isinstance(split, np.ndarray):
            if split.ndim == 2 and split.shape[1] == 1:
                split = split[:, 0]
            values: Iterable[Any] = split.tolist() if split.ndim == 1 else iter_values(split)
        else:
            values = iter_values(split)
        for position, value in enumerate(values):
            if type(value) is str:
                yield value
            else:
                yield from _flatten(value, owner, number, position)


def _flatten(value: Any, owner: str, split: int, position: int) -> Iterator[str]:
    if type(value) is str:
        yield value
    elif isinstance(value, str):  # np.str_
        yield str(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _flatten(item, owner, split, position)
    elif isinstance(value, (list, tuple, np.ndarray)):
        for item in value:
            yield from _flatten(item, owner, split, position)
    elif value is None:
        raise DataError(
            f"{owner}: example {position} of split {split} given to setup is None, not text",
            hint="fill or drop empty values in the data",
        )
    else:
        yield str(value)


def read_vocabulary(vocabulary: str | os.PathLike | Iterable[str], owner: str) -> list[str]:
    """The tokens of a fixed vocabulary: a list, or a file with one token a line.

    Raises
    ------
    DataError
        The file cannot be read, the vocabulary is empty or repeats a token.

    """
    if isinstance(vocabulary, (str, os.PathLike)):
        try:
            with open(vocabulary, encoding="utf-8", errors="replace") as handle:
                tokens = [line.rstrip("\r\n") for line in handle]
        except OSError as exc:
            raise DataError(
                f"{owner}: cannot read the vocabulary file {str(vocabulary)!r}: "
                f"{exc.strerror or exc}",
                hint="give a list of tokens or a file with one token a line",
            ) from exc
        tokens = [t for t in tokens if t]
    else:
        tokens = [t if isinstance(t, str) else str(t) for t in vocabulary]
    if not tokens:
        raise DataError(f"{owner}: the vocabulary is empty", hint="give at least one token")
    seen = set()
    for token in tokens:
        if token in seen:
            raise DataError(
                f"{owner}: token {token!r} is listed twice in the vocabulary",
                hint="list each token once",
            )
        seen.add(token)
    return tokens
