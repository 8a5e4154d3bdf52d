"""``BaseSampler``: shuffled (or ordered) mini-batches, padded to the longest."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any

import torch

from flambe.compile.state import State
from flambe.errors import DataError
from flambe.sampler.collate import collate_fn
from flambe.sampler.sampler import Sampler, optional_seed


class BaseSampler(Sampler):
    """Mini-batches of examples, each column padded to the longest in the batch.

    Parameters
    ----------
    batch_size : int
        Examples per batch (default 64).
    shuffle : bool
        Draw a new order every epoch (default True); False keeps the data's order.
    pad_index : int, float or sequence of them
        The padding value, for all columns or one per column (default 0).
    n_workers : int
        Processes that build batches; 0 (default) builds them in this process.
    pin_memory : bool
        Put batches in pinned memory (when CUDA is available).
    seed : int, optional
        Seed of the shuffling: two samplers with the same seed give the
        same batches. None draws a fresh seed.
    downsample : float, optional
        Keep only this fraction (in (0, 1]) of the examples, chosen once
        per ``sample`` call.
    downsample_max_samples : int, optional
        Keep at most this many examples (exclusive with ``downsample``).
    downsample_seed : int, optional
        Seed of the choice of kept examples (0 is a seed like any other);
        None uses the shuffling generator.
    drop_last : bool
        Leave out the last batch of an epoch when it is smaller than ``batch_size``.

    Raises
    ------
    DataError
        ``batch_size`` < 1, ``downsample`` outside (0, 1], both downsampling options,
        ``downsample_max_samples`` < 1.

    """

    def __init__(
        self,
        batch_size: int = 64,
        shuffle: bool = True,
        pad_index: int | float | Sequence[int | float] = 0,
        n_workers: int = 0,
        pin_memory: bool = False,
        seed: int | None = None,
        downsample: float | None = None,
        downsample_max_samples: int | None = None,
        downsample_seed: int | None = None,
        drop_last: bool = False,
    ) -> None:
        super().__init__()
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise DataError(f"batch_size must be a positive integer, not {batch_size!r}")
        if downsample is not None and not 0 < downsample <= 1:
            raise DataError(
                f"downsample must be in (0, 1], not {downsample!r}",
                hint="give the fraction of examples to keep, such as 0.5",
            )
        if downsample is not None and downsample_max_samples is not None:
            raise DataError(
                "downsample and downsample_max_samples cannot both be given",
                hint="keep a fraction (downsample) or a count, not both",
            )
        if downsample_max_samples is not None and downsample_max_samples < 1:
            raise DataError(
                f"downsample_max_samples must be at least 1, not {downsample_max_samples!r}"
            )
        if n_workers < 0:
            raise DataError(f"n_workers must be 0 or more, not {n_workers!r}")
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.pad = pad_index
        self.n_workers = n_workers
        self.pin_memory = pin_memory
        self.seed = seed
        self.downsample = downsample
        self.downsample_max_samples = downsample_max_samples
        self.downsample_seed = downsample_seed
        self.drop_last = drop_last
        self.random_generator = optional_seed(seed)

    # -- counting ---------------------------------------------------------------------
    def _kept(self, size: int) -> int:
        """How many examples one epoch uses after downsampling."""
        if self.downsample is not None:
            return max(1, int(self.downsample * size))
        if self.downsample_max_samples is not None:
            return min(size, self.downsample_max_samples)
        return size

    def length(self, data: Sequence[Sequence[Any]]) -> int:
        """The number of batches one epoch of ``sample(data)`` yields.

        Honors ``drop_last`` and downsampling.

        Raises
        ------
        DataError
            ``data`` is empty (the message names the split).

        """
        kept = self._kept(self._check_data(data))
        if self.drop_last:
            return kept // self.batch_size
        return math.ceil(kept / self.batch_size)

    # -- sampling ---------------------------------------------------------------------
    def _subset(self, size: int) -> torch.Tensor | None:
        """The indices kept by downsampling (in data order), or None to keep all."""
        kept = self._kept(size)
        if self.downsample_max_samples is not None and self.downsample_max_samples >= size:
            warnings.warn(
                f"downsample_max_samples={self.downsample_max_samples} keeps all {size} examples",
                stacklevel=3,
            )
        if kept == size:
            return None
        generator = (
            optional_seed(self.downsample_seed)
            if self.downsample_seed is not None
            else self.random_generator
        )
        chosen = torch.randperm(size, generator=generator)[:kept]
        return chosen.sort().values

    def _epoch_batches(self, size: int, subset: torch.Tensor | None) -> list[list[int]]:
        count = size if subset is None else len(subset)
        if self.shuffle:
            order = torch.randperm(count, generator=self.random_generator)
            if subset is not None:
                order = subset[order]
            indices = order.tolist()
        else:
            indices = list(range(size)) if subset is None else subset.tolist()
        step = self.batch_size
        stop = count - count % step if self.drop_last else count
        return [indices[start : start + step] for start in range(0, stop, step)]

    def sample(
        self, data: Sequence[Sequence[Any]], n_epochs: int = 1
    ) -> Iterator[tuple[torch.Tensor, ...]]:
        """Yield padded batches for ``n_epochs`` passes over ``data`` (``-1``: without end).

        Parameters
        ----------
        data : Sequence[Sequence[Tensor]]
            The examples, such as ``dataset.train``.
        n_epochs : int
            Passes over the data; ``-1`` never stops.

        Yields
        ------
        Tuple[Tensor, ...]
            One tensor per column, batch first.

        Raises
        ------
        DataError
            Right away when ``data`` is empty (naming the split) or
            ``n_epochs`` is invalid; while sampling when examples cannot be
            batched together.

        """
        size = self._check_data(data)
        self._check_epochs(n_epochs)
        return self._generate(data, size, n_epochs)

    def _generate(
        self, data: Sequence[Sequence[Any]], size: int, n_epochs: int
    ) -> Iterator[tuple[torch.Tensor, ...]]:
        subset = self._subset(size)
        pin = self.pin_memory and torch.cuda.is_available()
        epoch = 0
        while n_epochs == -1 or epoch < n_epochs:
            epoch += 1
            batches = self._epoch_batches(size, subset)
            if self.n_workers > 0:
                yield from self._load_in_workers(data, batches)
                continue
            pad = self.pad
            for indices in batches:
                batch = collate_fn([data[i] for i in indices], pad)
                if pin:
                    batch = tuple(t.pin_memory() for t in batch)
                yield batch

    def _load_in_workers(
        self, data: Sequence[Sequence[Any]], batches: list[list[int]]
    ) -> Iterator[tuple[torch.Tensor, ...]]:
        from torch.utils.data import DataLoader

        loader: DataLoader[tuple[torch.Tensor, ...]] = DataLoader(
            data,  # type: ignore[arg-type]  # a sequence of examples is all DataLoader reads
            batch_sampler=batches,
            collate_fn=partial(collate_fn, pad=self.pad),
            num_workers=self.n_workers,
            pin_memory=self.pin_memory and torch.cuda.is_available(),
        )
        yield from loader

    # -- state: the shuffling generator, so a resumed run draws the same batches ---------------
    def _state(self, state: State, prefix: str, local_metadata: dict[str, Any]) -> State:
        state[prefix + "random_generator_state"] = self.random_generator.get_state()
        return state

    def _load_state(
        self,
        state: State,
        prefix: str,
        local_metadata: dict[str, Any],
        strict: bool,
        missing_keys: list[Any],
        unexpected_keys: list[Any],
        error_msgs: list[str],
    ) -> None:
        key = prefix + "random_generator_state"
        if key in state:
            self.random_generator.set_state(state[key])
