"""Evaluator: a model's metric over one split of a dataset."""

from __future__ import annotations

import logging
from typing import Any

import torch

from flambe.compile import Component
from flambe.learn.errors import TrainerConfigError
from flambe.learn.utils import BatchForward, aggregator, batch_to_device, metric_name, select_device
from flambe.logging import log

logger = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


class UnknownSplitError(TrainerConfigError, AttributeError):
    """The split to evaluate is not one of ``train``, ``val``, ``test``."""


class Evaluator(Component):
    """Compute a metric of a model over one split, in a single step.

    :meth:`run` can be called again (each call makes a fresh pass over the
    data) and always returns False. Like :class:`~flambe.learn.Trainer`,
    :meth:`metric` is signed so that higher is better: the negated value
    when ``lower_is_better``; the raw value is :attr:`eval_metric`.

    Parameters
    ----------
    dataset : Dataset
        Holds the split.
    model : Module
        Called as for :class:`~flambe.learn.Trainer`: ``model(*batch)``
        returns ``(prediction, target)``, or the last column is the target
        of a model that takes fewer arguments.
    metric_fn : Metric
        The metric (``aggregate``/``finalize``, or a plain callable).
    eval_sampler : Sampler, optional
        Batches the split; ``BaseSampler(batch_size=16, shuffle=False)`` by default.
    eval_data : str
        ``"test"`` (default), ``"val"`` or ``"train"``.
    device : str, optional
        Where to run the model; a GPU when available by default.
    lower_is_better : bool
        Whether a lower value of the metric is better.

    Attributes
    ----------
    eval_metric : float, optional
        The metric of the last run (None before).

    """

    def __init__(
        self,
        dataset: Any,
        model: Any,
        metric_fn: Any,
        eval_sampler: Any | None = None,
        eval_data: str = "test",
        device: str | None = None,
        lower_is_better: bool = False,
    ) -> None:
        super().__init__()
        if eval_data not in SPLITS:
            raise UnknownSplitError(
                f"Evaluator: unknown split {eval_data!r}",
                hint="eval_data must be one of 'train', 'val', 'test'",
            )
        if eval_sampler is None:
            from flambe.sampler import BaseSampler

            eval_sampler = BaseSampler(batch_size=16, shuffle=False)
        self.dataset = dataset
        self.model = model
        self.metric_fn = metric_fn
        self.eval_sampler = eval_sampler
        self.eval_data = eval_data
        self.device = select_device(device)
        self.lower_is_better = lower_is_better
        self.eval_metric: float | None = None
        self.tb_log_prefix: str | None = None
        self.register_attrs("eval_metric")

    def run(self, block_name: str | None = None) -> bool:
        """Evaluate the model over the split, log ``Eval/<metric>`` and return False."""
        device = torch.device(self.device)
        self.model.to(device)
        self.model.eval()
        metric = aggregator(self.metric_fn)
        state: dict = {}
        forward = BatchForward(self.model)
        with torch.no_grad():
            for batch in self.eval_sampler.sample(getattr(self.dataset, self.eval_data), 1):
                pred, target = forward(batch_to_device(batch, device))
                metric.aggregate(state, pred, target)
        value = metric.finalize(state) if state else float("nan")
        self.eval_metric = float(value) if value is not None else float("nan")
        tag = f"Eval/{metric_name(self.metric_fn)}"
        prefix = block_name or self.tb_log_prefix
        log(f"{prefix} {tag}" if prefix else tag, self.eval_metric, 0)
        return False

    def metric(self) -> float | None:
        """The metric of the last run, signed so that higher is better (None before)."""
        if self.eval_metric is None:
            return None
        return -self.eval_metric if self.lower_is_better else self.eval_metric
