"""Losses usable as metrics."""

from __future__ import annotations

from flambe.metric.loss.cross_entropy import MultiLabelCrossEntropy
from flambe.metric.loss.nll_loss import MultiLabelNLLLoss

__all__ = ["MultiLabelCrossEntropy", "MultiLabelNLLLoss"]
