"""Small components for experiment tests (importable by Ray workers)."""

from __future__ import annotations

import os
from typing import Any, List, Optional

import torch

from flambe.compile import Component


class XDataset(Component):
    """A fixed list of numbers; no work, no metric."""

    def __init__(self, values: Optional[List[float]] = None, offset: float = 0.0) -> None:
        super().__init__()
        self.values = [v + offset for v in (values or [1.0, 2.0, 3.0])]
        self.size = len(self.values)


class XModel(Component, torch.nn.Module):
    """A linear layer whose width is a hyperparameter."""

    def __init__(self, width: int = 2, scale: float = 1.0) -> None:
        super().__init__()
        self.width, self.scale = width, scale
        self.linear = torch.nn.Linear(width, 1)


class XTrainer(Component):
    """Counts ``steps`` run() calls; the metric grows with the lr and the model width."""

    def __init__(self, model: Any, dataset: Any = None, lr: float = 0.1, steps: int = 3,
                 fail_at: int = 0, lower_is_better: bool = False) -> None:
        super().__init__()
        self.model, self.dataset, self.lr, self.steps = model, dataset, lr, steps
        self.fail_at = fail_at
        # the metric grows with lr x width; with lower_is_better the engine should prefer small
        self.metric_mode = "min" if lower_is_better else "max"
        self.done_steps = 0
        self.register_attrs("done_steps")

    def run(self) -> bool:
        self.done_steps += 1
        if self.fail_at and self.done_steps == self.fail_at:
            raise RuntimeError(f"planned failure at step {self.done_steps}")
        with torch.no_grad():
            self.model.linear.weight.add_(self.lr)
        return self.done_steps < self.steps

    def metric(self) -> float:
        return float(self.lr * self.model.width * self.done_steps)


class XEvaluator(Component):
    """Reads the trained weights of its model (one step)."""

    def __init__(self, model: Any, out: Optional[str] = None) -> None:
        super().__init__()
        self.model, self.out = model, out
        self.result: Optional[float] = None

    def run(self) -> bool:
        self.result = float(self.model.linear.weight.sum())
        if self.out:
            with open(self.out, "a") as handle:
                handle.write(f"{self.model.width} {self.result:.4f}\n")
        return False

    def metric(self) -> Optional[float]:
        return self.result
