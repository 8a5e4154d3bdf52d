"""Metrics and losses: components computed on a batch or aggregated over many."""

from __future__ import annotations

from flambe.metric.dev import (
    AUC,
    BPC,
    F1,
    Accuracy,
    BinaryAccuracy,
    BinaryPrecision,
    BinaryRecall,
    MultiClassAUC,
    Perplexity,
    Recall,
)
from flambe.metric.loss import MultiLabelCrossEntropy, MultiLabelNLLLoss
from flambe.metric.metric import AverageableMetric, Metric

__all__ = [
    "Metric",
    "AverageableMetric",
    "Accuracy",
    "AUC",
    "MultiClassAUC",
    "Perplexity",
    "BPC",
    "MultiLabelCrossEntropy",
    "MultiLabelNLLLoss",
    "BinaryPrecision",
    "BinaryRecall",
    "BinaryAccuracy",
    "F1",
    "Recall",
]
