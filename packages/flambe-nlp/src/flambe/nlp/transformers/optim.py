"""The optimiser and schedules of the original ``pytorch_transformers`` integration.

``transformers`` no longer ships an optimiser, and its schedules are
functions returning a ``LambdaLR``; these Components keep the original YAML
names on top of PyTorch:

* ``!AdamW``: :class:`torch.optim.AdamW` (``eps`` defaults to 1e-6 and
  ``weight_decay`` to 0, as ``pytorch_transformers.AdamW`` did);
* ``!ConstantLRSchedule``: a constant learning rate;
* ``!WarmupConstantSchedule`` and ``!WarmupLinearSchedule`` are flambe-core's
  :class:`~flambe.optim.ConstantWarmup` and :class:`~flambe.optim.LinearWarmupDecay`
  (arguments ``n_steps_warmup`` and ``n_steps_total``); the classes below,
  :class:`WarmupConstantSchedule` and :class:`WarmupLinearSchedule`, take the
  original argument names (``warmup_steps``, ``t_total``) from Python.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from flambe.compile import Component
from flambe.errors import ArgumentError
from flambe.optim.scheduler import ConstantWarmup, LinearWarmupDecay


class AdamW(Component, torch.optim.AdamW):
    """Adam with decoupled weight decay (``torch.optim.AdamW``) under the original defaults.

    Parameters
    ----------
    params : iterable
        Parameters (or parameter groups) to optimise, e.g.
        ``!@ finetune[model].trainable_params``.
    lr : float
        Learning rate.
    betas : tuple of float
        Adam's coefficients of the running averages.
    eps : float
        Added to the denominator.
    weight_decay : float
        Decoupled weight decay.
    correct_bias : bool
        Must be True: PyTorch's AdamW always corrects the bias (the original
        allowed False to mimic BERT's TensorFlow optimiser).

    Examples
    --------
    .. code-block:: yaml

        optimizer: !AdamW
          params: !@ finetune[model].trainable_params
          lr: 0.00005

    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        correct_bias: bool = True,
    ) -> None:
        if not correct_bias:
            raise ArgumentError(
                "AdamW: correct_bias=False is not supported (PyTorch's AdamW "
                "always corrects the bias)",
                hint="leave correct_bias out",
            )
        if len(betas) != 2:
            raise ArgumentError(
                f"AdamW: betas must be two values (beta1, beta2), not {list(betas)!r}",
                hint="write betas: [0.9, 0.999]",
            )
        beta1, beta2 = betas  # a YAML list of two works too
        torch.optim.AdamW.__init__(
            self, params, lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay
        )


class ConstantLRSchedule(Component, LRScheduler):
    """Keep every learning rate at its initial value (a schedule that does nothing).

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        The optimizer whose learning rates are scheduled.
    last_epoch : int
        The index of the last step, to resume (-1: start).

    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        LRScheduler.__init__(self, optimizer, last_epoch)

    def get_lr(self) -> list[float | torch.Tensor]:
        """The initial learning rates, unchanged."""
        return list(self.base_lrs)

    def state_dict(self) -> dict:
        """The scheduler's position, to resume it."""
        return {
            "last_epoch": self.last_epoch,
            "base_lrs": self.base_lrs,
            "_step_count": self._step_count,
        }


class WarmupConstantSchedule(ConstantWarmup, should_register=False):  # type: ignore[call-arg]  # mypy reads object's __init_subclass__ here, not Registrable's
    """:class:`~flambe.optim.ConstantWarmup` under the original argument names.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        The optimizer whose learning rates are scheduled.
    warmup_steps : int
        Steps of linear warm-up from 0 to the initial rate.
    last_epoch : int
        The index of the last step, to resume (-1: start).

    """

    def __init__(self, optimizer: Optimizer, warmup_steps: int, last_epoch: int = -1) -> None:
        super().__init__(optimizer, n_steps_warmup=warmup_steps, last_epoch=last_epoch)


class WarmupLinearSchedule(LinearWarmupDecay, should_register=False):  # type: ignore[call-arg]  # mypy reads object's __init_subclass__ here, not Registrable's
    """:class:`~flambe.optim.LinearWarmupDecay` under the original argument names.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        The optimizer whose learning rates are scheduled.
    warmup_steps : int
        Steps of linear warm-up from 0 to the initial rate.
    t_total : int
        Steps after which the rate has decayed linearly to 0.
    last_epoch : int
        The index of the last step, to resume (-1: start).

    """

    def __init__(
        self, optimizer: Optimizer, warmup_steps: int, t_total: int, last_epoch: int = -1
    ) -> None:
        super().__init__(
            optimizer, n_steps_warmup=warmup_steps, n_steps_total=t_total, last_epoch=last_epoch
        )
