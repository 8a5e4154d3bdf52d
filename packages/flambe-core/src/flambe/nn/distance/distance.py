"""Bases of the distance and mean modules."""

from __future__ import annotations

from abc import abstractmethod

import torch

from flambe.nn.module import Module


class DistanceModule(Module):
    """Pairwise distances between the rows of two matrices."""

    @abstractmethod
    def forward(self, mat_1: torch.Tensor, mat_2: torch.Tensor) -> torch.Tensor:
        """Distances [n1 x n2] between the rows of ``mat_1`` [n1 x d] and ``mat_2`` [n2 x d]."""


class MeanModule(Module):
    """The mean of a set of points under some geometry.

    Parameters
    ----------
    detach_mean : bool
        Detach the mean from the graph (no gradient flows through it).

    """

    def __init__(self, detach_mean: bool = False) -> None:
        super().__init__()
        self.detach_mean = detach_mean

    def _output(self, mean: torch.Tensor) -> torch.Tensor:
        return mean.detach() if self.detach_mean else mean

    @abstractmethod
    def forward(self, data: torch.Tensor) -> torch.Tensor:
        """The mean [d] of the rows of ``data`` [n x d]."""
