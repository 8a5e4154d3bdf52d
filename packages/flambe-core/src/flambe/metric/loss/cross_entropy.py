"""Cross-entropy against multi-hot targets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from flambe.metric.metric import Metric, as_tensor

_REDUCTIONS = ("mean", "sum", "none", None)


class MultiLabelCrossEntropy(Metric):
    """Cross-entropy of logits ``pred`` [B x N] against multi-hot ``target`` [B x N].

    Each target row is normalised to sum to one; a row's loss is
    ``-sum_n w_n t_n log_softmax(pred)_n``. Inputs are never modified.

    Parameters
    ----------
    weight : Tensor or sequence of float, optional
        Per-class weights [N] (ones by default).
    ignore_index : int, optional
        A class whose target entries are ignored.
    reduction : str, optional
        ``'mean'`` or ``'sum'`` over rows, or ``'none'``/None for one loss per row.

    """

    def __init__(
        self,
        weight: torch.Tensor | Sequence[float] | None = None,
        ignore_index: int | None = None,
        reduction: str | None = "mean",
    ) -> None:
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__} reduction must be 'mean', 'sum', 'none' or "
                f"None, got {reduction!r}"
            )
        self.weight = None if weight is None else torch.as_tensor(weight, dtype=torch.float)
        self.ignore_index, self.reduction = ignore_index, reduction

    def _log_probabilities(self, pred: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(pred, dim=-1)

    def per_row(self, pred: Any, target: Any) -> torch.Tensor:
        """The loss of every row, [B]."""
        pred, target = as_tensor(pred), as_tensor(target)
        if pred.shape != target.shape or pred.dim() != 2:
            raise ValueError(
                f"{self} expects pred and target of the same shape [B x N], got "
                f"{tuple(pred.shape)} and {tuple(target.shape)}"
            )
        pred = pred.float() if not pred.is_floating_point() else pred
        target = target.to(device=pred.device, dtype=pred.dtype)  # a copy unless already so
        if self.ignore_index is not None:
            target = target.clone()
            target[:, self.ignore_index] = 0
        target = target / target.sum(dim=1, keepdim=True).clamp(min=torch.finfo(pred.dtype).tiny)
        weight = (
            torch.ones(pred.size(1), dtype=pred.dtype, device=pred.device)
            if self.weight is None
            else self.weight.to(device=pred.device, dtype=pred.dtype)
        )
        return -(weight * target * self._log_probabilities(pred)).sum(dim=1)

    def compute(self, pred: Any, target: Any) -> torch.Tensor:
        """The reduced loss."""
        losses = self.per_row(pred, target)
        if self.reduction == "mean":
            return losses.mean()
        if self.reduction == "sum":
            return losses.sum()
        return losses

    def aggregate(self, state: dict[str, Any], pred: Any, target: Any) -> dict[str, Any]:
        """Add one batch's summed row losses and row count (``'none'`` keeps the batches)."""
        if self.reduction in ("none", None):
            return super().aggregate(state, pred, target)
        with torch.no_grad():
            losses = self.per_row(pred, target)
        state["total"] = state.get("total", 0.0) + float(losses.sum())
        state["count"] = state.get("count", 0) + losses.numel()
        return state

    def finalize(self, state: dict[str, Any]) -> float | None:
        """The reduced loss over every aggregated row (NaN when none)."""
        if self.reduction in ("none", None):
            raise ValueError(
                f"{self} with reduction {self.reduction!r} has no single value to "
                "finalize; use reduction 'mean' or 'sum'"
            )
        if not state or not state.get("count"):
            return float("nan")
        score = state["total"] / state["count"] if self.reduction == "mean" else state["total"]
        state["accumulated_score"] = score
        return score

    def __str__(self) -> str:
        return ("Weighted" if self.weight is not None else "") + type(self).__name__
