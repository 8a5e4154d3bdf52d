"""The ``Field`` interface."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import torch

from flambe.compile.component import Component

FieldOutput = torch.Tensor | tuple[torch.Tensor, ...]


class Field(Component):
    """Turns the raw values of one or more columns of an example into tensors.

    A dataset calls :meth:`setup` once with the column slices of each of its
    splits, so the field can gather what it needs over the whole data (a
    vocabulary, label counts, statistics); then :meth:`process` maps each
    example's values to a tensor or a tuple of tensors (N columns in, M
    tensors out).

    ``setup`` may be called several times, also by several datasets sharing
    the field: it must add to what earlier calls built and never renumber
    (ids handed out stay stable), so tensors processed before stay valid.
    """

    def setup(self, *data: np.ndarray) -> None:
        """Gather what ``process`` needs from the data; the default does nothing.

        Parameters
        ----------
        *data : np.ndarray
            One array per available split (train, val, test). Its first
            dimension runs over examples; a field bound to one column gets a
            1-D array of values, a field bound to several columns a 2-D
            array (examples x columns).

        """

    @abstractmethod
    def process(self, *example: Any) -> FieldOutput:
        """Turn the values of one example into a tensor or a tuple of tensors.

        Parameters
        ----------
        *example : Any
            The example's values of the columns the field is bound to.

        Returns
        -------
        Union[torch.Tensor, Tuple[torch.Tensor, ...]]
            The processed example.

        """


def iter_values(data: Iterable[Any]) -> Iterator[Any]:
    """The values of a single-column split, whether given 1-D or as rows of one value.

    Parameters
    ----------
    data : Iterable
        A 1-D array or list of values, or a 2-D array with one column.

    Yields
    ------
    Any
        Each value in order.

    """
    for value in data:
        if isinstance(value, (np.ndarray, list, tuple)) and len(value) == 1:
            value = value[0]
        yield value
