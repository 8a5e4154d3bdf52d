"""Negative log-likelihood against multi-hot targets."""

from __future__ import annotations

import torch

from flambe.metric.loss.cross_entropy import MultiLabelCrossEntropy


class MultiLabelNLLLoss(MultiLabelCrossEntropy):
    """As :class:`MultiLabelCrossEntropy`, but ``pred`` already holds log-probabilities."""

    def _log_probabilities(self, pred: torch.Tensor) -> torch.Tensor:
        return pred
