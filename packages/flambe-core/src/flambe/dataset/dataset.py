"""The ``Dataset`` interface."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

from flambe.compile.component import Component
from flambe.errors import DataError


class Dataset(Component):
    """The training, validation and test examples of an experiment.

    A dataset has three properties, ``train``, ``val`` and ``test``, each a
    sequence of examples (an example being a sequence of values or
    tensors). Datasets are immutable: assigning or deleting items raises
    ``DataError`` (a ``ValueError``).
    """

    @property
    @abstractmethod
    def train(self) -> Sequence[Sequence]:
        """The training examples."""

    @property
    @abstractmethod
    def val(self) -> Sequence[Sequence]:
        """The validation examples."""

    @property
    @abstractmethod
    def test(self) -> Sequence[Sequence]:
        """The test examples."""

    def __setitem__(self, key: Any, value: Any) -> None:
        raise DataError(
            "Dataset objects are immutable", hint="build a new dataset with the data you want"
        )

    def __delitem__(self, key: Any) -> None:
        raise DataError(
            "Dataset objects are immutable", hint="build a new dataset with the data you want"
        )
