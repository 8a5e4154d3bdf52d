"""Learning-rate schedules usable from YAML.

Each scheduler is a :class:`~flambe.compile.Component` and a
``torch.optim.lr_scheduler.LRScheduler``: the learning rate of every
parameter group is its initial value times a factor of the number of
``step()`` calls so far (``last_epoch``). Give one to a Trainer as
``iter_scheduler`` to step it after every optimizer step, or as
``scheduler`` to step it after every validation pass.
"""

from __future__ import annotations

from torch import Tensor
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from flambe.compile import Component, alias
from flambe.errors import ArgumentError


def _positive(name: str, value: int, cls: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ArgumentError(f"{cls}: {name} must be a non-negative integer, not {value!r}")
    return value


class _FactorScheduler(Component, LRScheduler, should_register=False):  # type: ignore[call-arg]  # mypy reads object's __init_subclass__ here, not Registrable's
    """Base of the schedules here: ``lr = initial_lr * factor(step)``."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        LRScheduler.__init__(self, optimizer, last_epoch)

    def factor(self, step: int) -> float:
        """The multiplier of the initial learning rate after ``step`` scheduler steps."""
        raise NotImplementedError

    def get_lr(self) -> list[float | Tensor]:
        """The learning rates at the current step: each initial one times :meth:`factor`."""
        factor = self.factor(self.last_epoch)
        return [base_lr * factor for base_lr in self.base_lrs]

    def state_dict(self) -> dict:
        return {
            key: value
            for key, value in self.__dict__.items()
            if key != "optimizer"
            and not key.startswith("_flambe")
            and key not in ("_saved_kwargs", "_schema", "_created_with_tag", "_extensions")
        }


@alias("WarmupLinearScheduler")
@alias("WarmupLinearSchedule")
class LinearWarmupDecay(_FactorScheduler):
    """Linear warm-up from 0 to the initial rate, then linear decay to 0.

    ``factor(step) = step / n_steps_warmup`` during warm-up, then
    ``(n_steps_total - step) / (n_steps_total - n_steps_warmup)``, never below 0.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        The optimizer whose learning rates are scheduled.
    n_steps_warmup : int
        Steps of warm-up.
    n_steps_total : int
        Steps after which the rate is 0.
    last_epoch : int
        The index of the last step, to resume a schedule (-1: start).

    Examples
    --------
    .. code-block:: yaml

        iter_scheduler: !LinearWarmupDecay
          optimizer: !@ optimizer
          n_steps_warmup: 100
          n_steps_total: 1000

    """

    def __init__(
        self, optimizer: Optimizer, n_steps_warmup: int, n_steps_total: int, last_epoch: int = -1
    ) -> None:
        self.n_steps_warmup = _positive("n_steps_warmup", n_steps_warmup, "LinearWarmupDecay")
        self.n_steps_total = _positive("n_steps_total", n_steps_total, "LinearWarmupDecay")
        if n_steps_total < n_steps_warmup:
            raise ArgumentError(
                f"LinearWarmupDecay: n_steps_total ({n_steps_total}) is smaller than "
                f"n_steps_warmup ({n_steps_warmup})",
                hint="n_steps_total counts the warm-up steps too",
            )
        super().__init__(optimizer, last_epoch)

    def factor(self, step: int) -> float:
        """The learning rate factor at ``step``: linear warm-up, then linear decay to 0."""
        if step < self.n_steps_warmup:
            return step / max(1, self.n_steps_warmup)
        decay = max(1, self.n_steps_total - self.n_steps_warmup)
        return max(0.0, (self.n_steps_total - step) / decay)


@alias("WarmupConstantScheduler")
@alias("WarmupConstantSchedule")
class ConstantWarmup(_FactorScheduler):
    """Linear warm-up from 0 to the initial rate, then constant.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        The optimizer whose learning rates are scheduled.
    n_steps_warmup : int
        Steps of warm-up.
    last_epoch : int
        The index of the last step, to resume a schedule (-1: start).

    """

    def __init__(self, optimizer: Optimizer, n_steps_warmup: int, last_epoch: int = -1) -> None:
        self.n_steps_warmup = _positive("n_steps_warmup", n_steps_warmup, "ConstantWarmup")
        super().__init__(optimizer, last_epoch)

    def factor(self, step: int) -> float:
        """The learning rate factor at ``step``: linear warm-up, then 1."""
        return min(1.0, step / max(1, self.n_steps_warmup))


class NoamScheduler(_FactorScheduler):
    """The schedule of "Attention is all you need": warm-up, then inverse square root.

    ``factor(step) = scale * d_model**-0.5 * min((step+1)**-0.5, (step+1) * warmup**-1.5)``;
    set the optimizer's ``lr`` to 1.0 to get the paper's absolute rates.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        The optimizer whose learning rates are scheduled.
    warmup : int
        Steps of warm-up (the peak is at step ``warmup - 1``).
    d_model : int
        The model's hidden size.
    scale : float
        An extra multiplier.
    last_epoch : int
        The index of the last step, to resume a schedule (-1: start).

    """

    def __init__(
        self,
        optimizer: Optimizer,
        warmup: int,
        d_model: int,
        scale: float = 1.0,
        last_epoch: int = -1,
    ) -> None:
        self.warmup = _positive("warmup", warmup, "NoamScheduler")
        if warmup == 0:
            raise ArgumentError("NoamScheduler: warmup must be at least 1")
        self.d_model = _positive("d_model", d_model, "NoamScheduler")
        self.scale = float(scale)
        super().__init__(optimizer, last_epoch)

    def factor(self, step: int) -> float:
        """The learning rate factor at ``step``: Noam's curve times ``scale / sqrt(d_model)``."""
        step = step + 1
        return self.scale * self.d_model**-0.5 * min(step**-0.5, step * self.warmup**-1.5)
