"""Accuracy and recall at k."""

from __future__ import annotations

from typing import Any

import torch

from flambe.metric.metric import AverageableMetric, as_tensor


def _class_ids(name: str, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Target class ids [B], taking the argmax of a one-hot/score target [B x N]."""
    if pred.dim() != 2:
        raise ValueError(
            f"{name} expects scores [B x N], got a prediction of shape {tuple(pred.shape)}"
        )
    if target.dim() == 2:
        target = target.argmax(dim=1)
    target = target.reshape(-1)
    if target.numel() != pred.size(0):
        raise ValueError(f"{name}: {pred.size(0)} predictions but {target.numel()} targets")
    return target.to(pred.device)


class Accuracy(AverageableMetric):
    """Fraction of examples whose highest score is the target class.

    ``pred`` is [B x N] scores; ``target`` is [B] class ids or [B x N] (argmax taken).
    """

    def compute(self, pred: Any, target: Any) -> torch.Tensor:
        """Mean of ``argmax(pred) == target``."""
        pred, target = as_tensor(pred), as_tensor(target)
        if pred.size(0) == 0:
            return torch.tensor(0.0)
        target = _class_ids(str(self), pred, target)
        return (pred.argmax(dim=1) == target).float().mean()


class Recall(AverageableMetric):
    """Fraction of examples whose target class is among the ``top_k`` highest scores.

    Parameters
    ----------
    top_k : int
        How many of the best-scored classes count as a hit.

    """

    def __init__(self, top_k: int = 1) -> None:
        super().__init__()
        self.top_k = top_k

    def compute(self, pred: Any, target: Any) -> torch.Tensor:
        """Mean over examples of ``target in topk(pred)``."""
        pred, target = as_tensor(pred), as_tensor(target)
        if pred.size(0) == 0:
            return torch.tensor(0.0)
        target = _class_ids(str(self), pred, target)
        top = pred.topk(min(self.top_k, pred.size(1)), dim=1).indices
        return (top == target.unsqueeze(1)).any(dim=1).float().mean()

    def __str__(self) -> str:
        return f"Recall@{self.top_k}"
