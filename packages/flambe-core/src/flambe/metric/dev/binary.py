"""Binary accuracy, precision, recall and F1 at a decision threshold.

A score strictly above the threshold predicts the positive class. With
``positive_label=0`` the roles of the classes are swapped. The metrics are
aggregated exactly over many batches by counting true/false positives and
negatives.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import torch

from flambe.metric.metric import Metric, as_tensor

_COUNTS = ("tp", "fp", "fn", "tn")


class BinaryMetric(Metric):
    """Base of the thresholded binary metrics.

    Parameters
    ----------
    threshold : float
        Scores strictly above it are positive predictions.

    """

    def __init__(self, threshold: float = 0.5) -> None:
        super().__init__()
        self.threshold = threshold

    def _booleans(self, pred: Any, target: Any) -> tuple[torch.Tensor, torch.Tensor]:
        pred, target = as_tensor(pred).detach(), as_tensor(target).detach()
        pred, target = pred.reshape(-1), target.reshape(-1).to(pred.device)
        if pred.numel() != target.numel():
            raise ValueError(
                f"{self}: {pred.numel()} scores but {target.numel()} targets; "
                "binary metrics need one score per example"
            )
        return pred > self.threshold, target.bool()

    def counts(self, pred: Any, target: Any) -> dict[str, int]:
        """True/false positives/negatives of one batch."""
        predicted, actual = self._booleans(pred, target)
        return {
            "tp": int((predicted & actual).sum()),
            "fp": int((predicted & ~actual).sum()),
            "fn": int((~predicted & actual).sum()),
            "tn": int((~predicted & ~actual).sum()),
        }

    @abstractmethod
    def from_counts(self, tp: int, fp: int, fn: int, tn: int) -> float:
        """The metric from the confusion counts (for the positive class)."""

    def compute(self, pred: Any, target: Any) -> torch.Tensor:
        """The metric of ``pred`` scores against binary ``target``."""
        return torch.tensor(self.from_counts(**self.counts(pred, target)))

    def aggregate(self, state: dict[str, Any], pred: Any, target: Any) -> dict[str, Any]:
        """Add one batch's confusion counts to ``state``."""
        for key, value in self.counts(pred, target).items():
            state[key] = state.get(key, 0) + value
        return state

    def finalize(self, state: dict[str, Any]) -> float | None:
        """The metric from the aggregated counts (NaN when nothing was aggregated)."""
        if not state:
            return float("nan")
        score = self.from_counts(*(state.get(key, 0) for key in _COUNTS))
        state["accumulated_score"] = score
        return score

    def __str__(self) -> str:
        return f"{type(self).__name__}@{self.threshold}"


class BinaryAccuracy(BinaryMetric):
    """Fraction of examples predicted correctly (0 for no examples)."""

    def from_counts(self, tp: int, fp: int, fn: int, tn: int) -> float:
        """``(tp + tn) / total``."""
        total = tp + fp + fn + tn
        return (tp + tn) / total if total else 0.0


class _LabelledBinaryMetric(BinaryMetric, should_register=False):  # type: ignore[call-arg]  # mypy reads object's __init_subclass__ here, not Registrable's
    """A binary metric about one class (``positive_label``)."""

    def __init__(self, threshold: float = 0.5, positive_label: int = 1) -> None:
        super().__init__(threshold)
        if positive_label not in (0, 1):
            raise ValueError(
                f"{type(self).__name__} positive_label must be 0 or 1, got {positive_label!r}"
            )
        self.positive_label = positive_label

    def counts(self, pred: Any, target: Any) -> dict[str, int]:
        """Confusion counts, with the classes swapped when ``positive_label`` is 0."""
        counts = super().counts(pred, target)
        if self.positive_label == 0:
            counts = {
                "tp": counts["tn"],
                "fp": counts["fn"],
                "fn": counts["fp"],
                "tn": counts["tp"],
            }
        return counts

    def __str__(self) -> str:
        side = "Positive" if self.positive_label == 1 else "Negative"
        return f"{side}{type(self).__name__}"


class BinaryPrecision(_LabelledBinaryMetric):
    """Fraction of positive predictions that are right (0 when there are none).

    Parameters
    ----------
    threshold : float
        Scores strictly above it are positive predictions.
    positive_label : int
        1, or 0 to measure the negative class.

    """

    def from_counts(self, tp: int, fp: int, fn: int, tn: int) -> float:
        """``tp / (tp + fp)``."""
        return tp / (tp + fp) if tp + fp else 0.0


class BinaryRecall(_LabelledBinaryMetric):
    """Fraction of actual positives predicted positive (0 when there are none).

    Parameters are those of :class:`BinaryPrecision`.
    """

    def from_counts(self, tp: int, fp: int, fn: int, tn: int) -> float:
        """``tp / (tp + fn)``."""
        return tp / (tp + fn) if tp + fn else 0.0


class F1(_LabelledBinaryMetric):
    """Harmonic mean of binary precision and recall.

    Parameters
    ----------
    threshold : float
        Scores strictly above it are positive predictions.
    positive_label : int
        1, or 0 to measure the negative class.
    eps : float
        Added to the denominator.

    """

    def __init__(self, threshold: float = 0.5, positive_label: int = 1, eps: float = 1e-8) -> None:
        super().__init__(threshold, positive_label)
        self.eps = eps

    def from_counts(self, tp: int, fp: int, fn: int, tn: int) -> float:
        """``2 P R / (P + R + eps)``."""
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        return 2 * precision * recall / (precision + recall + self.eps)

    def __str__(self) -> str:
        return f"F1@{self.threshold}"
