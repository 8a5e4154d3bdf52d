"""``CorpusSampler``: batches of contiguous streams over one long corpus (BPTT)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import torch

from flambe.errors import DataError
from flambe.sampler.sampler import Sampler


class CorpusSampler(Sampler):
    """Cut one long sequence of ids into ``batch_size`` streams read ``unroll_size`` at a time.

    The data must hold exactly one example whose first column is the
    corpus as a 1-D id tensor (what ``LMField`` gives a ``PTBDataset``
    split). Of its ``L`` ids, ``T = (L - 1) // batch_size`` per stream are
    used: stream ``b`` is the ids ``b*T .. (b+1)*T - 1`` and its targets
    are the same ids shifted by one. Batches ``(source, target)``, both
    [batch_size x <= unroll_size], walk forward in time, so consecutive
    batches continue each row (no shuffling).

    Parameters
    ----------
    batch_size : int
        Number of parallel streams.
    unroll_size : int
        Time steps per batch.
    n_workers, pin_memory :
        Accepted for compatibility; batches are slices, built in process.
    downsample : float, optional
        Keep only this share (0, 1] of the corpus (its beginning).
    drop_last : bool
        Leave out the final shorter batch.

    """

    def __init__(
        self,
        batch_size: int = 128,
        unroll_size: int = 128,
        n_workers: int = 0,
        pin_memory: bool = False,
        downsample: float | None = None,
        drop_last: bool = True,
    ) -> None:
        super().__init__()
        for name, value in (("batch_size", batch_size), ("unroll_size", unroll_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise DataError(f"CorpusSampler: {name} must be a positive integer, not {value!r}")
        if downsample is not None and not 0 < downsample <= 1:
            raise DataError(f"CorpusSampler: downsample must be in (0, 1], not {downsample!r}")
        self.batch_size, self.unroll_size = batch_size, unroll_size
        self.n_workers, self.pin_memory = n_workers, pin_memory
        self.downsample, self.drop_last = downsample, drop_last

    def _streams(self, data: Sequence[Sequence[Any]]) -> tuple[torch.Tensor, torch.Tensor]:
        if len(data) == 0:
            raise self._located(
                DataError("No examples provided to CorpusSampler", hint="the split is empty")
            )
        if len(data) > 1:
            raise self._located(
                DataError(
                    f"CorpusSampler expected a single input example (the whole corpus), got "
                    f"{len(data)}",
                    hint="read the corpus with split_by_line: false",
                )
            )
        ids = torch.as_tensor(data[0][0]).reshape(-1)
        if self.downsample is not None:
            ids = ids[: int(self.downsample * ids.numel())]
        steps = (ids.numel() - 1) // self.batch_size
        if steps < 1:
            raise self._located(
                DataError(
                    f"CorpusSampler: a corpus of {ids.numel()} ids is too short for "
                    f"batch_size={self.batch_size}"
                )
            )
        used = steps * self.batch_size
        source = ids[:used].view(self.batch_size, steps)
        target = ids[1 : used + 1].view(self.batch_size, steps)
        return source, target

    def _steps(self, data: Sequence[Sequence[Any]]) -> int:
        if len(data) != 1:
            self._streams(data)
        length = torch.as_tensor(data[0][0]).numel()
        if self.downsample is not None:
            length = int(self.downsample * length)
        return max((length - 1) // self.batch_size, 0)

    def length(self, data: Sequence[Sequence[Any]]) -> int:
        """Batches per epoch: ``T // unroll_size`` (``ceil`` without ``drop_last``)."""
        steps = self._steps(data)
        if self.drop_last:
            return steps // self.unroll_size
        return math.ceil(steps / self.unroll_size)

    def sample(
        self, data: Sequence[Sequence[Any]], n_epochs: int = 1
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield ``(source, target)`` batches for ``n_epochs`` passes (``-1``: no end)."""
        self._check_epochs(n_epochs)
        source, target = self._streams(data)
        steps = source.size(1)
        starts: list[int] = list(range(0, steps, self.unroll_size))
        if self.drop_last and starts and starts[-1] + self.unroll_size > steps:
            starts.pop()
        epoch = 0
        while n_epochs == -1 or epoch < n_epochs:
            for start in starts:
                end = start + self.unroll_size
                yield source[:, start:end].contiguous(), target[:, start:end].contiguous()
            epoch += 1

    @staticmethod
    def collate_fn(
        data: Sequence[tuple[torch.Tensor, torch.Tensor]],
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Stack ``(source, target)`` pairs of time-major columns into batch-first tensors."""
        source = torch.stack([pair[0] for pair in data]).t().contiguous()
        target = torch.stack([pair[1] for pair in data]).t().contiguous()
        return source, target
