"""Errors raised by trainers and evaluators."""

from __future__ import annotations

from flambe.errors import FlambeError


class TrainerConfigError(FlambeError, ValueError):
    """A trainer's arguments do not fit together (found before training starts)."""


class BatchCheckError(TrainerConfigError):
    """The model, loss or metric cannot process a batch of the data (checked on one batch)."""


class NonFiniteLossError(FlambeError, FloatingPointError):
    """The training loss became NaN or infinite.

    Attributes
    ----------
    step : int
        The global training iteration at which it happened.

    """

    def __init__(self, message: str, step: int, hint: str | None = None) -> None:
        self.step = step
        super().__init__(message, hint=hint)
