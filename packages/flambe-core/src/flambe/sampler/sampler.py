"""The ``Sampler`` interface."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any

import torch

from flambe.compile.component import Component
from flambe.errors import DataError, FlambeError


class Sampler(Component):
    """Turns a sequence of examples into an iterator of batches.

    ``sample(data, n_epochs)`` yields batches (tuples of tensors) for
    ``n_epochs`` passes over ``data`` (``-1``: without end), and
    ``length(data)`` says how many batches one pass yields. Samplers leave
    tensors on the device they are on; moving batches is the trainer's job.
    """

    @abstractmethod
    def sample(
        self, data: Sequence[Sequence[Any]], n_epochs: int = 1
    ) -> Iterator[tuple[torch.Tensor, ...]]:
        """Yield batches from ``data`` for ``n_epochs`` passes (``-1``: without end).

        Parameters
        ----------
        data : Sequence[Sequence[Tensor]]
            The examples, each a sequence of tensors (or values).
        n_epochs : int
            The number of passes over the data; ``-1`` never stops.

        Yields
        ------
        Tuple[Tensor, ...]
            A batch: one tensor per column of the examples.

        """

    @abstractmethod
    def length(self, data: Sequence[Sequence[Any]]) -> int:
        """The number of batches one pass over ``data`` yields."""

    # -- helpers for implementations -------------------------------------------------------
    def _located(self, error: FlambeError) -> FlambeError:
        """Attach the config location of this sampler, when it was built from one."""
        schema = self._schema
        return error.at(getattr(schema, "location", None) if schema is not None else None)

    def _check_data(self, data: Sequence[Sequence[Any]]) -> int:
        """The number of examples; raises ``DataError`` naming the data when there are none."""
        try:
            size = len(data)
        except TypeError as exc:
            raise self._located(
                DataError(
                    f"{type(self).__name__} needs a sequence of examples, got {type(data).__name__}"
                )
            ) from exc
        if size == 0:
            raise self._located(
                DataError(
                    f"No examples provided: {describe_data(data)} is empty, so "
                    f"{type(self).__name__} has nothing to sample",
                    hint="check that the dataset has this split and that its files hold rows",
                )
            )
        return size

    def _check_epochs(self, n_epochs: int) -> None:
        if isinstance(n_epochs, bool) or not isinstance(n_epochs, int) or n_epochs < -1:
            raise self._located(
                DataError(
                    f"n_epochs must be a number of passes (0 or more) or -1 for no end, "
                    f"not {n_epochs!r}"
                )
            )


def describe_data(data: Any) -> str:
    """Words naming ``data`` in messages: its split and dataset when it is a dataset view."""
    describe = getattr(data, "describe", None)
    if callable(describe):
        return str(describe())
    return f"the {type(data).__name__} given"


def optional_seed(seed: int | None) -> torch.Generator:
    """A torch generator seeded with ``seed``, or with fresh entropy when it is None."""
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(int(seed))
    return generator
