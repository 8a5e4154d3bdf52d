"""``LabelField``: labels (single or multi-label) to ids or multi-hot vectors."""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from flambe.errors import DataError
from flambe.field.field import Field, iter_values

_SHOWN_LABELS = 20


class LabelField(Field):
    """Numericalizes labels.

    The whole value is one label, or, with ``multilabel_sep``, a list of
    labels separated by it. Ids follow the order labels are first seen in
    ``setup`` (train, then val, then test), or the order of ``labels`` when
    given. Non-string values (``1``, ``2.0``) are used through ``str()``.

    Parameters
    ----------
    one_hot : bool
        Return a multi-hot vector of length ``vocab_size`` instead of ids.
    multilabel_sep : str, optional
        Split each value on this separator into several labels.
    labels : Sequence[str] or str, optional
        The fixed label set, in id order: a list, or the path of a file
        with one label a line. ``setup`` then accepts no other label.

    Attributes
    ----------
    vocab : Dict[str, int]
        Label to id, in id order (saved with the state).
    label_count_dict : Dict[str, int]
        How often ``setup`` saw each label (saved with the state).

    Raises
    ------
    DataError
        ``labels`` is empty, repeats a label, or names a file that cannot be read.

    """

    def __init__(
        self,
        one_hot: bool = False,
        multilabel_sep: str | None = None,
        labels: Sequence[str] | str | None = None,
    ) -> None:
        super().__init__()
        if multilabel_sep == "":
            raise DataError(
                "multilabel_sep is the empty string",
                hint="give a separator such as ',' or leave it out",
            )
        self.one_hot = one_hot
        self.multilabel_sep = multilabel_sep
        self.vocab: dict[str, int] = OrderedDict()
        self.label_count_dict: dict[str, int] = OrderedDict()
        self.fixed = labels is not None
        if labels is not None:
            for label in _read_labels(labels):
                if label in self.vocab:
                    raise DataError(
                        f"label {label!r} is listed twice in labels", hint="list each label once"
                    )
                self.vocab[label] = len(self.vocab)
                self.label_count_dict[label] = 0
        self.register_attrs("vocab", "label_count_dict")

    # -- properties ---------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        """The number of labels."""
        return len(self.vocab)

    @property
    def vocab_list(self) -> list[str]:
        """The labels in id order."""
        return list(self.vocab)

    @property
    def label_count(self) -> torch.Tensor:
        """How often ``setup`` saw each label, as a float tensor in id order."""
        return torch.tensor([float(self.label_count_dict.get(label, 0)) for label in self.vocab])

    @property
    def label_freq(self) -> torch.Tensor:
        """Each label's share of all labels seen in ``setup``, in id order."""
        counts = self.label_count
        return counts / counts.sum()

    @property
    def label_inv_freq(self) -> torch.Tensor:
        """The inverse of :attr:`label_freq` (``inf`` for a label never seen)."""
        return 1.0 / self.label_freq

    # -- field --------------------------------------------------------------------
    def _split(self, value: Any) -> list[str]:
        text = value if type(value) is str else str(value)  # also np.str_ -> str
        if self.multilabel_sep is None:
            return [text]
        return [label for label in text.split(self.multilabel_sep)]

    def setup(self, *data: np.ndarray) -> None:
        """Add the labels of every split to the vocabulary and count them.

        Parameters
        ----------
        *data : np.ndarray
            One array of label values per split.

        Raises
        ------
        DataError
            A label outside the fixed ``labels``; nothing is added then.

        """
        found: list[str] = []
        for split in data:
            if split is None:
                continue
            for value in iter_values(split):
                found.extend(self._split(value))
        if self.fixed:
            unknown = [label for label in OrderedDict.fromkeys(found) if label not in self.vocab]
            if unknown:
                raise DataError(
                    f"LabelField: label {unknown[0]!r} is not among the given labels "
                    f"{_show(self.vocab_list)}"
                    + (f" ({len(unknown)} unknown labels in all)" if len(unknown) > 1 else ""),
                    hint="add it to 'labels', or fix the data",
                )
        for label in found:
            if label not in self.vocab:
                self.vocab[label] = len(self.vocab)
            self.label_count_dict[label] = self.label_count_dict.get(label, 0) + 1

    def process(self, example: Any) -> torch.Tensor:
        """Turn a label value into its id(s), or a multi-hot vector with ``one_hot``.

        Parameters
        ----------
        example : Any
            The label value (split on ``multilabel_sep`` when set).

        Returns
        -------
        torch.Tensor
            A 0-d LongTensor for one label, a 1-D one for several; with
            ``one_hot`` a LongTensor of length ``vocab_size`` with 1 at each
            label's id.

        Raises
        ------
        DataError
            A label that ``setup`` never saw.

        """
        ids = []
        for label in self._split(example):
            index = self.vocab.get(label)
            if index is None:
                raise DataError(
                    f"LabelField: unknown label {label!r}; known labels: {_show(self.vocab_list)}",
                    hint="labels must appear in the data given to setup (or in 'labels')",
                )
            ids.append(index)
        if self.one_hot:
            hot = torch.zeros(len(self.vocab), dtype=torch.long)
            hot[ids] = 1
            return hot
        if len(ids) == 1:
            return torch.tensor(ids[0], dtype=torch.long)
        return torch.tensor(ids, dtype=torch.long)


def _read_labels(labels: Sequence[str] | str) -> list[str]:
    if isinstance(labels, (str, os.PathLike)):
        try:
            with open(labels, encoding="utf-8") as handle:
                lines = [line.rstrip("\r\n") for line in handle]
        except OSError as exc:
            raise DataError(
                f"LabelField: cannot read the labels file {str(labels)!r}: {exc.strerror or exc}",
                hint="give a list of labels or the path of a file with one a line",
            ) from exc
        found = [line for line in lines if line.strip()]
    else:
        found = [label if isinstance(label, str) else str(label) for label in labels]
    if not found:
        raise DataError("LabelField: 'labels' is empty", hint="give at least one label")
    return found


def _show(labels: list[str]) -> str:
    if len(labels) <= _SHOWN_LABELS:
        return repr(labels)
    return repr(labels[:_SHOWN_LABELS])[:-1] + f", ... ({len(labels)} in all)]"
