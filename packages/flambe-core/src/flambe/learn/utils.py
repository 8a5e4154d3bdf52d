"""Helpers shared by trainers and evaluators."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import torch


def select_device(device: str | None = None) -> str:
    """``device`` when given, else ``"cuda"`` when a GPU is available, else ``"cpu"``."""
    if device is not None:
        return str(device)
    return "cuda" if torch.cuda.is_available() else "cpu"


def batch_to_device(batch: Sequence[Any], device: torch.device) -> tuple[Any, ...]:
    """Move every tensor of a batch to ``device`` (other values are kept as they are)."""
    non_blocking = device.type == "cuda"
    return tuple(
        t.to(device, non_blocking=non_blocking) if isinstance(t, torch.Tensor) else t for t in batch
    )


def metric_name(metric: Any) -> str:
    """The name a metric is logged under: ``str(metric)`` for flambe metrics, else its class."""
    text = str(metric)
    if text.startswith("<") or "(" in text:  # a default repr, or a torch module's
        return type(metric).__name__
    return text


class CollectingAggregator:
    """Aggregate state for a metric that only has ``compute``/``__call__``.

    Keeps every batch (detached, on the CPU) and computes the metric over
    their concatenation in :meth:`finalize`.
    """

    def __init__(self, metric: Any) -> None:
        self.metric = metric

    def aggregate(self, state: dict, pred: torch.Tensor, target: torch.Tensor) -> dict:
        """Keep the batch's predictions and targets (detached, on the CPU) in ``state``."""
        state.setdefault("pred", []).append(pred.detach().cpu())
        state.setdefault("target", []).append(target.detach().cpu())
        return state

    def finalize(self, state: dict) -> float:
        """The metric over every batch kept in ``state`` (NaN when there was none)."""
        if not state.get("pred"):
            return float("nan")
        compute = getattr(self.metric, "compute", self.metric)
        value = compute(torch.cat(state["pred"]), torch.cat(state["target"]))
        return float(value)


def aggregator(metric: Any) -> Any:
    """``metric`` itself when it aggregates batches, else a :class:`CollectingAggregator`."""
    if callable(getattr(metric, "aggregate", None)) and callable(getattr(metric, "finalize", None)):
        return metric
    return CollectingAggregator(metric)


def takes_whole_batch(model: Any, n_columns: int) -> bool:
    """Whether ``model`` is called with every column of a batch (and returns the target).

    A model whose ``forward`` takes fewer positional arguments than the
    batch has columns (such as ``nn.Sequential``) gets every column but the
    last, and the last column is the target.
    """
    forward = getattr(model, "forward", model)
    try:
        parameters = inspect.signature(forward).parameters.values()
    except (TypeError, ValueError):
        return True
    positional = 0
    for parameter in parameters:
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            return True
        if parameter.kind in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            positional += 1
    return positional >= n_columns


class BatchForward:
    """Call a model on a batch and return ``(prediction, target)``.

    ``model(*batch)`` when the model takes every column (it then returns
    ``(prediction, target)``, the original convention); otherwise
    ``model(*batch[:-1])`` with the last column as the target. The choice
    is made once per number of columns.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self._whole: dict = {}

    def __call__(self, batch: Sequence[Any]) -> Any:
        """The model's ``(prediction, target)`` for ``batch``."""
        n = len(batch)
        whole = self._whole.get(n)
        if whole is None:
            whole = self._whole[n] = takes_whole_batch(self.model, n)
        if whole:
            return self.model(*batch)
        return self.model(*batch[:-1]), batch[-1]
