"""Distance and mean in the hyperboloid model of hyperbolic space.

Points of R^d are lifted onto the hyperboloid with ``x0 = sqrt(1 + |x|^2)``.
The distance uses every feature of the points (the original dropped feature 0
from the spatial inner product).
"""

from __future__ import annotations

import torch

from flambe.nn.distance.distance import DistanceModule, MeanModule

EPSILON = 1e-5


def arccosh(x: torch.Tensor) -> torch.Tensor:
    """Numerically stable arccosh (the argument is clamped at ``1 + EPSILON``)."""
    x = x.clamp(min=1 + EPSILON)
    return torch.log(x + torch.sqrt(x * x - 1))


def mdot(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Minkowski inner product of lifted points [n x (d+1)]: ``-x0 y0 + sum(rest)``, [n x 1]."""
    product = x * y
    return product[:, 1:].sum(dim=1, keepdim=True) - product[:, :1]


def dist(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Hyperbolic distance between lifted points, row by row, [n x 1]."""
    return arccosh(-mdot(x, y))


def project(x: torch.Tensor) -> torch.Tensor:
    """Lift points [n x d] onto the hyperboloid in d+1 dimensions."""
    return torch.cat([torch.sqrt(1.0 + x.pow(2).sum(dim=1, keepdim=True)), x], dim=1)


def log_map(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The tangent vector at ``x`` pointing to ``y``."""
    d = dist(x, y)
    return (d / torch.sinh(d)) * (y - torch.cosh(d) * x)


def norm(x: torch.Tensor) -> torch.Tensor:
    """Magnitude of the Minkowski norm, [n x 1] (bounded away from 0)."""
    return torch.sqrt(mdot(x, x).abs().clamp(min=EPSILON * EPSILON))


def exp_map(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Move from ``x`` along the tangent vector ``y``."""
    n = norm(y)
    return torch.cosh(n) * x + (torch.sinh(n) / n) * y


def loss(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Sum of squared distances (what the mean minimises)."""
    return dist(x, y).pow(2).sum()


class HyperbolicDistance(DistanceModule):
    """Squared hyperbolic distances between rows lifted onto the hyperboloid."""

    def forward(self, mat_1: torch.Tensor, mat_2: torch.Tensor) -> torch.Tensor:
        """``arccosh(x0 y0 - <x, y>)^2`` for every pair of rows, [n1 x n2]."""
        x0 = torch.sqrt(1 + mat_1.pow(2).sum(dim=1, keepdim=True))
        y0 = torch.sqrt(1 + mat_2.pow(2).sum(dim=1, keepdim=True))
        return arccosh(x0 @ y0.t() - mat_1 @ mat_2.t()).pow(2)


class HyperbolicMean(MeanModule):
    """Karcher-style mean on the hyperboloid (5 steps in training mode, 100 in eval)."""

    step_size = 1e-2

    def forward(self, data: torch.Tensor) -> torch.Tensor:
        """The mean [d] of ``data`` [n x d], in the original coordinates."""
        points = project(data)
        mean = points.mean(dim=0, keepdim=True)
        mean = mean / norm(mean)
        for _ in range(5 if self.training else 100):
            gradient = -2 * log_map(mean.expand_as(points), points).mean(dim=0, keepdim=True)
            mean = exp_map(mean, -self.step_size * gradient)
            mean = mean / norm(mean)
        return self._output(mean.squeeze(0)[1:])
