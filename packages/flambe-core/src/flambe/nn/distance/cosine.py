"""Cosine distance and the mean direction."""

from __future__ import annotations

import torch

from flambe.nn.distance.distance import DistanceModule, MeanModule


class CosineDistance(DistanceModule):
    """One minus the cosine similarity between rows.

    Parameters
    ----------
    eps : float
        Lower bound of the product of the norms (avoids dividing by zero).

    """

    def __init__(self, eps: float = 1e-8) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, mat_1: torch.Tensor, mat_2: torch.Tensor) -> torch.Tensor:
        """``1 - <x, y> / max(|x||y|, eps)`` for every pair of rows, [n1 x n2]."""
        dot = mat_1 @ mat_2.t()
        norms = mat_1.norm(dim=1, keepdim=True) @ mat_2.norm(dim=1, keepdim=True).t()
        return 1 - dot / norms.clamp(min=self.eps)


class CosineMean(MeanModule):
    """The mean of the L2-normalised rows."""

    def forward(self, data: torch.Tensor) -> torch.Tensor:
        """The mean [d] of the normalised rows of ``data`` [n x d]."""
        return self._output(torch.nn.functional.normalize(data, dim=1).mean(dim=0))
