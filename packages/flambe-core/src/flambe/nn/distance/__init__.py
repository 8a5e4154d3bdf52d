"""Distances and means for metric-based models (e.g. prototypical networks)."""

from __future__ import annotations

from flambe.nn.distance.cosine import CosineDistance, CosineMean
from flambe.nn.distance.distance import DistanceModule, MeanModule
from flambe.nn.distance.euclidean import EuclideanDistance, EuclideanMean
from flambe.nn.distance.hyperbolic import HyperbolicDistance, HyperbolicMean

_DISTANCES = {
    "euclidean": EuclideanDistance,
    "cosine": CosineDistance,
    "hyperbolic": HyperbolicDistance,
}
_MEANS = {"euclidean": EuclideanMean, "cosine": CosineMean, "hyperbolic": HyperbolicMean}


def get_distance_module(metric: str) -> DistanceModule:
    """The distance module named ``metric``: ``'euclidean'``, ``'cosine'`` or ``'hyperbolic'``."""
    if metric not in _DISTANCES:
        raise ValueError(f"unknown distance {metric!r}; choose one of {', '.join(_DISTANCES)}")
    return _DISTANCES[metric]()


def get_mean_module(metric: str, detach_mean: bool = False) -> MeanModule:
    """The mean module named ``metric``: ``'euclidean'``, ``'cosine'`` or ``'hyperbolic'``."""
    if metric not in _MEANS:
        raise ValueError(f"unknown mean {metric!r}; choose one of {', '.join(_MEANS)}")
    return _MEANS[metric](detach_mean=detach_mean)


__all__ = [
    "DistanceModule",
    "MeanModule",
    "EuclideanDistance",
    "EuclideanMean",
    "CosineDistance",
    "CosineMean",
    "HyperbolicDistance",
    "HyperbolicMean",
    "get_distance_module",
    "get_mean_module",
]
