"""Components and a bare Ray Tune trainable for bench_experiment.py (importable by Ray workers)."""

from __future__ import annotations

import json
import os
from typing import Any

import torch
from ray import tune

from flambe.compile import Component


class BenchData(Component):
    """A small tensor dataset."""

    def __init__(self, n: int = 64, width: int = 8) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, width, generator=generator)
        self.y = self.x.sum(dim=1, keepdim=True)


class BenchModel(Component, torch.nn.Module):
    """A small linear model."""

    def __init__(self, width: int = 8) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(width, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


class BenchTrainer(Component):
    """A few SGD steps per run() call; the metric is the negative loss."""

    def __init__(
        self, model: Any, data: Any = None, lr: float = 0.01, steps: int = 5, inner: int = 1
    ) -> None:
        super().__init__()
        self.model, self.data, self.lr, self.steps, self.inner = model, data, lr, steps, inner
        self.done = 0
        self.loss = 0.0
        self.optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        self.register_attrs("done", "loss")

    def run(self) -> bool:
        x = self.data.x if self.data is not None else torch.ones(4, 8)
        y = self.data.y if self.data is not None else torch.ones(4, 1)
        for _ in range(self.inner):
            self.optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(self.model(x), y)
            loss.backward()
            self.optimizer.step()
        self.loss = float(loss)
        self.done += 1
        return self.done < self.steps

    def metric(self) -> float:
        return -self.loss


class BareTrainable(tune.Trainable):
    """The same work as a flambe stage of BenchModel + BenchTrainer, on bare Ray Tune."""

    def setup(self, config: dict[str, Any]) -> None:
        self.model = BenchModel(width=8)
        self.trainer = BenchTrainer(self.model, BenchData(), lr=config["lr"], steps=5)

    def step(self) -> dict[str, Any]:
        more = self.trainer.run()
        return {"score": self.trainer.metric(), "done": not more}

    def save_checkpoint(self, checkpoint_dir: str) -> dict[str, Any] | None:
        torch.save(self.model.state_dict(), os.path.join(checkpoint_dir, "model.pt"))
        with open(os.path.join(checkpoint_dir, "trainer.json"), "w") as handle:
            json.dump({"done": self.trainer.done, "loss": self.trainer.loss}, handle)
        return None

    def load_checkpoint(self, checkpoint: Any) -> None:
        pass
