"""Components of the fault-injection tests, loaded as a config extension (``flambe_fault_ext``).

:class:`FaultTrainer` trains a small linear model on batches drawn from
torch's global generator, so a resumed variant matches an uninterrupted one
only if its weights, its step and its random state all come back from the
same committed checkpoint. Its ``history`` (one loss per step, saved with
it) shows any step lost, repeated or shifted; with ``FLAMBE_FAULT_LOG`` set,
each executed step is also appended to that file, tagged with
``FLAMBE_FAULT_RUN``. ``delay`` slows each step so
that a kill at a random instant lands anywhere: inside a step, during a
checkpoint, during the writes of ``progress.json`` and ``trial.json``.
"""

from __future__ import annotations

import os
import time
from typing import Any

import torch

from flambe.compile import Component


class FaultTrainer(Component, torch.nn.Module):
    """``steps`` SGD steps of a linear model on random batches; the metric is the last loss.

    Parameters
    ----------
    lr : float
        The learning rate.
    steps : int
        How many ``run()`` calls the variant takes.
    delay : float
        Seconds of sleep inside each step (``FLAMBE_FAULT_DELAY`` overrides it
        without changing the config).
    width : int
        Input features (also sets the checkpoint's size).
    upstream : FaultTrainer, optional
        A trained stage whose weights this one starts from.

    """

    def __init__(
        self,
        lr: float = 0.1,
        steps: int = 5,
        delay: float = 0.0,
        width: int = 8,
        upstream: Any = None,
    ) -> None:
        super().__init__()
        self.lr, self.steps, self.delay, self.width = lr, steps, delay, width
        self.upstream = upstream
        self.metric_mode = "min"
        self.linear = torch.nn.Linear(width, 1)
        if upstream is not None:
            with torch.no_grad():
                self.linear.weight.copy_(upstream.linear.weight[:, :width])
        self.target = torch.randn(width, 1)
        self.done_steps = 0
        self.history: list[float] = []
        self.register_attrs("done_steps", "history")

    def run(self) -> bool:
        delay = float(os.environ.get("FLAMBE_FAULT_DELAY", self.delay))  # not in the config
        if delay:
            time.sleep(delay)
        batch = torch.randn(16, self.width)
        loss = ((self.linear(batch) - batch @ self.target) ** 2).mean()
        self.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in self.linear.parameters():
                param -= self.lr * param.grad
        self.done_steps += 1
        self.history.append(round(float(loss), 6))
        log = os.environ.get("FLAMBE_FAULT_LOG")
        if log:  # which run executed which step: shows finished variants that ran again
            with open(log, "a") as handle:
                handle.write(
                    f"{os.environ.get('FLAMBE_FAULT_RUN', '-')} {self.key} {self.done_steps}\n"
                )
        return self.done_steps < self.steps

    @property
    def key(self) -> str:
        """Names the variant in the log (the tests give each variant its own lr)."""
        return f"lr={self.lr}"

    def metric(self) -> float | None:
        return self.history[-1] if self.history else None
