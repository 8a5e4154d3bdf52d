"""Evaluation metrics."""

from __future__ import annotations

from flambe.metric.dev.accuracy import Accuracy, Recall
from flambe.metric.dev.auc import AUC, MultiClassAUC
from flambe.metric.dev.binary import F1, BinaryAccuracy, BinaryMetric, BinaryPrecision, BinaryRecall
from flambe.metric.dev.perplexity import BPC, Perplexity

__all__ = [
    "Accuracy",
    "Recall",
    "AUC",
    "MultiClassAUC",
    "BinaryMetric",
    "BinaryAccuracy",
    "BinaryPrecision",
    "BinaryRecall",
    "F1",
    "Perplexity",
    "BPC",
]
