"""Area under the ROC curve, binary and N-way, optionally up to a maximum false positive rate."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

from flambe.metric.metric import Metric, as_tensor


def roc_curve(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates at every distinct threshold, starting from (0, 0)."""
    order = np.argsort(-scores, kind="mergesort")
    scores, labels = scores[order], labels[order]
    last_of_threshold = np.r_[np.nonzero(np.diff(scores))[0], scores.size - 1]
    tps = np.cumsum(labels)[last_of_threshold]
    fps = (last_of_threshold + 1) - tps
    tpr = np.r_[0.0, tps / tps[-1]]
    fpr = np.r_[0.0, fps / fps[-1]]
    return fpr, tpr


def partial_auc(fpr: np.ndarray, tpr: np.ndarray, max_fpr: float) -> float:
    """ROC area for fpr in [0, max_fpr], divided by max_fpr (not McClish-standardised)."""
    if max_fpr < 1:
        stop = int(np.searchsorted(fpr, max_fpr, side="right"))
        tpr_at = np.interp(max_fpr, fpr[stop - 1 : stop + 1], tpr[stop - 1 : stop + 1])
        fpr = np.r_[fpr[:stop], max_fpr]
        tpr = np.r_[tpr[:stop], tpr_at]
    return float(np.trapezoid(tpr, fpr) / max_fpr)


class AUC(Metric):
    """Area under the ROC curve of binary scores.

    ``pred`` is [N] scores and ``target`` [N] labels in {0, 1} (tensors, arrays
    or lists). Empty input, or input with a single class, scores 0.5.

    Parameters
    ----------
    max_fpr : float
        Only the part of the curve with false positive rate up to
        ``max_fpr`` is measured, and the area divided by ``max_fpr``.

    """

    def __init__(self, max_fpr: float = 1.0) -> None:
        super().__init__()
        if not 0 < max_fpr <= 1:
            raise ValueError(f"AUC max_fpr must be in (0, 1], got {max_fpr}")
        self.max_fpr = max_fpr

    def _auc(self, scores: np.ndarray, labels: np.ndarray) -> float:
        if scores.size != labels.size:
            raise ValueError(f"{self}: {scores.size} scores but {labels.size} labels")
        if scores.size == 0:
            return 0.5
        labels = labels.astype(bool)
        if labels.all() or not labels.any():
            warnings.warn(
                f"{self}: only one class present, the AUC is undefined; using 0.5", stacklevel=3
            )
            return 0.5
        fpr, tpr = roc_curve(scores.astype(np.float64), labels)
        return partial_auc(fpr, tpr, self.max_fpr)

    def compute(self, pred: Any, target: Any) -> torch.Tensor:
        """The (partial) AUC of ``pred`` scores against binary ``target``."""
        scores = as_tensor(pred).detach().cpu().double().numpy().reshape(-1)
        labels = as_tensor(target).detach().cpu().numpy().reshape(-1)
        return torch.tensor(self._auc(scores, labels))

    def __str__(self) -> str:
        return f"{type(self).__name__}@{self.max_fpr}"


class MultiClassAUC(AUC):
    """Micro-averaged AUC of N-way scores: one-hot targets and scores flattened together.

    ``pred`` is [N x C]; ``target`` is [N] class ids or [N x C] (argmax taken).
    """

    def compute(self, pred: Any, target: Any) -> torch.Tensor:
        """The (partial) AUC of the flattened scores against the flattened one-hot targets."""
        pred, target = as_tensor(pred).detach().cpu(), as_tensor(target).detach().cpu()
        if pred.numel() == 0 or target.numel() == 0:
            return torch.tensor(0.5)
        if pred.dim() != 2:
            raise ValueError(f"{self} expects scores [N x C], got shape {tuple(pred.shape)}")
        if target.dim() == 2:
            target = target.argmax(dim=1)
        one_hot = torch.zeros_like(pred, dtype=torch.bool)
        ids = target.reshape(-1).long()
        if ids.numel() != pred.size(0):
            raise RuntimeError(
                f"{self}: {pred.size(0)} predictions but {ids.numel()} targets; "
                "batches of unequal size? (check the sampler's drop_last)"
            )
        one_hot[torch.arange(ids.numel()), ids] = True
        return torch.tensor(
            self._auc(pred.double().numpy().reshape(-1), one_hot.numpy().reshape(-1))
        )
