"""Perplexity and bits per character of next-token predictions."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from flambe.metric.metric import Metric, as_tensor


class Perplexity(Metric):
    """``exp`` of the mean cross-entropy of logits ``pred`` [B x N] against ids ``target`` [B].

    Extra leading dimensions ([B x S x N] with [B x S]) are flattened.
    Aggregation keeps the summed cross-entropy and the token count.
    """

    def _summed(self, pred: Any, target: Any) -> tuple[torch.Tensor, int]:
        pred, target = as_tensor(pred), as_tensor(target)
        pred = pred.reshape(-1, pred.size(-1))
        target = target.reshape(-1).long().to(pred.device)
        if pred.size(0) != target.numel():
            raise ValueError(f"{self}: {pred.size(0)} predictions but {target.numel()} targets")
        return F.cross_entropy(pred.float(), target, reduction="sum"), target.numel()

    def _from_mean(self, mean_ce: torch.Tensor) -> torch.Tensor:
        return torch.exp(mean_ce)

    def compute(self, pred: Any, target: Any) -> torch.Tensor:
        """The metric of one batch."""
        total, count = self._summed(pred, target)
        return self._from_mean(total / max(count, 1))

    def aggregate(self, state: dict[str, Any], pred: Any, target: Any) -> dict[str, Any]:
        """Add one batch's summed cross-entropy and token count to ``state``."""
        with torch.no_grad():
            total, count = self._summed(pred, target)
        state["total_ce"] = state.get("total_ce", 0.0) + float(total)
        state["count"] = state.get("count", 0) + count
        return state

    def finalize(self, state: dict[str, Any]) -> float | None:
        """The metric over every aggregated token (NaN when none)."""
        if not state or not state.get("count"):
            return float("nan")
        score = float(
            self._from_mean(torch.tensor(state["total_ce"] / state["count"], dtype=torch.float64))
        )
        state["accumulated_score"] = score
        return score


class BPC(Perplexity):
    """Bits per character: ``log2(perplexity)`` = mean cross-entropy / ln 2."""

    def _from_mean(self, mean_ce: torch.Tensor) -> torch.Tensor:
        return mean_ce / math.log(2)
