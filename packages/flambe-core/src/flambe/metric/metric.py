"""The metric interface, computed on one batch or aggregated over many."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np
import torch

from flambe.compile import Component


def as_tensor(value: Any) -> torch.Tensor:
    """A tensor view of ``value`` (tensors pass through, lists and arrays are converted)."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    return torch.as_tensor(value)


class Metric(Component):
    """Base metric: ``compute(pred, target)`` on one batch, ``aggregate``/``finalize`` on many.

    To score a whole validation set, start from an empty ``state`` dict,
    call ``state = metric.aggregate(state, pred, target)`` for each batch and
    ``metric.finalize(state)`` at the end. The default keeps every batch (on
    the CPU) and computes once at the end; subclasses whose formula allows it
    keep running sums instead.
    """

    @abstractmethod
    def compute(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The metric of ``pred`` against ``target``."""

    def __call__(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        """The metric of the arguments: :meth:`compute`."""
        return self.compute(*args, **kwargs)

    def aggregate(self, state: dict[str, Any], pred: Any, target: Any) -> dict[str, Any]:
        """Add one batch to ``state`` (mutated and returned)."""
        state.setdefault("pred", []).append(as_tensor(pred).detach().cpu())
        state.setdefault("target", []).append(as_tensor(target).detach().cpu())
        return state

    def finalize(self, state: dict[str, Any]) -> float | None:
        """The metric over every aggregated batch (NaN when nothing was aggregated)."""
        if not state or not state.get("pred"):
            return float("nan")
        pred, target = torch.cat(state["pred"], dim=0), torch.cat(state["target"], dim=0)
        score = float(self.compute(pred, target))
        state["accumulated_score"] = score
        return score

    def __str__(self) -> str:
        return type(self).__name__


class AverageableMetric(Metric):
    """A metric that is a mean over examples: aggregated as a running, sample-weighted mean."""

    def aggregate(self, state: dict[str, Any], pred: Any, target: Any) -> dict[str, Any]:
        """Fold one batch's score into the running mean in ``state``."""
        pred = as_tensor(pred)
        if pred.dim() == 0:
            raise ValueError(f"{self}: cannot aggregate a prediction without a batch dimension")
        size = pred.size(0)
        if size == 0:
            return state
        score = float(self.compute(pred, target))
        count = state.get("sample_count", 0)
        mean = state.get("accumulated_score", 0.0)
        state["sample_count"] = count + size
        state["accumulated_score"] = mean + (score - mean) * size / (count + size)
        return state

    def finalize(self, state: dict[str, Any]) -> float | None:
        """The running mean (None when nothing was aggregated)."""
        return state.get("accumulated_score") if state else None
