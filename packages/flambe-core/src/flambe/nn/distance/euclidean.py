"""Squared Euclidean distance and the arithmetic mean."""

from __future__ import annotations

import torch

from flambe.nn.distance.distance import DistanceModule, MeanModule


class EuclideanDistance(DistanceModule):
    """Squared Euclidean distances between rows."""

    def forward(self, mat_1: torch.Tensor, mat_2: torch.Tensor) -> torch.Tensor:
        """``out[i, j] = ||mat_1[i] - mat_2[j]||^2``, shape [n1 x n2]."""
        diff = mat_1.unsqueeze(1) - mat_2.unsqueeze(0)
        return diff.pow(2).sum(dim=-1)


class EuclideanMean(MeanModule):
    """The arithmetic mean of the rows."""

    def forward(self, data: torch.Tensor) -> torch.Tensor:
        """The mean [d] of ``data`` [n x d]."""
        return self._output(data.mean(dim=0))
